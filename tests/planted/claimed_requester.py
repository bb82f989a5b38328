"""A checker with a planted bug: ``mismatch-dual-send`` takes the requester from the
request's claimed ``phone_id`` instead of its sender's address.

The cloud takes the requester from the sender's address (step 504, module 8021:
``identify_requester``), and so does the promise ledger; a request claiming another phone
is refused as ``forged-identifier``, never judged as a mismatch. Reading the claim, the
invariant saw phone A's request claiming B (for a receipt bound to C) as a mismatch, and
under ``reject`` called the reference's correct ``forged-identifier`` refusal a violation
(reviewer A, s31, F4: a false alarm on a field trial's trace).
``tests/scenarios/test_check_lifecycle.py``.
"""

from __future__ import annotations

from scenarios._trace._checks import MismatchDualSend, _Judgment
from scenarios._trace._reader import TraceRecord

__all__ = ["ClaimedRequester"]


class ClaimedRequester(MismatchDualSend):
    """``mismatch-dual-send`` judging the requester by the phone id it claims."""

    def _on_request(self, ev: TraceRecord, receipt: str) -> None:
        named = self.facts.named(receipt)
        requester = str(ev.msg.get("phone_id"))  # BUG: the claim, not the sender's address
        key = (ev.frm, ev.msg.get("request_id"))
        if named is None or requester == named or key in self._judged:
            return
        self.checked += 1
        subscribed = self.facts.ledger.subscribed_at(requester) is not None
        self._judged[key] = _Judgment(receipt, requester, ev.frm, named, ev.t, subscribed)

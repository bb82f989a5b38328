"""The protocol's invariants, checked over a trace: ``assocsim check TRACE`` and its API.

A trace (see ``docs/trace-format.md``) is the history of a run as seen by every actor and
by the simulated network. :class:`TraceChecker` reads it once, in order, keeping a few
facts per receipt, and judges seven invariants, each a class below whose docstring cites
the patent step it guards:

=====================  ========  ==========================================================
invariant              kind      what must hold
=====================  ========  ==========================================================
``binding``            safety    one receipt is bound to one phone and one set of goods
``mismatch-dual-send`` safety    step 505 / unit 8022 under the scenario's mismatch policy
``timeout-push``       safety    step 603: one push per receipt, on time, not after a pull
``no-delivery-lost``   liveness  at the end: every owed delivery shown, every request replied
``no-duplicate-shown`` safety    a user sees a receipt's associated products once
``privacy``            safety    products reach only a subscribed POS-named phone or buyer
``refusal-justified``  safety    steps 502/504/505/508: every refusal justified by the trace
=====================  ========  ==========================================================

Safety invariants are judged over the whole trace (a violation names the events that
broke it); liveness is judged at the trace's end, i.e. after the scenario's healed phase.

What ``mismatch-dual-send``, ``timeout-push`` and ``privacy`` judge is the receipt
lifecycle the cloud itself follows, the table ``LIFECYCLE`` of
``protocol/_machines/_lifecycle.py`` (shown in ``docs/protocol.md``, *The receipt
lifecycle*), in the cells whose refusal a message shows: a timeout push is its
``push-due-subscribed``, allowed only in ``push-pending`` (first sent, never to a phone
already sent the products, not early, not late); a dual-send push its
``mismatch-dual-sent``, refused once the named phone was sent the products
(``already-delivered``); a push re-sent after the cloud took its PushAck and went on
(``push-acknowledged``) or after an answer to that phone (``push-superseded``); products
to a phone never sent a ``subscribe-ack`` (``push-due-not-subscribed``,
``dual-send-withheld``: ``privacy``). Not judged, as no message shows them: a re-armed
push (``upload-repeated``), a give-up, the state the store derives
(``docs/protocol.md``, "What the trace checker judges of the table"). The checker judges
from the trace alone, never from the cloud's store or notes.

The promises to users (``no-delivery-lost``, ``no-duplicate-shown``, and a timeout push
after a delivery under ``timeout-push``) are judged by :class:`~scenarios._sim._promises.
PromiseLedger`, the same code the run's report takes ``lost`` and ``duplicates`` from:
the two cannot disagree. Whether a phone had subscribed is read from the trace (the
cloud's ``subscribe-ack``), never from a note of the cloud under test.

What a user saw is read from the phones' ``shown`` notes. A trace written before phones
made those notes (no ``shown``/``already-shown`` note and no acknowledgement message in
it) is judged by what the phones received instead: every delivery received is shown, and
a duplicate is a second reply to one request or a second push of one receipt.

Use :func:`check_trace` on parsed JSON records, :func:`check_events` on live
:class:`~actors.TraceEvent` values, :func:`check_trace_file` on a file, or a
:class:`TraceChecker` as an observer of a run.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import operator
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from itertools import chain, compress
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, NamedTuple, TypeVar

import attrs

from actors import TraceEvent
from protocol import AssocsimError
from scenarios._model._scenario import Scenario, scenario_to_dict
from scenarios._sim._promises import (
    EPSILON,
    Judgement,
    PromiseLedger,
    copied_facts,
    json_field,
    push_due_receipt,
)

from . import _reader
from ._reader import (
    MESSAGE_EVENTS,
    TraceError,
    TraceIncomplete,
    TraceReader,
    TraceRecord,
    merge_traces,
    parse_event,
    record_of_event,
    validate_header,
)

__all__ = [
    "IGNORED",
    "IGNORED_ONCE_RELIABLE",
    "INVARIANTS",
    "CheckResult",
    "Ignorable",
    "InvariantSummary",
    "KeptCheckerFed",
    "MonitorState",
    "TraceChecker",
    "Violation",
    "check_events",
    "check_trace",
    "check_trace_file",
    "check_trace_files",
    "ignorable",
]

CLOUD = "cloud"
_PHONE = "phone:"
_DELIVERY_TYPES = frozenset({"association-response", "association-push"})

Kind = Literal["safety", "liveness"]
_T = TypeVar("_T")


# ------------------------------------------------------------------ results


@attrs.frozen
class Violation:
    """One broken promise: which invariant, for which receipt, between which actors, when."""

    invariant: str
    receipt: str | None
    actors: tuple[str, ...]
    times: tuple[float, ...]
    detail: str

    @property
    def kind(self) -> Kind:
        return INVARIANTS[self.invariant]

    def format_line(self) -> str:
        """One line: invariant, receipt, actors, virtual times, what happened."""
        times = ", ".join(f"{t:.3f}" for t in self.times)
        return (
            f"{self.invariant} ({self.kind}): receipt {self.receipt or '-'}; "
            f"actors {', '.join(self.actors) or '-'}; t={times or '-'}: {self.detail}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "kind": self.kind,
            "receipt": self.receipt,
            "actors": list(self.actors),
            "times": list(self.times),
            "detail": self.detail,
        }


@attrs.frozen
class InvariantSummary:
    """How many cases of one invariant were judged, and how many broke it."""

    name: str
    kind: Kind
    checked: int
    violations: int


_JUDGED_BY = {
    "shown notes": "by shown notes (what each phone notes it showed its user)",
    "receptions": "by receptions (no shown notes in this trace: what phones received)",
}
"""What ``no-delivery-lost`` and ``no-duplicate-shown`` count as a delivery, in words."""


@attrs.frozen
class CheckResult:
    """What :class:`TraceChecker` found. ``ok`` when no invariant is violated in a whole
    trace."""

    events: int
    receipts: int
    invariants: tuple[InvariantSummary, ...]
    violations: tuple[Violation, ...]
    shown_from: str  # "shown notes", or "receptions" for a trace without shown notes
    skipped: tuple[str, ...] = ()  # checks left out, and why (e.g. no settings)
    incomplete: str | None = None  # a cut trace: only what its events before the gap show

    @property
    def ok(self) -> bool:
        return not self.violations and self.incomplete is None

    @property
    def judged(self) -> bool:
        """Did any invariant have anything to check? A trace with no purchase, request or
        subscription breaks no promise and shows none kept: "no violations" of it is no
        all-clear (``assocsim check`` and ``run --check`` exit 2 on it)."""
        return any(s.checked for s in self.invariants)

    def by_invariant(self, name: str) -> list[Violation]:
        return [v for v in self.violations if v.invariant == name]

    def format_text(self, title: str = "") -> str:
        """The summary table, then every violation on its own line."""
        lines = [title] if title else []
        lines += [
            f"events read        {self.events:>8}",
            f"receipts checked   {self.receipts:>8}",
            f"deliveries judged  {_JUDGED_BY.get(self.shown_from, self.shown_from)}",
            "",
            f"{'invariant':<20}  {'kind':<8}  {'checked':>8}  {'violations':>10}",
        ]
        for s in self.invariants:
            lines.append(f"{s.name:<20}  {s.kind:<8}  {s.checked:>8}  {s.violations:>10}")
        lines += [f"(not checked: {reason})" for reason in self.skipped]
        lines.append("")
        if not self.violations and not self.judged:
            lines.append(NOTHING_JUDGED)
        elif not self.violations:
            lines.append("no violations")
        else:
            count = len(self.violations)
            before = " before the gap" if self.incomplete is not None else ""
            lines.append(f"{count} violation{'s' if count != 1 else ''}{before}:")
            lines += [v.format_line() for v in self.violations]
        if self.incomplete is not None:
            lines.append(f"incomplete: {self.incomplete}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok and self.judged,  # nothing judged is no all-clear (exit 2)
            "events": self.events,
            "receipts": self.receipts,
            "shown_from": self.shown_from,
            "invariants": {
                s.name: {"kind": s.kind, "checked": s.checked, "violations": s.violations}
                for s in self.invariants
            },
            "skipped": list(self.skipped),
            "judged": self.judged,
            "violations": [v.as_dict() for v in self.violations],
            "incomplete": self.incomplete,
        }


NOTHING_JUDGED = (
    "nothing judged: no invariant had anything to check (no purchase, request or "
    "subscription), so no promise is shown kept"
)
"""What a check of a trace that gave its invariants nothing to judge ends with."""


def check_status(result: CheckResult) -> int:
    """The exit status of a check: 0 all clear, 1 a promise broken, 2 nothing judged (or a
    cut trace with nothing broken before its cut, refused before it gets here)."""
    if result.violations or result.incomplete is not None:
        return 1
    return 0 if result.judged else 2


class KeptCheckerFed(AssocsimError, RuntimeError):
    """A kept checker (:meth:`TraceChecker.kept`, :meth:`TraceChecker.seal`) was asked
    to change: its containers are shared with other kept checkers, so a change would
    rewrite states the explorer already numbered. A bug of the caller: fork it first."""


# ------------------------------------------------------------------ facts


def body_text(msg: Mapping[str, Any]) -> str:
    """A message body as one canonical text (equal bodies, equal texts)."""
    return json.dumps(msg, sort_keys=True, separators=(",", ":"))


def text_digest(text: str) -> bytes:
    """The short, exact fingerprint the checker keeps of a body's :func:`body_text`."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


# A body's digest by the body's identity, the body kept alive by its entry (so that no
# other object takes its id meanwhile): ``assocsim explore`` feeds one parsed record to
# many checker states, whose uploads and timeout pushes would each dump it to JSON again.
# Only the owner of a body that is never changed puts it here (:func:`keep_body_digest`:
# the explorer, which parses each record once from its own JSON and keeps it): a body fed
# by any other caller (``check_trace``, ``feed``) may be a dict changed in place between
# two records, so its digest is made anew each time it is read.
_DIGESTS: dict[int, tuple[Mapping[str, Any], bytes]] = {}
_DIGESTS_KEPT = 4096  # bodies of ~0.3 KB: ~1.5 MB at most


def keep_body_digest(msg: Mapping[str, Any]) -> tuple[str, bytes]:
    """``msg``'s :func:`body_text` and digest, the digest kept for the checker to find by
    ``msg``'s identity. The caller promises never to change ``msg`` while it may be fed."""
    text = body_text(msg)
    digest = text_digest(text)
    if len(_DIGESTS) >= _DIGESTS_KEPT:
        _DIGESTS.clear()  # a cache: a long search's bodies are kept again as they are parsed
    _DIGESTS[id(msg)] = (msg, digest)
    return text, digest


def _digest(msg: Mapping[str, Any]) -> bytes:
    known = _DIGESTS.get(id(msg))
    if known is not None and known[0] is msg:
        return known[1]
    return text_digest(body_text(msg))


def phone_of(address: str) -> str | None:
    return address.removeprefix(_PHONE) if address.startswith(_PHONE) else None


class _At(NamedTuple):
    t: float
    line: int


class _Binding(NamedTuple):
    phone: str  # the phone id the POS named
    digest: bytes  # of the whole upload
    pos: str
    t: float  # when the cloud first acknowledged it
    line: int


class _Upload(NamedTuple):
    phone: str
    digest: bytes


@attrs.frozen
class _Config:
    push_timeout: float | None
    policy: str | None  # "dual-send" | "reject" | None (unknown)
    store_kept: bool = False  # the cloud's store is known to survive its crashes (sqlite)


class _Facts:
    """What the invariants need to remember, per receipt and per phone, folded in order."""

    def __init__(self) -> None:
        self.receipts: set[str] = set()
        self.ledger = PromiseLedger(field=json_field)  # what users were owed, and got
        self.judgement: Judgement | None = None  # the ledger's verdicts, once judged
        self.last_t = 0.0
        self.last_upload: dict[tuple[str, str], _Upload] = {}  # (receipt, POS) -> content
        self.first_upload_at: dict[str, _At] = {}  # receipt -> first at the cloud
        self.bound: dict[str, _Binding] = {}
        self.noticed_by: dict[str, tuple[str, ...]] = {}  # receipt -> phones noticed
        self.mismatched: set[str] = set()  # receipts with a mismatched request at the cloud
        # The message whose step the cloud's sends now belong to, (its sender, its type,
        # why refusing it as forged is unjustified, None: it names another party than its
        # sender, _unforged): set by its recv at the cloud, kept over the cloud's own sends, faults
        # on them and notes, None after any other event (a timer, a crash, another's event:
        # a step of no message, or one the trace does not show whole). Not a fact of the
        # history: each step of the cloud begins with an event that sets it anew.
        self.step: tuple[str, str, str | None] | None = None
        # The products of the association-response the cloud sent in that step, (its
        # receipt, their digest): what unit 8022's other half must carry. Reset with step.
        self.answer: tuple[str | None, bytes] | None = None
        # when the cloud crashed, restarted, crashed, ... (a restart at the crash's instant
        # is left out with its crash: no time down, and no split of the explorer's states)
        self.cloud_down: list[float] = []
        self.cloud_crashed = False  # a cloud on a store that forgets may have forgotten
        self.asked: set[str] = set()  # a process's trace: phones whose subscribe reached it

    def named(self, receipt: str | None) -> str | None:
        binding = self.bound.get(receipt) if receipt is not None else None
        return binding.phone if binding is not None else None

    def absorb(self, ev: TraceRecord) -> None:
        """Fold one event in (after the invariants have judged it)."""
        self.last_t = ev.t
        receipt = ev.receipt
        if receipt is not None:
            self.receipts.add(receipt)
        kind, typ = ev.kind, ev.type
        if kind == "recv" and ev.to == CLOUD:
            self.step = (ev.frm, typ, _unforged(ev.frm, typ, ev.msg))
            self.answer = None
        elif ev.frm != CLOUD or kind not in _STEP_EVENTS:
            self.step = self.answer = None
        elif kind == "send" and typ == "association-response":
            self.answer = (receipt, _digest({"products": ev.msg.get("products")}))
        if kind == "note":
            self.ledger.note(ev.frm, typ, receipt, ev.t, ev.detail)
            return
        if kind == "timer":
            if ev.frm == CLOUD:
                pushed = push_due_receipt(ev.detail)
                if pushed is not None:
                    self.ledger.push_due(pushed)
            return
        if kind not in MESSAGE_EVENTS:
            if kind in {"crash", "restart"}:
                self.ledger.down(ev.frm, ev.detail)
                if ev.frm == CLOUD:
                    self._cloud_down(ev)
            return
        self.ledger.message(kind, ev.frm, ev.to, typ, receipt, ev.t, ev.msg)
        if kind == "recv":
            if ev.to == CLOUD:
                self._at_cloud(ev, _At(ev.t, ev.line))
            elif typ == "receipt-notice" and receipt is not None and ev.to.startswith(_PHONE):
                phones = self.noticed_by.get(receipt, ())
                if ev.to not in phones:
                    self.noticed_by[receipt] = (*phones, ev.to)
        elif kind == "send" and ev.frm == CLOUD and receipt is not None and typ == "upload-ack":
            self._bind(receipt, ev)

    def _cloud_down(self, ev: TraceRecord) -> None:
        if ev.kind == "crash":
            self.cloud_crashed = True
            if len(self.cloud_down) % 2 == 0:
                self.cloud_down = [*self.cloud_down, ev.t]
        elif len(self.cloud_down) % 2 == 1:  # its restart
            down = self.cloud_down
            self.cloud_down = down[:-1] if down[-1] == ev.t else [*down, ev.t]

    def down_between(self, start: float, end: float) -> float:
        """How long the cloud was down between ``start`` and ``end`` (down still: to ``end``)."""
        down = self.cloud_down
        total = 0.0
        for i in range(0, len(down), 2):
            came_back = down[i + 1] if i + 1 < len(down) else end
            total += max(0.0, min(came_back, end) - max(down[i], start))
        return total

    def _at_cloud(self, ev: TraceRecord, at: _At) -> None:
        receipt, msg = ev.receipt, ev.msg
        if ev.type == "push-ack":
            if receipt is not None and ev.frm == f"{_PHONE}{msg.get('phone_id')}":
                self.ledger.took_push_ack((receipt, ev.frm))
            return
        if ev.type == "subscribe" and not self.ledger.atomic_steps:
            self.asked.add(ev.frm)
        if ev.type == "purchase-upload" and receipt is not None:
            self.last_upload[(receipt, ev.frm)] = _Upload(str(msg.get("phone_id")), _digest(msg))
            self.first_upload_at.setdefault(receipt, at)
        elif ev.type == "association-request" and receipt is not None:
            named = self.named(receipt)
            if named is not None and msg.get("phone_id") != named:
                self.mismatched.add(receipt)

    def _bind(self, receipt: str, ev: TraceRecord) -> None:
        if receipt in self.bound:
            return
        upload = self.last_upload.get((receipt, ev.to))
        if upload is not None:
            self.bound[receipt] = _Binding(upload.phone, upload.digest, ev.to, ev.t, ev.line)


# ------------------------------------------------------------------ invariants


class Invariant:
    """One named promise of the protocol, judged event by event and at the trace's end."""

    name: ClassVar[str]
    kind: ClassVar[Kind]

    def __init__(self, facts: _Facts, config: _Config) -> None:
        self.facts = facts
        self.config = config
        self.checked = 0
        self.violations: list[Violation] = []
        self._reported: set[object] = set()

    def observe(self, ev: TraceRecord) -> None:
        """Judge one event against what happened before it."""

    def finish(self) -> None:
        """Judge what can only be judged once the whole trace is read."""

    def left_out(self) -> tuple[str, ...]:
        """What this invariant saw and did not judge, and why (the result's ``skipped``)."""
        return ()

    def violate(
        self,
        receipt: str | None,
        actors: Iterable[str],
        times: Iterable[float],
        detail: str,
        *,
        once: object = None,
    ) -> None:
        """Record a violation; with ``once``, only the first for that key (retries repeat)."""
        if once is not None:
            if once in self._reported:
                return
            self._reported.add(once)
        self.violations.append(
            Violation(self.name, receipt, tuple(dict.fromkeys(actors)), tuple(times), detail)
        )


class Binding(Invariant):
    """Steps 501/502 (and 601/602): one receipt is bound to one phone and one set of goods.

    Every ``upload-ack`` the cloud sends for a receipt acknowledges the same upload content
    (the last ``purchase-upload`` of that receipt the cloud received from that POS), and
    every ``association-push`` of a receipt goes to the phone its acknowledged upload names.
    """

    name = "binding"
    kind = "safety"

    def observe(self, ev: TraceRecord) -> None:
        if ev.kind != "send" or ev.frm != CLOUD or ev.receipt is None:
            return
        receipt = ev.receipt
        binding = self.facts.bound.get(receipt)
        if ev.type == "upload-ack":
            self.checked += 1
            upload = self.facts.last_upload.get((receipt, ev.to))
            if upload is None:
                self.violate(
                    receipt,
                    (CLOUD, ev.to),
                    (ev.t,),
                    f"the cloud acknowledged {receipt} to {ev.to}, which never uploaded it",
                    once=(receipt, ev.to, "ack"),
                )
            elif binding is not None and upload.digest != binding.digest:
                what = (
                    f"to phone {upload.phone}, bound to {binding.phone} at t={binding.t:.3f}"
                    if upload.phone != binding.phone
                    else "with other goods than the upload bound"
                )
                self.violate(
                    receipt,
                    (binding.pos, CLOUD, ev.to),
                    (binding.t, ev.t),
                    f"the cloud acknowledged another upload of {receipt} {what}",
                    once=(receipt, upload.digest),
                )
        elif ev.type == "association-push":
            self.checked += 1
            if binding is None:
                self.violate(
                    receipt,
                    (CLOUD, ev.to),
                    (ev.t,),
                    f"a push of {receipt}, which the cloud never acknowledged as bound",
                    once=(receipt, "unbound"),
                )
                return
            target = _PHONE + binding.phone
            pushed_for = ev.msg.get("phone_id")
            if ev.to != target or pushed_for != binding.phone:
                self.violate(
                    receipt,
                    (CLOUD, ev.to, target),
                    (binding.t, ev.t),
                    f"a push of {receipt} to {ev.to} (for phone {pushed_for}), "
                    f"but the POS bound it to {binding.phone}",
                    once=(receipt, ev.to),
                )


@attrs.frozen
class _Judgment:
    receipt: str
    requester: str
    requester_address: str
    named: str
    t: float
    subscribed: bool
    answered: tuple[_At, ...] = ()
    named_subscribed: float | None = None  # when, if it had by the first answer


class MismatchDualSend(Invariant):
    """Step 505 (judging module 8022) and the end of embodiment 2: an identifier mismatch.

    A request whose ``phone_id`` differs from the phone the POS bound the receipt to is a
    mismatch. Under ``mismatch_policy = "dual-send"`` (the patent's), when the cloud
    answers one with an ``association-response`` it also sends the products to the named
    phone (a ``dual-send`` push, in the same step) unless that phone already had them or
    had not subscribed (no ``subscribe-ack`` to it before the answer); an
    ``identifier-mismatch`` refusal is wrong there. Under ``"reject"`` the requester gets
    no products, a subscribed requester gets an ``identifier-mismatch`` refusal, and no
    dual-send push is ever sent. Under either policy, a dual-send push follows a
    mismatched request for its receipt, is first sent only to a phone not yet sent the
    products, carries the products of the response of its step, and is re-sent only while
    outstanding. The requester is the request's sender (step 504, as the cloud and the
    ledger take it); a request claiming another phone is forged, not mismatched. (The
    cloud's rule: ``mismatch-dual-sent`` and ``dual-send-withheld`` in
    ``protocol/_machines/_lifecycle.py``'s table.)
    """

    name = "mismatch-dual-send"
    kind = "safety"

    def __init__(self, facts: _Facts, config: _Config) -> None:
        super().__init__(facts, config)
        self._judged: dict[tuple[str, object], _Judgment] = {}
        self._unpaired = 0  # first dual-sends with no response of their step shown
        self._unjudged_resends = 0  # re-sends not judged: a forgetful store crashed

    def observe(self, ev: TraceRecord) -> None:
        receipt = ev.receipt
        if receipt is None:
            return
        if ev.kind == "recv" and ev.to == CLOUD and ev.type == "association-request":
            self._on_request(ev, receipt)
        elif ev.kind == "send" and ev.frm == CLOUD:
            if ev.type == "association-push" and ev.msg.get("reason") == "dual-send":
                self._on_dual_send(ev, receipt)
            elif ev.type in ("association-response", "error-reply"):
                key = (ev.to, ev.msg.get("request_id"))
                judgment = self._judged.get(key)
                if judgment is not None and judgment.receipt == receipt:
                    self._on_reply(ev, key, judgment)

    def _on_request(self, ev: TraceRecord, receipt: str) -> None:
        named = self.facts.named(receipt)
        # Step 504 (module 8021): the requester is the sender's address, as the machine
        # and the ledger take it; a request claiming another phone is refused as forged
        # (refusal-justified's), never judged as a mismatch.
        requester = phone_of(ev.frm)
        key = (ev.frm, ev.msg.get("request_id"))
        if (
            named is None
            or requester is None
            or requester == named
            or ev.msg.get("phone_id") != requester
            or key in self._judged
        ):
            return
        self.checked += 1
        subscribed = self.facts.ledger.subscribed_at(requester) is not None
        self._judged[key] = _Judgment(receipt, requester, ev.frm, named, ev.t, subscribed)

    def _on_dual_send(self, ev: TraceRecord, receipt: str) -> None:
        self._judge_lifecycle(ev, receipt)
        if self.config.policy == "reject":
            self.violate(
                receipt,
                (CLOUD, ev.to),
                (ev.t,),
                f"a dual-send push of {receipt} under mismatch_policy reject",
                once=(receipt, "reject-dual-send"),
            )
        elif receipt not in self.facts.mismatched:
            self.violate(
                receipt,
                (CLOUD, ev.to),
                (ev.t,),
                f"a dual-send push of {receipt} with no mismatched request for it",
                once=(receipt, "unprompted"),
            )

    def _judge_lifecycle(self, ev: TraceRecord, receipt: str) -> None:
        """The table's rules for a dual-send push: first sent only to a phone not yet sent
        the products (``mismatch-dual-sent`` refused: ``already-delivered``), carrying the
        products the requester was answered in the same step (unit 8022: the same products
        to both devices); re-sent only while outstanding (:func:`_settled_before`)."""
        facts, to = self.facts, ev.to
        delivered, _, dual_sent = facts.ledger.cloud_sent(receipt, to)
        if dual_sent is not None:  # a re-send
            settled = _settled_before(facts, self.config, receipt, to)
            if settled is _FORGOTTEN:
                self._unjudged_resends += 1
            elif settled is not None:
                self.violate(
                    receipt,
                    (CLOUD, to),
                    (dual_sent, ev.t),
                    f"the dual-send push of {receipt} sent again {settled}",
                    once=(receipt, to, "settled"),
                )
            return
        if delivered is not None:
            self.violate(
                receipt,
                (CLOUD, to),
                (delivered, ev.t),
                f"a dual-send push of {receipt} to {to}, which the cloud had sent its products "
                f"at t={delivered:.3f} (mismatch-dual-sent refused: already-delivered)",
                once=(receipt, to, "delivered"),
            )
        answer = facts.answer
        if answer is not None and answer[0] == receipt:
            if answer[1] != _digest({"products": ev.msg.get("products")}):
                self.violate(
                    receipt,
                    (CLOUD, to),
                    (ev.t,),
                    f"a dual-send push of {receipt} to {to} with other products than the "
                    "response the requester got in the same step (unit 8022: both devices "
                    "get the same products)",
                    once=(receipt, to, "products"),
                )
        else:
            self._unpaired += 1

    def left_out(self) -> tuple[str, ...]:
        reasons = []
        if self._unpaired:
            reasons.append(
                f"{self.name}: the products of {self._unpaired} dual-send pushes (no "
                "response of the same step shown to compare them with)"
            )
        if self._unjudged_resends:
            reasons.append(_resends_left_out(self.name, self._unjudged_resends))
        return tuple(reasons)

    def _on_reply(self, ev: TraceRecord, key: tuple[str, object], judgment: _Judgment) -> None:
        receipt, policy = judgment.receipt, self.config.policy
        actors = (judgment.requester_address, CLOUD)
        if ev.type == "association-response":
            named_subscribed = (
                judgment.named_subscribed
                if judgment.answered
                else self.facts.ledger.subscribed_at(judgment.named)
            )
            self._judged[key] = judgment = attrs.evolve(
                judgment,
                answered=(*judgment.answered, _At(ev.t, ev.line)),
                named_subscribed=named_subscribed,
            )
            if policy == "reject":
                self.violate(
                    receipt,
                    actors,
                    (judgment.t, ev.t),
                    f"the products of {receipt} went to requester {judgment.requester}, "
                    f"not the named {judgment.named}, under mismatch_policy reject",
                    once=(receipt, judgment.requester, "leak"),
                )
            return
        code = ev.msg.get("code")
        if policy == "reject" and judgment.subscribed and code != "identifier-mismatch":
            self.violate(
                receipt,
                actors,
                (judgment.t, ev.t),
                f"a mismatched request for {receipt} was refused with {code!r}, "
                "not 'identifier-mismatch'",
                once=(receipt, judgment.requester, "code"),
            )
        elif policy == "dual-send" and code == "identifier-mismatch":
            self.violate(
                receipt,
                actors,
                (judgment.t, ev.t),
                f"a mismatched request for {receipt} was refused under mismatch_policy "
                "dual-send (both devices should get the products)",
                once=(receipt, judgment.requester, "refused"),
            )

    def finish(self) -> None:
        if self.config.policy != "dual-send":
            return
        ledger = self.facts.ledger
        for judgment in self._judged.values():
            subscribed = judgment.named_subscribed
            if not judgment.answered or subscribed is None:
                continue  # the cloud serves only subscribed phones
            answer = judgment.answered[0]
            receipt, named = judgment.receipt, judgment.named
            delivered = ledger.cloud_delivered(receipt, _PHONE + named)
            if delivered is not None and delivered <= answer.t + EPSILON:
                continue
            self.violate(
                receipt,
                (judgment.requester_address, CLOUD, _PHONE + named),
                (judgment.t, answer.t),
                f"the cloud answered mismatched requester {judgment.requester} but sent the "
                f"named phone {named} neither a dual-send push nor its products before, "
                f"though it had subscribed (at t={subscribed:.3f})",
                once=(receipt, "missing-dual-send"),
            )


_FORGOTTEN: Final = ""  # _settled_before's answer for a re-send it does not judge


def _settled_before(facts: _Facts, config: _Config, receipt: str, to: str) -> str | None:
    """Why a push of ``receipt`` re-sent to ``to`` now is one the lifecycle table refuses
    (None: a re-send it allows): the cloud took the phone's PushAck and went on
    (``push-acknowledged``: delivered, nothing outstanding to re-send), or answered the
    phone's request about the receipt while the push was outstanding (``push-superseded``).
    :data:`_FORGOTTEN` (not judged): a cloud whose store forgets (not kept) crashed."""
    key = (receipt, to)
    acked = facts.ledger.push_acked(key)
    delivered, responded, _ = facts.ledger.cloud_sent(receipt, to)
    # answered while a push was outstanding (else the answer was the first delivery)
    superseded = responded is not None and delivered is not None and delivered < responded
    if not (acked or superseded):
        return None
    if facts.cloud_crashed and not config.store_kept:
        return _FORGOTTEN  # the cloud may not know it any more
    if acked:
        return (
            f"though the cloud had taken {to}'s PushAck of it and gone on "
            "(push-acknowledged: nothing outstanding to re-send)"
        )
    return (
        f"though the cloud had answered {to}'s request about it at t={responded:.3f} while "
        "the push was outstanding (push-superseded: it stops re-sending)"
    )


def _resends_left_out(name: str, count: int) -> str:
    return (
        f"{name}: {count} push re-sends after a PushAck or an answer, sent after a crash of "
        "a cloud whose store may have forgotten (not sqlite)"
    )


class _FirstPush(NamedTuple):
    to: str
    digest: bytes
    t: float


class TimeoutPush(Invariant):
    """Steps 602/603 (embodiment 3): the push after ``push_timeout`` with no request.

    Per receipt at most one timeout push (re-sends of the identical push are fine while it
    is outstanding); its first send is not before the cloud received the upload plus
    ``cloud.push_timeout`` (the arrival: a lower bound of when it stored the upload), nor
    after the upload was stored (its first ``upload-ack``, sent in that step) plus
    ``cloud.push_timeout`` plus the time the cloud was down since; and it is never first
    sent to a phone the cloud already sent that receipt's products: an answered request
    (``association-response``) or a dual-send. (That one is a duplicate delivery: the
    promise ledger judges it, for the report too.) A re-send is refused once the cloud took
    the phone's PushAck and went on, or answered the phone's request while the push was
    outstanding (:func:`_settled_before`). The cloud's rules: ``push-due-subscribed``,
    ``push-acknowledged`` and ``push-superseded`` in ``protocol/_machines/_lifecycle.py``'s
    table.
    """

    name = "timeout-push"
    kind = "safety"

    def __init__(self, facts: _Facts, config: _Config) -> None:
        super().__init__(facts, config)
        self._first: dict[str, _FirstPush] = {}
        self._unjudged_late = 0  # first timeout pushes not judged "not late"
        self._repeated: dict[str, float] = {}  # receipt -> its last upload after its due
        self._unjudged_resends = 0  # re-sends not judged: a forgetful store crashed

    def observe(self, ev: TraceRecord) -> None:
        receipt = ev.receipt
        if ev.kind == "recv" and ev.type == "purchase-upload" and ev.to == CLOUD:
            self._on_upload(ev, receipt)
            return
        if (
            ev.kind != "send"
            or ev.frm != CLOUD
            or ev.type != "association-push"
            or ev.msg.get("reason") != "timeout"
            or receipt is None
        ):
            return
        digest = _digest(ev.msg)
        first = self._first.get(receipt)
        if first is not None:
            if first.to != ev.to or first.digest != digest:
                self.violate(
                    receipt,
                    (CLOUD, first.to, ev.to),
                    (first.t, ev.t),
                    f"a second, different timeout push of {receipt} (to {ev.to})",
                    once=(receipt, ev.to, digest),
                )
                return
            settled = _settled_before(self.facts, self.config, receipt, ev.to)
            if settled is _FORGOTTEN:
                self._unjudged_resends += 1
            elif settled is not None:
                self.violate(
                    receipt,
                    (CLOUD, ev.to),
                    (first.t, ev.t),
                    f"the timeout push of {receipt} sent again {settled}",
                    once=(receipt, ev.to, "settled"),
                )
            return
        self.checked += 1
        self._first[receipt] = _FirstPush(ev.to, digest, ev.t)
        facts, timeout = self.facts, self.config.push_timeout
        uploaded = facts.first_upload_at.get(receipt)
        if timeout is not None and uploaded is not None:
            deadline = uploaded.t + timeout
            if ev.t < deadline - EPSILON:
                self.violate(
                    receipt,
                    (CLOUD, ev.to),
                    (uploaded.t, ev.t),
                    f"pushed at t={ev.t:.3f}, before the deadline t={deadline:.3f} "
                    f"(upload at the cloud + push_timeout {timeout:g}s)",
                )
        binding = facts.bound.get(receipt)
        if timeout is not None and binding is not None:
            self._judge_late(ev, receipt, binding.t + timeout)

    def _on_upload(self, ev: TraceRecord, receipt: str | None) -> None:
        """An upload repeated after its receipt's deadline may re-arm the push, due at once
        (``upload-repeated`` in ``withheld``: the cloud's ``_repair_push``): from then on
        the push is not late. Kept only for such late repeats (few: no states split)."""
        if receipt is None or receipt in self._first:
            return
        binding = self.facts.bound.get(receipt)
        timeout = self.config.push_timeout
        if binding is not None and timeout is not None and ev.t > binding.t + timeout:
            self._repeated[receipt] = ev.t

    def _judge_late(self, ev: TraceRecord, receipt: str, due: float) -> None:
        """Not later than its deadline, counted from the step that stored the upload (the
        first upload-ack: sent in that step), plus the time the cloud was down since (its
        PushDue timers fire at its restart, the overdue at once). Not judged for a
        process's trace (its steps are batches, its timers a wall clock's) nor after a
        crash of a cloud whose store forgets (it binds a re-sent upload anew)."""
        facts = self.facts
        if not facts.ledger.atomic_steps or (facts.cloud_crashed and not self.config.store_kept):
            self._unjudged_late += 1
            return
        due = max(due, self._repeated.get(receipt, due))
        down = facts.down_between(due, ev.t)
        if ev.t > due + down + EPSILON:
            self.violate(
                receipt,
                (CLOUD, ev.to),
                (due, ev.t),
                f"pushed at t={ev.t:.3f}, after its deadline t={due:.3f} (the upload stored "
                f"+ push_timeout {self.config.push_timeout:g}s) plus the {down:g}s the "
                "cloud was down since",
            )

    def left_out(self) -> tuple[str, ...]:
        reasons = []
        if self._unjudged_late:
            reasons.append(
                f"{self.name}: whether {self._unjudged_late} timeout pushes came late (a "
                "process's trace, or a cloud that crashed on a store that forgets)"
            )
        if self._unjudged_resends:
            reasons.append(_resends_left_out(self.name, self._unjudged_resends))
        return tuple(reasons)

    def finish(self) -> None:
        judgement = self.facts.judgement
        if judgement is not None and judgement.pushed_after:
            self.violations.extend(Violation(*broken) for broken in judgement.pushed_after)
            self.violations.sort(key=lambda v: v.times[-1])  # stable: in trace order


class NoDeliveryLost(Invariant):
    """Steps 503/508/509 and 603/605, judged at the end of the trace (liveness).

    Every upload the cloud acknowledged whose POS-named phone had subscribed in time (the
    cloud sent it a ``subscribe-ack`` before the push deadline, or before answering a
    mismatched requester for the receipt) was shown to that phone; every request a phone
    sent got a reply (a response or a refusal) at that phone; every upload a POS sent was
    acknowledged or refused at that POS; every subscription the cloud received was
    acknowledged or refused. A ``gave-up`` note of the sender for the receipt excuses an
    unanswered request or upload (the push or the user covers it) only where the network
    or a crash could have lost it: not one that reached the cloud with no answer the cloud
    sent after it and no ``crash`` or ``restart`` of the cloud after it; never a lost
    delivery.
    Judged by the promise ledger (:mod:`scenarios._sim._promises`), as the report's ``lost``.
    """

    name = "no-delivery-lost"
    kind = "liveness"

    def __init__(self, facts: _Facts, config: _Config) -> None:
        super().__init__(facts, config)
        self._empty = 0  # deliveries the cloud sent with no products

    def observe(self, ev: TraceRecord) -> None:
        if (
            ev.kind == "send"
            and ev.frm == CLOUD
            and ev.type in _DELIVERY_TYPES
            and not ev.msg.get("products")
        ):
            self._empty += 1

    def left_out(self) -> tuple[str, ...]:
        if not self._empty:
            return ()
        return (
            f"{self.name}: {self._empty} deliveries the cloud sent with no products, counted "
            "as delivered (step 506: whether the goods had nothing to pair with is not judged)",
        )

    def finish(self) -> None:
        judgement = self.facts.judgement
        if judgement is not None:
            self.checked = judgement.lost_checked
            self.violations.extend(Violation(*broken) for broken in judgement.lost)


class NoDuplicateShown(Invariant):
    """Steps 509/605: a user is shown a receipt's associated products once.

    At most one ``shown`` note per phone and receipt. (For a trace without shown notes:
    at most one reply received per request, and at most one push received per phone and
    receipt; a response to a request asked after a push is the user asking again.)
    Judged by the promise ledger (:mod:`scenarios._sim._promises`), as the report's
    ``duplicates``.
    """

    name = "no-duplicate-shown"
    kind = "safety"

    def finish(self) -> None:
        judgement = self.facts.judgement
        if judgement is not None:
            self.checked = judgement.shown_checked
            self.violations.extend(Violation(*broken) for broken in judgement.shown_twice)


class Privacy(Invariant):
    """Steps 508 and 603 (and unit 8022's "both devices", no more): who may see products.

    No phone is sent, or receives, an ``association-response`` or ``association-push``
    for a receipt unless it is the phone the POS named for it or the phone that received
    that receipt's ``receipt-notice`` (the buyer) before; and the cloud sends them only to
    a phone it sent a ``subscribe-ack`` before (the cloud serves only subscribed phones:
    ``push-withheld``, ``dual-send-withheld``, ``not-subscribed``).
    """

    name = "privacy"
    kind = "safety"

    def __init__(self, facts: _Facts, config: _Config) -> None:
        super().__init__(facts, config)
        self._judged: set[tuple[str, str]] = set()
        self._unsure = 0  # deliveries to a phone whose subscription a batch may have taken

    def observe(self, ev: TraceRecord) -> None:
        receipt = ev.receipt
        if receipt is None or ev.type not in _DELIVERY_TYPES or not ev.to.startswith(_PHONE):
            return
        if ev.kind == "send" and ev.frm == CLOUD:
            self._judge_subscribed(ev, receipt)
        elif ev.kind != "recv":
            return
        key = (ev.to, receipt)
        if key in self._judged:
            return
        self._judged.add(key)
        self.checked += 1
        named = self.facts.named(receipt)
        noticed = self.facts.noticed_by.get(receipt, ())
        if ev.to == f"{_PHONE}{named}" or ev.to in noticed:
            return
        verb = "received" if ev.kind == "recv" else "was sent"
        self.violate(
            receipt,
            (CLOUD, ev.to),
            (ev.t,),
            f"{ev.to} {verb} the products of {receipt} ({ev.type}) but is neither the "
            f"POS-named phone ({named or 'none bound'}) nor a phone that received its "
            f"receipt notice ({', '.join(noticed) or 'none'})",
        )

    def _judge_subscribed(self, ev: TraceRecord, receipt: str) -> None:
        """The cloud serves only subscribed phones (``push-withheld``,
        ``dual-send-withheld``, ``not-subscribed``): products sent to a phone the cloud
        never sent a ``subscribe-ack`` before. A privacy rule: a phone that never enrolled
        has no device token, and in the field anyone may connect as its number
        (``docs/security.md``), so what is sent there is sent to anyone."""
        phone = ev.to[len(_PHONE) :]
        if self.facts.ledger.subscribed_at(phone) is not None:
            return
        if not self.facts.ledger.atomic_steps and ev.to in self.facts.asked:
            # a process's batch may have stored the subscription and crashed before its
            # acknowledgement was sent: not shown either way
            self._unsure += 1
            return
        self.violate(
            receipt,
            (CLOUD, ev.to),
            (ev.t,),
            f"{ev.to} was sent the products of {receipt} ({ev.type}) but never subscribed "
            "(the cloud sent it no subscribe-ack before): the cloud serves only "
            "subscribed phones",
            once=(ev.to, receipt, "unsubscribed"),
        )

    def left_out(self) -> tuple[str, ...]:
        if not self._unsure:
            return ()
        return (
            f"{self.name}: {self._unsure} deliveries to a phone whose subscription reached "
            "the cloud unacknowledged in a process's trace (a batch may have stored it)",
        )


_STEP_EVENTS = frozenset({"send", "send-failed", "drop", "dup", "delay", "note"})
# What the cloud handles (protocol/_machines/_cloud.py, CloudMachine.handle): a message of
# these types received is never unexpected, and (typed, validated) never invalid.
_CLOUD_ACCEPTS = frozenset(
    {
        "purchase-upload",
        "association-request",
        "subscribe",
        "push-ack",
        "promotion-update",
        "error-reply",
    }
)


class RefusalJustified(Invariant):
    """Steps 502, 504/505 and 508: the cloud refuses only what it must.

    Every ``error-reply`` the cloud sends is justified by what the trace shows before it:
    ``unknown-receipt`` only for a receipt the cloud never acknowledged an upload of
    (step 502 stores what it acknowledges), or to a phone neither named by its upload nor
    handed its receipt notice (privacy: such a phone may not learn it exists);
    ``conflicting-upload`` only after an upload of that receipt with other content was
    acknowledged (a repeated upload is acknowledged again); ``not-subscribed`` only to a
    phone the cloud never sent a ``subscribe-ack``;
    ``identifier-mismatch`` only to a requester that is not the phone the acknowledged
    upload names (step 505 said "not equal"; whether the policy allows refusing is
    ``mismatch-dual-send``'s); ``invalid-message`` and ``unexpected-message`` never in the
    step of a message the cloud handles (a ``recv`` at the cloud is typed and valid);
    ``forged-identifier`` only in the step of a message naming another party than its
    sender (step 504: a request's, subscription's or push-ack's ``phone_id`` against the
    phone's address, an upload's ``pos:MERCHANT:POS`` against the POS's, a promotion
    update's merchant against the POS's). Deny by default: any other code is a violation,
    the wire's own (``overloaded``, ``timeout``, ...: a connection's refusal, sent by no
    machine, which no trace shows as the cloud's send; a field trial's client counts them,
    ``actors/_tcp_client_endpoint.py``) and a code no rule knows.

    After a crash or restart of a cloud whose store is not known to keep what it stored
    (``cloud.store`` ``"sqlite"``, or ``"auto"`` with a ``[[crash]]`` of the cloud), the
    refusals that depend on the store (the first four) are not judged: a cloud on
    ``memory`` restarts empty. Nor is a refusal of a message in a step the trace does not
    show whole (another process's event between, in a merged field trial). The result
    counts both under "not checked", so the verdict never reads as if they were judged.
    """

    name = "refusal-justified"
    kind = "safety"

    def __init__(self, facts: _Facts, config: _Config) -> None:
        super().__init__(facts, config)
        self._forgot = False  # the cloud came back on a store that may have forgotten
        self._unjudged = 0  # refusals not judged since (the result says how many)
        self._unseen = 0  # refusals outside the step of the refused party's message

    def observe(self, ev: TraceRecord) -> None:
        kind = ev.kind
        if ev.frm != CLOUD:
            return
        if kind == "send" and ev.type == "error-reply":
            self._judge(ev, ev.msg.get("code"))
        elif kind in {"crash", "restart"} and not self.config.store_kept:
            self._forgot = True

    def _judge(self, ev: TraceRecord, code: object) -> None:
        facts, receipt, to = self.facts, ev.receipt, ev.to
        why: str | None = None
        if code in _STEP_REFUSALS:
            step = facts.step
            if step is None or step[0] != to:
                # not the step of a message from the refused party, as far as shown
                self._unseen += 1
                return
            self.checked += 1
            if code == "forged-identifier":
                why = step[2]
            elif step[1] in _CLOUD_ACCEPTS:
                why = f"a {step[1]} it handles (received typed and valid)"
        elif code in _STORED_REFUSALS:
            if self._forgot:
                self._unjudged += 1
                return
            self.checked += 1
            why = self._unjustified_by_store(str(code), receipt, to)
        else:
            # Deny by default: a wire code (the wire's own refusals are the connection's,
            # never a message of the cloud: no trace shows them) or a code no rule knows.
            self.checked += 1
            what = "a refusal of the wire" if code in _WIRE_REFUSALS else "no code it may send"
            why = f"{what}: the cloud's machine sends it in no step"
        if why is not None:
            self.violate(
                receipt,
                (CLOUD, to),
                (ev.t,),
                f"the cloud refused {to} with {code!r} for {why}",
                once=(receipt, to, code),
            )

    def left_out(self) -> tuple[str, ...]:
        reasons = []
        if self._unjudged:
            reasons.append(
                f"{self.name}: {self._unjudged} refusals that depend on the cloud's store "
                "(unknown-receipt, conflicting-upload, not-subscribed, identifier-mismatch), "
                "sent after a crash or restart of a cloud whose store may have forgotten "
                "(not sqlite)"
            )
        if self._unseen:
            reasons.append(
                f"{self.name}: {self._unseen} refusals of a message (forged-identifier, "
                "invalid-message, unexpected-message) sent outside a step of the cloud the "
                "trace shows whole (which message was refused is not shown)"
            )
        return tuple(reasons)

    def _unjustified_by_store(self, code: str, receipt: str | None, to: str) -> str | None:
        facts = self.facts
        binding = facts.bound.get(receipt) if receipt is not None else None
        if code == "unknown-receipt":
            # A phone neither named nor handed the receipt may not learn it exists: the
            # field cloud's gatekeeper refuses it so (privacy's rule, protocol/_machines/_auth.py).
            if binding is not None and (
                to == f"{_PHONE}{binding.phone}"
                or to in facts.noticed_by.get(receipt or "", ())
                or not to.startswith(_PHONE)
            ):
                return f"{receipt}, whose upload it acknowledged at t={binding.t:.3f}"
        elif code == "conflicting-upload":
            upload = facts.last_upload.get((receipt, to)) if receipt is not None else None
            if binding is None:
                return f"{receipt}, of which it acknowledged no upload"
            if upload is not None and upload.digest == binding.digest:
                return f"{receipt}, the very upload it acknowledged at t={binding.t:.3f}"
        elif code == "not-subscribed":
            phone = phone_of(to)
            subscribed = None if phone is None else facts.ledger.subscribed_at(phone)
            if subscribed is not None:
                what = receipt or "a request"
                return f"{what}, having acknowledged its subscription at t={subscribed:.3f}"
        elif code == "identifier-mismatch":
            if binding is None:
                return f"{receipt}, of which it acknowledged no upload (nothing to mismatch)"
            if phone_of(to) == binding.phone:
                return f"{receipt}, though {to} is the phone its upload names"
        return None


_STORED_REFUSALS = frozenset(
    {"unknown-receipt", "conflicting-upload", "not-subscribed", "identifier-mismatch"}
)
# Judged by the message of the step they refuse (the step's sender and its claims).
_STEP_REFUSALS = frozenset({"invalid-message", "unexpected-message", "forged-identifier"})
# The byte stream's refusals (protocol/_wire): a connection's, sent by no machine.
_WIRE_REFUSALS = frozenset(
    {
        "unsupported-version",
        "frame-too-large",
        "malformed-frame",
        "hello-required",
        "unauthorized",
        "timeout",
        "overloaded",
    }
)
_PHONE_CLAIMS = frozenset({"association-request", "subscribe", "push-ack"})


def _unforged(sender: str, typ: str, msg: Mapping[str, Any]) -> str | None:
    """Why a ``forged-identifier`` refusal of ``sender``'s message is unjustified (None:
    the message names another party than its sender, as protocol/_machines/_auth.py's
    ``names_another_phone`` and ``claims_refusal`` judge it)."""
    if typ in _PHONE_CLAIMS:
        claimed = f"{_PHONE}{msg.get('phone_id')}"
    elif typ == "purchase-upload":
        claimed = f"pos:{msg.get('merchant_id')}:{msg.get('pos_id')}"
    elif typ == "promotion-update":
        parts = sender.split(":")
        merchant = parts[1] if len(parts) == 3 and parts[0] == "pos" else None
        if merchant != msg.get("merchant_id"):
            return None
        return f"a {typ} of its own merchant {merchant}"
    else:
        return f"a {typ}, which claims no party"
    if claimed != sender:
        return None
    return f"a {typ} naming {claimed}, its own sender"


_INVARIANT_CLASSES: tuple[type[Invariant], ...] = (
    Binding,
    MismatchDualSend,
    TimeoutPush,
    NoDeliveryLost,
    NoDuplicateShown,
    Privacy,
    RefusalJustified,
)

INVARIANTS: dict[str, Kind] = {cls.name: cls.kind for cls in _INVARIANT_CLASSES}
"""Every invariant's name and kind (safety or liveness), in the order they are reported."""


# ------------------------------------------------------------------ events that change nothing

IGNORED: Final = "ignored"  # feeding the event changes no fact but the time and the receipts seen
IGNORED_ONCE_RELIABLE: Final = "ignored once reliable"  # ... nor those once the ledger is reliable
Ignorable = Literal["ignored", "ignored once reliable"]

# Read off the handlers (``_Facts.absorb``, each invariant's ``observe``, the ledger's
# ``message``, ``note`` and ``push_due``), never guessed: tests/scenarios/test_checks_ignored.py
# feeds every event kind x type from reachable checker states and shows each entry changes
# no cell. Acknowledgements only set the ledger's ``reliable`` flag; a fault on a message
# (and a refused send) only that too, for an acknowledgement; a sent receipt notice,
# subscription or promotion and a received subscribe-ack or promotion have no handler.
_ACKS = ("push-ack", "notice-ack", "promotion-ack")
_FAULTS = ("send-failed", "drop", "dup", "delay")
_IGNORED_MESSAGES: dict[tuple[str, str], Ignorable] = {
    **{(kind, ack): IGNORED_ONCE_RELIABLE for kind in ("send", "recv", *_FAULTS) for ack in _ACKS},
    **{("send", typ): IGNORED for typ in ("receipt-notice", "subscribe", "promotion-update")},
    **{("recv", typ): IGNORED for typ in ("subscribe-ack", "promotion-update")},
}
# A PushAck the cloud takes is a fact of the lifecycle (push-acknowledged:
# PromiseLedger.acked).
del _IGNORED_MESSAGES["recv", "push-ack"]
_FED_NOTES = frozenset({"shown", "gave-up"})  # the ledger's note() keeps these
_RELIABLE_NOTES = frozenset({"already-shown"})  # only sets the ledger's reliable flag


def ignorable(ev: TraceRecord) -> Ignorable | None:
    """Whether feeding ``ev`` to a :class:`TraceChecker` can change only its time and its
    receipts seen (:data:`IGNORED`), or those and the ledger's ``reliable`` flag
    (:data:`IGNORED_ONCE_RELIABLE`), judged from the event alone (its kind, its message
    type, a timer's key; a fault on any message but an acknowledgement); None: it may
    change more. :meth:`TraceChecker.ignores` adds what the checker's state decides."""
    kind = ev.kind
    if kind in MESSAGE_EVENTS:
        if kind in _FAULTS and ev.type not in _ACKS:
            return IGNORED
        return _IGNORED_MESSAGES.get((kind, ev.type))
    if kind == "note":
        if ev.type in _FED_NOTES:
            return None
        return IGNORED_ONCE_RELIABLE if ev.type in _RELIABLE_NOTES else IGNORED
    if kind == "timer":  # the cloud's PushDue decides step 603 (the ledger's push_due)
        return None if ev.frm == CLOUD and push_due_receipt(ev.detail) is not None else IGNORED
    if kind in {"crash", "restart"} and ev.frm == CLOUD:
        return None  # what reached the cloud unanswered is excused again (the ledger's down)
    return IGNORED  # another's crash or restart, a partition: no handler reads them


# ------------------------------------------------------------------ the checker


Settings = Mapping[str, Any] | Scenario | None


def _config(settings: Settings) -> tuple[_Config, tuple[str, ...]]:
    if isinstance(settings, Scenario):
        settings = scenario_to_dict(settings)
    if settings is None:
        return _Config(None, None), (
            "the push deadline and the mismatch policy: no scenario settings "
            "(no trace header, and none given)",
        )
    cloud = settings.get("cloud")
    cloud = cloud if isinstance(cloud, Mapping) else {}
    timeout = cloud.get("push_timeout")
    policy = cloud.get("mismatch_policy")
    store = cloud.get("store")
    crashes = settings.get("crash")
    crashes_cloud = isinstance(crashes, Sequence) and any(
        isinstance(c, Mapping) and fnmatch.fnmatchcase(CLOUD, str(c.get("actor"))) for c in crashes
    )
    # as the simulator picks it (scenarios/_sim/_runner.py), or "kept" (the explorer's
    # world: its cloud keeps its store); unknown: not kept
    store_kept = store in {"sqlite", "kept"} or (store == "auto" and crashes_cloud)
    skipped: list[str] = []
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        timeout = None
        skipped.append("the push deadline: the settings have no cloud.push_timeout")
    if policy not in ("dual-send", "reject"):
        policy = None
        skipped.append("the mismatch policy: the settings have no cloud.mismatch_policy")
    return _Config(None if timeout is None else float(timeout), policy, store_kept), tuple(skipped)


class TraceChecker:
    """Judges every invariant over a trace fed to it in order, then gives the result.

    ``settings`` is the scenario (a :class:`~scenarios.Scenario` or the header's
    ``settings`` dict); a header record fed first supplies it when not given. An instance
    is also an observer: ``run_scenario(s, observers=[checker])`` checks a live run.
    """

    def __init__(self, settings: Settings = None, *, atomic_steps: bool = True) -> None:
        self._settings_given = settings is not None
        self._config, self._skipped = _config(settings)
        self._facts = _Facts()
        self._facts.ledger.push_timeout = self._config.push_timeout
        # False for the traces of processes (serve cloud takes messages in batches): what
        # a crash of the cloud may have lost (PromiseLedger.atomic_steps); a header of a
        # process's trace says so itself (feed_header).
        self._facts.ledger.atomic_steps = atomic_steps
        self._invariants = [cls(self._facts, self._config) for cls in _INVARIANT_CLASSES]
        self._events = 0
        self._line = 0
        self._cell_values: list[Any] | None = None  # what monitor_state() froze last
        self._sealed = False  # a kept checker: never changed again (seal, kept)
        self._layout: _Layout | None = None  # where its cells are read (_laid_out)

    def feed_header(self, header: Mapping[str, Any]) -> None:
        """Take the scenario's settings from a trace header (unless settings were given),
        and whether a process wrote it (``process``: a field trial's, whose cloud takes
        messages in batches)."""
        self._unsealed()
        if self._events:
            raise TraceError("the header must come before every event")
        if "process" in header:
            self._facts.ledger.atomic_steps = False
        if not self._settings_given:
            settings = header.get("settings")
            self._config, self._skipped = _config(
                settings if isinstance(settings, Mapping) else None
            )
            for invariant in self._invariants:
                invariant.config = self._config
            self._facts.ledger.push_timeout = self._config.push_timeout

    def feed(self, record: Mapping[str, Any], line: int | None = None) -> None:
        """Judge one record: a header (``format`` key) or an event."""
        self._line = self._line + 1 if line is None else line
        if "format" in record:
            self.feed_header(validate_header(record, "trace"))
            return
        self.feed_event(parse_event(record, self._line))

    def feed_event(self, ev: TraceRecord) -> None:
        if self._sealed:
            self._unsealed()
        self._events += 1
        for invariant in self._invariants:
            invariant.observe(ev)
        self._facts.absorb(ev)

    def transition_whole(self) -> None:
        """The events fed since the last call were one whole transition of a world whose
        cloud takes each message in a step of its own (``assocsim explore``'s): a kill
        inside a step is among its step's events, so what the cloud took is past its
        commit now (as the next event of a trace would show). Nothing is judged otherwise;
        the explorer's states stop differing by a doubt no later event could act on."""
        facts = self._facts
        ledger = facts.ledger
        if ledger.atomic_steps and ledger.in_doubt():
            if self._sealed:
                self._unsealed()
            ledger.cloud_went_on()

    def ignores(self, events: Sequence[TraceRecord], rules: Sequence[Ignorable | None]) -> bool:
        """Would feeding ``events`` (each :func:`ignorable` as ``rules`` says, None for
        none) leave this checker's :meth:`monitor_state` as it is? Yes when each comes at
        the time of the last event fed, names no receipt or one seen, and, where its rule
        says so, the ledger is already reliable. ``assocsim explore`` then maps its
        monitor state to itself without feeding them (``docs/explore.md``, "Speed")."""
        facts = self._facts
        last_t, receipts = facts.last_t, facts.receipts
        # While an arrival at the cloud is in doubt, the cloud's next step settles it.
        doubt = facts.ledger.in_doubt()
        for ev, rule in zip(events, rules, strict=True):
            receipt = ev.receipt
            if (
                ev.t != last_t
                or (receipt is not None and receipt not in receipts)
                or (rule is not IGNORED and (rule is None or not facts.ledger.reliable))
                or (doubt and CLOUD in (ev.frm, ev.to))
            ):
                return False
        return True

    def __call__(self, event: TraceEvent) -> None:
        """The observer form: judge a live event (the record :meth:`feed` would make of
        its JSON form, made without it)."""
        self._line += 1
        self.feed_event(record_of_event(event, self._line))

    def fork(self) -> TraceChecker:
        """An independent copy of this checker, cheap: every container of facts copied one
        level (the values in them are immutable records), the promise ledger forked
        (:meth:`~scenarios._sim._promises.PromiseLedger.fork`). ``assocsim explore`` keeps
        a checker per state of it and forks it to judge that state, or to go on with a
        scratch checker (``docs/explore.md``, "Speed")."""
        new = _forked(self)
        new._cell_values = new._layout = None  # its own objects' cells, laid out anew
        new._sealed = False  # its containers are its own
        facts = new._facts = _forked(self._facts)
        facts.ledger = self._facts.ledger.fork()
        new._invariants = invariants = [_forked(invariant) for invariant in self._invariants]
        for invariant in invariants:
            invariant.facts = facts
        return new

    def monitor_state(
        self,
        since: tuple[TraceChecker, MonitorState] | None = None,
        shared: dict[Hashable, Hashable] | None = None,
    ) -> MonitorState:
        """Everything this checker remembers that decides its verdicts to come, as a
        hashable value: two checkers with equal states judge every continuation alike.
        ``assocsim explore`` keeps it in a state's fingerprint (the product of the world
        and this monitor, ``docs/explore.md``). Counters of judged cases (they only fill
        the summary table), the settings (fixed per search) and the lines of events (the
        explorer feeds 0) are left out; the violations found so far are in.

        It is a tuple of cells, one per container of facts (and per flag) in a fixed
        order. ``since``: a checker and its state (unchanged since) that this one was
        equal to before the events it was fed since (forked from it, or made like it by
        :meth:`become`): a cell whose container is equal to that checker's is that
        checker's cell, shared rather than frozen again, so a state after a few events
        costs a comparison per cell and the freezing of the cells those events changed.
        ``shared``: cells seen before, by value: a container frozen again that equals one
        of them is that one, so equal cells are one object and compare by identity (an
        atom is kept as it is: 0.0 equals False)."""
        cells = self._cell_values = self._cells()
        if since is None:
            return tuple([_frozen(value) for value in cells])
        parent, state = since
        before = parent._cell_values
        if before is None:  # read once: ``parent`` is unchanged since
            before = parent._cell_values = parent._cells()
        if len(cells) != len(before):
            raise ValueError("monitor_state: since a checker laid out otherwise")
        # the cells the events changed, found in C: each pair compared once (a checker
        # made like ``parent`` holds copies, equal but not the same objects: a whole
        # comparison first would compare every container twice, and the explorer asks
        # only after events it could not show to change nothing)
        changed = list(compress(_POSITIONS, map(operator.ne, cells, before)))
        if not changed:
            return state
        if shared is None:
            shared = {}
        made = list(state)
        for at in changed:
            made[at] = _shared(_frozen(cells[at]), shared)
        return tuple(made)

    def become(self, other: TraceChecker, mine: MonitorState, theirs: MonitorState) -> None:
        """Make this checker remember what ``other`` remembers; ``mine`` and ``theirs`` are
        the two checkers' states (each unchanged since). Each cell that differs gets a copy
        of ``other``'s container, the others are left as they are: ``assocsim explore``
        moves one scratch checker from state to state this way, at the cost of the cells
        that differ instead of a fork (``docs/explore.md``, "Speed")."""
        self._unsealed()
        self._events, self._line = other._events, other._line
        if mine is theirs or mine == theirs:  # compared in C, equal cells by identity first
            return
        layout, source = self._laid_out(), other._laid_out().owners
        owners, cells = layout.owners, layout.shape.cells
        if len(mine) != len(theirs):
            raise ValueError("become: two checkers laid out otherwise")
        for at in _differing(mine, theirs):  # the cells found in C, then equal ones skipped
            if mine[at] != theirs[at]:
                owner, name = cells[at]
                owners[owner][name] = copied_facts(source[owner][name])
        self._cell_values = None

    def kept(self, origin: TraceChecker, theirs: MonitorState, mine: MonitorState) -> TraceChecker:
        """A copy of this checker to keep, never to be fed: ``assocsim explore`` keeps one
        per new state of its checker (``docs/explore.md``, "Speed"). ``mine`` is this
        checker's :meth:`monitor_state` made ``since=(origin, theirs)``: a cell of it that
        is ``origin``'s own object (``theirs``) is a container equal to ``origin``'s, and
        the copy shares that container with ``origin``; every other container is copied
        (:func:`~scenarios._sim._promises.copied_facts`). So a new state costs the cells
        its events changed, not a fork of every container. ``origin`` must be a kept
        checker too (never fed after), or this one's facts would change under the copy;
        the copy may only be read (:meth:`become`'s source, :meth:`fork`, :meth:`result`
        on a fork). Nothing of it is shared with this checker."""
        layout, source = self._laid_out(), origin._laid_out()
        if (
            source.shape is not layout.shape
            or self._cell_values is None
            or len(mine) != len(theirs)
        ):
            copy = self.fork()  # laid out otherwise, or no state made since: copy it all
            copy.seal()  # kept all the same: its state is numbered
            return copy
        # origin's attributes (its containers shared: the cells the events left equal),
        # then a copy of each container they changed, found in C (a few of ~40), and
        # this checker's counters (no verdict reads them)
        mine_owners, cells = layout.owners, layout.shape.cells
        dicts = [dict(attributes) for attributes in source.owners]
        for at in _differing(mine, theirs):
            owner, name = cells[at]
            dicts[owner][name] = copied_facts(mine_owners[owner][name])
        facts, ledger = self._facts, self._facts.ledger
        new_facts = object.__new__(type(facts))
        new_ledger = object.__new__(type(ledger))
        # the ledger's dispatch tables stay origin's (bound to a kept ledger, which is
        # never fed): a fork of the copy binds its own
        new_ledger.__dict__ = dicts[1]
        dicts[0]["ledger"] = new_ledger
        dicts[0]["judgement"] = facts.judgement
        new_facts.__dict__ = dicts[0]
        invariants = []
        for invariant, attributes in zip(self._invariants, dicts[2:], strict=True):
            attributes["facts"] = new_facts
            attributes["checked"] = invariant.checked
            made = object.__new__(type(invariant))
            made.__dict__ = attributes
            invariants.append(made)
        new = object.__new__(TraceChecker)
        new.__dict__ = {
            **vars(self),
            "_facts": new_facts,
            "_invariants": invariants,
            "_cell_values": None,  # read when first asked (a kept checker's seldom are)
            "_sealed": True,  # shares containers with origin: never fed (KeptCheckerFed)
            "_layout": _Layout(dicts, layout.shape),  # its own objects' dicts, origin's shape
        }
        return new

    def seal(self) -> None:
        """Keep this checker as it is: feeding it, :meth:`become` and :meth:`result` raise
        :class:`KeptCheckerFed` from now on (a :meth:`fork` of it may be fed). A checker
        made by :meth:`kept` is sealed; ``assocsim explore`` seals its first one too."""
        self._sealed = True

    def _unsealed(self) -> None:
        """Raise :class:`KeptCheckerFed` if this checker is sealed (a kept checker)."""
        if self._sealed:
            raise KeptCheckerFed(
                "a kept checker was asked to change (fed, made like another, or finished): "
                "it shares its facts with other kept checkers; change a fork of it instead"
            )

    def _cells(self) -> list[Any]:
        """What :meth:`monitor_state` freezes, in a fixed order: the facts', the ledger's
        and each invariant's attributes but for code, constants and counters."""
        layout = self._laid_out()
        shape = layout.shape
        if tuple(map(len, layout.owners)) != shape.sizes:  # an attribute set after __init__
            self._layout = None
            return self._cells()
        return list(chain.from_iterable(map(operator.call, shape.getters, layout.owners)))

    def _laid_out(self) -> _Layout:
        """Where this checker's cells are read, found once per checker (its owners'
        attribute dicts are the same objects for its life; an owner that gains an
        attribute is laid out again by :meth:`_cells`, attributes are never deleted)."""
        layout = self._layout
        if layout is None:
            facts = self._facts
            owners: list[object] = [facts, facts.ledger, *self._invariants]
            dicts = [vars(owner) for owner in owners]
            key = tuple([(type(o), tuple(d)) for o, d in zip(owners, dicts, strict=True)])
            shape = _SHAPES.get(key)
            if shape is None:
                skips = [_FACTS_SKIP, _LEDGER_SKIP] + [_INVARIANT_SKIP] * len(self._invariants)
                getters = []
                cells = []
                for i, (owner, attributes) in enumerate(zip(owners, dicts, strict=True)):
                    getters.append(_cells_of(owner, attributes, skips[i]))
                    names = _CELL_NAMES[(type(owner), tuple(attributes))]
                    cells += [(i, name) for name in names]
                sizes = tuple([len(attributes) for attributes in dicts])
                shape = _SHAPES[key] = _Shape(tuple(getters), sizes, tuple(cells))
            layout = self._layout = _Layout(dicts, shape)
        return layout

    def result_before_gap(self, gap: TraceIncomplete) -> CheckResult:
        """What the events read before ``gap`` show: the violations judged event by event
        (each stands whatever came after it), none of the judgements made at the trace's
        end (a lost delivery, a duplicate shown, a push after an answered pull, a missing
        dual-send: what the gap hid may decide them). Never ``ok`` to a caller that reads
        ``incomplete``: ``assocsim check`` says all clear only of a whole trace."""
        return CheckResult(
            events=self._events,
            receipts=len(self._facts.receipts),
            invariants=tuple(
                InvariantSummary(i.name, i.kind, i.checked, len(i.violations))
                for i in self._invariants
            ),
            violations=tuple(v for i in self._invariants for v in i.violations),
            shown_from="shown notes" if self._facts.ledger.reliable else "receptions",
            skipped=(
                *self._skipped,
                *self._left_out(),
                "the judgements made at the trace's end: it is cut",
            ),
            incomplete=str(gap),
        )

    def result(self) -> CheckResult:
        """Finish the liveness checks and report (call once, after the last event)."""
        self._unsealed()  # finishing writes the judgement and the violations
        violations: list[Violation] = []
        summaries: list[InvariantSummary] = []
        facts = self._facts
        facts.judgement = facts.ledger.judge(facts.last_t)
        for invariant in self._invariants:
            invariant.finish()
            violations += invariant.violations
            summaries.append(
                InvariantSummary(
                    invariant.name, invariant.kind, invariant.checked, len(invariant.violations)
                )
            )
        return CheckResult(
            events=self._events,
            receipts=len(self._facts.receipts),
            invariants=tuple(summaries),
            violations=tuple(violations),
            shown_from="shown notes" if facts.ledger.reliable else "receptions",
            skipped=(*self._skipped, *self._left_out()),
        )

    def _left_out(self) -> tuple[str, ...]:
        return tuple(reason for invariant in self._invariants for reason in invariant.left_out())


MonitorState = tuple[Hashable, ...]
"""A :class:`TraceChecker`'s state as a hashable value (:meth:`TraceChecker.monitor_state`)."""

_ATOMS = frozenset({str, int, float, bool, bytes, type(None)})
# not a fact: the ledger (its facts are cells of their own), the end's judgement (None
# until the result), the ledger's code and settings, an invariant's links and counter
_FACTS_SKIP = frozenset({"ledger", "judgement", "step", "answer"})
# (and where its records' groups start, and a new record's blank slots: settings)
_LEDGER_SKIP = frozenset({"_field", "push_timeout", "_on_send", "_on_recv", "_pairs_at", "_tail"})
_INVARIANT_SKIP = frozenset({"facts", "config", "checked"})


_OwnerLayout = tuple[type, tuple[str, ...]]  # an object's class and attributes' names
_CELLS: dict[_OwnerLayout, Callable[[dict[str, Any]], tuple[Any, ...]]] = {}
_CELL_NAMES: dict[_OwnerLayout, tuple[str, ...]] = {}  # the names _CELLS reads


class _Shape(NamedTuple):
    """How a checker's cells lie in its owners (the facts, the ledger, each invariant),
    the same for every checker whose owners have the same attributes: a reader of each
    owner's cells, each owner's number of attributes, and per cell its owner and name."""

    getters: tuple[Callable[[dict[str, Any]], tuple[Any, ...]], ...]
    sizes: tuple[int, ...]
    cells: tuple[tuple[int, str], ...]


class _Layout(NamedTuple):
    """Where a checker's cells are: its owners' attribute dicts and their shape."""

    owners: list[dict[str, Any]]
    shape: _Shape


_SHAPES: dict[tuple[_OwnerLayout, ...], _Shape] = {}


def _cells_of(
    owner: object, attributes: dict[str, Any], skip: frozenset[str]
) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """What reads the cells out of ``owner``'s ``attributes`` (all but ``skip``) by name,
    made once per class and set of attribute names (a checker's objects get theirs in
    ``__init__``)."""
    layout = (type(owner), tuple(attributes))
    getter = _CELLS.get(layout)
    if getter is None:
        kept = [name for name in attributes if name not in skip]
        if len(kept) == 1:  # itemgetter of one name gives the value, not a tuple
            only = kept[0]

            def getter(values: dict[str, Any]) -> tuple[Any, ...]:
                return (values[only],)

        else:
            getter = operator.itemgetter(*kept)
        _CELLS[layout] = getter
        _CELL_NAMES[layout] = tuple(kept)
    return getter


_POSITIONS = range(1 << 16)  # a cell's position, for compress(): far more than any checker's


def _differing(mine: MonitorState, theirs: MonitorState) -> list[int]:
    """The positions where two states of one layout hold other objects (found in C);
    equal cells are one object when both states were made ``since`` one another or with
    one ``shared`` table, so few positions are equal cells of two objects."""
    return list(compress(_POSITIONS, map(operator.is_not, mine, theirs)))


def _shared(cell: Hashable, shared: dict[Hashable, Hashable]) -> Hashable:
    """``cell``, or the equal container seen before; an atom as it is (0.0 == False: an
    atom found by equality could be another type's)."""
    if type(cell) in _ATOMS:
        return cell
    return shared.setdefault(cell, cell)


def _forked(obj: _T) -> _T:
    """A new ``obj`` of the same class whose attributes are ``obj``'s, each container of
    facts copied (:func:`~scenarios._sim._promises.copied_facts`, as the ledger's fork)."""
    new: _T = object.__new__(type(obj))
    new.__dict__ = {name: copied_facts(value) for name, value in vars(obj).items()}
    return new


def _frozen(value: Any, skip: Sequence[str] = ()) -> Hashable:
    """``value`` (the checker's facts: dicts, sets, lists, records) as a hashable value:
    a dict as the set of its items (no verdict depends on the order facts were learnt, only
    the order violations are listed in), lists in order, ``skip`` keys left out and so are
    methods (a ledger's dispatch tables: code, not history)."""
    cls = type(value)
    atom: Hashable = value  # an atom, or (below) a value just checked to hash
    if cls in _ATOMS:
        return atom
    # A container of atoms alone (most records) is frozen at C speed, to the same value
    # the general case below makes of it (an atom is its own frozen form; no atom is
    # callable).
    if cls is dict:
        if not skip:
            if _ATOMS.issuperset(map(type, value.values())):
                return frozenset(value.items())
            if not any(map(callable, value.values())):  # a table of records: keys kept
                return frozenset(zip(value.keys(), map(_frozen, value.values()), strict=True))
        return frozenset(
            [(k, _frozen(v)) for k, v in value.items() if k not in skip and not callable(v)]
        )
    if cls is set or cls is frozenset:
        if _ATOMS.issuperset(map(type, value)):
            return frozenset(value)
        return frozenset([_frozen(v) for v in value])
    if cls is list or isinstance(value, tuple):
        if _ATOMS.issuperset(map(type, value)):
            return (cls.__name__, *value)
        return (cls.__name__, *[_frozen(v) for v in value])
    if attrs.has(cls):  # a judgment (mutable), a violation
        return (cls.__name__, *[_frozen(getattr(value, f.name)) for f in attrs.fields(cls)])
    hash(value)  # a value the monitor's state cannot hold otherwise raises here
    return atom


def check_trace(records: Iterable[Mapping[str, Any]], *, settings: Settings = None) -> CheckResult:
    """Check parsed trace records (a header first, or ``settings``); see the module doc."""
    checker = TraceChecker(settings)
    for record in records:
        checker.feed(record)
    return checker.result()


def check_events(events: Iterable[TraceEvent], *, settings: Settings = None) -> CheckResult:
    """Check live :class:`~actors.TraceEvent` values (as an observing checker does: the
    records their JSON form would give, made without it)."""
    checker = TraceChecker(settings)
    for event in events:
        checker(event)
    return checker.result()


def check_trace_file(path: str | Path) -> CheckResult:
    """Check a trace file; :class:`TraceError` if it cannot be read."""
    return _check_file(Path(path))[1]


def check_trace_files(paths: Sequence[str | Path]) -> tuple[dict[str, Any], CheckResult]:
    """The header and the check of one trace file, or of several (a field trial's
    processes) merged by time (:func:`~scenarios.merge_traces`); :class:`TraceError`.

    A run's trace that names fewer receipts than its run planned is cut short
    (:func:`~scenarios._trace._reader.cut_run`): :class:`TraceError`, or its violations
    marked ``incomplete``, as a trace cut at its writer's bound."""
    if len(paths) == 1:
        header, result = _check_file(Path(paths[0]))
    else:
        header, records = merge_traces([Path(path) for path in paths])
        checker = TraceChecker()
        checker.feed_header(header)
        for line, record in enumerate(records, 2):
            checker.feed(record, line)
        result = checker.result()
    cut = _reader.cut_run(header, result.receipts) if result.incomplete is None else None
    if cut is None:
        return header, result
    if not result.violations:  # nothing to show: one line, exit 2, never all clear
        raise TraceError(f"{paths[0]}: {cut}")
    return header, attrs.evolve(result, incomplete=f"{paths[0]}: {cut}")


def _check_file(path: Path) -> tuple[dict[str, Any], CheckResult]:
    """Raises :class:`TraceIncomplete` on a cut trace, unless its events before the gap
    already break a promise: then those violations, marked ``incomplete``."""
    with TraceReader(path) as reader:
        checker = TraceChecker()
        checker.feed_header(reader.header)
        try:
            for event in reader.events():
                checker.feed_event(event)
        except TraceIncomplete as gap:
            found = checker.result_before_gap(gap)
            if not found.violations:
                raise  # nothing to show: one line, exit 2, never all clear
            return reader.header, found
        return reader.header, checker.result()

"""Reliable sending over a lossy network: an outbox re-sends until the peer acknowledges.

The patent assumes a perfect network. Ours loses, duplicates and reorders messages, and
parties crash. Every machine that needs an answer keeps what it sent in an :class:`Outbox`
under an idempotency key (the receipt id for an upload, a notice or a push; the request's
receipt for a request; the phone for a subscription) and re-sends it with exponential
backoff until the matching acknowledgement or reply arrives. The receivers are idempotent
(a receipt uploaded twice is bound once; a delivery received twice is shown once), so a
re-send is always safe.

Backoff is deterministic (no jitter): the same scenario and seed give the same trace.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

import attrs

from protocol._core._effects import NOTHING, Address, Effects, Note, Send, Timer
from protocol._core._errors import LocalProtocolError
from protocol._core._validators import ConfigValidators
from protocol._wire._codec import message_type

__all__ = ["Kept", "Outbox", "OutboxNote", "Resend", "ResendResult", "RetryPolicy"]


class OutboxNote:
    """The kind of :class:`~protocol.Note` an outbox emits."""

    GAVE_UP = "gave-up"  # max_attempts sends and no acknowledgement: stop re-sending


_check = ConfigValidators(LocalProtocolError)

MIN_RETRY_DELAY = 0.001
"""The shortest wait before a re-send, in seconds (1 ms): the granularity of the tcp
transport's timers, and far below any network's round trip."""


@attrs.frozen
class RetryPolicy:
    """When to re-send: after ``first_delay``, then ``factor`` times longer each time,
    never more than ``max_delay`` apart, and ``max_attempts`` sends in all (a restart's
    :meth:`Outbox.resume` re-sends what is waiting once more, past that count: reviewer B's
    F9).

    The defaults re-send for 46 minutes (2 s, 4 s, ... then every minute; give_up_after), which
    outlasts every partition and crash the built-in scenarios inject.

    Delays under :data:`MIN_RETRY_DELAY` are refused (``1e-320`` re-sent every copy in the
    same virtual instant: a backoff that never backs off, all given up, reviewer B's F4),
    and so is a ``max_delay`` below ``first_delay`` (it silently overrode it).
    """

    first_delay: float = attrs.field(default=2.0, validator=_check.number(minimum=MIN_RETRY_DELAY))
    factor: float = attrs.field(default=2.0, validator=_check.number(minimum=1))
    max_delay: float = attrs.field(default=60.0, validator=_check.number(minimum=MIN_RETRY_DELAY))
    max_attempts: int = attrs.field(default=50, validator=_check.whole_number(1))

    def __attrs_post_init__(self) -> None:
        if self.max_delay < self.first_delay:
            raise LocalProtocolError(
                f"RetryPolicy.max_delay: must be at least first_delay ({self.first_delay:g}),"
                f" got {self.max_delay!r}"
            )

    def delay(self, attempt: int) -> float:
        """How long to wait for an acknowledgement after send number ``attempt`` (1, 2, ...)."""
        try:
            grown = self.first_delay * self.factor ** (attempt - 1)
        except OverflowError:  # factor ** attempt: long after max_delay is reached
            return self.max_delay
        return min(grown, self.max_delay)

    def give_up_after(self) -> float:
        """The time from the first send to giving up: the sum of every wait."""
        return sum(self.delay(n) for n in range(1, self.max_attempts + 1))


@attrs.frozen
class Resend:
    """Timer key: no acknowledgement for the message kept under ``key``: send it again."""

    key: Hashable


@attrs.frozen
class ResendResult:
    """What :meth:`Outbox.resend_due` did: its ``effects``, and whether it ``gave_up`` on
    the key (the machine then forgets what it kept beside the outbox for it)."""

    effects: Effects
    gave_up: bool = False


_NOT_WAITING = ResendResult(NOTHING)


@attrs.frozen
class Kept:
    """One message an outbox keeps across a crash: its ``key``, the ``send`` and how many
    ``attempts`` were made (the re-send timer is not kept: it dies with the process)."""

    key: Hashable
    send: Send
    attempts: int


@attrs.define
class _Waiting:
    send: Send
    attempts: int


class Outbox:
    """Messages sent and not yet acknowledged, each re-sent with backoff until it is."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy if policy is not None else RetryPolicy()
        self._waiting: dict[Hashable, _Waiting] = {}

    def __contains__(self, key: Hashable) -> bool:
        return key in self._waiting

    def __len__(self) -> int:
        return len(self._waiting)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(tuple(self._waiting))

    def addressee(self, key: Hashable) -> Address | None:
        """Where the message kept under ``key`` goes (None: nothing kept under it): whose
        acknowledgement may stop it."""
        waiting = self._waiting.get(key)
        return None if waiting is None else waiting.send.to

    def kept(self) -> tuple[Kept, ...]:
        """What this outbox keeps across a crash, in sending order (its durable part)."""
        return tuple(Kept(key, w.send, w.attempts) for key, w in self._waiting.items())

    @classmethod
    def recovered(cls, policy: RetryPolicy, kept: tuple[Kept, ...]) -> Outbox:
        """An outbox rebuilt after a crash from what :meth:`kept` returned."""
        outbox = cls(policy)
        outbox._waiting = {k.key: _Waiting(k.send, k.attempts) for k in kept}
        return outbox

    def send(self, key: Hashable, send: Send, now: float) -> Effects:
        """Send ``send`` and keep it under ``key`` until :meth:`acknowledge`."""
        self._waiting[key] = _Waiting(send, 1)
        return Effects(sends=(send,), timers=(Timer(now + self.policy.delay(1), Resend(key)),))

    def acknowledge(self, key: Hashable) -> Effects:
        """The answer to ``key`` arrived: stop re-sending. A repeated answer changes nothing."""
        if self._waiting.pop(key, None) is None:
            return NOTHING
        return Effects(cancels=(Resend(key),))

    def resend_due(self, key: Hashable, now: float) -> ResendResult:
        """The :class:`Resend` timer of ``key`` fired: send again, or give up."""
        waiting = self._waiting.get(key)
        if waiting is None:
            return _NOT_WAITING  # acknowledged meanwhile
        if waiting.attempts >= self.policy.max_attempts:
            del self._waiting[key]
            message = waiting.send.message
            receipt: str | None = getattr(message, "receipt_id", None)
            detail = (
                f"no answer to {message_type(message)} for {waiting.send.to} "
                f"after {waiting.attempts} sends"
            )
            # the merchant too: a receipt id is unique within its merchant only, and a
            # phone's or the cloud's address does not name one (a POS's does)
            merchant: str | None = getattr(message, "merchant_id", None)
            note = Note(OutboxNote.GAVE_UP, receipt, None, detail, merchant)
            return ResendResult(Effects(notes=(note,)), gave_up=True)
        waiting.attempts += 1
        timer = Timer(now + self.policy.delay(waiting.attempts), Resend(key))
        return ResendResult(Effects(sends=(waiting.send,), timers=(timer,)))

    def resume(self, now: float) -> Effects:
        """After a restart (the timers were lost): send everything waiting again, now."""
        sends: list[Send] = []
        timers: list[Timer] = []
        for key, waiting in self._waiting.items():
            waiting.attempts += 1
            sends.append(waiting.send)
            timers.append(Timer(now + self.policy.delay(waiting.attempts), Resend(key)))
        return Effects(sends=tuple(sends), timers=tuple(timers))

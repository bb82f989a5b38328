"""Which receipts of a trace are worth a look: ``assocsim find TRACE``.

A whole run's diagram is unreadable; one receipt's is. :func:`find_receipts` reads a trace
once (through :class:`~scenarios._trace._reader.TraceReader`) and lists the receipts that
meet any of the criteria asked for (or all of them, with ``every``), each with a one-line
reason, ready for ``assocsim diagram TRACE --receipt R`` and ``assocsim replay TRACE``:

* ``mismatch``: a phone asked the cloud for the receipt's products under another id than
  the one its POS named (step 505), as the report's ``mismatches`` counts them: the
  request as the cloud received it against the POS's last upload the cloud had received;
* ``crash_affected``: an actor the receipt's messages went to or from crashed while the
  receipt was in play (between its first and last event), or a message of it was dropped
  because its recipient was down;
* ``most_resent``: the N receipts with the most re-sends, a re-send being a send of the
  identical message (sender, recipient, type, body) after its first (what the diagram
  marks 2nd, 3rd);
* ``lost`` and ``duplicated``: the promises the run broke for the receipt, as judged by
  the one promise ledger (:class:`~scenarios._sim._promises.PromiseLedger`): exactly the
  report's ``lost`` and ``duplicates`` and ``assocsim check``'s ``no-delivery-lost`` and
  ``no-duplicate-shown`` / ``timeout-push`` verdicts;
* ``gave_up``: a sender gave up re-sending one of its messages (a ``gave-up`` note);
* ``violations``: any invariant ``assocsim check`` judges broke for the receipt.

A broken promise that names no receipt (a subscription the cloud received and never
answered) meets ``lost`` and ``violations`` too: it is listed after the receipts, as a
:class:`Found` whose ``receipt`` is None, one per promise. Dropping it, as ``find`` once
did, said "no receipt meets violations" (exit 1) of a trace ``assocsim check`` failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from scenarios._sim._promises import PromiseLedger, json_field, push_due_receipt, push_timeout_of

from . import _reader
from ._checks import TraceChecker
from ._diagram import message_key
from ._reader import MESSAGE_EVENTS, TraceError, TraceReader, TraceRecord

__all__ = ["CRITERIA", "DEFAULT", "NO_RECEIPT", "FindOptions", "Found", "Reason", "find_receipts"]

CLOUD = "cloud"
_PHONE = "phone:"

#: The criteria, in the order a receipt's reasons are given.
CRITERIA = (
    "mismatch",
    "crash-affected",
    "most-resent",
    "lost",
    "duplicated",
    "gave-up",
    "violations",
)


@attrs.frozen
class FindOptions:
    """What to look for; a receipt is listed if it meets any criterion (all, ``every``)."""

    mismatch: bool = False
    crash_affected: bool = False
    most_resent: int | None = None  # the N receipts with the most re-sends
    lost: bool = False
    duplicated: bool = False
    gave_up: bool = False
    violations: bool = False
    every: bool = False

    def asked(self) -> tuple[str, ...]:
        """The criteria asked for, in :data:`CRITERIA` order."""
        flags = {
            "mismatch": self.mismatch,
            "crash-affected": self.crash_affected,
            "most-resent": self.most_resent is not None,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "gave-up": self.gave_up,
            "violations": self.violations,
        }
        return tuple(name for name in CRITERIA if flags[name])


#: No criterion given: look for every one of these.
DEFAULT = FindOptions(
    mismatch=True, crash_affected=True, lost=True, duplicated=True, gave_up=True, violations=True
)


@attrs.frozen
class Reason:
    criterion: str
    detail: str


NO_RECEIPT = "(no receipt)"
"""How a line names a broken promise of no receipt (a subscription's), where a receipt goes."""


@attrs.frozen
class Found:
    """A receipt worth a look, with why; or (``receipt`` None) a broken promise that names
    no receipt."""

    receipt: str | None
    reasons: tuple[Reason, ...]

    def line(self) -> str:
        name = NO_RECEIPT if self.receipt is None else self.receipt
        return f"{name}  " + "; ".join(f"{r.criterion}: {r.detail}" for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "receipt": self.receipt,
            "reasons": [{"criterion": r.criterion, "detail": r.detail} for r in self.reasons],
        }


@attrs.define
class _Crash:
    actor: str
    start: float
    end: float | None = None


class _Finder:
    """One pass over a trace: the facts every criterion needs, per receipt."""

    def __init__(self, header: Mapping[str, Any], options: FindOptions) -> None:
        self.options = options
        settings = header.get("settings")
        self.ledger = PromiseLedger(
            push_timeout_of(settings if isinstance(settings, Mapping) else None), field=json_field
        )
        self.checker: TraceChecker | None = None
        if options.violations:
            self.checker = TraceChecker()
            self.checker.feed_header(header)
        self.order: dict[str, int] = {}  # receipt -> first seen, for trace order
        self.span: dict[str, tuple[float, float]] = {}  # receipt -> first, last event time
        self.actors: dict[str, set[str]] = {}  # receipt -> actors its messages touched
        self.named: dict[str, str] = {}  # receipt -> the phone id of the POS's last upload
        self.mismatch: dict[str, str] = {}
        self.down_drops: Counter[str] = Counter()
        self.sent: set[bytes] = set()
        self.resent: dict[str, Counter[str]] = {}
        self.gave_up: dict[str, list[str]] = {}
        self.crashes: list[_Crash] = []
        self._crashed: dict[str, _Crash] = {}
        self.end = 0.0
        # criterion -> a broken promise of no receipt (its detail) -> the reason
        self.unnamed: dict[str, dict[str, str]] = {}

    def feed(self, events: Iterable[TraceRecord]) -> None:
        for ev in events:
            self.end = ev.t
            if self.checker is not None:
                self.checker.feed_event(ev)
            kind, receipt = ev.kind, ev.receipt
            if kind == "crash":
                self._crashed[ev.frm] = crash = _Crash(ev.frm, ev.t)
                self.crashes.append(crash)
            elif kind == "restart":
                ended = self._crashed.pop(ev.frm, None)
                if ended is not None:
                    ended.end = ev.t
            elif kind == "note":
                self.ledger.note(ev.frm, ev.type, receipt, ev.t, ev.detail)
                if ev.type == "gave-up" and receipt is not None:
                    self.gave_up.setdefault(receipt, []).append(f"{ev.frm} {ev.detail}".strip())
            elif kind == "timer":
                pushed = push_due_receipt(ev.detail) if ev.frm == CLOUD else None
                if pushed is not None:
                    self.ledger.push_due(pushed)
            elif kind in MESSAGE_EVENTS:
                self.ledger.message(kind, ev.frm, ev.to, ev.type, receipt, ev.t, ev.msg)
                if receipt is not None:
                    self._message(ev, receipt)
            if receipt is not None:
                self.order.setdefault(receipt, len(self.order))
                first, _ = self.span.get(receipt, (ev.t, ev.t))
                self.span[receipt] = (first, ev.t)

    def _message(self, ev: TraceRecord, receipt: str) -> None:
        self.actors.setdefault(receipt, set()).update((ev.frm, ev.to))
        kind = ev.kind
        if kind == "send":
            key = message_key(ev)
            if key in self.sent:
                self.resent.setdefault(receipt, Counter())[ev.type] += 1
            else:
                self.sent.add(key)
        elif kind == "drop" and ev.detail == "down":
            self.down_drops[receipt] += 1
        elif kind == "recv" and ev.to == CLOUD:
            phone_id = ev.msg.get("phone_id")
            if ev.type == "purchase-upload" and isinstance(phone_id, str):
                self.named[receipt] = phone_id
            elif ev.type == "association-request" and receipt not in self.mismatch:
                named = self.named.get(receipt)
                if named is not None and phone_id != named:
                    self.mismatch[receipt] = (
                        f"{ev.frm} asked at t={ev.t:.3f}; its POS named {named} (step 505)"
                    )

    # ------------------------------------------------------------------ verdicts

    def reasons(self) -> dict[str, dict[str, str]]:
        """criterion -> receipt -> the one-line reason, for the criteria asked for."""
        asked = self.options.asked()
        found: dict[str, dict[str, str]] = {name: {} for name in asked}
        if "mismatch" in found:
            found["mismatch"] = dict(self.mismatch)
        if "crash-affected" in found:
            found["crash-affected"] = self._crash_affected()
        if "most-resent" in found:
            found["most-resent"] = self._most_resent(self.options.most_resent or 0)
        if "lost" in found or "duplicated" in found:
            judgement = self.ledger.judge(self.end)
            for name, broken in (("lost", judgement.lost), ("duplicated", judgement.duplicates)):
                if name in found:
                    for b in broken:
                        if b.receipt is not None:
                            found[name].setdefault(b.receipt, b.detail)
                        else:
                            self.unnamed.setdefault(name, {}).setdefault(b.detail, b.detail)
        if "gave-up" in found:
            found["gave-up"] = {r: "; ".join(d) for r, d in self.gave_up.items()}
        if "violations" in found and self.checker is not None:
            for v in self.checker.result().violations:
                reason = f"{v.invariant}: {v.detail}"
                if v.receipt is not None:
                    found["violations"].setdefault(v.receipt, reason)
                else:
                    self.unnamed.setdefault("violations", {}).setdefault(v.detail, reason)
        return found

    def _crash_affected(self) -> dict[str, str]:
        affected: dict[str, str] = {}
        for receipt, (first, last) in self.span.items():
            touched = self.actors.get(receipt, set())
            parts = []
            for crash in self.crashes:
                end = crash.end if crash.end is not None else self.end
                if crash.actor in touched and crash.start <= last and end >= first:
                    until = f"{crash.end:.3f}" if crash.end is not None else "the end"
                    parts.append(f"{crash.actor} down t={crash.start:.3f} to {until}")
            if self.down_drops[receipt]:
                count = self.down_drops[receipt]
                parts.append(f"{count} message{'s' * (count > 1)} dropped while down")
            if parts:
                affected[receipt] = (
                    ", ".join(parts) + f" (the receipt in play t={first:.3f} to {last:.3f})"
                )
        return affected

    def _most_resent(self, count: int) -> dict[str, str]:
        ranked = sorted(
            ((sum(c.values()), self.order[r], r) for r, c in self.resent.items()),
            key=lambda entry: (-entry[0], entry[1]),
        )[:count]
        return {
            receipt: f"{total} re-send{'s' * (total > 1)} ("
            + ", ".join(f"{t} x{n}" for t, n in self.resent[receipt].most_common())
            + ")"
            for total, _, receipt in ranked
        }


def find_receipts(trace: str | Path, options: FindOptions | None = None) -> list[Found]:
    """The receipts of ``trace`` meeting the criteria of ``options`` (default: every
    criterion but ``most_resent``), in trace order, then the broken promises that name no
    receipt (``receipt`` None); :class:`TraceError` if unreadable.

    With ``most_resent`` as the only criterion, they come most re-sent first.
    """
    options = DEFAULT if options is None or not options.asked() else options
    if options.most_resent is not None and options.most_resent < 1:
        raise TraceError(f"--most-resent must be at least 1, got {options.most_resent}")
    with TraceReader(trace) as reader:
        finder = _Finder(reader.header, options)
        finder.feed(reader.events())
        cut = _reader.cut_run(reader.header, len(finder.order))
    if cut is not None:  # as for a gap: what it lacks may be what was asked for
        raise TraceError(f"{trace}: {cut}")
    found = finder.reasons()
    asked = options.asked()
    receipts = set().union(*found.values()) if found else set()
    if options.every:
        receipts = {r for r in receipts if all(r in found[name] for name in asked)}
    if asked == ("most-resent",):
        ranking = list(found["most-resent"])
        ordered = sorted(receipts, key=ranking.index)
    else:
        ordered = sorted(receipts, key=lambda r: finder.order.get(r, len(finder.order)))
    unnamed = finder.unnamed
    promises = list(dict.fromkeys(d for name in asked for d in unnamed.get(name, {})))
    if options.every:
        promises = [d for d in promises if all(d in unnamed.get(name, {}) for name in asked)]
    return [
        Found(r, tuple(Reason(name, found[name][r]) for name in asked if r in found[name]))
        for r in ordered
    ] + [
        Found(
            None,
            tuple(Reason(name, unnamed[name][d]) for name in asked if d in unnamed.get(name, {})),
        )
        for d in promises
    ]

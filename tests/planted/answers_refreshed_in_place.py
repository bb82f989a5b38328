"""A pairing engine with a planted bug in what it hands out: each answer of
:meth:`~protocol.PairingEngine.pair` is kept per question (basket, phone, limit) and the
same list handed out when it is asked again; every refresh brings each kept answer up to
date in place. Its answers are right when given (a rebuilt engine agrees), but an answer
already returned changes under its caller at the next refresh.
``tests/protocol/test_engine_answer_timing.py`` holds every answer returned to a copy
taken when it was returned, and must catch it."""

from __future__ import annotations

from collections.abc import Iterable

from protocol import Item, Pairing, PairingEngine

__all__ = ["InPlaceAnswersEngine"]

_Question = tuple[tuple[Item, ...], str | None, int]


class InPlaceAnswersEngine(PairingEngine):
    def pair(self, items: Iterable[Item], phone_id: str | None, limit: int) -> list[Pairing]:
        kept: dict[_Question, list[Pairing]] = self.__dict__.setdefault("_answers", {})
        question = (tuple(items), phone_id, limit)
        found = kept.get(question)
        if found is None:
            found = kept[question] = super().pair(*question)
        return found

    def refresh(self, *, full: bool = False) -> None:
        super().refresh(full=full)
        kept: dict[_Question, list[Pairing]] = self.__dict__.get("_answers", {})
        for question, answer in kept.items():
            answer[:] = super().pair(*question)  # the bug: the caller's list rewritten

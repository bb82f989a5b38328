"""Running a transport for the body of an ``async with``; Ctrl-C unwrapped."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import trio


@asynccontextmanager
async def _running(
    start: Callable[..., Awaitable[Any]], drain: Callable[[], Awaitable[None]], grace: float
) -> AsyncIterator[None]:
    """Run ``start`` in a nursery of its own around the ``async with`` body; on a normal
    exit wait up to ``grace`` seconds for queued writes, then cancel. An exception of the
    body, or of starting, comes out as itself, not wrapped in an exception group."""
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            try:
                await nursery.start(start)
            except BaseException as exc:  # e.g. TransportError: cannot listen
                body_error = exc
                raise
            try:
                yield
            except BaseException as exc:
                body_error = exc
                raise
            else:
                with trio.move_on_after(grace):
                    await drain()
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        if _only_interrupts(group):
            raise KeyboardInterrupt from None
        if body_error is None:
            raise
        _, rest = group.split(lambda exc: exc is body_error)
        if rest is None:
            raise body_error from None
        raise


def _only_interrupts(group: BaseExceptionGroup[BaseException]) -> bool:
    _, rest = group.split(KeyboardInterrupt)
    return rest is None


@contextlib.contextmanager
def _interrupts_unwrapped() -> Iterator[None]:
    """Ctrl-C (a KeyboardInterrupt landing in one of the transport's tasks, wrapped in
    exception groups by the nurseries on its way out) comes out as a plain
    KeyboardInterrupt, as from any trio program; the connections closed on the way."""
    try:
        yield
    except BaseExceptionGroup as group:
        if _only_interrupts(group):
            raise KeyboardInterrupt from None
        raise

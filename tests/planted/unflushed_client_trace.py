"""A planted bug: ``pos`` and ``phone`` processes that send before their trace lines are
written, as they did (the trace flushed every 50 ms).

A phone killed with SIGKILL then loses the ``shown`` notes of the pushes it acknowledged in
its last moment: the cloud got the acknowledgements, the phone's trace says it never showed
them, and the processes' traces judged together flag deliveries lost that were not. Run as
the phone process (``python -m tests.planted.unflushed_client_trace phone ...``, with the
repository on ``PYTHONPATH``); ``tests/scenarios/test_field_trace_kill.py`` must catch it.
"""

from __future__ import annotations

import sys
from typing import IO

from actors import Observer

__all__ = ["unflushed"]


def unflushed(write: Observer, trace: IO[str]) -> Observer:
    return write  # BUG: the step's messages may leave before its lines reach the file


if __name__ == "__main__":
    from scenarios._cli._main import main
    from scenarios._field import _clients

    setattr(_clients, "_flushed", unflushed)  # noqa: B010 -- the planted opener
    sys.exit(main())

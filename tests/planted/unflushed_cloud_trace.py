"""A planted bug: ``serve cloud`` whose driver does not flush its trace before sending.

The cloud's trace then reaches its file only every 50 ms (and when its 64 KiB buffer
fills), as it did: a kill -9 loses the lines of the messages that left in the last moment,
and the processes' traces judged together flag the pushes of those receipts as pushes of
receipts never bound. :class:`UnflushedDriver` is :class:`~scenarios._field._common.CloudDriver`
that drops the ``flush`` it is given.

Run as the cloud process (``python -m tests.planted.unflushed_cloud_trace serve cloud ...``,
with the repository on ``PYTHONPATH``); ``tests/scenarios/test_field_trace_kill.py`` must
catch it.
"""

from __future__ import annotations

import sys
from typing import Any

from scenarios._field._common import CloudDriver

__all__ = ["UnflushedDriver"]


class UnflushedDriver(CloudDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("flush", None)  # BUG: the batch's messages leave before their trace lines
        super().__init__(*args, **kwargs)


if __name__ == "__main__":
    from scenarios._cli._main import main
    from scenarios._field import _serve

    setattr(_serve, "CloudDriver", UnflushedDriver)  # noqa: B010 -- the planted driver
    sys.exit(main())

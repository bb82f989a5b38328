"""Planted: ``serve cloud`` that never says in its trace that it restarted (the cloud before
it traced a ``restart`` when started on an existing store). In a merged field trace the
checker then sees no crash of the cloud: an upload that reached the cloud just before a
kill -9, never answered, and given up by its POS is judged lost although a crash could
have lost it.

Run as the cloud process (``python -m tests.planted.unsaid_restart_cloud serve cloud ...``,
with the repository on ``PYTHONPATH``): ``tests/scenarios/test_cloud_restart_traced.py``
catches it.
"""

from __future__ import annotations

import functools
import sys

__all__: list[str] = []

if __name__ == "__main__":
    from scenarios._cli._main import main
    from scenarios._field import _serve

    drive = functools.partial(_serve._drive, restarting=False)  # the bug: never restarting
    # A child process (python -m): no pytest monkeypatch here; assigning a lambda over the
    # function is a mypy error, setattr is the plant.
    setattr(_serve, "_drive", lambda *args, **_: drive(*args))  # noqa: B010 -- the plant
    sys.exit(main())

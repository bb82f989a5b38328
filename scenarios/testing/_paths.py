"""The toolkit's default paths, in a module of their own so that the pytest plugin reads
them without importing the runner."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_FAILURES_DIR"]

DEFAULT_FAILURES_DIR = Path(".assocsim") / "failures"
"""Where failing scenarios are written unless told otherwise (relative to the current
directory; the pytest plugin uses this under the rootdir)."""

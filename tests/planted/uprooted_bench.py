"""A planted bug: a benchmark that imports whichever assocsim is installed.

Run from a ``git archive`` copy (the "before" of a before/after pair), it measures the
checkout the editable install points at, so both sides of the pair are the same code. Its
text is checked by ``tests/test_bench_trees.py``, which must flag it; it is never run.
"""

BENCH_TEXT = """
import sys
import time
from pathlib import Path

from protocol import PurchaseUpload

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # BUG: after the import
"""

CHILD_TEXT = """
import subprocess
import sys

subprocess.run([sys.executable, "-m", "scenarios", "run", "quickstart"], check=True)
"""

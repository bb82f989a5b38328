"""README's Python snippets that are not tests of their own run as printed: each
```` ```python ```` block without a ``def test_`` (those are run as a tester's tests by
``test_fresh_project.py`` and ``test_testing_toolkit.py``) is executed here, with its
asserts, so a renamed API or a changed result fails this test rather than a reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _snippets() -> list[str]:
    blocks = _BLOCK.findall(README.read_text(encoding="utf-8"))
    return [block for block in blocks if "def test_" not in block]


def test_the_readme_has_the_snippets_this_test_runs() -> None:
    firsts = sorted(snippet.splitlines()[0] for snippet in _snippets())
    assert firsts == [
        "from protocol import CloudMachine, InMemoryStore, RuleRecommender, Subscribe",
        "from scenarios import TraceChecker, load_scenario, run_scenario",
    ]


@pytest.mark.parametrize("snippet", _snippets(), ids=lambda s: s.splitlines()[0][:40])
def test_a_readme_snippet_runs_as_printed(snippet: str) -> None:
    exec(compile(snippet, str(README), "exec"), {"__name__": "readme_snippet"})

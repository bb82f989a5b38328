"""README's Python snippets that are not tests of their own run as printed: each
```` ```python ```` block without a ``def test_`` (those are run as a tester's tests by
``test_fresh_project.py`` and ``test_testing_toolkit.py``) is executed here, with its
asserts, so a renamed API or a changed result fails this test rather than a reader."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


# Each snippet by its first line: a snippet reworded or gone fails its test by name.
FIRST_LINES = (
    "from protocol import CloudMachine, InMemoryStore, RuleRecommender, Subscribe",
    "from scenarios import TraceChecker, load_scenario, run_scenario",
)


def _snippets() -> list[str]:
    blocks = _BLOCK.findall(README.read_text(encoding="utf-8"))
    return [block for block in blocks if "def test_" not in block]


def test_the_readme_has_the_snippets_this_test_runs() -> None:
    firsts = sorted(snippet.splitlines()[0] for snippet in _snippets() if snippet.strip())
    assert firsts == sorted(FIRST_LINES), "a new README snippet needs its line in FIRST_LINES"


@pytest.mark.parametrize("first", FIRST_LINES, ids=lambda line: line[:40])
def test_a_readme_snippet_runs_as_printed(first: str) -> None:
    found = [snippet for snippet in _snippets() if snippet.startswith(first + "\n")]
    if len(found) != 1:
        pytest.fail(f"README.md has {len(found)} ```python blocks starting {first!r}, not 1")
    exec(compile(found[0], str(README), "exec"), {"__name__": "readme_snippet"})


_REWORDED = FIRST_LINES[1].replace("from ", "from  ")
_RENAMED = FIRST_LINES[1].replace("run_scenario", "run_scenarios")


@pytest.mark.parametrize(
    ("printed", "looked_up", "told"),
    [(_REWORDED, FIRST_LINES[1], "0 ```python blocks"), (_RENAMED, _RENAMED, "run_scenarios")],
    ids=["reworded", "renamed-api"],
)
def test_a_snippet_that_no_longer_runs_fails_naming_it(
    printed: str, looked_up: str, told: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The README's snippet printed as *printed*: looking it up by *looked_up* fails."""
    text = README.read_text(encoding="utf-8")
    (tmp_path / "README.md").write_text(text.replace(FIRST_LINES[1], printed), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "README", tmp_path / "README.md")
    with pytest.raises((ImportError, pytest.fail.Exception), match=told):
        test_a_readme_snippet_runs_as_printed(looked_up)

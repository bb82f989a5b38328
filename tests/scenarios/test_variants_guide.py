"""docs/variants.md's walkthrough, run as written: the guide cannot drift from the product.

The variant the guide writes (the code block after ``<!-- variants: my_variant.py -->``) is
saved into an empty directory, and every ``$ assocsim ...`` command of the guide's
``console`` blocks runs there in order, in a fresh process; what the guide shows under a
command must be what it prints (``| head -n N``: its first N lines; a report's wall time
and the sha256 of replay's trace are compared by shape only). The variant must break a
promise there: the guide is about finding the receipt that does.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "variants.md"
ASSOCSIM = Path(sys.executable).parent / "assocsim"
WALL_TIME = re.compile(r"\(ran in \d+\.\d\d s of wall time\)")
SHA256 = re.compile(r"sha256 [0-9a-f]{64}")


def guide_variant(text: str) -> str:
    found = re.search(r"<!-- variants: my_variant\.py -->\n```python\n(.*?)```", text, re.S)
    assert found is not None, "docs/variants.md: no code block marked my_variant.py"
    return found.group(1)


def guide_commands(text: str) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of the guide's console blocks, with the lines shown under it."""
    commands: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
    return commands


def _run(command: str, cwd: Path) -> list[str]:
    words = shlex.split(command)
    head = None
    if "|" in words:
        at = words.index("|")
        assert words[at + 1 : at + 3] == ["head", "-n"], command
        head, words = int(words[at + 3]), words[:at]
    assert words[0] == "assocsim", command
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(ASSOCSIM), *words[1:]], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, (command, done.stderr)
    lines = done.stdout.splitlines()
    return lines if head is None else lines[:head]


def _same(shown: str, printed: str) -> bool:
    """Equal lines, but for a report's wall time and a trace's digest (any change to the
    trace format moves it; replay's verdict and event count are compared)."""
    if WALL_TIME.fullmatch(shown) and WALL_TIME.fullmatch(printed):
        return True
    return SHA256.sub("sha256 -", shown) == SHA256.sub("sha256 -", printed)


def differs(shown: list[str], printed: list[str]) -> bool:
    return len(shown) != len(printed) or not all(map(_same, shown, printed))


def test_the_walkthrough_prints_what_the_guide_shows(tmp_path: Path) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    (tmp_path / "my_variant.py").write_text(guide_variant(text), encoding="utf-8")
    commands = guide_commands(text)
    assert [c.split()[1] for c, _ in commands][:2] == ["run", "check"]
    assert {"diagram", "replay"} <= {c.split()[1] for c, _ in commands}
    for command, shown in commands:
        printed = _run(command, tmp_path)
        assert not differs(shown, printed), (
            f"docs/variants.md: `{command}` prints something else now; run the walkthrough "
            "again in an empty directory and paste its output:\n" + "\n".join(printed)
        )
    check = next(shown for command, shown in commands if command.split()[1] == "check")
    assert any(line.startswith("no-delivery-lost (liveness): receipt ") for line in check)


def test_a_drifted_guide_is_caught() -> None:
    # Planted: the guide shows a figure the run does not print, or one line fewer.
    _, shown = guide_commands(GUIDE.read_text(encoding="utf-8"))[0]
    assert any("deliveries lost" in line for line in shown)
    drifted = [line.replace("deliveries lost", "deliveries kept") for line in shown]
    assert differs(drifted, shown) and differs(shown[:-1], shown)
    # Only the wall time may differ.
    timed = [WALL_TIME.sub("(ran in 9.99 s of wall time)", line) for line in shown]
    assert timed != shown and not differs(timed, shown)
    replay = next(shown for c, shown in guide_commands(GUIDE.read_text()) if "replay" in c)
    other = [SHA256.sub("sha256 " + "0" * 64, line) for line in replay]
    assert other != replay and not differs(other, replay)
    assert differs([line.replace("reproduced", "NOT reproduced") for line in replay], replay)

"""The README's test examples work in a tester's own, fresh project.

The examples of *For testers: using assocsim in your own tests* are read from README.md
itself (each code block after a ``<!-- example: NAME -->`` marker), copied verbatim into a
temporary project outside the repository (no conftest, no ``trio_mode``, no PYTHONPATH)
and run with pytest in a subprocess, the plugin loaded through its ``pytest11`` entry
point:

* with the current interpreter (assocsim installed in development mode);
* in a fresh virtual environment where assocsim is installed from a wheel built from this
  tree (its dependencies taken from the current environment's site-packages by a ``.pth``
  file, so nothing is downloaded but the wheel's build backend), which also shows the
  wheel carries the plugin's entry point and the example variants.

Without pytest-trio (``-p no:trio``), the async example fails in one line naming the
extra to install; with the plugin's marking turned off (``assocsim_trio_mode = false``),
pytest does not run it: the marking is what makes it pass.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from scenarios.testing.pytest_plugin import PYTEST_TRIO_MISSING

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("fresh-project-async", "fresh-project-sync")


def readme_example(name: str) -> str:
    """The code block after ``<!-- example: NAME -->`` in README.md, verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```python\n(.*?)```", readme, re.S)
    assert found is not None, f"README.md has no example marked {name!r}"
    return found.group(1)


def _project(tmp_path: Path, ini: str = "") -> Path:
    project = tmp_path / "shop-tests"
    project.mkdir()
    for name in EXAMPLES:
        (project / f"test_{name.replace('-', '_')}.py").write_text(
            readme_example(name), encoding="utf-8"
        )
    (project / "pytest.ini").write_text(f"[pytest]\n{ini}", encoding="utf-8")
    return project


def _clean_env() -> dict[str, str]:
    """This environment without what would put the repository or pytest options in play."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}


def _pytest(python: Path | str, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", *args],
        capture_output=True,
        text=True,
        cwd=project,
        env=_clean_env(),
        check=False,
        timeout=300,
    )


def test_the_readme_examples_are_marked() -> None:
    async_example = readme_example("fresh-project-async")
    assert "async def test_" in async_example and "autojump_clock" in async_example
    assert "async def" not in readme_example("fresh-project-sync")


def test_the_readme_examples_pass_in_a_fresh_project(tmp_path: Path) -> None:
    done = _pytest(sys.executable, _project(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "ini" not in done.stderr  # no complaint about the project's configuration


def test_without_pytest_trio_the_async_example_says_what_to_install(tmp_path: Path) -> None:
    done = _pytest(sys.executable, _project(tmp_path), "-p", "no:trio")
    assert done.returncode == 1, done.stdout + done.stderr
    expected = PYTEST_TRIO_MISSING.format(name="test_wrong_ids_lose_nothing")
    assert expected in done.stdout
    assert "pip install 'assocsim[pytest]'" in expected
    assert "fixture 'autojump_clock' not found" not in done.stdout
    assert "1 passed, 1 error" in done.stdout  # the plain example needs no pytest-trio


def test_the_plugin_marking_is_what_runs_the_async_example(tmp_path: Path) -> None:
    # Planted: the marking off, pytest-trio installed but its trio_mode unset, as in
    # issue 17: the async example does not pass.
    done = _pytest(sys.executable, _project(tmp_path, "assocsim_trio_mode = false\n"))
    assert "1 passed" in done.stdout, done.stdout + done.stderr
    assert "2 passed" not in done.stdout
    assert "async def functions are not natively supported" in done.stdout + done.stderr


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for package in ("protocol", "actors", "scenarios"):
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (wheel,) = wheels.glob("assocsim-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    venv = tmp_path / "venv"
    base = Path(sys.base_prefix) / "bin" / "python3"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run(
        [*pip, "--no-deps", "--no-index", "--force-reinstall", str(wheel)],
        env=_clean_env(),
        check=True,
        timeout=120,
    )
    # The dependencies (trio, attrs, ..., pytest, pytest-trio) from this environment, as
    # plain path entries: its development install of assocsim is not activated.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env=_clean_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    here = sysconfig.get_paths()["purelib"]
    (Path(site) / "assocsim_test_deps.pth").write_text(here + "\n", encoding="utf-8")
    return python


def test_the_readme_examples_pass_with_assocsim_installed_from_its_wheel(tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path, _build_wheel(tmp_path))
    where = subprocess.run(
        [str(python), "-c", "import scenarios.variants.no_profile as m; print(m.__file__)"],
        env=_clean_env(),
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(tmp_path / "venv")), where  # the wheel's copy, with variants
    done = _pytest(python, _project(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout

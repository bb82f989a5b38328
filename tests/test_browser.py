"""The HTML report and an SVG diagram, as a real browser shows them: headless Chromium.

For each page: a screenshot that is not blank, and a probe copy of the page (a small
script first in its ``<head>``, run by Chromium with ``--dump-dom``) that lists every
element whose resource failed to load (images, stylesheets, scripts, frames: their
``error`` events), every image that did not decode, and every script error. The SVG is
loaded as an image by the probe, so one the browser cannot parse is caught too. No
DevTools protocol, no new dependency: the ``chromium`` binary (Debian's ``chromium``
package; ``.ci/run`` installs it) and matplotlib's PNG reader.

Without Chromium these tests fail, naming the package to install; ``-m "not browser"``
leaves them out.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib import image

from scenarios._cli._main import main
from tests.planted.broken_pages import (
    BLANK_PAGE,
    HIDDEN_PLOT_PAGE,
    MISSING_IMAGE_PAGE,
    SCRIPT_ERROR_PAGE,
    TRUNCATED_SVG,
)

pytestmark = pytest.mark.browser

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_TIMEOUT = 60  # seconds for one browser run; a page takes 1-3 s on a shared 2-core machine

# Installed before anything else of the page loads: resource errors do not bubble, so
# they are caught on the way down (capture); script errors reach window. After the load
# event, the findings go into an attribute that --dump-dom prints.
_PROBE = """<script>
(function () {
  var failed = [], errors = [];
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target !== window && (target.src || target.href || target.data)) {
      failed.push(target.tagName.toLowerCase() + " " + (target.src || target.href || target.data));
    } else if (event.message) {
      errors.push(event.message);
    }
  }, true);
  window.addEventListener("load", function () {
    Array.prototype.forEach.call(document.images, function (img) {
      if (!img.complete || img.naturalWidth === 0) {
        failed.push("img " + img.src + " (not decoded)");
      }
    });
    Array.prototype.forEach.call(document.querySelectorAll("link[rel=stylesheet]"), function (l) {
      if (!l.sheet) { failed.push("link " + l.href + " (no stylesheet)"); }
    });
    var drawn = Array.prototype.filter.call(document.querySelectorAll("svg"), function (svg) {
      var box = svg.getBoundingClientRect();
      return box.width > 0 && box.height > 0;
    });
    document.documentElement.setAttribute("data-probe", JSON.stringify(
      {failed: failed, errors: errors, svgs: drawn.length}));
  });
})();
</script>"""


def chromium() -> str:
    override = os.environ.get("ASSOCSIM_CHROMIUM")
    found = override or next(filter(None, map(shutil.which, _BROWSERS)), None)
    if found is None:
        pytest.fail(
            "no Chromium found for the browser tests: install it (Debian/Ubuntu: "
            "apt-get install chromium; .ci/run does), set ASSOCSIM_CHROMIUM=/path/to/it, "
            'or leave these tests out with -m "not browser"'
        )
    return found


def _run_browser(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="assocsim-chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ]
        done = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=_TIMEOUT
        )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr[-2000:]}"
    return done


def screenshot(page: Path, out: Path, size: str = "1200,1600") -> Path:
    _run_browser(f"--screenshot={out}", f"--window-size={size}", page.as_uri())
    assert out.is_file(), f"Chromium wrote no screenshot of {page}"
    return out


def blank_problem(png: Path) -> str | None:
    """Why the screenshot looks blank, or ``None``: one colour, or under 0.1 % of the
    pixels differ from the most common one (the background)."""
    pixels = np.asarray(image.imread(png))  # floats in [0, 1], RGB or RGBA
    channels = np.rint(pixels * 255).astype(np.uint32)
    packed = np.zeros(channels.shape[:2], dtype=np.uint32)
    for channel in range(channels.shape[-1]):
        packed = (packed << 8) | channels[..., channel]  # one integer per colour
    colours, counts = np.unique(packed, return_counts=True)
    if len(colours) == 1:
        return f"{png.name}: one colour only"
    drawn = 1 - counts.max() / counts.sum()
    if drawn < 0.001:
        return f"{png.name}: {drawn:.2%} of the pixels differ from the background"
    return None


def probe(page: Path) -> dict[str, Any]:
    """What the probe saw when Chromium loaded ``page``: ``failed`` resources and
    undecodable images, script ``errors``, and the number of inline ``svgs`` laid out with
    a size. A probe copy of the page is written beside it (same relative paths)."""
    text = page.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text, flags=re.IGNORECASE)
    at = head.end() if head else 0
    probe = page.with_name(f".probe-{page.name}")
    probe.write_text(text[:at] + _PROBE + text[at:], encoding="utf-8")
    try:
        dom = _run_browser("--dump-dom", "--virtual-time-budget=5000", probe.as_uri()).stdout
    finally:
        probe.unlink()
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found is not None, f"the probe did not report (page not loaded?): {dom[:500]}"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


def load_problems(page: Path) -> list[str]:
    """What failed when Chromium loaded ``page``, one line each."""
    result = probe(page)
    return [f"failed to load: {item}" for item in result["failed"]] + [
        f"script error: {message}" for message in result["errors"]
    ]


def svg_problems(svg: Path) -> list[str]:
    """An SVG file loaded as an image by a page beside it: not parsed, not shown."""
    holder = svg.with_name(f"{svg.stem}-holder.html")
    holder.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"></head><body>'
        f'<img src="{html.escape(svg.name)}"></body></html>',
        encoding="utf-8",
    )
    try:
        return load_problems(holder)
    finally:
        holder.unlink()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A sweep's HTML report and a diagram, made by the commands a user runs."""
    root = tmp_path_factory.mktemp("pages")
    sweep = root / "sweep"
    trace = root / "faults.jsonl"
    diagram = root / "faults.svg"
    with _quiet():
        assert (
            main(
                [
                    "sweep",
                    "quickstart",
                    "--set",
                    "purchases=40",
                    "--set",
                    "phones=10",
                    "--vary",
                    "cloud.push_timeout=1m,10m",
                    "--seeds",
                    "2",
                    "--jobs",
                    "1",
                    "--out",
                    str(sweep),
                ]
            )
            == 0
        )
        assert main(["report", str(sweep)]) == 0
        assert main(["run", "faults", "--set", "purchases=30", "--trace", str(trace)]) == 0
        assert main(["diagram", str(trace), "-o", str(diagram), "--max-messages", "60"]) == 0
    return {"report": sweep / "report.html", "diagram": diagram}


@pytest.mark.parametrize("name", ["report", "diagram"])
def test_the_page_renders_in_chromium_not_blank(
    name: str, pages: dict[str, Path], tmp_path: Path
) -> None:
    shot = screenshot(pages[name], tmp_path / f"{name}.png")
    assert blank_problem(shot) is None, blank_problem(shot)


def test_everything_of_the_html_report_loads_in_chromium(pages: dict[str, Path]) -> None:
    result = probe(pages["report"])
    assert (result["failed"], result["errors"]) == ([], [])
    inline = pages["report"].read_text(encoding="utf-8").count("<svg")  # the plots
    assert inline >= 4
    assert result["svgs"] == inline  # every plot laid out with a size


def test_the_diagram_parses_and_shows_as_an_image_in_chromium(pages: dict[str, Path]) -> None:
    assert svg_problems(pages["diagram"]) == []


def test_a_blank_page_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "blank.html"
    page.write_text(BLANK_PAGE, encoding="utf-8")
    problem = blank_problem(screenshot(page, tmp_path / "blank.png"))
    assert problem is not None and "one colour only" in problem


def test_a_resource_that_does_not_load_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(MISSING_IMAGE_PAGE, encoding="utf-8")
    problems = load_problems(page)
    assert any("vs-cloud.push_timeout-deliveries.png" in p for p in problems), problems


def test_a_script_error_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(SCRIPT_ERROR_PAGE, encoding="utf-8")
    problems = load_problems(page)
    assert len(problems) == 1 and problems[0].startswith("script error:"), problems
    assert "drawPlots" in problems[0]


def test_an_svg_the_browser_cannot_parse_is_caught(tmp_path: Path) -> None:
    svg = tmp_path / "cut.svg"
    svg.write_text(TRUNCATED_SVG, encoding="utf-8")
    problems = svg_problems(svg)
    assert any("cut.svg" in p for p in problems), problems


def test_a_plot_laid_out_without_a_size_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(HIDDEN_PLOT_PAGE, encoding="utf-8")
    result = probe(page)
    assert (result["failed"], result["errors"], result["svgs"]) == ([], [], 1)
    assert page.read_text(encoding="utf-8").count("<svg") == 2

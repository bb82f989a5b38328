"""Pages a browser shows wrongly, for showing ``tests/test_browser.py`` catches each:
a blank page, a resource that does not load, a script error, an SVG that does not parse."""

from __future__ import annotations

__all__ = [
    "BLANK_PAGE",
    "HIDDEN_PLOT_PAGE",
    "MISSING_IMAGE_PAGE",
    "SCRIPT_ERROR_PAGE",
    "TRUNCATED_SVG",
]

BLANK_PAGE = '<!doctype html>\n<html><head><meta charset="utf-8"></head><body></body></html>\n'

# Text to see, and a plot that is not there (BUG).
MISSING_IMAGE_PAGE = (
    '<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n'
    "<h1>Sweep quickstart</h1><p>deliveries against push_timeout</p>\n"
    '<img src="vs-cloud.push_timeout-deliveries.png" alt="plot">\n</body></html>\n'
)

# Two inline plots, the second collapsed by a style rule (BUG): it never shows.
HIDDEN_PLOT_PAGE = (
    '<!doctype html>\n<html><head><meta charset="utf-8">'
    "<style>.plot + .plot { display: none; }</style></head><body>\n"
    '<svg class="plot" width="200" height="100"><rect width="200" height="100"/></svg>\n'
    '<svg class="plot" width="200" height="100"><rect width="200" height="100"/></svg>\n'
    "</body></html>\n"
)

SCRIPT_ERROR_PAGE = (
    '<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n'
    "<h1>Sweep quickstart</h1><script>drawPlots();</script>\n</body></html>\n"
)

# A diagram cut off mid-write (BUG): the browser cannot parse it.
TRUNCATED_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">\n'
    '<rect width="400" height="300" fill="#ffffff"/>\n'
    '<line x1="50" y1="20" x2="350" y2="80" stroke="#000000"/>\n'
    '<text x="60" y="40">purchase-upload</text>\n<g'
)

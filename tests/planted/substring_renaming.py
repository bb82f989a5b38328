"""A planted bug: a renaming that replaces a name wherever its letters appear.

Swapping receipts ``r-1`` and ``r-2`` this way also turns ``r-10`` into ``r-20``: a
renamed state then names a receipt the world does not have (or another purchase's), and a
fingerprint merges states that are no mirror of each other. ``tests/scenarios/
test_explore_symmetry.py`` must catch it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

__all__ = ["substring_renaming"]


def substring_renaming(mapping: Mapping[str, str]) -> Callable[[str], str]:
    """Each key of ``mapping`` replaced by its value, at once, inside longer names too."""
    names = "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True))
    pattern = re.compile(names)  # BUG: no boundary, r-1 matches inside r-10
    return lambda text: pattern.sub(lambda found: mapping[found.group(0)], text)

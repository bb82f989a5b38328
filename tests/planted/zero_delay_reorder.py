"""A planted bug: a network config that accepts ``reorder`` with ``reorder_delay = 0``.

Such a network holds each drawn message back by a draw from ``[0, 0]``: it arrives when it
would anyway, nothing overtakes it, yet the run counts it (``faults: reordered 397`` for
100 purchases of ``quickstart``) and the idle-fault check, which looks at that count, says
nothing. :class:`UncheckedNetworkConfig` is :class:`~actors.NetworkConfig` without the
check that refuses it; ``tests/actors/test_reorder_holds_back.py`` must catch it.
"""

from __future__ import annotations

import attrs

from actors import NetworkConfig

__all__ = ["UncheckedNetworkConfig"]


@attrs.frozen
class UncheckedNetworkConfig(NetworkConfig):
    """A :class:`~actors.NetworkConfig` that takes any reorder_delay with any reorder."""

    def __attrs_post_init__(self) -> None:
        pass  # BUG: reorder > 0 with reorder_delay = 0 accepted, counted, holding nothing back

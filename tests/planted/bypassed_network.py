"""A planted bug: sends that skip the network on their way to the mailboxes.

:class:`BypassedNetwork` hands every inline endpoint the one-frame send (straight to
``InlineTransport._post``) that only a transport seeing no envelope first may use, as
if ``InlineTransport._sender`` did not ask whether ``_deliver`` was overridden: loss,
duplication and partitions never see a message. ``tests/actors/test_driver_review.py``
must catch it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from actors import SimNetwork
from protocol import Address, Message

__all__ = ["BypassedNetwork"]


class BypassedNetwork(SimNetwork):
    def _sender(self, address: Address) -> Callable[[Address, Message], None]:
        return functools.partial(self._post, address)  # BUG: past _deliver, unseen

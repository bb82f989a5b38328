"""Planted bug for the client's bounded mailbox (tests/actors/test_tcp_client_flood.py):
the client's mailbox as it was before issue 14's leftovers, which never asked its
connection to stop reading, so a server flooding a client grew it without end."""

from __future__ import annotations

from actors import Envelope
from actors._tcp_mailbox import _Mailbox


class UnboundedMailbox(_Mailbox):
    """Takes everything and never says it is full."""

    def put(self, envelope: Envelope) -> bool:
        super().put(envelope)
        return False

"""Planted: two client TLS contexts that trust more than ``--tls-ca`` says.

* :func:`system_and_given_ca_context`: the system's CAs with the given one added (the
  client before the reviewer's finding S3): any of the system's CAs can vouch for a
  server.
* :func:`unchecked_hostname_context`: the given CA pinned but the host name not checked
  (the mutant of finding S4): any certificate that CA issued, for any name, passes.

``tests/scenarios/test_sec_tls.py`` catches both.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from scenarios._field._common import client_ssl_context

__all__ = ["system_and_given_ca_context", "unchecked_hostname_context"]


def system_and_given_ca_context(ca: Path) -> ssl.SSLContext:
    """The system's CAs and ``ca`` (the bug: not a pin)."""
    context = ssl.create_default_context()
    context.load_verify_locations(ca)
    return context


def unchecked_hostname_context(ca: Path) -> ssl.SSLContext:
    """``ca`` pinned, the host name never compared (the bug)."""
    context = client_ssl_context(ca)
    context.check_hostname = False
    return context

"""The field clients' TLS context (``client_ssl_context``, reviewer findings S3 and S4):
``--tls-ca CA.pem`` trusts that CA and no other (not the system's CAs beside it), and the
server's certificate must name the host the client connects to. Each is shown with a
real TLS handshake (in memory, no socket) and against the planted contexts that lack it
(``tests/planted/unpinned_tls.py``).

The "system's" CAs are made a throw-away CA of the test's through ``SSL_CERT_FILE``
(which OpenSSL reads when a context loads its default CAs), so the test does not depend
on the host's CA bundle.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from scenarios._field._common import client_ssl_context
from tests.planted.unpinned_tls import system_and_given_ca_context, unchecked_hostname_context

HOST = "127.0.0.1"
ClientContext = Callable[[Path], ssl.SSLContext]


def server_context(certificate: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    return context


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str = HOST) -> str:
    """Run a TLS handshake between the two contexts in memory: ``"ok"``, or the client's
    verification failure (its ``verify_message``)."""
    client_in, client_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls_client = client.wrap_bio(client_in, client_out, server_hostname=hostname)
    tls_server = server.wrap_bio(server_in, server_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, side in (("client", tls_client), ("server", tls_server)):
            if done[name]:
                continue
            try:
                side.do_handshake()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLCertVerificationError as exc:
                assert name == "client", exc
                return str(exc.verify_message)
        server_in.write(client_out.read())
        client_in.write(server_out.read())
        if all(done.values()):
            return "ok"
    raise AssertionError("the handshake neither finished nor failed")


@pytest.fixture
def cas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[trustme.CA, Path, trustme.CA]:
    """(the cloud's CA, its PEM file, a CA the "system" trusts: SSL_CERT_FILE)."""
    cloud_ca, system_ca = trustme.CA(), trustme.CA()
    ca_file = tmp_path / "ca.pem"
    cloud_ca.cert_pem.write_to_path(str(ca_file))
    system_file = tmp_path / "system.pem"
    system_ca.cert_pem.write_to_path(str(system_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(system_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return cloud_ca, ca_file, system_ca


def test_the_system_trust_is_the_tests_own_ca(cas: tuple[trustme.CA, Path, trustme.CA]) -> None:
    """The fixture works: a server of the "system" CA passes a default context."""
    _, _, system_ca = cas
    server = server_context(system_ca.issue_cert(HOST))
    assert handshake(server, ssl.create_default_context()) == "ok"


def outcomes(make: ClientContext, cas: tuple[trustme.CA, Path, trustme.CA]) -> tuple[str, ...]:
    """What a client of ``make(--tls-ca)`` makes of: the cloud's CA's certificate for the
    host; the system CA's for the host; the cloud's CA's for another name."""
    cloud_ca, ca_file, system_ca = cas
    client = make(ca_file)
    return (
        handshake(server_context(cloud_ca.issue_cert(HOST, "localhost")), client),
        handshake(server_context(system_ca.issue_cert(HOST, "localhost")), client),
        handshake(server_context(cloud_ca.issue_cert("elsewhere.example")), client),
    )


def test_tls_ca_is_pinned_and_the_host_name_checked(
    cas: tuple[trustme.CA, Path, trustme.CA],
) -> None:
    own, system, wrong_name = outcomes(client_ssl_context, cas)
    assert own == "ok"
    assert system == "unable to get local issuer certificate"
    assert wrong_name.startswith("IP address mismatch"), wrong_name
    context = client_ssl_context(cas[1])
    assert context.cert_store_stats()["x509_ca"] == 1
    assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED


def test_planted_the_system_cas_beside_tls_ca_let_another_ca_vouch(
    cas: tuple[trustme.CA, Path, trustme.CA],
) -> None:
    own, system, wrong_name = outcomes(system_and_given_ca_context, cas)
    assert own == "ok" and system == "ok"  # the bug: the system's CA vouched
    assert wrong_name.startswith("IP address mismatch")


def test_planted_an_unchecked_host_name_lets_any_certificate_of_the_ca_pass(
    cas: tuple[trustme.CA, Path, trustme.CA],
) -> None:
    own, system, wrong_name = outcomes(unchecked_hostname_context, cas)
    assert own == "ok" and system == "unable to get local issuer certificate"
    assert wrong_name == "ok"  # the bug: a certificate for elsewhere.example passed

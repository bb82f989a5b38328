"""A client whose server does not speak the cloud's protocol (reviewer W's F4): a frame
over the limit, a payload that is no JSON, bytes that are no TLS to a TLS client, a TLS
server closing on a plain client's hello. Each retried forever before; now each is one
line and exit 2 with a hint, as a certificate that fails verification is. What a retry
may fix (nothing listening yet, a dropped connection) is still retried: the planted
``tests/planted/hasty_foreign_peer.py`` gives up on those too, and is caught."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from actors import ConnectFailure
from scenarios import ScenarioError
from scenarios._field._clients import foreign_peer
from tests.planted.hasty_foreign_peer import foreign_before_hello
from tests.scenarios.test_field_inputs_files import assocsim, one_line_refusal

ALICE = "+8613800000001"
WHERE = "127.0.0.1:7700"


@contextlib.contextmanager
def _server(serve: Callable[[socket.socket], None]) -> Iterator[int]:
    """A server on a free port of 127.0.0.1 calling ``serve`` with each connection (in
    a thread of its own) until the block ends; yields the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stopped = threading.Event()

    def accept() -> None:
        while not stopped.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serving, args=(serve, connection), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopped.set()
        listener.close()
        thread.join(5)


def _serving(serve: Callable[[socket.socket], None], connection: socket.socket) -> None:
    with contextlib.suppress(OSError), connection:
        serve(connection)


def _sending(data: bytes) -> Callable[[socket.socket], None]:
    def serve(connection: socket.socket) -> None:
        connection.sendall(data)
        connection.recv(65536)  # then wait for the client to give up on it

    return serve


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xff\xff\xff\xff", "more than the 4194304 allowed"),
        (b"\x00\x00\x00\x05hello", "not valid JSON"),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "a frame announced"),
    ],
)
def test_a_server_sending_no_frames_is_one_line_and_exit_2(
    tmp_path: Path, data: bytes, problem: str
) -> None:
    with _server(_sending(data)) as port:
        code, err = assocsim(
            tmp_path, "phone", "--cloud", f"127.0.0.1:{port}", "--id", ALICE, timeout=40
        )
    one_line_refusal(code, err, "does not speak the cloud's protocol", problem, "TLS")


def test_a_tls_client_of_a_plain_server_is_one_line_and_exit_2(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    (tmp_path / "sales.jsonl").write_text(
        '{"receipt_id": "R1", "phone_id": "+8613800000001", "skus": ["SKIN-FW-001"]}\n'
    )
    with _server(_sending(b"HTTP/1.1 400 Bad Request\r\n\r\n")) as port:
        code, err = assocsim(
            tmp_path,
            *("pos", "--cloud", f"127.0.0.1:{port}", "--tls-ca", "ca.pem"),
            *("--merchant", "shop-01", "--key", "k", "--purchases", "sales.jsonl"),
            timeout=40,
        )
    one_line_refusal(code, err, "does not speak TLS", "WRONG_VERSION_NUMBER", "--tls-cert")


def test_a_plain_client_of_a_tls_server_is_told_to_use_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    def serve(connection: socket.socket) -> None:
        # a plain hello is no handshake: the TLS server drops the connection
        with context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(1)

    with _server(serve) as port:
        code, err = assocsim(
            tmp_path, "phone", "--cloud", f"127.0.0.1:{port}", "--id", ALICE, timeout=40
        )
    one_line_refusal(code, err, "speaks TLS", "--tls-ca")


RETRYABLE = [
    (ConnectFailure.UNREACHABLE, "cannot connect to 127.0.0.1:7700: [Errno 111] refused"),
    (ConnectFailure.LOST, "connection lost: [SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred"),
    (ConnectFailure.LOST, "connection lost: [Errno 104] Connection reset by peer"),
    (ConnectFailure.NO_HELLO_ACK, "no hello-ack within 10 s"),
    (ConnectFailure.REFUSED, "hello refused: overloaded: too many connections"),
    (ConnectFailure.CLOSED, "the server closed the connection"),  # a TLS server: probed
    (ConnectFailure.STALLED, "the server sent part of a frame and stalled"),
    (None, None),
]
FOREIGN = [
    (ConnectFailure.FOREIGN, "the server sent a bad frame: a frame announced 4294967295 bytes"),
    (ConnectFailure.FOREIGN, "the server sent a bad frame: the payload is not valid JSON"),
    (ConnectFailure.FOREIGN, "expected a hello-ack for phone:+8613800000001, got upload-ack"),
    (ConnectFailure.NOT_TLS, "connection lost: [SSL: WRONG_VERSION_NUMBER] wrong version number"),
]
Judge = Callable[[ConnectFailure | None, str | None, str], ScenarioError | None]


def _judged(judge: Judge) -> tuple[int, int]:
    """(retryable failures given up on, foreign servers retried) by ``judge``."""
    hasty = sum(judge(kind, error, WHERE) is not None for kind, error in RETRYABLE)
    blind = sum(judge(kind, error, WHERE) is None for kind, error in FOREIGN)
    return hasty, blind


def test_only_a_server_speaking_another_protocol_ends_the_retries() -> None:
    # Every kind but the two foreign ones (and UNVERIFIED, raised as its own error) retries.
    kinds = {kind for kind, _ in RETRYABLE + FOREIGN}
    assert kinds | {ConnectFailure.UNVERIFIED} == {*ConnectFailure, None}
    assert _judged(foreign_peer) == (0, 0)
    error = foreign_peer(*FOREIGN[0], WHERE)
    assert error is not None and "\n" not in str(error) and WHERE in str(error)


def test_a_client_giving_up_on_what_a_retry_fixes_is_caught() -> None:
    hasty, _ = _judged(foreign_before_hello)
    assert hasty == len(RETRYABLE) - 1  # every failure but None

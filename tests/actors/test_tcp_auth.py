"""One ``AuthenticationError``: the class :class:`protocol.lowlevel.Authenticator` raises is the one
the TCP server catches, so a refused credential reaches the client as the real refusal
and the server logs one line, never a traceback.

The bug these tests exist for: ``protocol`` and ``actors`` each had their own class, the
server caught only the actors' one, and an ``Authenticator`` plugged straight into
:func:`~actors.serve_tcp` turned a wrong merchant key into "the server could not check the
credential" and a logged traceback.
"""

from __future__ import annotations

import inspect
import logging
import secrets

import pytest
import trio

import actors
import protocol
import protocol.lowlevel
from actors import HelloRefused, connect_tcp, serve_tcp
from protocol import (
    CLOUD,
    phone_address,
    pos_address,
)
from protocol.lowlevel import (
    Authenticator,
    DeviceTokens,
    MerchantKeys,
    generate_key,
)
from scenarios._field import _serve

HOST = "127.0.0.1"
SHOP = "shop-01"
POS = pos_address(SHOP, "pos-1")


def test_there_is_one_authentication_error_in_the_protocol_hierarchy() -> None:
    assert actors.AuthenticationError is protocol.AuthenticationError
    assert issubclass(actors.AuthenticationError, protocol.RemoteProtocolError)
    assert issubclass(actors.AuthenticationError, protocol.AssocsimError)


def _authenticator() -> tuple[Authenticator, str]:
    key = generate_key()
    keys = MerchantKeys()
    keys.add(SHOP, key)
    return Authenticator(keys, DeviceTokens(secrets.token_bytes(32))), key


async def test_a_wrong_merchant_key_gets_the_real_refusal_and_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    authenticator, key = _authenticator()
    caplog.set_level(logging.DEBUG, logger="actors")
    with trio.fail_after(10):
        async with (
            serve_tcp(HOST, 0, authenticate=authenticator) as server,
            connect_tcp(HOST, server.port, credentials={POS: "not-the-key-of-shop-01"}) as client,
        ):
            server.open_endpoint(CLOUD)
            endpoint = client.open_endpoint(POS)
            with pytest.raises(HelloRefused) as refused:
                await endpoint.wait_connected()
            good = client.open_endpoint(pos_address(SHOP, "pos-2"), credential=key)
            await good.wait_connected()  # the right key still gets in
    assert refused.value.code == "unauthorized"
    assert "merchant key refused" in refused.value.detail
    assert "could not check the credential" not in refused.value.detail
    assert key not in refused.value.detail  # a refusal never carries a secret
    assert not [r for r in caplog.records if r.exc_info is not None], caplog.text
    assert "merchant key refused" in caplog.text and "Traceback" not in caplog.text
    assert server.stats.hellos_refused == 1 and server.stats.refused["unauthorized"] == 1
    assert authenticator.refused == 1 and authenticator.accepted == 1


async def test_serve_clouds_hello_check_refuses_with_the_protocols_class() -> None:
    """``serve cloud``'s callback lets the authenticator's error through as it is (no copy
    into another class that a server might not catch)."""
    authenticator, _ = _authenticator()

    class NoStore:
        def is_subscribed(self, phone_id: str) -> bool:
            return True

    class InlineThread:
        async def call(self, function: object, *args: object) -> object:
            assert callable(function)
            return function(*args)

    # Duck-typed doubles of the store thread and the cloud: no thread, no SQLite file.
    check = _serve._authenticate(authenticator, InlineThread(), NoStore())  # type: ignore[arg-type]

    async def refusal(hello: protocol.lowlevel.Hello) -> None:
        result = check(hello)
        assert inspect.isawaitable(result)
        await result

    wrong_key = protocol.lowlevel.Hello(protocol.WIRE_VERSION, POS, "wrong")
    with pytest.raises(protocol.AuthenticationError, match="merchant key refused"):
        await refusal(wrong_key)
    no_token = protocol.lowlevel.Hello(protocol.WIRE_VERSION, phone_address("+8613800000001"), "")
    with pytest.raises(actors.AuthenticationError, match="this phone is enrolled"):
        await refusal(no_token)

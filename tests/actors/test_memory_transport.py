from __future__ import annotations

import pytest
import trio
import trio.testing

from actors import InlineTransport, MemoryTransport, Transport, TransportError, UnknownAddress
from protocol import Subscribe, UploadAck


@pytest.fixture(params=[MemoryTransport, InlineTransport])
def transport(request: pytest.FixtureRequest) -> Transport:
    made: Transport = request.param()
    return made


async def test_messages_arrive_in_order_with_sender_and_recipient(transport: Transport) -> None:
    a = transport.open_endpoint("a")
    b = transport.open_endpoint("b")
    a.send("b", UploadAck("R1", "shop-a"))
    a.send("b", UploadAck("R2", "shop-a"))
    first = await b.receive()
    second = b.receive_nowait()
    assert (first.sender, first.recipient, first.message) == ("a", "b", UploadAck("R1", "shop-a"))
    assert second.message == UploadAck("R2", "shop-a")
    with pytest.raises(trio.WouldBlock):
        b.receive_nowait()


async def test_sending_to_an_unknown_address_is_a_typed_error(transport: Transport) -> None:
    a = transport.open_endpoint("a")
    with pytest.raises(UnknownAddress, match="nowhere"):
        a.send("nowhere", Subscribe("+8613800000001"))


async def test_a_closed_endpoint_refuses_messages_and_frees_its_address(
    transport: Transport,
) -> None:
    a = transport.open_endpoint("a")
    b = transport.open_endpoint("b")
    b.close()
    with pytest.raises(TransportError):
        a.send("b", UploadAck("R1", "shop-a"))
    assert transport.open_endpoint("b").address == "b"


async def test_an_inline_endpoint_wakes_a_task_waiting_on_it() -> None:
    transport = InlineTransport()
    a = transport.open_endpoint("a")
    b = transport.open_endpoint("b")
    got = []

    async def wait() -> None:
        got.append(await b.receive())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait)
        await trio.testing.wait_all_tasks_blocked()
        a.send("b", UploadAck("R1", "shop-a"))
    assert [e.message for e in got] == [UploadAck("R1", "shop-a")]


async def test_an_address_can_be_attached_once(transport: Transport) -> None:
    transport.open_endpoint("a")
    with pytest.raises(TransportError, match="already attached"):
        transport.open_endpoint("a")

"""Malformed and hostile BACnet on the wire (issue #12): raw datagrams, standard refusals.

The device runs on loopback over a point table filled by the test (the Home Assistant side is
not what these tests are about; test_bacnet.py runs the full stack). Requests are built byte by
byte, so that values no well-behaved stack would send (Enumerated 2 for a BinaryPV, a NaN REAL,
priority 6, a property the object lacks, garbage) reach the device exactly as a hostile peer
would send them. Answers are read from the wire too. Each test checks the standard refusal AND
that nothing changed: no relay command, no stored priority, no persisted value.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bacnet_bridge.bacnet.device import BacnetDevice
from bacnet_bridge.bacnet.state import INSTANCES_FILE
from bacnet_bridge.config import BacnetConfig, Config, HomeAssistantConfig
from bacnet_bridge.model import Meter, Point, PointKind, PointTable

from .conftest import HOST, free_udp_port, wait_for

SERIAL = "A2020T0001"

# ASHRAE 135 enumerations, written out independently of bacpypes3.
PDU_SIMPLE_ACK, PDU_COMPLEX_ACK, PDU_ERROR, PDU_REJECT, PDU_ABORT = 2, 3, 5, 6, 7
CLASS_PROPERTY, CLASS_RESOURCES = 2, 3
CODE_UNKNOWN_PROPERTY = 32
CODE_VALUE_OUT_OF_RANGE = 37
CODE_WRITE_ACCESS_DENIED = 40
CODE_INVALID_DATA_TYPE = 9
CODE_NO_SPACE_TO_ADD_LIST_ELEMENT = 19
SERVICE_SUBSCRIBE_COV, SERVICE_READ_PROPERTY, SERVICE_WRITE_PROPERTY = 5, 12, 15
PROP_COV_INCREMENT, PROP_OUT_OF_SERVICE, PROP_PRESENT_VALUE, PROP_PRIORITY_ARRAY = 22, 81, 85, 87
T_ANALOG_INPUT, T_BINARY_INPUT, T_BINARY_OUTPUT = 0, 3, 4


def _point(key: str, kind: PointKind, value: Any, unit: str | None = None) -> Point:
    return Point(
        f"{SERIAL}_{key}",
        f"sensor.{key}",
        SERIAL,
        key,
        kind,
        key,
        unit,
        value=value,
        available=True,
    )


@dataclass
class Device:
    device: BacnetDevice
    table: PointTable
    config: Config
    calls: list[tuple[str, bool]] = field(default_factory=list)
    invoke: int = 0

    def instance(self, key: str) -> int:
        return int(self.device.objects[f"{SERIAL}_{key}"].objectIdentifier[1])

    def obj(self, key: str) -> Any:
        return self.device.objects[f"{SERIAL}_{key}"]


class Peer:
    """A raw UDP socket speaking BACnet/IP byte by byte."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.setblocking(False)
        self.invoke = 0

    def close(self) -> None:
        self.sock.close()

    async def send_raw(self, datagram: bytes) -> None:
        await asyncio.get_running_loop().sock_sendto(self.sock, datagram, (HOST, self.port))

    async def request(self, service: int, body: bytes) -> bytes:
        """A confirmed request; the APDU of the answer."""
        self.invoke = (self.invoke + 1) % 256
        apdu = bytes([0x00, 0x05, self.invoke, service]) + body
        npdu = b"\x01\x04" + apdu  # version 1, expecting a reply
        await self.send_raw(b"\x81\x0a" + struct.pack(">H", 4 + len(npdu)) + npdu)
        loop = asyncio.get_running_loop()
        while True:
            answer = await asyncio.wait_for(loop.sock_recv(self.sock, 2048), 3.0)
            reply = _apdu(answer)
            # Only answers carry our invoke id (a COV notification may come in between).
            if reply[0] >> 4 in (2, 3, 5, 6, 7) and reply[1] == self.invoke:
                return reply


def _apdu(datagram: bytes) -> bytes:
    assert datagram[0] == 0x81
    npdu = datagram[4:]
    control = npdu[1]
    assert control & 0x80 == 0  # an APDU, not a network message
    assert control & 0x28 == 0  # the device answers locally: no source or destination
    return npdu[2:]


def drain(peer: Peer) -> list[bytes]:
    """Every datagram waiting on the peer's socket."""
    got = []
    while True:
        try:
            got.append(peer.sock.recv(2048))
        except BlockingIOError:
            return got


def oid(obj_type: int, instance: int) -> bytes:
    return struct.pack(">I", (obj_type << 22) | instance)


def write_property(
    obj_type: int, instance: int, prop: int, value: bytes, priority: int | None = None
) -> bytes:
    body = b"\x0c" + oid(obj_type, instance)
    body += b"\x19" + bytes([prop]) if prop < 256 else b"\x1a" + struct.pack(">H", prop)
    body += b"\x3e" + value + b"\x3f"
    if priority is not None:
        body += b"\x49" + bytes([priority])
    return body


def enumerated(n: int) -> bytes:
    return b"\x91" + bytes([n])


def real(x: float) -> bytes:
    return b"\x44" + struct.pack(">f", x)


def error_of(apdu: bytes) -> tuple[int, int]:
    """(class, code) of an Error PDU."""
    assert apdu[0] >> 4 == PDU_ERROR, apdu.hex()
    assert apdu[3] == 0x91
    assert apdu[5] == 0x91
    return apdu[4], apdu[6]


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Device]]]:
    made: list[Device] = []

    async def factory(**bacnet: Any) -> Device:
        table = PointTable()
        points = [
            _point("ch01_active_power", PointKind.MEASUREMENT, 100.0, "W"),
            _point("ch02_active_power", PointKind.MEASUREMENT, 200.0, "W"),
            _point("di_1", PointKind.BINARY, False),
            _point("relay_3", PointKind.RELAY, True),
        ]
        config = Config(
            home_assistant=HomeAssistantConfig(token="x"),
            state_dir=tmp_path / f"state{len(made)}",
            bacnet=BacnetConfig(port=free_udp_port(), **bacnet),
        )
        dev = Device(BacnetDevice(config, table), table, config)

        async def commander(point: Point, on: bool) -> bool:
            dev.calls.append((point.key, on))
            table.update_point(point.unique_id, on, True)
            return on

        table.set_commander(commander)
        table.ha_connected = True
        table.replace_points(
            {SERIAL: Meter(SERIAL, "Panel", available=True)}, {p.unique_id: p for p in points}
        )
        await dev.device.start()
        made.append(dev)
        return dev

    yield factory
    for dev in made:
        await dev.device.close()


@pytest.fixture
async def peers() -> AsyncIterator[Callable[[Device], Peer]]:
    opened: list[Peer] = []

    def factory(dev: Device) -> Peer:
        peer = Peer(dev.config.bacnet.port)
        opened.append(peer)
        return peer

    yield factory
    for peer in opened:
        peer.close()


def relay_unchanged(dev: Device, state: str = "active") -> None:
    relay = dev.obj("relay_3")
    assert dev.calls == []
    assert str(relay.presentValue) == state
    assert all(relay.priorityArray[i].null is not None for i in range(16))


@pytest.mark.parametrize("value", [2, 255])
async def test_relay_enumerated_outside_binary_pv_is_refused(device, peers, value: int) -> None:
    dev = await device(allow_relay_commands=True)
    peer = peers(dev)
    answer = await peer.request(
        SERVICE_WRITE_PROPERTY,
        write_property(
            T_BINARY_OUTPUT, dev.instance("relay_3"), PROP_PRESENT_VALUE, enumerated(value), 8
        ),
    )
    assert error_of(answer) == (CLASS_PROPERTY, CODE_VALUE_OUT_OF_RANGE)
    relay_unchanged(dev)
    # The same write with a BinaryPV value is obeyed (the refusal was about the value).
    answer = await peer.request(
        SERVICE_WRITE_PROPERTY,
        write_property(
            T_BINARY_OUTPUT, dev.instance("relay_3"), PROP_PRESENT_VALUE, enumerated(0), 8
        ),
    )
    assert answer[0] >> 4 == PDU_SIMPLE_ACK
    assert dev.calls == [("relay_3", False)]


async def test_relay_priority_6_is_refused(device, peers) -> None:
    dev = await device(allow_relay_commands=True)
    answer = await peers(dev).request(
        SERVICE_WRITE_PROPERTY,
        write_property(
            T_BINARY_OUTPUT, dev.instance("relay_3"), PROP_PRESENT_VALUE, enumerated(0), 6
        ),
    )
    assert error_of(answer) == (CLASS_PROPERTY, CODE_WRITE_ACCESS_DENIED)
    relay_unchanged(dev)


async def test_relay_value_of_another_type_is_refused(device, peers) -> None:
    dev = await device(allow_relay_commands=True)
    answer = await peers(dev).request(
        SERVICE_WRITE_PROPERTY,
        write_property(T_BINARY_OUTPUT, dev.instance("relay_3"), PROP_PRESENT_VALUE, real(0.0), 8),
    )
    assert answer[0] >> 4 in (PDU_ERROR, PDU_REJECT), answer.hex()
    if answer[0] >> 4 == PDU_ERROR:
        assert error_of(answer) == (CLASS_PROPERTY, CODE_INVALID_DATA_TYPE)
    relay_unchanged(dev)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0])
async def test_cov_increment_not_finite_is_refused_and_not_persisted(
    device, peers, value: float
) -> None:
    dev = await device()
    before = float(dev.obj("ch01_active_power").covIncrement)
    answer = await peers(dev).request(
        SERVICE_WRITE_PROPERTY,
        write_property(
            T_ANALOG_INPUT, dev.instance("ch01_active_power"), PROP_COV_INCREMENT, real(value)
        ),
    )
    assert error_of(answer) == (CLASS_PROPERTY, CODE_VALUE_OUT_OF_RANGE)
    assert float(dev.obj("ch01_active_power").covIncrement) == before
    state = dev.config.state_dir / INSTANCES_FILE
    # Strict JSON (a bare NaN would make the next start fail) without a stored increment.
    text = state.read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in {state}"))
    assert dev.device.instances.cov_increment("analog-input", f"{SERIAL}_ch01_active_power") is None
    # A finite increment is accepted and persisted.
    answer = await peers(dev).request(
        SERVICE_WRITE_PROPERTY,
        write_property(
            T_ANALOG_INPUT, dev.instance("ch01_active_power"), PROP_COV_INCREMENT, real(2.5)
        ),
    )
    assert answer[0] >> 4 == PDU_SIMPLE_ACK
    assert dev.device.instances.cov_increment("analog-input", f"{SERIAL}_ch01_active_power") == 2.5
    assert "2.5" in state.read_text(encoding="utf-8")


async def test_write_to_unknown_property_is_unknown_property_without_traceback(
    device, peers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dev = await device()
    peer = peers(dev)
    for prop in (999, 4000, 87):  # proprietary numbers, and Priority_Array (not on an AI)
        answer = await peer.request(
            SERVICE_WRITE_PROPERTY,
            write_property(T_ANALOG_INPUT, dev.instance("ch01_active_power"), prop, enumerated(1)),
        )
        assert error_of(answer) == (CLASS_PROPERTY, CODE_UNKNOWN_PROPERTY), prop
    assert [r for r in caplog.records if r.exc_info] == []
    assert float(dev.obj("ch01_active_power").presentValue) == 100.0


async def test_out_of_service_and_input_values_are_refused_by_default(device, peers) -> None:
    dev = await device()
    peer = peers(dev)
    ai, bi = dev.instance("ch01_active_power"), dev.instance("di_1")
    for obj_type, instance in ((T_ANALOG_INPUT, ai), (T_BINARY_INPUT, bi)):
        answer = await peer.request(
            SERVICE_WRITE_PROPERTY,
            write_property(obj_type, instance, PROP_OUT_OF_SERVICE, b"\x11"),  # Boolean TRUE
        )
        assert error_of(answer) == (CLASS_PROPERTY, CODE_WRITE_ACCESS_DENIED)
    answer = await peer.request(
        SERVICE_WRITE_PROPERTY,
        write_property(T_ANALOG_INPUT, ai, PROP_PRESENT_VALUE, real(1.0)),
    )
    assert error_of(answer) == (CLASS_PROPERTY, CODE_WRITE_ACCESS_DENIED)
    assert not dev.obj("ch01_active_power").outOfService
    assert not dev.obj("di_1").outOfService
    assert float(dev.obj("ch01_active_power").presentValue) == 100.0


async def test_out_of_service_allowed_but_not_value_writes(device, peers) -> None:
    dev = await device(allow_out_of_service=True)
    peer = peers(dev)
    ai = dev.instance("ch01_active_power")
    answer = await peer.request(
        SERVICE_WRITE_PROPERTY, write_property(T_ANALOG_INPUT, ai, PROP_OUT_OF_SERVICE, b"\x11")
    )
    assert answer[0] >> 4 == PDU_SIMPLE_ACK
    answer = await peer.request(
        SERVICE_WRITE_PROPERTY, write_property(T_ANALOG_INPUT, ai, PROP_PRESENT_VALUE, real(1.0))
    )
    assert error_of(answer) == (CLASS_PROPERTY, CODE_WRITE_ACCESS_DENIED)
    assert float(dev.obj("ch01_active_power").presentValue) == 100.0


def subscribe_cov(obj_type: int, instance: int, process: int, lifetime: int = 300) -> bytes:
    return (
        b"\x09"
        + bytes([process])
        + b"\x1c"
        + oid(obj_type, instance)
        + b"\x29\x00"  # issueConfirmedNotifications FALSE
        + b"\x3a"
        + struct.pack(">H", lifetime)
    )


async def test_cov_subscriptions_are_limited_per_peer_and_in_total(device, peers) -> None:
    dev = await device(max_cov_subscriptions=5, max_cov_subscriptions_per_peer=3)
    app = dev.device.app
    assert app is not None
    first, second = peers(dev), peers(dev)
    ai = dev.instance("ch01_active_power")
    for process in (1, 2, 3):
        answer = await first.request(
            SERVICE_SUBSCRIBE_COV, subscribe_cov(T_ANALOG_INPUT, ai, process)
        )
        assert answer[0] >> 4 == PDU_SIMPLE_ACK, answer.hex()
    refused = await first.request(SERVICE_SUBSCRIBE_COV, subscribe_cov(T_ANALOG_INPUT, ai, 4))
    assert error_of(refused) == (CLASS_RESOURCES, CODE_NO_SPACE_TO_ADD_LIST_ELEMENT)
    assert app.cov_subscription_count() == 3
    # A renewal of an existing subscription is not a new one.
    renewed = await first.request(SERVICE_SUBSCRIBE_COV, subscribe_cov(T_ANALOG_INPUT, ai, 2, 600))
    assert renewed[0] >> 4 == PDU_SIMPLE_ACK
    # Another peer has its own allowance, up to the total.
    for process in (1, 2):
        answer = await second.request(
            SERVICE_SUBSCRIBE_COV, subscribe_cov(T_ANALOG_INPUT, ai, process)
        )
        assert answer[0] >> 4 == PDU_SIMPLE_ACK
    refused = await second.request(SERVICE_SUBSCRIBE_COV, subscribe_cov(T_ANALOG_INPUT, ai, 3))
    assert error_of(refused) == (CLASS_RESOURCES, CODE_NO_SPACE_TO_ADD_LIST_ELEMENT)
    assert app.cov_subscription_count() == 5


async def test_garbage_is_counted_and_logged_once(
    device, peers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dev = await device()
    peer = peers(dev)
    datagrams = 1000
    replies: list[bytes] = []
    for i in range(datagrams):
        junk = [
            bytes([0x81, 0x0A, 0, 8, 1, 0, 0xFF, i % 256]),  # an APDU type that does not exist
            bytes([0x81, 0x0A, 0, 7, 1, 4, 0x00]),  # a truncated confirmed request
            bytes([0x81, 0x0A, 0, 12, 1, 4, 0, 5, 1, 12, 0x0C, 0xFF]),  # a cut-off ReadProperty
            b"\x81\x0a\x00\x20" + bytes(range(28)),  # NPDU version 0
            b"\x81\x0a\x00\x0b\x01\x04\x00\x05\x01\x0f\x0c",  # WriteProperty without a body
        ][i % 5]
        await peer.send_raw(junk)
        if i % 20 == 19:  # paced, so that the kernel's socket buffers drop nothing
            await wait_for(lambda n=i + 1: dev.device.garbage.total >= n, message=f"{i + 1}")
            replies += drain(peer)
    # The device still answers a proper request after the flood.
    answer = await peers(dev).request(
        SERVICE_READ_PROPERTY,
        b"\x0c" + oid(T_ANALOG_INPUT, dev.instance("ch01_active_power")) + b"\x19\x55",
    )
    assert answer[0] >> 4 == PDU_COMPLEX_ACK
    await asyncio.sleep(0.05)
    replies += drain(peer)
    assert [r for r in caplog.records if r.exc_info] == []
    garbage = dev.device.garbage
    # The two cut-off confirmed requests are rejected (missing-required-parameter, to the
    # sender), the other three kinds are dropped; all are counted.
    assert garbage.total == datagrams
    assert garbage.by_reason["rejected"] == 2 * datagrams // 5
    assert len(replies) == 2 * datagrams // 5
    assert {(_apdu(r)[0] >> 4, _apdu(r)[2]) for r in replies} == {(PDU_REJECT, 5)}
    summaries = [r for r in caplog.records if "malformed or refused" in r.getMessage()]
    assert len(summaries) == 1  # the first, at once; the others wait for the interval
    assert "\n" not in summaries[0].getMessage()
    await dev.device.close()
    summaries = [r for r in caplog.records if "malformed or refused" in r.getMessage()]
    assert len(summaries) == 2  # the rest, summed up when the device stops


async def test_property_list_and_network_port_apdu_length(device, bacnet_peer) -> None:
    """Read by an independent stack (bac-py): clause 12.1.1.4.1 and the network port."""
    dev = await device(allow_relay_commands=True)
    peer = await bacnet_peer(dev.config)
    from bac_py.types.enums import PropertyIdentifier

    excluded = {"OBJECT_IDENTIFIER", "OBJECT_NAME", "OBJECT_TYPE", "PROPERTY_LIST"}
    for obj in (
        f"device,{dev.config.bacnet.device_instance}",
        "network-port,1",
        f"analog-input,{dev.instance('ch01_active_power')}",
        f"binary-input,{dev.instance('di_1')}",
        f"binary-output,{dev.instance('relay_3')}",
    ):
        listed = {PropertyIdentifier(int(p)).name for p in await peer.read(obj, "property-list")}
        assert listed, obj
        assert not listed & excluded, (obj, listed & excluded)
        assert "PRESENT_VALUE" in listed or obj.startswith(("device", "network-port")), obj
    assert await peer.read("network-port,1", "apdu-length") == 1476
    vendor = await peer.read(f"device,{dev.config.bacnet.device_instance}", "vendor-identifier")
    assert vendor == 999


async def test_vendor_identifier_is_configurable(device, bacnet_peer) -> None:
    dev = await device(vendor_identifier=4242)
    peer = await bacnet_peer(dev.config)
    device_obj = f"device,{dev.config.bacnet.device_instance}"
    assert await peer.read(device_obj, "vendor-identifier") == 4242

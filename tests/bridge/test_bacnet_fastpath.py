"""The BACnet read fast path answers byte for byte as bacpypes3 does (bacnet/fastpath.py).

Every request goes on the wire twice to the same device: with the fast path, and with it
switched off (bacpypes3's services answer). The two answers must be the same bytes. Requests
the fast path must leave alone (other properties, array indexes, the device object, unknown
objects, answers too long for the client) are checked to get bacpypes3's answer.
"""

from __future__ import annotations

import struct

import pytest

from .test_bacnet_wire import (  # noqa: F401  (fixtures)
    SERIAL,
    SERVICE_READ_PROPERTY,
    T_ANALOG_INPUT,
    T_BINARY_INPUT,
    T_BINARY_OUTPUT,
    Device,
    Peer,
    device,
    oid,
    peers,
)

READ_PROPERTY_MULTIPLE = 14
PV, STATUS, RELIABILITY, UNITS, OOS, EVENT_STATE, NAME = 85, 111, 103, 117, 81, 36, 77


def rp(obj_type: int, instance: int, prop: int, index: int | None = None) -> bytes:
    body = b"\x0c" + oid(obj_type, instance) + b"\x19" + bytes([prop])
    if index is not None:
        body += b"\x29" + bytes([index])
    return body


def rpm(*objects: tuple[int, int, tuple[int, ...]]) -> bytes:
    body = b""
    for obj_type, instance, props in objects:
        body += b"\x0c" + oid(obj_type, instance) + b"\x1e"
        body += b"".join(b"\x09" + bytes([p]) for p in props) + b"\x1f"
    return body


async def both(dev: Device, peer: Peer, service: int, body: bytes, max_apdu: int = 5):
    """(fast answer, bacpypes3 answer, whether the fast path answered)."""
    fast = dev.device.fast
    assert fast is not None
    before = fast.answered
    peer_request = peer.request
    if max_apdu != 5:
        peer_request = _with_max_apdu(peer, max_apdu)
    quick = await peer_request(service, body)
    took = fast.answered > before
    dev.device.fast = None
    try:
        slow = await peer_request(service, body)
    finally:
        dev.device.fast = fast
    # The invoke ids differ (the peer counts up): compare everything else.
    return quick[:1] + quick[2:], slow[:1] + slow[2:], took


def _with_max_apdu(peer: Peer, code: int):
    async def request(service: int, body: bytes) -> bytes:
        import asyncio

        peer.invoke = (peer.invoke + 1) % 256
        apdu = bytes([0x00, code, peer.invoke, service]) + body
        npdu = b"\x01\x04" + apdu
        await peer.send_raw(b"\x81\x0a" + struct.pack(">H", 4 + len(npdu)) + npdu)
        loop = asyncio.get_running_loop()
        while True:
            answer = await asyncio.wait_for(loop.sock_recv(peer.sock, 4096), 3.0)
            reply = answer[6:]
            if reply[0] >> 4 in (3, 5, 6, 7) and reply[1] == peer.invoke:
                return reply

    return request


@pytest.mark.parametrize("prop", [PV, STATUS, RELIABILITY, UNITS, OOS, EVENT_STATE])
async def test_read_property_is_identical(device, peers, prop: int) -> None:  # noqa: F811
    dev = await device()
    peer = peers(dev)
    targets = [
        (T_ANALOG_INPUT, dev.instance("ch01_active_power")),
        (T_BINARY_INPUT, dev.instance("di_1")),
        (T_BINARY_OUTPUT, dev.instance("relay_3")),
    ]
    for obj_type, instance in targets:
        if prop == UNITS and obj_type != T_ANALOG_INPUT:
            continue
        quick, slow, took = await both(
            dev, peer, SERVICE_READ_PROPERTY, rp(obj_type, instance, prop)
        )
        assert took, (obj_type, prop)
        assert quick == slow, (obj_type, prop)


async def test_unavailable_point_reads_the_same(device, peers) -> None:  # noqa: F811
    dev = await device()
    dev.table.update_point(f"{SERIAL}_ch02_active_power", None, False)
    peer = peers(dev)
    ai = dev.instance("ch02_active_power")
    body = rpm((T_ANALOG_INPUT, ai, (PV, STATUS, RELIABILITY, UNITS, OOS, EVENT_STATE)))
    quick, slow, took = await both(dev, peer, READ_PROPERTY_MULTIPLE, body)
    assert took
    assert quick == slow
    assert b"\x82\x04\x40" in quick  # Status_Flags: fault


async def test_read_property_multiple_is_identical(device, peers) -> None:  # noqa: F811
    dev = await device()
    peer = peers(dev)
    body = rpm(
        (T_ANALOG_INPUT, dev.instance("ch01_active_power"), (PV, STATUS, RELIABILITY, UNITS)),
        (T_ANALOG_INPUT, dev.instance("ch02_active_power"), (PV, STATUS)),
        (T_BINARY_INPUT, dev.instance("di_1"), (PV, OOS, EVENT_STATE)),
        (T_BINARY_OUTPUT, dev.instance("relay_3"), (PV, STATUS, RELIABILITY)),
    )
    quick, slow, took = await both(dev, peer, READ_PROPERTY_MULTIPLE, body)
    assert took
    assert quick == slow


@pytest.mark.parametrize(
    "case",
    [
        "object-name",
        "array-index",
        "device-object",
        "unknown-object",
        "units-of-a-binary-input",
        "rpm-all",
        "rpm-unknown-object",
        "too-long-for-the-client",
    ],
)
async def test_what_the_fast_path_leaves_to_bacpypes3(device, peers, case: str) -> None:  # noqa: F811
    dev = await device()
    peer = peers(dev)
    ai = dev.instance("ch01_active_power")
    service, max_apdu = SERVICE_READ_PROPERTY, 5
    body = {
        "object-name": rp(T_ANALOG_INPUT, ai, NAME),
        "array-index": rp(T_ANALOG_INPUT, ai, PV, index=1),
        "device-object": rp(8, dev.config.bacnet.device_instance, 70),
        "unknown-object": rp(T_ANALOG_INPUT, 4000, PV),
        "units-of-a-binary-input": rp(T_BINARY_INPUT, dev.instance("di_1"), UNITS),
        "rpm-all": rpm((T_ANALOG_INPUT, ai, (8,))),
        "rpm-unknown-object": rpm((T_ANALOG_INPUT, 4000, (PV,))),
        "too-long-for-the-client": rpm(
            (T_ANALOG_INPUT, ai, (PV, STATUS, RELIABILITY, UNITS, OOS, EVENT_STATE)),
            (T_ANALOG_INPUT, dev.instance("ch02_active_power"), (PV, STATUS, RELIABILITY, UNITS)),
        ),
    }[case]
    if case.startswith("rpm") or case == "too-long-for-the-client":
        service = READ_PROPERTY_MULTIPLE
    if case == "too-long-for-the-client":
        max_apdu = 0  # 50 octets
    quick, slow, took = await both(dev, peer, service, body, max_apdu)
    assert not took
    assert quick == slow


async def test_random_reads_are_identical(device, peers) -> None:  # noqa: F811
    """Seeded random ReadPropertyMultiple requests over the point objects, properties in any
    order and repeated, some with a property the path leaves alone: the same bytes either way."""
    import random

    dev = await device(allow_relay_commands=True)
    dev.table.update_point(f"{SERIAL}_ch02_active_power", None, False)
    dev.table.update_point(f"{SERIAL}_ch01_active_power", 1234.5678, True)
    peer = peers(dev)
    objects = [
        (
            T_ANALOG_INPUT,
            dev.instance("ch01_active_power"),
            (PV, STATUS, RELIABILITY, UNITS, OOS, EVENT_STATE),
        ),
        (
            T_ANALOG_INPUT,
            dev.instance("ch02_active_power"),
            (PV, STATUS, RELIABILITY, UNITS, OOS, EVENT_STATE),
        ),
        (T_BINARY_INPUT, dev.instance("di_1"), (PV, STATUS, RELIABILITY, OOS, EVENT_STATE)),
        (T_BINARY_OUTPUT, dev.instance("relay_3"), (PV, STATUS, RELIABILITY, OOS, EVENT_STATE)),
    ]
    rnd = random.Random(2026)
    fast_answers = 0
    for _ in range(40):
        chosen = []
        for obj_type, instance, props in rnd.sample(objects, rnd.randint(1, len(objects))):
            picked = tuple(rnd.choice(props) for _ in range(rnd.randint(1, 6)))
            if rnd.random() < 0.1:
                picked += (NAME,)
            chosen.append((obj_type, instance, picked))
        quick, slow, took = await both(dev, peer, READ_PROPERTY_MULTIPLE, rpm(*chosen))
        assert quick == slow, chosen
        fast_answers += took
        assert took == all(NAME not in props for _, _, props in chosen)
    assert fast_answers > 20

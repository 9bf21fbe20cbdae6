"""The SNMPv2c fast path answers exactly as pysnmp does (bacnet_bridge/snmp/fastpath.py).

Each request goes on the wire twice to the same agent: once with the fast path on, once with
it switched off (pysnmp's command responders answer). The two responses are decoded with
pyasn1 and compared: error status and index, and every variable binding's name, type and
value. Requests the fast path must not answer (other community, SET, malformed) are checked
to reach pysnmp.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from bacnet_bridge.model import PointTable
from bacnet_bridge.snmp import oids

from . import snmp_support as ns
from .test_snmp import COMMUNITY, Starter, start, table  # noqa: F401  (fixtures)


def message(
    pdu: Any, names: list[tuple[int, ...]], community: str = COMMUNITY, **bulk: int
) -> bytes:
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, 4242)
    if bulk:
        v2c.apiBulkPDU.set_non_repeaters(pdu, bulk["non_repeaters"])
        v2c.apiBulkPDU.set_max_repetitions(pdu, bulk["max_repetitions"])
    v2c.apiPDU.set_varbinds(pdu, [(name, v2c.null) for name in names])
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, community)
    v2c.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def decoded(data: bytes) -> tuple[int, int, int, list[tuple[str, str, str]]]:
    msg, rest = decoder.decode(data, asn1Spec=v2c.Message())
    assert rest == b""
    pdu = v2c.apiMessage.get_pdu(msg)
    return (
        int(v2c.apiPDU.get_request_id(pdu)),
        int(v2c.apiPDU.get_error_status(pdu)),
        int(v2c.apiPDU.get_error_index(pdu)),
        [
            # sysUpTime moves on between two answers: compared by name and type only
            (str(name), type(value).__name__, "*" if str(name) == UPTIME else value.prettyPrint())
            for name, value in v2c.apiPDU.get_varbinds(pdu)
        ],
    )


async def ask(port: int, request: bytes, within: float = 1.0) -> bytes | None:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((ns.HOST, 0))
        sock.setblocking(False)
        await loop.sock_sendto(sock, request, (ns.HOST, port))
        try:
            return await asyncio.wait_for(loop.sock_recv(sock, 65535), within)
        except TimeoutError:
            return None


SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
UPTIME = "1.3.6.1.2.1.1.3.0"


def negative_bulk() -> bytes:
    """A GETBULK with non-repeaters -3 (pyasn1 will not encode it: BER by hand)."""

    def tlv(tag: int, body: bytes) -> bytes:
        return bytes([tag, len(body)]) + body

    oid = bytes([0x2B, 6, 1, 2, 1, 1, 1, 0])
    varbinds = tlv(0x30, tlv(0x30, tlv(0x06, oid) + b"\x05\x00"))
    pdu = tlv(0xA5, b"\x02\x01\x07" + b"\x02\x01\xfd" + b"\x02\x01\x05" + varbinds)
    return tlv(0x30, b"\x02\x01\x01" + tlv(0x04, COMMUNITY.encode()) + pdu)


CHANNEL_POWER = (*oids.CHANNEL_ENTRY, oids.ChannelCol.POWER, 1, 1)


def requests() -> list[tuple[str, bytes]]:
    get, nxt, bulk = v2c.GetRequestPDU, v2c.GetNextRequestPDU, v2c.GetBulkRequestPDU
    missing_instance = (*oids.CHANNEL_ENTRY, oids.ChannelCol.POWER, 1, 99)
    unknown_object = (*oids.ROOT, 99, 1, 0)
    last = oids.SNMP_ENGINE_MAX_MSG
    return [
        ("get", message(get(), [SYS_DESCR, CHANNEL_POWER])),
        ("get-missing", message(get(), [missing_instance, unknown_object, (1, 3, 6, 1, 9)])),
        ("get-dynamic", message(get(), [(*oids.SYS_UPTIME[:-1], 0)])),
        ("next", message(nxt(), [oids.ROOT, (1, 3, 6, 1, 2, 1, 47), (1, 3)])),
        ("next-end", message(nxt(), [last, (2, 1)])),
        ("bulk", message(bulk(), [oids.ROOT], non_repeaters=0, max_repetitions=50)),
        (
            "bulk-nr",
            message(
                bulk(),
                [SYS_DESCR, oids.ROOT, (1, 3, 6, 1, 2, 1, 99)],
                non_repeaters=1,
                max_repetitions=30,
            ),
        ),
        ("bulk-past-end", message(bulk(), [last], non_repeaters=0, max_repetitions=10)),
        ("bulk-nr-too-many", message(bulk(), [SYS_DESCR], non_repeaters=5, max_repetitions=3)),
        ("bulk-zero", message(bulk(), [oids.ROOT], non_repeaters=0, max_repetitions=0)),
        ("bulk-empty", message(bulk(), [], non_repeaters=0, max_repetitions=10)),
        ("bulk-big", message(bulk(), [(1, 3)], non_repeaters=0, max_repetitions=100000)),
    ]


@pytest.mark.parametrize(("name", "request_bytes"), requests(), ids=[n for n, _ in requests()])
async def test_fast_path_answers_as_pysnmp(
    table: PointTable,  # noqa: F811
    start: Starter,  # noqa: F811
    name: str,
    request_bytes: bytes,
) -> None:
    agent = await start(table)
    port = agent.address[1]
    fast = agent._fast
    assert fast is not None
    before = fast.answered
    quick = await ask(port, request_bytes)
    assert fast.answered == before + 1, name  # the fast path did answer it
    agent._fast = None
    slow = await ask(port, request_bytes)
    agent._fast = fast
    assert quick is not None
    assert slow is not None
    assert decoded(quick) == decoded(slow)


@pytest.mark.parametrize(
    "request_bytes",
    [
        message(v2c.GetRequestPDU(), [SYS_DESCR], community="wrong-community"),
        message(v2c.SetRequestPDU(), [SYS_DESCR]),
        message(v2c.GetRequestPDU(), [SYS_DESCR])[:-3],  # cut short
        negative_bulk(),
    ],
    ids=["wrong-community", "set", "truncated", "negative-non-repeaters"],
)
async def test_what_the_fast_path_leaves_to_pysnmp(
    table: PointTable,  # noqa: F811
    start: Starter,  # noqa: F811
    request_bytes: bytes,
) -> None:
    agent = await start(table)
    fast = agent._fast
    assert fast is not None
    quick = await ask(agent.address[1], request_bytes, within=0.5)
    assert fast.answered == 0
    agent._fast = None
    slow = await ask(agent.address[1], request_bytes, within=0.5)
    assert (quick is None) == (slow is None)
    if quick is not None and slow is not None:
        assert decoded(quick)[1:] == decoded(slow)[1:]


async def test_a_changed_value_is_not_served_from_the_cache(
    table: PointTable,  # noqa: F811
    start: Starter,  # noqa: F811
) -> None:
    agent = await start(table)
    port = agent.address[1]
    request = message(v2c.GetRequestPDU(), [CHANNEL_POWER])
    first = await ask(port, request)
    assert first is not None
    uid = next(u for u in table.points if u.endswith("_ch01_active_power"))
    table.update_point(uid, 4321.4, True)
    second = await ask(port, request)
    assert second is not None
    assert decoded(second)[3][0][2] == "4321"
    assert decoded(first)[3][0][2] != "4321"


# --- SNMPv3 (USM authPriv) ----------------------------------------------------------------


def test_localized_key_matches_rfc_3414_and_pysnmp() -> None:
    from pysnmp.proto.secmod.rfc3414 import localkey

    from bacnet_bridge.snmp.fastpath import localized_sha_key

    # RFC 3414 A.3.2: "maplesyrup", engine ID 00..02, SHA.
    engine = bytes.fromhex("000000000000000000000002")
    assert localized_sha_key("maplesyrup", engine).hex() == (
        "6695febc9288e36282235fc7151f128497b38f3f"
    )
    for password, engine_id in (
        ("auth-key-1234", b"\x80\x00\x7e\xd9\x05abc"),
        ("x" * 70, b"e" * 9),
    ):
        want = bytes(localkey.password_to_key_sha(password, v2c.OctetString(engine_id)))
        assert localized_sha_key(password, engine_id) == want


async def test_v3_reads_take_the_fast_path_and_equal_v2c(
    table: PointTable,  # noqa: F811
    start: Starter,  # noqa: F811
) -> None:
    ns.require_tools()
    agent = await start(table)
    port = agent.address[1]
    usm = agent._usm
    assert usm is not None
    v2 = await ns.tool("snmpbulkwalk", ns.v2c(), port, oids.text(oids.ROOT), extra=("-Cr25",))
    v3 = await ns.tool("snmpbulkwalk", ns.v3(), port, oids.text(oids.ROOT), extra=("-Cr25",))
    assert v3.rc == 0, v3
    assert ns.parse(v3.out) == ns.parse(v2.out)
    assert usm.answered >= 2  # every request after the discovery
    answered = usm.answered
    # What pysnmp answers itself: a wrong key (Report usmStatsWrongDigests), an unknown user.
    wrong = await ns.tool("snmpget", ns.v3(auth="not-the-auth-key"), port, "1.3.6.1.2.1.1.1.0")
    assert "Authentication failure" in wrong.err
    nobody = await ns.tool("snmpget", ns.v3(user="nobody"), port, "1.3.6.1.2.1.1.1.0")
    assert nobody.rc != 0
    assert usm.answered == answered


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(st.integers(0, 2), st.integers(0, 39)),
    st.lists(st.integers(0, 2**32 - 1), max_size=20),
)
def test_oid_codec_agrees_with_pyasn1(head: tuple[int, int], tail: list[int]) -> None:
    from bacnet_bridge.snmp.fastpath import _encode_oid, _oid

    oid = (*head, *tail)
    encoded = _encode_oid(oid)
    assert encoded == bytes(encoder.encode(v2c.ObjectIdentifier(oid)))
    assert _oid(encoded, 2, len(encoded)) == oid

"""Malformed and unsupported SNMP on the wire (issue #12): raw datagrams and net-snmp.

SNMPv1 is not offered: a v1 request, even with the right community, is discarded in silence
(RFC 3412 4.2.1.2, counted in snmpInBadVersions) instead of answered with noSuchName. Garbage
is counted and summarised once per interval, never a traceback per datagram, and the agent
keeps answering.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket

import pytest

from bacnet_bridge.model import PointTable

from . import snmp_support as ns
from .test_snmp import COMMUNITY, Starter, start, table  # noqa: F401  (fixtures)

SYS_DESCR = "1.3.6.1.2.1.1.1.0"


def _tlv(tag: int, body: bytes) -> bytes:
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


def v1_get(community: str, request_id: int = 7) -> bytes:
    """An SNMPv1 GetRequest for sysDescr.0, BER by hand."""
    oid = bytes([0x2B, 6, 1, 2, 1, 1, 1, 0])  # 1.3.6.1.2.1.1.1.0
    varbind = _tlv(0x30, _tlv(0x06, oid) + b"\x05\x00")
    pdu = _tlv(
        0xA0,
        _tlv(0x02, bytes([request_id])) + b"\x02\x01\x00" + b"\x02\x01\x00" + _tlv(0x30, varbind),
    )
    return _tlv(0x30, b"\x02\x01\x00" + _tlv(0x04, community.encode()) + pdu)


async def _answer(sock: socket.socket, within: float) -> bytes | None:
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.sock_recv(sock, 4096), within)
    except TimeoutError:
        return None


async def test_v1_with_the_right_community_gets_silence(
    start: Starter,  # noqa: F811
    table: PointTable,  # noqa: F811
) -> None:
    agent = await start(table)
    port = agent.address[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((ns.HOST, 0))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_sendto(sock, v1_get(COMMUNITY), (ns.HOST, port))
        assert await _answer(sock, 1.0) is None
    assert agent.garbage.by_reason["bad-version"] == 1
    # The same question in v2c is answered: the silence was about the version.
    got = await ns.tool("snmpget", ns.v2c(), port, SYS_DESCR)
    assert got.rc == 0, got
    assert "AcuRev bridge" in got.out


async def test_v1_from_net_snmp_times_out(
    start: Starter,  # noqa: F811
    table: PointTable,  # noqa: F811
) -> None:
    ns.require_tools()
    agent = await start(table)
    got = await ns.tool("snmpget", ["-v1", "-c", COMMUNITY], agent.address[1], SYS_DESCR)
    assert got.rc != 0
    assert "Timeout" in got.err
    assert "noSuchName" not in got.out + got.err


async def test_garbage_is_counted_not_traced(
    start: Starter,  # noqa: F811
    table: PointTable,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    agent = await start(table)
    port = agent.address[1]
    rnd = random.Random(12)
    datagrams = 500
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((ns.HOST, 0))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        for i in range(datagrams):
            body = bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 60)))
            if i % 3 == 0:  # starts like an SNMP message, then goes wrong
                body = b"\x30" + bytes([len(body) + 3]) + b"\x02\x01" + bytes([i % 4]) + body
            await loop.sock_sendto(sock, body, (ns.HOST, port))
            if i % 10 == 9:
                # Let the agent catch up before the socket buffer could overflow (a loaded
                # CI machine would otherwise drop datagrams in the kernel, not in the agent).
                for _ in range(200):
                    if agent.garbage.total >= i + 1:
                        break
                    await asyncio.sleep(0.01)
    assert agent.garbage.total == datagrams
    assert [r for r in caplog.records if r.exc_info] == []
    assert [r for r in caplog.records if "Exception in callback" in r.getMessage()] == []
    summaries = [r for r in caplog.records if "malformed or refused" in r.getMessage()]
    assert len(summaries) == 1
    # Still serving.
    got = await ns.tool("snmpget", ns.v2c(), port, SYS_DESCR)
    assert got.rc == 0, got

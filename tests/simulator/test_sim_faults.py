"""Fault injection, connection limits, statistics and the real-time ticker."""

from __future__ import annotations

import asyncio
import math
import struct
import time

import pytest

from acurev_simulator import Simulator

from .conftest import START
from .raw_modbus import HOST, MBAP, RawClient, f32s, frame, read_pdu, write_coil_pdu

pytestmark = pytest.mark.protocol


async def test_delay(sim: Simulator, client: RawClient) -> None:
    sim.faults.delay = 0.25
    t0 = time.monotonic()
    await client.read_registers(0x2000, 2)
    assert time.monotonic() - t0 >= 0.25
    sim.faults.delay = 0
    t0 = time.monotonic()
    await client.read_registers(0x2000, 2)
    assert time.monotonic() - t0 < 0.2


async def test_silent_reads_time_out_writes_still_answer(sim: Simulator, client: RawClient) -> None:
    sim.faults.silent = True
    await client.send(frame(1, 1, read_pdu(3, 0x2000, 2)))
    assert await client.receive_bytes(within=0.3) == b""
    await client.write_coil(2, True)
    assert sim.meter.relays[2] is True
    sim.faults.silent = False
    assert len(await client.read_registers(0x2000, 2)) == 2


async def test_drop_next_closes_the_connection(sim: Simulator, client: RawClient) -> None:
    sim.faults.drop_next = 1
    await client.send(frame(1, 1, read_pdu(3, 0x2000, 2)))
    assert await client.closed_by_peer()
    assert sim.faults.drop_next == 0
    again = await RawClient.connect(sim.port)
    try:
        assert len(await again.read_registers(0x2000, 2)) == 2
    finally:
        await again.close()


async def test_injected_exception_by_block_key(sim: Simulator, client: RawClient) -> None:
    sim.faults.exceptions["psum"] = 0x04
    assert await client.exception_of(read_pdu(3, 0x2000, 66)) == 0x04  # touches 0x201A
    assert await client.exception_of(read_pdu(3, 0x201B, 1)) == 0x04
    assert len(await client.read_registers(0x2000, 0x1A)) == 0x1A  # stops just before
    sim.faults.exceptions = {"relay_3": 0x06}
    assert await client.exception_of(read_pdu(1, 0, 8)) == 0x06
    # DIs are another data space: unaffected.
    assert await client.read_bits(2, 0, 8) == list(sim.meter.digital_inputs)


async def test_injected_exception_by_function_and_address(
    sim: Simulator, client: RawClient
) -> None:
    sim.faults.exceptions[(16, 0x0811)] = 0x02
    pdu = bytes([16, 0x08, 0x10, 0, 2, 4, 0, 5, 0, 0])  # billing hour + tou_enable
    assert await client.exception_of(pdu) == 0x02
    assert await client.read_registers(0x0810, 2) == [0, 1]  # not applied; FC03 unaffected
    sim.faults.reset()
    assert sim.faults.exceptions == {}
    await client.write_registers(0x0810, [5, 0])
    assert await client.read_registers(0x0810, 2) == [5, 0]


GOOD_SIZE = 7 + 2 + 8  # MBAP + function + byte count + 4 registers


async def exchange(client: RawClient, size: int = GOOD_SIZE) -> bytes:
    """Send the test request; read exactly the ``size`` bytes the server sends back."""
    await client.send(frame(0x0102, 1, read_pdu(3, 0x1008, 4)))
    return await asyncio.wait_for(client.reader.readexactly(size), 2)


@pytest.mark.parametrize(
    "mode", ["short", "length", "transaction_id", "function", "byte_count", "garbage"]
)
async def test_corrupt_modes(sim: Simulator, client: RawClient, mode: str) -> None:
    good = await exchange(client)
    tid, pid, length, unit = MBAP.unpack(good[:7])
    assert (tid, pid, length, unit) == (0x0102, 0, len(good) - 6, 1)
    sim.faults.corrupt = mode  # type: ignore[assignment]
    sim.faults.corrupt_count = 1
    bad = await exchange(client, 7 + 5 if mode == "short" else GOOD_SIZE)
    assert bad != good
    btid, _, blength, _ = MBAP.unpack(bad[:7])
    pdu = bad[7:]
    if mode == "short":
        assert blength == len(pdu) + 1
        assert pdu[0] == 3
        assert len(pdu) - 2 < pdu[1] == 8
    elif mode == "length":
        assert blength == len(pdu) + 1 + 3
        assert pdu == good[7:]
    elif mode == "transaction_id":
        assert btid != 0x0102
        assert bad[2:] == good[2:]
    elif mode == "function":
        assert pdu[0] != 3
        assert pdu[1:] == good[8:]
    elif mode == "byte_count":
        assert pdu[1] != 8
        assert pdu[2:] == good[9:]
    else:
        assert len(bad) == len(good)
    # corrupt_count = 1: the next reply is good again.
    assert sim.faults.corrupt is None
    assert await exchange(client) == good
    assert await client.receive_bytes(within=0.05) == b""  # nothing more was sent


async def test_byte_count_mode_leaves_write_replies(sim: Simulator, client: RawClient) -> None:
    sim.faults.corrupt = "byte_count"
    await client.send(frame(9, 1, write_coil_pdu(1, 0xFF00)))
    reply = await client.receive()
    assert reply.pdu == write_coil_pdu(1, 0xFF00)


async def test_max_clients(sim: Simulator) -> None:
    sim.faults.max_clients = 2
    a, b = await RawClient.connect(sim.port), await RawClient.connect(sim.port)
    try:
        await a.read_registers(0x1008, 1)
        await b.read_registers(0x1008, 1)
        c = await RawClient.connect(sim.port)  # accepted by TCP, closed at once
        await c.send(frame(1, 1, read_pdu(3, 0x1008, 1)))
        assert await c.closed_by_peer()
        await c.close()
        assert sim.stats.connections_refused == 1
        assert sim.clients == 2
        await a.close()
        for _ in range(50):  # the server notices the close
            if sim.clients < 2:
                break
            await asyncio.sleep(0.01)
        d = await RawClient.connect(sim.port)
        assert await d.read_registers(0x1008, 1) == [2020]
        await d.close()
        assert sim.stats.connections_accepted == 3
    finally:
        await a.close()
        await b.close()


async def test_default_max_clients_is_a_few(sim: Simulator) -> None:
    assert sim.faults.max_clients is not None
    assert 1 <= sim.faults.max_clients <= 8
    sim.faults.max_clients = 1
    sim.faults.reset()
    assert sim.faults.max_clients == 4


async def test_stats(sim: Simulator, client: RawClient) -> None:
    await client.read_registers(0x2000, 72)
    await client.read_registers(0x2100, 120)
    await client.read_bits(1, 0, 8)
    await client.write_coil(0, False)
    await client.exception_of(read_pdu(3, 0x0000, 1))
    await client.exception_of(struct.pack(">BHH", 4, 0, 1))
    assert sim.stats.requests[3] == 3
    assert sim.stats.requests[1] == 1
    assert sim.stats.requests[5] == 1
    assert sim.stats.requests[4] == 1
    assert sim.stats.total_requests == 6
    assert sim.stats.registers_served == 192
    assert sim.stats.exceptions == {2: 1, 1: 1}
    assert sim.stats.connections_accepted == 1


async def test_ticker_moves_time_and_drifts_consistently() -> None:
    async with Simulator(host=HOST, speed=120.0, tick_interval=0.05, clock=START, seed=7) as sim:
        before = sim.meter.energy_kwh("import_active", 3)
        client = await RawClient.connect(sim.port)
        try:
            await asyncio.sleep(0.5)
            elapsed = (sim.meter.clock - START).total_seconds()
            assert 30 <= elapsed <= 120
            assert sim.meter.energy_kwh("import_active", 3) > before
            records = [f32s(await client.read_registers(0x2100 + 12 * (n - 1), 12)) for n in (1, 2)]
            for i, p, q, s, pf, _ in records:
                assert (p, q) != (1.2, 0.4)  # drifted off the nominal load
                assert s == pytest.approx(math.hypot(p, q), rel=1e-5)
                assert pf == pytest.approx(p / s, rel=1e-5)
                assert i > 0
            sim.frozen = True  # back to nominal, time stands still
            frozen_at = sim.meter.clock
            await asyncio.sleep(0.2)
            assert sim.meter.clock == frozen_at
            assert f32s(await client.read_registers(0x2100, 6)) == pytest.approx(
                [math.hypot(1.2, 0.4) * 1000 / 120, 1.2, 0.4], rel=1e-6
            )
        finally:
            await client.close()


async def test_frozen_simulator_stands_still(sim: Simulator, client: RawClient) -> None:
    first = await client.read_registers(0x2000, 72)
    await asyncio.sleep(0.6)
    assert await client.read_registers(0x2000, 72) == first
    assert sim.meter.clock == START


async def test_fill_answers_wrong_words_and_leaves_the_meter_alone(
    sim: Simulator, client: RawClient
) -> None:
    from pyacurev.registers import block

    bank = block("import_active_energy_channels")
    true = await client.read_registers(bank.address, 4)
    assert any(true)
    other = block("apparent_energy_bank")
    other_true = await client.read_registers(other.address, 4)
    # Zeros for the next two reads touching the bank; other blocks are untouched.
    sim.faults.fill, sim.faults.fill_count = {"import_active_energy_channels": 0x0000}, 2
    assert await client.read_registers(bank.address, 4) == [0, 0, 0, 0]
    assert await client.read_registers(other.address, 4) == other_true  # not counted
    assert await client.read_registers(bank.address + 2, 2) == [0, 0]
    assert await client.read_registers(bank.address, 4) == true  # count used up
    # A pattern repeats over the block: every 32-bit entry the same value.
    sim.faults.fill = {"import_active_energy_channels": (0x0001, 0x0002)}
    assert await client.read_registers(bank.address, 4) == [1, 2, 1, 2]
    sim.faults.fill = {}
    assert await client.read_registers(bank.address, 4) == true

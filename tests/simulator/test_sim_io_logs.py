"""Relays, DIs and the SOE ring, alarms and the alarm ring, commands, max/min, clock,
run time, reboot and the log window."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from acurev_simulator import Simulator

from .conftest import START
from .raw_modbus import RawClient, f32, time3, time7, u32, words_of_float

pytestmark = pytest.mark.protocol

U1_LABEL = 1  # position of U1 in the 0x2000 table


# ---------------------------------------------------------------- relays


async def test_relays_by_fc05(sim: Simulator, client: RawClient) -> None:
    assert await client.read_bits(1, 0, 8) == [True] + [False] * 7  # factory: relay 1 on
    await client.write_coil(1, True)
    await client.write_coil(0, False)
    assert await client.read_bits(1, 0, 8) == [False, True] + [False] * 6
    assert sim.meter.relays[1] is True
    assert await client.read_registers(0x1101, 1) == [0b10]


async def test_alarm_mode_relay_refuses_fc05_until_mode_changes(
    sim: Simulator, client: RawClient
) -> None:
    assert await client.exception_of(bytes([5, 0, 7, 0xFF, 0])) == 0x04  # relay 8
    assert sim.meter.relays[7] is False
    await client.write_registers(0x1103, [0x40])  # relay 8 back to remote control
    await client.write_coil(7, True)
    assert sim.meter.relays[7] is True
    assert await client.exception_of(bytes([5, 0, 6, 0, 0])) == 0x04  # relay 7 still


# ---------------------------------------------------------------- DIs and SOE


async def soe_records(client: RawClient) -> list[list[int]]:
    regs = await client.read_many(0x3900, 200)
    return [regs[10 * i : 10 * i + 10] for i in range(20)]


async def test_di_changes_write_soe_records_and_wrap(sim: Simulator, client: RawClient) -> None:
    assert await client.read_registers(0x1021, 1) == [0]
    states = list(sim.meter.digital_inputs)
    changes = []
    for k in range(25):
        n = k % 4 + 2  # DIs 2..5
        states[n - 1] = not states[n - 1]
        sim.meter.set_di(n, states[n - 1])
        expected_bitmap = sum(1 << i for i, s in enumerate(states) if s)
        changes.append((expected_bitmap, 1 << (n - 1), sim.meter.clock))
        sim.meter.advance(1.25)
    assert await client.read_bits(2, 0, 8) == states
    assert await client.read_registers(0x1100, 1) == [changes[-1][0]]
    assert await client.read_registers(0x1021, 1) == [25 - 20]  # 1 -> 20 -> 1 ring
    slots = await soe_records(client)
    for k, (bitmap, changed, when) in enumerate(changes[5:], start=5):
        slot = k % 20
        assert slots[slot][:2] == [bitmap, changed]
        assert time7(slots[slot][2:9]) == when
        assert slots[slot][9] == 0
    assert [r.changed for r in sim.meter.soe_records()] == [c[1] for c in changes[5:]]
    # An unchanged input writes nothing.
    sim.meter.set_di(2, states[1])
    assert await client.read_registers(0x1021, 1) == [5]
    await client.write_registers(0x1036, [0x000A])  # clear SOE
    assert await client.read_registers(0x1021, 1) == [0]
    assert await client.read_many(0x3900, 200) == [0] * 200


async def test_pulse_counter_mode_and_clearing(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x1102, [0x81])  # DI1 and DI8 count pulses
    await client.write_registers(0x1120 + 7, [3])  # DI8: 3 pulses per count
    sim.meter.set_di(1, False)
    for _ in range(7):
        sim.meter.set_di(8, True)
        sim.meter.set_di(8, False)
        sim.meter.set_di(1, True)
        sim.meter.set_di(1, False)
    counts = await client.read_registers(0x1110, 16)
    assert u32(counts, 0) == 7
    assert u32(counts, 14) == 7 // 3
    await client.write_registers(0x1035, [0x80])  # clear DI8 only
    assert await client.read_registers(0x1035, 1) == [0]
    counts = await client.read_registers(0x1110, 16)
    assert (u32(counts, 0), u32(counts, 14)) == (7, 0)
    await client.write_registers(0x1110, [0, 100])  # preset DI1
    assert sim.meter.di_counts[0] == 100


# ---------------------------------------------------------------- alarms


def alarm_channel(
    enable: int, label: int, compare: int, setpoint: float, delay: int, relay: int
) -> list[int]:
    return [enable, label, compare, *words_of_float(setpoint), delay, relay, 0]


async def alarm_slots(client: RawClient) -> list[list[int]]:
    regs = await client.read_many(0x3800, 240)
    return [regs[12 * i : 12 * i + 12] for i in range(20)]


async def test_alarm_occurs_after_delay_and_recovers(sim: Simulator, client: RawClient) -> None:
    # Alarm channel 5: U1 > 125 V for 3 s, drives relay 8 (alarm mode by default).
    await client.write_registers(0x1210 + 8 * 4, alarm_channel(1, U1_LABEL, 1, 125.0, 3, 8))
    assert await client.read_registers(0x1210 + 8 * 4, 8) == alarm_channel(1, 1, 1, 125.0, 3, 8)
    sim.meter.set_voltage(1, 130.0)
    sim.meter.advance(2.5)
    assert await client.read_registers(0x1020, 3) == [0, 0, 0]
    sim.meter.advance(0.5)
    assert await client.read_registers(0x1020, 3) == [1, 0, 1 << 4]
    slot = (await alarm_slots(client))[0]
    assert slot[:3] == [1, 5, U1_LABEL]
    assert f32(slot, 3) == pytest.approx(130.0)
    assert time7(slot[5:12]) == START + timedelta(seconds=3)
    assert await client.read_bits(1, 7, 1) == [True]
    sim.meter.set_voltage(1, 120.0)
    sim.meter.advance(1)
    assert await client.read_registers(0x1020, 3) == [2, 0, 0]
    slot = (await alarm_slots(client))[1]
    assert slot[:3] == [0, 5, U1_LABEL]
    assert f32(slot, 3) == pytest.approx(120.0)
    assert time7(slot[5:12]) == START + timedelta(seconds=3)  # evaluated when time moved on
    assert await client.read_bits(1, 7, 1) == [False]
    records = sim.meter.alarm_records()
    assert [(r.occurred, r.channel) for r in records] == [(True, 5), (False, 5)]


async def test_a_short_excursion_does_not_trip(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x1210, alarm_channel(1, 0, 0, 59.5, 5, 0))  # F < 59.5 for 5 s
    sim.meter.set_frequency(59.0)
    sim.meter.advance(4)
    sim.meter.set_frequency(60.0)
    sim.meter.advance(1)
    sim.meter.set_frequency(59.0)
    sim.meter.advance(4)
    assert sim.meter.alarm_records() == []
    sim.meter.advance(1)
    assert [r.channel for r in sim.meter.alarm_records()] == [1]


async def test_alarm_ring_wraps(sim: Simulator, client: RawClient) -> None:
    # Psum > 20 (label 13: Psum is the 14th float of the vendor 0x2000 table)
    await client.write_registers(0x1210 + 8 * 15, alarm_channel(1, 13, 1, 20.0, 0, 0))
    for k in range(12):  # 12 trips + 12 recoveries = 24 records
        sim.meter.set_channel_load(1, 30.0, 0.0)
        sim.meter.advance(1)
        sim.meter.set_channel_load(1, 1.0, 0.0)
        sim.meter.advance(1)
        assert sim.meter.latest_alarm_record == (2 * k + 1) % 20 + 1
    assert await client.read_registers(0x1020, 1) == [4]
    slots = await alarm_slots(client)
    # Slot 4 holds record 24 (a recovery), slot 5 the oldest kept: record 5 (an occurrence).
    assert slots[3][:2] == [0, 16]
    assert slots[4][:2] == [1, 16]
    assert len(sim.meter.alarm_records()) == 20
    await client.write_registers(0x1033, [0x000A])
    assert await client.read_registers(0x1020, 1) == [0]
    assert await client.read_many(0x3800, 240) == [0] * 240


async def test_global_enable_disarms_everything(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x1210, alarm_channel(1, U1_LABEL, 1, 125.0, 0, 0))
    await client.write_registers(0x1200, [0])
    sim.meter.set_voltage(1, 140.0)
    sim.meter.advance(2)
    assert sim.meter.alarm_records() == []
    await client.write_registers(0x1200, [1])
    sim.meter.advance(1)
    assert sim.meter.active_alarms == 1


async def test_alarm_settings_are_validated(client: RawClient) -> None:
    bad = [
        alarm_channel(2, 1, 1, 1.0, 0, 0),  # enable 0/1
        alarm_channel(1, 36, 1, 1.0, 0, 0),  # label beyond the 0x2000 table
        alarm_channel(1, 1, 2, 1.0, 0, 0),  # compare 0/1
        alarm_channel(1, 1, 1, 1.0, 0, 9),  # relay 0-8
        alarm_channel(1, 1, 1, float("nan"), 0, 0),
    ]
    for regs in bad:
        pdu = bytes([16, 0x12, 0x10, 0, 8, 16]) + b"".join(r.to_bytes(2, "big") for r in regs)
        assert await client.exception_of(pdu) == 0x03


# ---------------------------------------------------------------- commands, statistics, clock


async def test_command_registers_read_zero(sim: Simulator, client: RawClient) -> None:
    for address in range(0x1030, 0x1039):  # all but reboot
        await client.write_registers(address, [0x1F if address == 0x1035 else 0x000A])
    assert await client.read_registers(0x1030, 10) == [0] * 10


async def test_max_min_and_clear(sim: Simulator, client: RawClient) -> None:
    # The meter's max/min address is unknown (our 0x3400 design lies inside the
    # vendor's channel-harmonics block), so the statistics are ground truth only;
    # the clear command still arrives over Modbus.
    await client.write_registers(0x1032, [0x000A])
    assert sim.meter.max_min("u1").maximum.value is None  # nothing yet
    sim.meter.set_voltage(1, 125.0)
    sim.meter.advance(1)
    sim.meter.set_voltage(1, 115.0)
    sim.meter.advance(1)
    sim.meter.set_voltage(1, 120.0)
    sim.meter.advance(1)
    u1 = sim.meter.max_min("u1")
    assert u1.maximum.value == pytest.approx(125.0)
    assert u1.maximum.time == START
    assert u1.minimum.value == pytest.approx(115.0)
    assert u1.minimum.time == START + timedelta(seconds=1)
    f = sim.meter.max_min("f")
    assert f.maximum.value == f.minimum.value == pytest.approx(60.0)


async def test_clock_reads_sets_and_runs(sim: Simulator, client: RawClient) -> None:
    assert await client.read_registers(0x1054, 6) == [2026, 3, 10, 12, 0, 0]
    await client.write_registers(0x1054, [2027, 12, 31, 23, 59, 30])
    assert sim.meter.clock == datetime(2027, 12, 31, 23, 59, 30)
    sim.meter.advance(45)
    assert await client.read_registers(0x1054, 6) == [2028, 1, 1, 0, 0, 15]
    assert sim.meter.event_log()[-1] == (10, datetime(2027, 12, 31, 23, 59, 30))


async def test_run_time(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x1034, [0x000A])
    assert await client.read_registers(0x100C, 2) == [0, 0]
    sim.meter.advance(3 * 3600 + 36)
    assert u32(await client.read_registers(0x100C, 2)) == 301  # 3.01 h in 0.01 h


async def test_reboot_closes_connections(sim: Simulator, client: RawClient) -> None:
    other = await RawClient.connect(sim.port)
    try:
        await other.read_registers(0x1008, 1)
        await client.write_registers(0x1039, [0x000A])  # answered first
        assert await client.closed_by_peer()
        assert await other.closed_by_peer()
        assert sim.meter.reboot_count == 1
        again = await RawClient.connect(sim.port)
        assert await again.read_registers(0x1039, 1) == [0]
        await again.close()
    finally:
        await other.close()


# ---------------------------------------------------------------- log window


async def test_event_log_window(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x0812, [9])  # parameter change (7)
    sim.meter.advance(10)
    await client.write_registers(0x1054, [2026, 3, 10, 13, 0, 0])  # clock change (10)
    await client.write_registers(0x3B00, [1, 0x0A00, 0, 0])  # event log, 10 records
    status, *_ = await client.read_registers(0x3B01, 1)
    assert status == (3 << 8) | 0x0B
    data = await client.read_registers(0x3B04, 24)
    records = [data[8 * i : 8 * i + 8] for i in range(3)]
    assert [r[0] for r in records] == [1, 7, 10]  # power-up, change, clock
    assert time7(records[0][1:8]) == START
    assert time7(records[2][1:8]) == datetime(2026, 3, 10, 13, 0, 0)
    await client.write_registers(0x3B02, [0, 2])  # offset 2
    assert await client.read_registers(0x3B01, 1) == [(1 << 8) | 0x0B]
    assert (await client.read_registers(0x3B04, 8))[0] == 10
    await client.write_registers(0x3B02, [0, 3])  # past the end
    assert (await client.read_registers(0x3B01, 1))[0] & 0xFF == 0xFF
    await client.write_registers(0x1037, [0x000A])  # clear the event log
    await client.write_registers(0x3B02, [0, 0])
    assert (await client.read_registers(0x3B01, 1))[0] & 0xFF == 0xFF


async def test_data_log_window(sim: Simulator, client: RawClient) -> None:
    # Factory data log: Psum, U1, F, the system's and the 18 channels' import kWh, every 15 min.
    sim.meter.set_voltage(1, 118.0)
    sim.meter.advance(30 * 60)
    busiest = max(range(1, 19), key=lambda ch: sim.meter.channel(ch).power.active)
    at_30 = sim.meter.energy_counts("import_active", 3 + busiest)  # the channel's bank entry
    sim.meter.advance(60)
    await client.write_registers(0x3B00, [0, 0x0500, 0, 0])
    status = (await client.read_registers(0x3B01, 1))[0]
    size = 3 + 6 + 2 + 36
    assert status == (2 << 8) | 0x0B  # two records taken (the window would hold two)
    data = await client.read_registers(0x3B04, 2 * size)
    first, second = data[:size], data[size:]
    assert time3(first[:3]) == START + timedelta(minutes=15)
    assert time3(second[:3]) == START + timedelta(minutes=30)
    psum = f32(await client.read_registers(0x201A, 2))
    assert f32(second, 3) == pytest.approx(psum)
    assert f32(second, 5) == pytest.approx(118.0)
    assert f32(second, 7) == pytest.approx(60.0)
    field = 11 + 2 * (busiest - 1)
    assert u32(second, field) == at_30
    assert u32(first, field) < at_30
    # Counters: two kept, two taken.
    assert await client.read_registers(0x13B9, 3) == [2, 0, 2]

"""Demand: sliding window, predicted value, peaks with 3-register times, clear and sync."""

from __future__ import annotations

from datetime import timedelta

import pytest

from acurev_simulator import Simulator

from .conftest import START
from .raw_modbus import RawClient, f32, time3

pytestmark = pytest.mark.protocol

CH1 = 4  # bank entry of channel 1


def demand_layout(entry: int) -> tuple[int, tuple[str, ...]]:
    """Vendor demand layout (AcuRev 2100 map v1.02): address and quantities of a bank entry.

    System P,Q,S at 0x2D00; phases A-C I,P,Q,S from 0x2D1B (36 each); channels
    from 0x2D87 (36 each); users P,Q,S from 0x300F (27 each); 9 registers per
    quantity: demand, predicted, maximum, 3-register time of the maximum.
    """
    full = ("current", "active", "reactive", "apparent")
    if entry == 3:
        return 0x2D00, full[1:]
    if entry < 3:
        return 0x2D1B + 36 * entry, full
    if entry < 22:
        return 0x2D87 + 36 * (entry - 4), full
    return 0x300F + 27 * (entry - 22), full[1:]


async def demand_record(client: RawClient, entry: int) -> dict[str, object]:
    address, quantities = demand_layout(entry)
    regs = await client.read_registers(address, 9 * len(quantities))
    out: dict[str, object] = {}
    for i, q in enumerate(quantities):
        rec = regs[9 * i : 9 * i + 9]
        out[q] = f32(rec, 0)
        out[f"predicted_{q}"] = f32(rec, 2)
        out[f"peak_{q}"] = (f32(rec, 4), time3(rec[6:9]))
    out["predicted"] = out["predicted_active"]
    return out


async def fresh(sim: Simulator, client: RawClient, p: float = 6.0, q: float = 0.0) -> None:
    sim.meter.set_channel_load(1, p, q)
    await client.write_registers(0x1030, [0x000A])  # clear demand (and peaks)
    assert await client.read_registers(0x1030, 1) == [0]


async def test_clear_demand_zeroes_values_peaks_and_times(
    sim: Simulator, client: RawClient
) -> None:
    before = await demand_record(client, 3)
    assert before["active"] == pytest.approx(
        sum(p for p, _ in [sim.meter.load(n) for n in range(1, 19)]), rel=1e-5
    )
    await fresh(sim, client)
    rec = await demand_record(client, 3)
    for key in ("active", "reactive", "apparent"):
        assert rec[key] == 0.0
    for key in ("peak_active", "peak_reactive", "peak_apparent"):
        assert rec[key] == (0.0, None)
    assert "current" not in rec  # no system current demand in the vendor map


async def test_sliding_window_climbs_and_peaks(sim: Simulator, client: RawClient) -> None:
    await fresh(sim, client, 6.0, 8.0)  # S = 10 kVA, I = 10000/120 A
    sim.meter.advance(5 * 60)
    rec = await demand_record(client, CH1)
    assert rec["active"] == pytest.approx(6.0 * 5 / 15)
    assert rec["apparent"] == pytest.approx(10.0 * 5 / 15)
    assert rec["current"] == pytest.approx(10000 / 120 * 5 / 15)
    # Predicted at the start of a sub-interval: the oldest slot drops, one more at 6 kW.
    assert rec["predicted"] == pytest.approx(6.0 * 6 / 15)
    sim.meter.advance(10 * 60)
    rec = await demand_record(client, CH1)
    assert rec["active"] == pytest.approx(6.0)
    assert rec["reactive"] == pytest.approx(8.0)
    assert rec["peak_active"] == (pytest.approx(6.0), START + timedelta(minutes=15))
    assert rec["peak_apparent"] == (pytest.approx(10.0), START + timedelta(minutes=15))
    # The load halves: demand follows, the peak and its time stay.
    sim.meter.set_channel_load(1, 3.0, 0.0)
    sim.meter.advance(15 * 60)
    rec = await demand_record(client, CH1)
    assert rec["active"] == pytest.approx(3.0)
    assert rec["peak_active"] == (pytest.approx(6.0), START + timedelta(minutes=15))


async def test_peak_time_is_when_it_was_exceeded(sim: Simulator, client: RawClient) -> None:
    await fresh(sim, client, 3.0)
    sim.meter.advance(20 * 60)
    sim.meter.set_channel_load(1, 9.0, 0.0)
    sim.meter.advance(20 * 60)
    rec = await demand_record(client, CH1)
    # Peak climbs every minute until the window holds only 9 kW: 15 minutes after the change.
    assert rec["peak_active"] == (pytest.approx(9.0), START + timedelta(minutes=35))


async def test_predicted_within_a_sub_interval(sim: Simulator, client: RawClient) -> None:
    await fresh(sim, client, 6.0)
    sim.meter.advance(15 * 60)  # window full of 6 kW
    sim.meter.set_channel_load(1, 0.0, 0.0)
    sim.meter.advance(30)  # half a minute at 0 kW
    rec = await demand_record(client, CH1)
    assert rec["active"] == pytest.approx(6.0)  # no boundary yet
    assert rec["predicted"] == pytest.approx(14 * 6.0 / 15)


async def test_fixed_block_method(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x080A, [2, 10])  # vendor code 2 = fixed; 10-minute blocks
    await fresh(sim, client, 6.0)
    sim.meter.advance(9 * 60)
    rec = await demand_record(client, CH1)
    assert rec["active"] == 0.0
    assert rec["predicted"] == pytest.approx(6.0)
    sim.meter.advance(60)
    assert (await demand_record(client, CH1))["active"] == pytest.approx(6.0)


async def test_demand_sync_command_restarts_the_sub_interval(
    sim: Simulator, client: RawClient
) -> None:
    await fresh(sim, client, 6.0)
    sim.meter.advance(30)
    await client.write_registers(0x1038, [0x000A])
    assert await client.read_registers(0x1038, 1) == [0]
    sim.meter.advance(59)  # 89 s after the clear: no boundary yet
    assert (await demand_record(client, CH1))["active"] == 0.0
    sim.meter.advance(1)
    assert (await demand_record(client, CH1))["active"] == pytest.approx(6.0 / 15)


async def test_system_and_phase_demand_are_sums(sim: Simulator, client: RawClient) -> None:
    for n in range(1, 19):
        sim.meter.set_channel_load(n, 0.5 * n, 0.0)
    await client.write_registers(0x1030, [0x000A])
    sim.meter.advance(15 * 60)
    system = await demand_record(client, 3)
    phase_a = await demand_record(client, 0)
    assert system["active"] == pytest.approx(sum(0.5 * n for n in range(1, 19)), rel=1e-6)
    assert phase_a["active"] == pytest.approx(sum(0.5 * n for n in (1, 2, 3, 10, 11, 12)), rel=1e-6)
    phase_a_currents = [sim.meter.channel(n).current for n in (1, 2, 3, 10, 11, 12)]
    assert phase_a["current"] == pytest.approx(sum(phase_a_currents), rel=1e-6)
    user2 = await demand_record(client, 23)  # user 2 = inputs 2, 5, 8
    assert user2["active"] == pytest.approx(0.5 * (2 + 5 + 8), rel=1e-6)


def test_a_new_meter_has_running_demand() -> None:
    from acurev_simulator import MeterModel

    meter = MeterModel(clock=START)
    d = meter.demand(3)
    psum = sum(meter.load(n)[0] for n in range(1, 19))
    assert d.active == pytest.approx(psum)
    assert d.peak_active.value == pytest.approx(psum)
    assert d.peak_active.time == START

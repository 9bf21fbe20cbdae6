"""Energy banks: integration of power, export/import by sign, totals, presets, clears,
monthly rollover and TOU buckets."""

from __future__ import annotations

import math
import random
from datetime import datetime

import pytest

from acurev_simulator import MeterModel, Simulator

from .conftest import START
from .raw_modbus import RawClient, u32

pytestmark = pytest.mark.protocol

BANKS = ("import_active", "export_active", "import_reactive", "export_reactive", "apparent")
# Import kWh, kvarh and kVAh at the vendor addresses; export banks are still designed.
BANK_ADDRESS = dict(zip(BANKS, (0x2500, 0x2540, 0x2B00, 0x25C0, 0x2B38), strict=True))
PHASE_A = (1, 2, 3, 10, 11, 12)
LOADS = {n: ((-1) ** n * 0.5 * n, 0.3 * n * (1 if n % 3 else -1)) for n in range(1, 19)}


def entry(channel: int) -> int:
    return 3 + channel


def expected_increments(p: float, q: float, hours: float) -> dict[str, float]:
    return {
        "import_active": max(p, 0) * hours,
        "export_active": max(-p, 0) * hours,
        "import_reactive": max(q, 0) * hours,
        "export_reactive": max(-q, 0) * hours,
        "apparent": math.hypot(p, q) * hours,
    }


def snapshot(meter: MeterModel) -> dict[tuple[str, int], float]:
    return {(b, k): meter.energy_kwh(b, k) for b in BANKS for k in range(28)}


def test_energy_integrates_power_by_sign() -> None:
    meter = MeterModel(clock=START, seed=2)
    for n, (p, q) in LOADS.items():
        meter.set_channel_load(n, p, q)
    before = snapshot(meter)
    meter.advance(1800)
    after = snapshot(meter)
    for n, (p, q) in LOADS.items():
        for bank, inc in expected_increments(p, q, 0.5).items():
            assert after[bank, entry(n)] - before[bank, entry(n)] == pytest.approx(inc, abs=1e-9)
    # Phase A, system and users are sums of their channels' increments.
    for bank in BANKS:

        def inc(k: int, bank: str = bank) -> float:
            return after[bank, k] - before[bank, k]

        assert inc(0) == pytest.approx(sum(inc(entry(n)) for n in PHASE_A))
        assert inc(3) == pytest.approx(sum(inc(entry(n)) for n in range(1, 19)))
        assert inc(22) == pytest.approx(sum(inc(entry(n)) for n in (1, 4, 7)))  # user 1
        assert inc(27) == pytest.approx(sum(inc(entry(n)) for n in (12, 15, 18)))  # user 6


def test_energy_never_decreases_and_counts_are_floor_of_tenths() -> None:
    meter = MeterModel(clock=START, seed=4)
    rng = random.Random(99)
    last = snapshot(meter)
    for _ in range(40):
        for n in range(1, 19):
            meter.set_channel_load(n, rng.uniform(-5, 5), rng.uniform(-3, 3))
        meter.advance(rng.uniform(0.1, 400))
        now = snapshot(meter)
        assert all(now[key] >= last[key] for key in now)
        last = now
    for bank in BANKS:
        for k in range(28):
            assert meter.energy_counts(bank, k) == math.floor(meter.energy_kwh(bank, k) * 10 + 1e-9)


def test_advancing_in_pieces_equals_one_step() -> None:
    one, many = MeterModel(clock=START, seed=5), MeterModel(clock=START, seed=5)
    one.advance(7200)
    for _ in range(144):
        many.advance(50)
    assert snapshot(many) == pytest.approx(snapshot(one), rel=1e-12)
    assert many.clock == one.clock


def test_1ln_user_entries_stay_zero() -> None:
    meter = MeterModel(wiring="1LN", clock=START)
    meter.advance(3600)
    assert all(meter.energy_kwh(b, k) == 0 for b in BANKS for k in range(22, 28))
    assert meter.energy_kwh("import_active", entry(1)) > 0


async def test_banks_over_modbus_match_ground_truth(sim: Simulator, client: RawClient) -> None:
    for bank, address in BANK_ADDRESS.items():
        regs = await client.read_registers(address, 56)
        assert [u32(regs, 2 * k) for k in range(28)] == [
            sim.meter.energy_counts(bank, k) for k in range(28)
        ]
    # Started as a meter that ran for thousands of hours: the high word is in use.
    assert (await client.read_registers(0x2506, 2))[0] > 0


async def test_preset_then_integrate(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x2508, [1, 57920])  # channel 1: 123456 counts
    assert sim.meter.energy_kwh("import_active", entry(1)) == pytest.approx(12345.6)
    sim.meter.set_channel_load(1, 6.0, 0.0)
    sim.meter.advance(60)  # +0.1 kWh
    assert u32(await client.read_registers(0x2508, 2)) == 123457
    # A preset of one entry leaves its neighbours alone.
    before = sim.meter.energy_kwh("import_active", entry(2))
    await client.write_registers(0x2540 + 2 * entry(1), [0, 7])
    assert sim.meter.energy_counts("export_active", entry(1)) == 7
    assert sim.meter.energy_kwh("import_active", entry(2)) == before
    assert [code for code, _ in sim.meter.event_log()].count(8) == 2  # energy preset events


async def test_export_bank_grows_only_for_exporting_channel(
    sim: Simulator, client: RawClient
) -> None:
    sim.meter.set_channel_load(5, -3.0, 0.0)  # PV
    sim.meter.set_channel_load(6, 2.0, 0.0)
    exp5_kwh = sim.meter.energy_kwh("export_active", entry(5))
    imp5 = u32(await client.read_registers(0x2500 + 2 * entry(5), 2))
    exp6 = u32(await client.read_registers(0x2540 + 2 * entry(6), 2))
    sim.meter.advance(3600)
    assert u32(await client.read_registers(0x2540 + 2 * entry(5), 2)) == math.floor(
        (exp5_kwh + 3.0) * 10 + 1e-9
    )
    assert u32(await client.read_registers(0x2500 + 2 * entry(5), 2)) == imp5
    assert u32(await client.read_registers(0x2540 + 2 * entry(6), 2)) == exp6


async def test_clear_energy_command(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x1031, [0x000A])
    assert await client.read_registers(0x1031, 1) == [0]
    for address in (0x2500, 0x2540, 0x2580, 0x25C0, 0x2600, 0x2700, 0x2740, 0x2900, 0x2A40):
        assert await client.read_registers(address, 56) == [0] * 56
    assert sim.meter.event_log()[-1][0] == 4


async def test_monthly_rollover_at_billing_instant(sim: Simulator, client: RawClient) -> None:
    meter = sim.meter
    await client.write_registers(0x080F, [15, 6])  # billing day 15, 06:00
    meter.clock = datetime(2026, 4, 15, 5, 59, 0)
    for n in range(1, 19):
        meter.set_channel_load(n, 0.0, 0.0)
    meter.set_channel_load(2, 6.0, 8.0)  # S = 10 kVA
    e = entry(2)
    this_kwh = meter.energy_kwh("this_month_import_kwh", e)
    this_kvarh = meter.energy_kwh("this_month_import_kvarh", e)
    this_kvah = meter.energy_kwh("this_month_kvah", e)
    meter.advance(180)  # 1 min before, 2 min after 06:00
    assert meter.energy_kwh("last_month_import_kwh", e) == pytest.approx(this_kwh + 0.1)
    assert meter.energy_kwh("last_month_import_kvarh", e) == pytest.approx(this_kvarh + 8 / 60)
    assert meter.energy_kwh("last_month_kvah", e) == pytest.approx(this_kvah + 10 / 60)
    assert meter.energy_kwh("this_month_import_kwh", e) == pytest.approx(0.2)
    assert meter.energy_kwh("this_month_kvah", e) == pytest.approx(20 / 60)
    regs = await client.read_registers(0x2700 + 2 * e, 2)
    assert u32(regs) == 2
    last = await client.read_registers(0x2740 + 2 * e, 2)
    assert u32(last) == math.floor((this_kwh + 0.1) * 10 + 1e-9)
    # The monthly banks are read-only.
    assert await client.exception_of(bytes([16, 0x27, 0x00, 0, 2, 4, 0, 0, 0, 0])) == 0x02


def tou_kwh(meter: MeterModel, entry_: int, month: str = "this") -> dict[str, float]:
    return {
        name: meter.energy_kwh(f"tou_{month}_month_{name}_import_kwh", entry_)
        for name in ("sharp", "peak", "valley", "normal")
    }


@pytest.mark.parametrize(
    ("start", "tariffs"),
    [
        # Default programme, weekdays: 00 valley, 07 normal, 11 peak, 17 sharp, 21 normal.
        (datetime(2026, 3, 10, 10, 59), ("normal", "peak")),
        (datetime(2026, 3, 10, 16, 59), ("peak", "sharp")),
        (datetime(2026, 3, 10, 20, 59), ("sharp", "normal")),
        (datetime(2026, 3, 10, 23, 59), ("normal", "valley")),
        (datetime(2026, 3, 11, 6, 59), ("valley", "normal")),
        # Weekends (Saturday 14 March): 00 valley, 08 normal ... 22 valley.
        (datetime(2026, 3, 14, 7, 59), ("valley", "normal")),
        (datetime(2026, 3, 14, 12, 30), ("normal", "normal")),
    ],
)
def test_tou_buckets_follow_the_clock(start: datetime, tariffs: tuple[str, str]) -> None:
    meter = MeterModel(clock=start)
    meter.set_channel_load(1, 6.0, 0.0)  # 0.1 kWh per minute
    before = tou_kwh(meter, entry(1))
    imp = meter.energy_kwh("import_active", entry(1))
    meter.advance(120)
    delta = {k: v - before[k] for k, v in tou_kwh(meter, entry(1)).items()}
    expected = dict.fromkeys(delta, 0.0)
    expected[tariffs[0]] += 0.1
    expected[tariffs[1]] += 0.1
    assert delta == pytest.approx(expected, abs=1e-9)
    assert sum(delta.values()) == pytest.approx(meter.energy_kwh("import_active", entry(1)) - imp)


async def test_tou_disabled_and_reprogrammed(sim: Simulator, client: RawClient) -> None:
    meter = sim.meter
    meter.set_channel_load(1, 6.0, 0.0)
    await client.write_registers(0x0811, [0])  # tou_enable = 0
    before = tou_kwh(meter, entry(1))
    meter.advance(60)
    assert tou_kwh(meter, entry(1)) == before
    # Program schedule 1 as a single all-day "sharp" segment, weekends included.
    await client.write_registers(0x1402, [1])  # one segment per schedule
    await client.write_registers(0x1404, [0])  # no weekend schedule
    await client.write_registers(0x1440, [0, 0, 1])  # schedule 1, segment 1: 00:00 sharp
    await client.write_registers(0x0811, [1])
    meter.advance(60)
    delta = {k: v - before[k] for k, v in tou_kwh(meter, entry(1)).items()}
    assert delta == pytest.approx({"sharp": 0.1, "peak": 0.0, "valley": 0.0, "normal": 0.0})
    regs = await client.read_registers(0x2900 + 2 * entry(1), 2)
    assert u32(regs) == meter.energy_counts("tou_this_month_sharp_import_kwh", entry(1))
    assert 9 in [code for code, _ in meter.event_log()]  # TOU change event


def test_start_history_is_consistent() -> None:
    """A new meter looks like one that has run its default loads: banks agree with each other."""
    meter = MeterModel(clock=datetime(2026, 3, 20, 9, 30), run_hours=5000)
    e = entry(2)  # 2.5 kW, 1.2 kvar
    assert meter.energy_kwh("import_active", e) == pytest.approx(2.5 * 5000)
    assert meter.energy_kwh("export_active", entry(5)) == pytest.approx(3.2 * 5000)
    hours_this = (datetime(2026, 3, 20, 9, 30) - datetime(2026, 3, 1)).total_seconds() / 3600
    hours_last = 28 * 24  # February 2026
    assert meter.energy_kwh("this_month_import_kwh", e) == pytest.approx(2.5 * hours_this)
    assert meter.energy_kwh("last_month_import_kwh", e) == pytest.approx(2.5 * hours_last)
    assert sum(tou_kwh(meter, e).values()) == pytest.approx(2.5 * hours_this)
    assert sum(tou_kwh(meter, e, "last").values()) == pytest.approx(2.5 * hours_last)
    assert meter.run_time_hours == pytest.approx(5000)

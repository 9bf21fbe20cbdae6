"""Measurements: per-channel physics, phase/system/user totals, wiring modes, builds.

Expected values are computed here from the P, Q and V the test sets (or from
other registers read over Modbus), never taken from the simulator's own
results. Addresses are the literal ones of register-map.md section 6.
"""

from __future__ import annotations

import math

import pytest

from acurev_simulator import MeterModel, Simulator
from acurev_simulator.profile import DEFAULT_LOADS

from .conftest import START
from .raw_modbus import HOST, RawClient, f32, f32s

pytestmark = pytest.mark.protocol

L, C, R = 76.0, 67.0, 82.0  # load nature floats: ASCII 'L', 'C', 'R'
PHASE_OF = {
    **dict.fromkeys((1, 2, 3, 10, 11, 12), 0),
    **dict.fromkeys((4, 5, 6, 13, 14, 15), 1),
    **dict.fromkeys((7, 8, 9, 16, 17, 18), 2),
}


def channel_address(n: int) -> int:
    return 0x2100 + 12 * (n - 1)


async def read_channels(client: RawClient) -> list[list[float]]:
    regs = await client.read_many(0x2100, 216)
    return [f32s(regs[12 * i : 12 * i + 12]) for i in range(18)]


@pytest.mark.parametrize(
    ("p", "q", "volts", "pf", "nature"),
    [
        (2.0, -1.5, 118.0, 0.8, C),
        (2.0, 2.0, 120.0, math.sqrt(0.5), L),
        (-3.0, 0.0, 121.0, -1.0, R),  # exporting: PF sign follows P
        (-1.2, 0.9, 119.0, -0.8, L),
        (1.0, 0.005, 120.0, 1.0 / math.hypot(1.0, 0.005), R),  # |Q| <= 1 % of S
        (0.0, 0.0, 120.0, 1.0, R),  # idle circuit: PF 1, no current
    ],
)
async def test_channel_record(
    sim: Simulator, client: RawClient, p: float, q: float, volts: float, pf: float, nature: float
) -> None:
    sim.meter.set_channel_load(3, p, q)  # channel 3 is on phase A
    sim.meter.set_voltage(1, volts)
    s = math.hypot(p, q)
    expected = [s * 1000 / volts, p, q, s, pf, nature]
    values = f32s(await client.read_registers(channel_address(3), 12))
    assert values == pytest.approx(expected, rel=1e-6, abs=1e-6)
    reading = sim.meter.channel(3)
    assert (reading.active_power, reading.reactive_power) == (p, q)
    assert reading.apparent_power == pytest.approx(s)
    assert reading.power_factor == pytest.approx(pf)


async def test_every_default_channel_is_consistent(sim: Simulator, client: RawClient) -> None:
    volts = f32s(await client.read_registers(0x2002, 6))
    for n, (i, p, q, s, pf, nature) in enumerate(await read_channels(client), start=1):
        assert (p, q) == pytest.approx(DEFAULT_LOADS[n - 1], abs=1e-6)
        assert s * s == pytest.approx(p * p + q * q, rel=1e-5)
        assert pf == pytest.approx(p / s if s else 1.0, rel=1e-6)
        assert i == pytest.approx(s * 1000 / volts[PHASE_OF[n]], rel=1e-6)
        assert nature == (R if abs(q) <= 0.01 * s else (L if q > 0 else C))
        assert 0.7 <= abs(pf) <= 1.0


def test_default_profile_is_varied() -> None:
    loads = DEFAULT_LOADS
    assert len(set(loads)) == 18
    assert any(p < 0 for p, _ in loads), "a PV channel exports"
    assert any(q < 0 for _, q in loads), "a capacitive channel"
    assert any(q > 0 for _, q in loads)


async def test_phase_and_system_totals(sim: Simulator, client: RawClient) -> None:
    sim.meter.set_voltage(1, 121.0)
    sim.meter.set_voltage(2, 118.5)
    sim.meter.set_voltage(3, 119.2)
    sim.meter.set_frequency(59.95)
    channels = await read_channels(client)
    t = f32s(await client.read_registers(0x2000, 72))
    f, u1, u2, u3, uavg, u12, u23, u31, ulavg = t[:9]
    il = t[9:12]
    assert f == pytest.approx(59.95)
    assert (u1, u2, u3) == pytest.approx((121.0, 118.5, 119.2))
    assert uavg == pytest.approx((121.0 + 118.5 + 119.2) / 3)

    def ll(a: float, b: float) -> float:
        return math.sqrt(a * a + b * b + a * b)

    assert (u12, u23, u31) == pytest.approx((ll(u1, u2), ll(u2, u3), ll(u3, u1)), rel=1e-6)
    assert ulavg == pytest.approx((u12 + u23 + u31) / 3, rel=1e-6)
    sums = [[0.0] * 4 for _ in range(3)]
    for n, ch in enumerate(channels, start=1):
        for k in range(4):
            sums[PHASE_OF[n]][k] += ch[k]
    assert il == pytest.approx([s[0] for s in sums], rel=1e-5)
    assert t[12] == pytest.approx(sum(il) / 3, rel=1e-5)  # ILavg
    assert t[13] == 0.0  # no neutral CT
    pa_pc, psum = t[14:17], t[17]
    qa_qc, qsum = t[18:21], t[21]
    sa_sc, ssum = t[22:25], t[25]
    pfs, pfsum = t[26:29], t[29]
    assert pa_pc == pytest.approx([s[1] for s in sums], rel=1e-5, abs=1e-6)
    assert qa_qc == pytest.approx([s[2] for s in sums], rel=1e-5, abs=1e-6)
    assert sa_sc == pytest.approx([s[3] for s in sums], rel=1e-5)
    assert psum == pytest.approx(sum(pa_pc), rel=1e-5)
    assert psum == pytest.approx(sum(p for p, _ in DEFAULT_LOADS), rel=1e-5)
    assert qsum == pytest.approx(sum(qa_qc), rel=1e-5)
    assert ssum == pytest.approx(sum(sa_sc), rel=1e-5)
    assert pfs == pytest.approx([pa_pc[k] / sa_sc[k] for k in range(3)], rel=1e-5)
    assert pfsum == pytest.approx(psum / ssum, rel=1e-5)
    mean_u = (u1 + u2 + u3) / 3
    assert t[30] == pytest.approx(
        max(abs(u - mean_u) for u in (u1, u2, u3)) / mean_u * 100, rel=1e-4
    )
    mean_i = sum(il) / 3
    assert t[31] == pytest.approx(max(abs(i - mean_i) for i in il) / mean_i * 100, rel=1e-4)
    assert t[32] == (L if qsum > 0.01 * ssum else C if qsum < -0.01 * ssum else R)


async def test_alias_0x4000_mirrors_0x2000(sim: Simulator, client: RawClient) -> None:
    sim.meter.set_channel_load(1, 4.0, 1.0)
    assert await client.read_registers(0x4000, 72) == await client.read_registers(0x2000, 72)


async def test_system_load_nature_follows_qsum(sim: Simulator, client: RawClient) -> None:
    for n in range(1, 19):
        sim.meter.set_channel_load(n, 1.0, -0.5 if n == 9 else 0.0)
    values = f32s(await client.read_registers(0x2040, 8))
    assert values == [C, R, R, C]  # sum, phase A, B, C (channel 9 is on C)


async def user_record(client: RawClient, u: int) -> list[float]:
    return f32s(await client.read_registers(0x2200 + 40 * (u - 1), 40))


@pytest.mark.parametrize(
    ("user", "inputs"), [(1, (1, 4, 7)), (3, (3, 6, 9)), (4, (10, 13, 16)), (6, (12, 15, 18))]
)
async def test_3ln_user_is_sum_of_its_inputs(
    sim: Simulator, client: RawClient, user: int, inputs: tuple[int, int, int]
) -> None:
    channels = await read_channels(client)
    rec = await user_record(client, user)
    members = [channels[n - 1] for n in inputs]
    assert rec[0:3] == pytest.approx([m[0] for m in members], rel=1e-6)  # Ia Ib Ic
    assert rec[3:6] == pytest.approx([m[1] for m in members], rel=1e-6, abs=1e-6)
    assert rec[6] == pytest.approx(sum(m[1] for m in members), rel=1e-5, abs=1e-6)
    assert rec[7:10] == pytest.approx([m[2] for m in members], rel=1e-6, abs=1e-6)
    assert rec[10] == pytest.approx(sum(m[2] for m in members), rel=1e-5, abs=1e-6)
    assert rec[11:14] == pytest.approx([m[3] for m in members], rel=1e-6)
    assert rec[14] == pytest.approx(sum(m[3] for m in members), rel=1e-5)
    assert rec[15:18] == pytest.approx([m[4] for m in members], rel=1e-6)
    assert rec[18] == pytest.approx(rec[6] / rec[14], rel=1e-5)
    assert rec[19] in (L, C, R)
    user_reading = sim.meter.user(user)
    assert user_reading.inputs == inputs


async def test_2ln_users_have_no_phase_c() -> None:
    async with Simulator(host=HOST, frozen=True, wiring="2LN", clock=START) as sim:
        client = await RawClient.connect(sim.port)
        try:
            assert await client.read_registers(0x0880, 1) == [1]
            codes = await client.read_registers(0x0840, 18)
            assert codes == [201, 202, 203, 204, 205, 206] + [0] * 12
            channels = await read_channels(client)
            rec = await user_record(client, 2)  # inputs 2 and 5
            assert rec[0:3] == pytest.approx([channels[1][0], channels[4][0], 0.0], rel=1e-6)
            assert rec[2] == rec[5] == rec[9] == rec[13] == rec[17] == 0.0
            assert rec[6] == pytest.approx(channels[1][1] + channels[4][1], rel=1e-5)
            assert rec[14] == pytest.approx(channels[1][3] + channels[4][3], rel=1e-5)
        finally:
            await client.close()


async def test_1ln_has_no_user_records() -> None:
    async with Simulator(host=HOST, frozen=True, wiring="1LN", clock=START) as sim:
        client = await RawClient.connect(sim.port)
        try:
            assert await client.read_registers(0x0880, 1) == [0]
            assert await client.read_registers(0x0840, 18) == list(range(101, 119))
            assert await client.read_many(0x2200, 240) == [0] * 240
            assert sim.meter.users() == ()
            with pytest.raises(ValueError, match="not a circuit"):
                sim.meter.user(1)
        finally:
            await client.close()


async def test_9_channel_build() -> None:
    async with Simulator(host=HOST, frozen=True, channels=9, clock=START) as sim:
        client = await RawClient.connect(sim.port)
        try:
            assert await client.read_registers(0x0882, 1) == [9]
            assert await client.read_registers(0x1010, 1) == [0b01]  # EM1 only
            channels = await read_channels(client)
            assert all(v == 0.0 for ch in channels[9:] for v in ch)
            il1 = f32(await client.read_registers(0x2012, 2))
            assert il1 == pytest.approx(sum(channels[n - 1][0] for n in (1, 2, 3)), rel=1e-6)
            psum = f32(await client.read_registers(0x2022, 2))
            assert psum == pytest.approx(sum(p for p, _ in DEFAULT_LOADS[:9]), rel=1e-5)
            assert sim.meter.users() == (1, 2, 3)
            assert await client.read_many(0x2200 + 120, 120) == [0] * 120  # users 4-6
        finally:
            await client.close()


async def test_wiring_change_over_modbus_regroups_users(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x0880, [0])  # 3LN -> 1LN
    assert sim.meter.wiring == "1LN"
    assert await client.read_many(0x2200, 240) == [0] * 240
    await client.write_registers(0x0880, [2])
    assert f32s(await client.read_registers(0x2200, 6)) != [0.0, 0.0, 0.0]


async def test_harmonics_on_333mv_build() -> None:
    async with Simulator(host=HOST, frozen=True, model="333mv", clock=START) as sim:
        client = await RawClient.connect(sim.port)
        try:
            assert await client.read_registers(0x0881, 1) == [1]
            assert await client.read_registers(0x088A, 1) == [333]
            thd = f32s(await client.read_registers(0x2300, 8))
            for phase, start in enumerate((0x2320, 0x2360, 0x23A0)):
                orders = f32s(await client.read_registers(start, 60))
                assert len(orders) == 30
                assert thd[phase] == pytest.approx(math.sqrt(sum(h * h for h in orders)), rel=1e-5)
            assert thd[3] == pytest.approx(sum(thd[:3]) / 3, rel=1e-5)
            assert 0.5 < thd[0] < 10
            # Channel THD table vs the selected-channel spectrum for channel 5.
            await client.write_registers(0x2400, [5])
            spectrum = f32s(await client.read_registers(0x2410, 60))
            sel_thd, sel_k = f32s(await client.read_registers(0x2402, 4))
            table = f32s(await client.read_registers(0x2450, 36))
            assert sel_thd == pytest.approx(math.sqrt(sum(h * h for h in spectrum)), rel=1e-5)
            assert table[4] == pytest.approx(sel_thd)
            orders = range(2, 32)
            num = 1 + sum((h / 100) ** 2 * o**2 for h, o in zip(spectrum, orders, strict=True))
            den = 1 + sum((h / 100) ** 2 for h in spectrum)
            assert sel_k == pytest.approx(num / den, rel=1e-5)
            # A circuit without current has no distortion to measure.
            sim.meter.set_channel_load(5, 0.0, 0.0)
            assert f32s(await client.read_registers(0x2450, 36))[4] == 0.0
        finally:
            await client.close()


async def test_harmonics_read_zero_on_ct_build(client: RawClient) -> None:
    assert await client.read_registers(0x0881, 1) == [0]
    assert await client.read_registers(0x2300, 16) == [0] * 16
    assert await client.read_registers(0x2450, 72) == [0] * 72


def test_model_level_api_without_a_server() -> None:
    meter = MeterModel(wiring="3LN", channels=18, clock=START, seed=3)
    meter.set_channel_load(7, 3.0, 4.0)
    meter.set_voltage("c", 100.0)
    ch = meter.channel(7)
    assert (ch.apparent_power, ch.current, ch.power_factor) == pytest.approx((5.0, 50.0, 0.6))
    assert ch.phase == "c"
    system = meter.system()
    assert system.current["c"] == pytest.approx(
        sum(meter.channel(n).current for n in (7, 8, 9, 16, 17, 18))
    )
    with pytest.raises(ValueError, match="channel"):
        meter.channel(19)
    with pytest.raises(ValueError, match="channels"):
        MeterModel(channels=12)

"""Measurements: per-channel physics, phase/system/user totals, wiring modes, builds.

Expected values are computed here from the P, Q and V the test sets (or from
other registers read over Modbus), never taken from the simulator's own
results. Addresses are the literal ones of register-map.md section 6.
"""

from __future__ import annotations

import math

import pytest

from acurev_simulator import Simulator
from acurev_simulator.profile import DEFAULT_LOADS

from .conftest import START
from .raw_modbus import HOST, RawClient, f32, f32s, read_pdu

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
    # Vendor order (AcuRev 2100 map v1.02, 33 floats to 0x2041): F,U1-3,Uavg,U12,U23,U31,
    # ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c.
    t = f32s(await client.read_registers(0x2000, 66))
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
    psum, qsum, ssum, pfsum, ln_sum = t[13:18]
    pa_pc, qa_qc, sa_sc, pfs = t[18:21], t[21:24], t[24:27], t[27:30]
    assert pa_pc == pytest.approx([s[1] for s in sums], rel=1e-5, abs=1e-6)
    assert qa_qc == pytest.approx([s[2] for s in sums], rel=1e-5, abs=1e-6)
    assert sa_sc == pytest.approx([s[3] for s in sums], rel=1e-5)
    assert psum == pytest.approx(sum(pa_pc), rel=1e-5)
    assert psum == pytest.approx(sum(p for p, _ in DEFAULT_LOADS), rel=1e-5)
    assert qsum == pytest.approx(sum(qa_qc), rel=1e-5)
    assert ssum == pytest.approx(sum(sa_sc), rel=1e-5)
    assert pfs == pytest.approx([pa_pc[k] / sa_sc[k] for k in range(3)], rel=1e-5)
    assert pfsum == pytest.approx(psum / ssum, rel=1e-5)
    assert ln_sum == (L if qsum > 0.01 * ssum else C if qsum < -0.01 * ssum else R)
    assert all(x in (L, C, R) for x in t[30:33])
    # No neutral current and no unbalance floats in this table; it ends at 0x2041.
    assert await client.read_registers(0x2042, 4) == [0, 0, 0, 0]  # designed reserved rows
    # Unbalance lives in the power-quality block (uint16 x0.1 %), zero on the CT build.
    mean_u = (u1 + u2 + u3) / 3
    unbalance_u = max(abs(u - mean_u) for u in (u1, u2, u3)) / mean_u * 100
    assert unbalance_u > 0
    assert await client.read_registers(0x3200, 1) == [0]


async def test_alias_0x4000_mirrors_0x2000(sim: Simulator, client: RawClient) -> None:
    sim.meter.set_channel_load(1, 4.0, 1.0)
    assert await client.read_registers(0x4000, 72) == await client.read_registers(0x2000, 72)


async def test_system_load_nature_follows_qsum(sim: Simulator, client: RawClient) -> None:
    for n in range(1, 19):
        sim.meter.set_channel_load(n, 1.0, -0.5 if n == 9 else 0.0)
    (system,) = f32s(await client.read_registers(0x2022, 2))
    phases = f32s(await client.read_registers(0x203C, 6))
    assert [system, *phases] == [C, R, R, C]  # sum, phase A, B, C (channel 9 is on C)


async def user_record(client: RawClient, u: int) -> list[float]:
    """Vendor user record: 0x21D8 + 10(u-1): P, Q, S, PF, load nature (totals only)."""
    return f32s(await client.read_registers(0x21D8 + 10 * (u - 1), 10))


@pytest.mark.parametrize(
    ("user", "inputs"), [(1, (1, 4, 7)), (3, (3, 6, 9)), (4, (10, 13, 16)), (6, (12, 15, 18))]
)
async def test_3ln_user_is_sum_of_its_inputs(
    sim: Simulator, client: RawClient, user: int, inputs: tuple[int, int, int]
) -> None:
    channels = await read_channels(client)
    rec = await user_record(client, user)
    members = [channels[n - 1] for n in inputs]
    assert rec[0] == pytest.approx(sum(m[1] for m in members), rel=1e-5, abs=1e-6)
    assert rec[1] == pytest.approx(sum(m[2] for m in members), rel=1e-5, abs=1e-6)
    assert rec[2] == pytest.approx(sum(m[3] for m in members), rel=1e-5)
    assert rec[3] == pytest.approx(rec[0] / rec[2], rel=1e-5)
    assert rec[4] in (L, C, R)
    user_reading = sim.meter.user(user)
    assert user_reading.inputs == inputs


async def test_2ln_users_have_no_phase_c() -> None:
    async with Simulator(host=HOST, frozen=True, wiring="2LN", clock=START) as sim:
        client = await RawClient.connect(sim.port)
        try:
            assert await client.read_registers(0x0888, 1) == [2]  # vendor code 2 = 2LN
            codes = await client.read_registers(0x0840, 18)
            assert codes == [201, 202, 203, 204, 205, 206] + [0] * 12
            channels = await read_channels(client)
            rec = await user_record(client, 2)  # inputs 2 and 5 only
            assert rec[0] == pytest.approx(channels[1][1] + channels[4][1], rel=1e-5)
            assert rec[2] == pytest.approx(channels[1][3] + channels[4][3], rel=1e-5)
        finally:
            await client.close()


async def test_1ln_has_no_user_records() -> None:
    async with Simulator(host=HOST, frozen=True, wiring="1LN", clock=START) as sim:
        client = await RawClient.connect(sim.port)
        try:
            assert await client.read_registers(0x0888, 1) == [0]  # vendor code 0 = 1LN
            assert await client.read_registers(0x0840, 18) == list(range(101, 119))
            assert await client.read_many(0x21D8, 60) == [0] * 60
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
            psum = f32(await client.read_registers(0x201A, 2))
            assert psum == pytest.approx(sum(p for p, _ in DEFAULT_LOADS[:9]), rel=1e-5)
            assert sim.meter.users() == (1, 2, 3)
            assert await client.read_many(0x21D8 + 30, 30) == [0] * 30  # users 4-6
        finally:
            await client.close()


async def test_wiring_change_over_modbus_regroups_users(sim: Simulator, client: RawClient) -> None:
    await client.write_registers(0x0888, [0])  # 3LN -> 1LN (vendor codes)
    assert sim.meter.wiring == "1LN"
    assert await client.read_many(0x21D8, 60) == [0] * 60
    await client.write_registers(0x0888, [2])  # -> 2LN
    assert sim.meter.wiring == "2LN"
    assert f32s(await client.read_registers(0x21D8, 6)) != [0.0, 0.0, 0.0]


def u16s(regs: list[int], scale: float) -> list[float]:
    return [r * scale for r in regs]


async def test_harmonics_on_333mv_build() -> None:
    """Vendor power-quality block: uint16 from 0x3200 (THD/harmonics x0.01 %, K x0.1)."""
    async with Simulator(host=HOST, frozen=True, model="333mv", clock=START) as sim:
        client = await RawClient.connect(sim.port)
        try:
            assert await client.read_registers(0x080D, 1) == [333]  # CT type 333 mV
            thd = u16s(await client.read_registers(0x3201, 4), 0.01)
            for phase, start in enumerate((0x3205, 0x3223, 0x3241)):
                orders = u16s(await client.read_registers(start, 30), 0.01)
                assert len(orders) == 30
                # each value is rounded to 0.01 %: allow for 30 rounding steps
                assert thd[phase] == pytest.approx(math.sqrt(sum(h * h for h in orders)), abs=0.02)
            assert thd[3] == pytest.approx(sum(thd[:3]) / 3, abs=0.01)
            assert 0.5 < thd[0] < 10
            # Channel 5: THD then orders 2-31 at 0x3300 + 31*4; K factor at 0x32A0 + 3*4 + 2.
            block = u16s(await client.read_registers(0x3300 + 31 * 4, 31), 0.01)
            ch_thd, spectrum = block[0], block[1:]
            assert ch_thd == pytest.approx(math.sqrt(sum(h * h for h in spectrum)), abs=0.05)
            odd, even, k = await client.read_registers(0x32A0 + 3 * 4, 3)
            orders = range(2, 32)
            num = 1 + sum((h / 100) ** 2 * o**2 for h, o in zip(spectrum, orders, strict=True))
            den = 1 + sum((h / 100) ** 2 for h in spectrum)
            assert k * 0.1 == pytest.approx(num / den, abs=0.06)
            odd_pct = math.sqrt(sum(h * h for h, o in zip(spectrum, orders, strict=True) if o % 2))
            assert odd * 0.01 == pytest.approx(odd_pct, abs=0.05)
            assert even * 0.01 < odd * 0.01
            # A circuit without current has no distortion to measure.
            sim.meter.set_channel_load(5, 0.0, 0.0)
            assert (await client.read_registers(0x3300 + 31 * 4, 1)) == [0]
            # 0x326C-0x329F is a gap in the vendor map: exception 02.
            assert await client.exception_of(read_pdu(3, 0x326C, 1)) == 0x02
        finally:
            await client.close()


async def test_harmonics_read_zero_on_ct_build(client: RawClient) -> None:
    assert await client.read_registers(0x080D, 1) == [120]
    assert await client.read_registers(0x3200, 0x5F) == [0] * 0x5F
    assert await client.read_many(0x3300, 558) == [0] * 558


async def test_phase_angles(sim: Simulator, client: RawClient) -> None:
    """0x3600 Ub, 0x3601 Uc, 0x3602+(n-1) channel current angle, x0.1 degree (vendor map)."""
    sim.meter.set_channel_load(1, 1.0, 1.0)  # 45 degrees lagging on phase A
    sim.meter.set_channel_load(4, 2.0, 0.0)  # in phase on B
    regs = await client.read_registers(0x3600, 20)
    assert regs[0:2] == [2400, 1200]
    assert regs[2] == 3150  # 0 - 45 = 315 degrees
    assert regs[2 + 3] == 2400  # channel 4 on B, PF 1

"""Decoder edge cases on hand-built register images.

Registers are packed with ``struct`` straight from the map's documented layout
(not with the codec under test). The normal values are checked end to end
against the simulator's ground truth in test_client_simulator.py; this file
covers what a healthy simulator never sends: NaN, unknown codes, gaps.
"""

from __future__ import annotations

import struct
from datetime import datetime

import pytest

from pyacurev.decoders import (
    decode_alarms,
    decode_channel,
    decode_clock,
    decode_demand_entry,
    decode_device_info,
    decode_energy,
    decode_snapshot,
    decode_soe,
    decode_system,
)
from pyacurev.groups import ReadGroup
from pyacurev.image import MissingRegistersError, RegisterImage
from pyacurev.layouts import LoadNature, Phase, Wiring
from pyacurev.registers import Space

pytestmark = pytest.mark.protocol


def f32(value: float) -> list[int]:
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


def device_image(wiring_code: int = 1, installed: int = 18) -> RegisterImage:
    img = RegisterImage()
    serial = b"AR2020-42".ljust(16, b"\0")
    img.add(0x1000, list(struct.unpack(">8H", serial)))
    img.add(0x1008, [2020, 211, 100, 2, 0x0001, 0x86A0])  # run time 100000 * 0.01 h
    img.add(0x1012, [2])
    img.add(0x0882, [installed])
    img.add(0x080D, [333])  # CT type (vendor code 333 = 333 mV)
    img.add(0x0888, [wiring_code])  # vendor codes: 0 1LN, 1 3LN, 2 2LN
    return img


def test_device_info() -> None:
    dev = decode_device_info(device_image())
    assert dev.serial == "AR2020-42"
    assert (dev.model, dev.firmware_version, dev.hardware_version) == (2020, "2.11", "1.00")
    assert dev.wiring is Wiring.THREE_LN
    assert dev.is_333mv
    assert dev.installed_channels == 18
    assert dev.run_time_h == 1000.0
    assert dev.comm_module_type == 2
    assert decode_device_info(device_image(wiring_code=2)).wiring is Wiring.TWO_LN
    assert decode_device_info(device_image(wiring_code=0)).wiring is Wiring.ONE_LN
    # the 2100's codes (S10): 3 high-leg delta, 4 2LL, 5 2LN network
    assert decode_device_info(device_image(wiring_code=3)).wiring is Wiring.HIGH_LEG_DELTA
    assert decode_device_info(device_image(wiring_code=4)).wiring is Wiring.TWO_LL
    assert decode_device_info(device_image(wiring_code=5)).wiring is Wiring.TWO_LN_NETWORK


@pytest.mark.parametrize(("code", "installed"), [(6, 18), (0, 0), (0, 19), (0xFFFF, 9)])
def test_device_info_degrades_instead_of_refusing(code: int, installed: int) -> None:
    # A wiring code no model has (3-5 are AcuRev 2100 types, decoded) or an implausible
    # channel count is not a reason to refuse the meter: 1LN / 18 channels.
    dev = decode_device_info(device_image(code, installed))
    assert dev.wiring is (Wiring.ONE_LN if code not in (1, 2) else Wiring.THREE_LN)
    assert dev.installed_channels == (installed if installed in (9, 18) else 18)


def test_device_info_without_any_identity_register() -> None:
    img = RegisterImage()
    img.add(0x080D, [120])
    img.add(0x0888, [2])
    dev = decode_device_info(img)
    assert (dev.serial, dev.model, dev.map_version) == ("", 0, 0)
    assert dev.wiring is Wiring.TWO_LN
    assert not dev.is_333mv
    assert dev.installed_channels == 18
    assert dev.model_name == "AcuRev"
    # zeros or junk in the serial registers are no serial either
    img.add(0x1000, [0] * 8)
    assert decode_device_info(img).serial == ""
    img.add(0x1000, [0xFFFF] * 8)
    assert decode_device_info(img).serial == ""


def test_non_finite_floats_become_none_and_load_nature_decodes() -> None:
    img = RegisterImage()
    img.add(
        0x2100,
        [*f32(float("nan")), *f32(2.5), *f32(float("inf")), *f32(3.0), *f32(-0.5), *f32(76.0)],
    )
    ch = decode_channel(img, 1)
    assert ch.current is None
    assert ch.active_power == 2.5
    assert ch.reactive_power is None
    assert ch.power_factor == -0.5
    assert ch.load_nature is LoadNature.INDUCTIVE
    img.add(0x210C, [*f32(0.0)] * 5 + [*f32(12.0)])  # unknown load-nature code
    assert decode_channel(img, 2).load_nature is None


def test_system_table_order() -> None:
    img = RegisterImage()
    # 33 floats at 0x2000 (to 0x2041): value i at position i, so a shifted field shows up.
    # Vendor order: F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,
    # Pa-c,Qa-c,Sa-c,PFa-c,LNa-c.
    img.add(0x2000, [w for i in range(33) for w in f32(float(i))])
    sysv = decode_system(img)
    assert sysv.frequency == 0.0
    assert sysv.voltage == {Phase.A: 1.0, Phase.B: 2.0, Phase.C: 3.0}
    assert sysv.current == {Phase.A: 9.0, Phase.B: 10.0, Phase.C: 11.0}
    assert sysv.current_avg == 12.0
    assert sysv.active_power_total == 13.0
    assert sysv.reactive_power_total == 14.0
    assert sysv.apparent_power_total == 15.0
    assert sysv.power_factor_total == 16.0
    assert sysv.active_power == {Phase.A: 18.0, Phase.B: 19.0, Phase.C: 20.0}
    assert sysv.reactive_power == {Phase.A: 21.0, Phase.B: 22.0, Phase.C: 23.0}
    assert sysv.apparent_power == {Phase.A: 24.0, Phase.B: 25.0, Phase.C: 26.0}
    assert sysv.power_factor == {Phase.A: 27.0, Phase.B: 28.0, Phase.C: 29.0}
    # 0x2042 is not read by the 0x2000 table any more
    assert not img.has(0x2042)


def test_energy_is_scaled_by_the_table() -> None:
    img = RegisterImage()
    # import kWh 0x2500, import kvarh 0x2B00, kVAh 0x2B38 (vendor map); export not read
    for lo, base in ((3, 0x2500), (5, 0x2B00), (7, 0x2B38)):
        img.add(base, [w for e in range(28) for w in (e, lo)])  # hi=e
    energy = decode_energy(img)
    assert energy.import_active is not None
    assert energy.import_active.phase(Phase.A) == pytest.approx(0.3)
    assert energy.import_active.system == pytest.approx((3 * 65536 + 3) * 0.1)
    assert energy.import_active.channel(1) == pytest.approx((4 * 65536 + 3) * 0.1)
    assert energy.import_active.user(1) == pytest.approx((22 * 65536 + 3) * 0.1)
    assert energy.import_reactive is not None
    assert energy.import_reactive.channel(18) == pytest.approx((21 * 65536 + 5) * 0.1)
    assert energy.apparent is not None
    assert energy.apparent.user(6) == pytest.approx((27 * 65536 + 7) * 0.1)
    assert energy.export_active is None
    assert energy.export_reactive is None


def test_demand_peak_times_and_never() -> None:
    img = RegisterImage()
    # System demand at 0x2D00: P, Q, S records of 9 registers (demand, predicted, max, time3).
    rec = [0] * 27
    rec[0:2] = f32(4.5)  # active demand
    rec[2:4] = f32(5.0)  # predicted active demand
    rec[4:6] = f32(9.0)  # peak active
    rec[6:9] = [(24 << 8) | 11, (26 << 8) | 14, (30 << 8) | 5]  # 2024-11-26 14:30:05
    rec[9:11] = f32(1.25)  # reactive demand
    img.add(0x2D00, rec)
    d = decode_demand_entry(img, 3)
    assert d.active == 4.5
    assert d.predicted_active == 5.0
    assert d.reactive == 1.25
    assert d.peak_active.value == 9.0
    assert d.peak_active.time == datetime(2024, 11, 26, 14, 30, 5)
    assert d.peak_reactive.time is None  # all zero: "not yet"
    assert d.current is None  # the system record has no current demand
    # Channel 2 demand at 0x2D87 + 36: I, P, Q, S.
    ch = [0] * 36
    ch[0:2] = f32(3.5)
    ch[9:11] = f32(0.75)
    img.add(0x2D87 + 36, ch)
    c2 = decode_demand_entry(img, 5)
    assert (c2.current, c2.active) == (3.5, 0.75)


def test_alarm_and_soe_records() -> None:
    img = RegisterImage()
    alarms = [0] * 240
    alarms[0:12] = [1, 3, 9, *f32(61.5), 2025, 1, 2, 3, 4, 5, 678]
    img.add(0x3800, alarms)
    recs = decode_alarms(img)
    assert len(recs) == 20
    assert recs[0].occurred
    assert recs[0].channel == 3
    assert recs[0].parameter == 9
    assert recs[0].value == 61.5
    assert recs[0].time == datetime(2025, 1, 2, 3, 4, 5, 678000)
    assert recs[1].time is None
    assert not recs[1].occurred
    soe = [0] * 200
    soe[10:20] = [0b101, 0b100, 2025, 2, 3, 4, 5, 6, 7, 0]
    img.add(0x3900, soe)
    s = decode_soe(img)
    assert (s[1].di_states, s[1].changed) == (5, 4)
    assert s[1].time == datetime(2025, 2, 3, 4, 5, 6, 7000)


def test_impossible_clock_is_none() -> None:
    img = RegisterImage()
    img.add(0x1054, [2025, 2, 30, 0, 0, 0])
    assert decode_clock(img) is None
    img.add(0x1054, [2025, 2, 28, 23, 59, 58])
    assert decode_clock(img) == datetime(2025, 2, 28, 23, 59, 58)


def test_missing_registers_fail_loudly() -> None:
    img = device_image()
    with pytest.raises(MissingRegistersError, match="0x2000"):
        decode_system(img)
    with pytest.raises(MissingRegistersError):
        img.bits(Space.COIL, 0, 8)
    with pytest.raises(ValueError, match="DeviceInfo"):
        decode_snapshot(RegisterImage(), {ReadGroup.CHANNELS})
    # 1LN: users are not decoded even when asked for
    snap = decode_snapshot(device_image(0, 9), {ReadGroup.DEVICE, ReadGroup.USERS})
    assert snap.users == ()
    assert snap.device is not None
    assert snap.device.wiring is Wiring.ONE_LN

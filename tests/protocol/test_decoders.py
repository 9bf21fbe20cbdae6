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
from pyacurev.errors import AcuRevProtocolError
from pyacurev.groups import ReadGroup
from pyacurev.image import MissingRegistersError, RegisterImage
from pyacurev.layouts import LoadNature, Phase, Wiring
from pyacurev.registers import Space

pytestmark = pytest.mark.protocol


def f32(value: float) -> list[int]:
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


def device_image(wiring_code: int = 2, installed: int = 18) -> RegisterImage:
    img = RegisterImage()
    serial = b"AR2020-42".ljust(16, b"\0")
    img.add(0x1000, list(struct.unpack(">8H", serial)))
    img.add(0x1008, [2020, 211, 100, 2, 0x0001, 0x86A0])  # run time 100000 * 0.01 h
    img.add(0x1012, [2])
    img.add(0x0880, [wiring_code, 1, installed])
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


@pytest.mark.parametrize(("code", "installed"), [(3, 18), (0, 0), (0, 19)])
def test_device_info_refuses_codes_the_map_does_not_know(code: int, installed: int) -> None:
    with pytest.raises(AcuRevProtocolError):
        decode_device_info(device_image(code, installed))


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
    # 36 floats at 0x2000: value i at position i, so a shifted field shows up.
    img.add(0x2000, [w for i in range(36) for w in f32(float(i))])
    sysv = decode_system(img)
    assert sysv.frequency == 0.0
    assert sysv.voltage == {Phase.A: 1.0, Phase.B: 2.0, Phase.C: 3.0}
    assert sysv.current == {Phase.A: 9.0, Phase.B: 10.0, Phase.C: 11.0}
    assert sysv.active_power_total == 17.0
    assert sysv.power_factor_total == 29.0
    assert sysv.current_unbalance == 31.0


def test_energy_is_scaled_by_the_table() -> None:
    img = RegisterImage()
    for bank in range(5):
        base = 0x2500 + 0x40 * bank
        img.add(base, [w for e in range(28) for w in (e, 3 + bank)])  # hi=e, lo=3+bank
    energy = decode_energy(img)
    assert energy.import_active.phase(Phase.A) == pytest.approx(0.3)
    assert energy.import_active.channel(1) == pytest.approx((4 * 65536 + 3) * 0.1)
    assert energy.apparent.user(6) == pytest.approx((27 * 65536 + 7) * 0.1)


def test_demand_peak_times_and_never() -> None:
    img = RegisterImage()
    rec = [0] * 32
    rec[2:4] = f32(4.5)  # active demand
    rec[15:17] = f32(9.0)  # peak active
    rec[17:20] = [(24 << 8) | 11, (26 << 8) | 14, (30 << 8) | 5]  # 2024-11-26 14:30:05
    img.add(0x3000 + 32 * 3, rec)
    d = decode_demand_entry(img, 3)
    assert d.active == 4.5
    assert d.peak_active.value == 9.0
    assert d.peak_active.time == datetime(2024, 11, 26, 14, 30, 5)
    assert d.peak_current.time is None  # all zero: "not yet"


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

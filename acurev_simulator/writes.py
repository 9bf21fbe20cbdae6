"""Which FC16 writes the meter accepts (section 6.2 rule 6 and the value ranges).

* A write must lie in one mapped run (else 02) and touch only writable blocks:
  a read-only or reserved register answers 02 (illegal data address), the
  address is not one the meter takes writes at.
* A multi-register value (uint32, float, 3-register name or time, the 6-register
  clock, an alarm set-point) must be written whole in one frame, else 03.
* Values outside a setting's range answer 03 and nothing of the frame is applied.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

from pyacurev.codec import decode_float32
from pyacurev.layouts import (
    ALARM_SETTING_SIZE,
    SYSTEM_FLOAT_KEYS,
    WIRING_CODES,
)
from pyacurev.profiles import ModelProfile
from pyacurev.registers import (
    COMMAND_MAGIC,
    DI_COUNT,
    REGISTER_MAP,
    Access,
    Block,
    DataType,
    Space,
    block,
)

from .errors import ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE, ModbusError

CLOCK_KEYS: tuple[str, ...] = (
    "clock_year",
    "clock_month",
    "clock_day",
    "clock_hour",
    "clock_minute",
    "clock_second",
)
CLOCK_ADDRESS = block("clock_year").address
ALARM_SETPOINT_OFFSET = 3

_HOLDING = sorted((b for b in REGISTER_MAP if b.space is Space.HOLDING), key=lambda b: b.address)
_STARTS = [b.address for b in _HOLDING]


def touched_blocks(address: int, count: int) -> list[Block]:
    """Holding blocks overlapping ``[address, address + count)``, in address order."""
    end = address + count
    out = []
    for blk in _HOLDING[max(0, bisect.bisect_right(_STARTS, address) - 1) :]:
        if blk.address >= end:
            break
        if address < blk.end:
            out.append(blk)
    return out


def atomic_units(blk: Block) -> list[tuple[int, int]]:
    """(address, registers) of the values of ``blk`` that span more than one register."""
    if blk.key in CLOCK_KEYS:
        return [(CLOCK_ADDRESS, len(CLOCK_KEYS))]
    if blk.key == "alarm_channel":
        return [
            (blk.address + i + ALARM_SETPOINT_OFFSET, 2)
            for i in range(0, blk.count, ALARM_SETTING_SIZE)
        ]
    if blk.dtype in (DataType.UINT32, DataType.FLOAT32):
        return [(a, 2) for a in range(blk.address, blk.end, 2)]
    if blk.dtype is DataType.ASCII:
        size = blk.record or blk.count
        return [(a, size) for a in range(blk.address, blk.end, size)]
    if blk.dtype is DataType.TIME3:
        return [(blk.address, blk.count)]
    return []


def check_address(address: int, count: int, blocks: list[Block]) -> None:
    """02 for read-only targets, 03 for a split multi-register value."""
    for blk in blocks:
        if blk.access is Access.R:
            raise ModbusError(ILLEGAL_DATA_ADDRESS, f"{blk.key} is read-only")
    end = address + count
    for blk in blocks:
        for start, size in atomic_units(blk):
            overlaps = start < end and address < start + size
            if overlaps and not (address <= start and start + size <= end):
                raise ModbusError(ILLEGAL_DATA_VALUE, f"partial write of {blk.key} at {start:#06x}")


def _bad(key: str, regs: list[int]) -> ModbusError:
    return ModbusError(ILLEGAL_DATA_VALUE, f"value {regs!r} out of range for {key}")


def _range(low: int, high: int) -> Callable[[list[int]], bool]:
    return lambda regs: all(low <= r <= high for r in regs)


def _one_of(*allowed: int) -> Callable[[list[int]], bool]:
    return lambda regs: all(r in allowed for r in regs)


def _channel_code(regs: list[int]) -> bool:
    # 201-209: the 2100's nine two-input users (the 2020 stops at 206; checked per model below).
    return all(r == 0 or 101 <= r <= 118 or 201 <= r <= 209 or 301 <= r <= 306 for r in regs)


def _ascii(regs: list[int]) -> bool:
    return all(b == 0 or 0x20 <= b < 0x7F for r in regs for b in (r >> 8, r & 0xFF))


def _triples(check: Callable[[int, int, int], bool]) -> Callable[[list[int]], bool]:
    def ok(regs: list[int]) -> bool:
        return all(
            (a, b, c) == (0, 0, 0) or check(a, b, c)
            for a, b, c in zip(regs[0::3], regs[1::3], regs[2::3], strict=True)
        )

    return ok


def _time3(regs: list[int]) -> bool:
    if not any(regs):
        return True
    mo, dd, hh = regs[0] & 0xFF, regs[1] >> 8, regs[1] & 0xFF
    mi, ss = regs[2] >> 8, regs[2] & 0xFF
    return 1 <= mo <= 12 and 1 <= dd <= 31 and hh < 24 and mi < 60 and ss < 60


def _alarm_channels(regs: list[int]) -> bool:
    for i in range(0, len(regs), ALARM_SETTING_SIZE):
        enable, label, compare, hi, lo, _delay, relay, _ = regs[i : i + ALARM_SETTING_SIZE]
        if enable > 1 or label >= len(SYSTEM_FLOAT_KEYS) or compare > 1 or relay > 8:
            return False
        if not math.isfinite(decode_float32([hi, lo])):
            return False
    return True


def _positive_uint32(regs: list[int]) -> bool:
    return (regs[0] << 16 | regs[1]) >= 1


VALIDATORS: dict[str, Callable[[list[int]], bool]] = {
    "meter_password": _range(0, 9999),
    "modbus_address": _range(1, 247),
    "rs485_baud": _one_of(1200, 2400, 4800, 9600, 19200, 38400),
    "rs485_parity": _range(0, 3),
    "rated_voltage": _range(10, 400),
    "pt_primary": _positive_uint32,
    "pt_secondary": _range(1, 0xFFFF),
    "demand_method": _range(0, 3),
    "demand_interval": _range(1, 30),
    "demand_subinterval": _range(1, 30),
    "ct_type": _one_of(120, 333),
    "var_calc_method": _range(0, 1),
    "var_pf_convention": _range(0, 1),
    "billing_day": _range(1, 28),
    "billing_hour": _range(0, 23),
    "tou_enable": _range(0, 1),
    "user_channel_code": _channel_code,
    "user_display_enable": _range(0, 1),
    # Codes 3-5 are AcuRev 2100 wiring types; a 2020 refuses them (validate_for_model).
    "wiring_mode": _range(0, 5),
    "ct_primary_ch1": _range(5, 50000),
    "ct_primary_ch2_18": _range(5, 50000),
    "user_name": _ascii,
    "di_mode_bitmap": _range(0, (1 << DI_COUNT) - 1),
    "relay_mode_bitmap": _range(0, 0xFF),
    "relay_output_time": _range(1, 60000),
    "di_pulse_constant": _range(1, 0xFFFF),
    "di_unit_code": _range(0, 4),
    "alarm_global_enable": _range(0, 1),
    "alarm_channel": _alarm_channels,
    "datalog_enable": _range(0, 1),
    "datalog_interval": _range(0, 1440),
    "datalog_mode": _range(0, 2),
    "datalog_start_time": _time3,
    "datalog_end_time": _time3,
    "tou_season_count": _range(1, 14),
    "tou_schedule_count": _range(1, 8),
    "tou_segment_count": _range(1, 14),
    "tou_tariff_count": _range(1, 4),
    "tou_weekend_schedule": _range(0, 8),
    "tou_holiday_count": _range(0, 30),
    "tou_weekend_days": _range(0, 0x7F),
    "tou_season": _triples(lambda m, d, s: 1 <= m <= 12 and 1 <= d <= 31 and 1 <= s <= 8),
    "tou_schedule_segment": _triples(lambda h, m, t: h < 24 and m < 60 and 1 <= t <= 4),
    "tou_holiday": _triples(lambda m, d, s: 1 <= m <= 12 and 1 <= d <= 31 and 1 <= s <= 8),
    "log_select": _range(0, 1),
    "clear_di_counters": _range(0, (1 << DI_COUNT) - 1),
}


def validate_for_model(key: str, regs: list[int], profile: ModelProfile) -> None:
    """03 for a value only another model takes: a 2100 wiring type or user 7-9 on a 2020."""
    if key == "wiring_mode" and WIRING_CODES.get(regs[0]) not in profile.wirings:
        raise _bad(key, regs)
    if key == "user_channel_code" and any(
        200 + profile.user_count < r < 300 for r in regs if r > 200
    ):
        raise _bad(key, regs)


def validate(key: str, regs: list[int]) -> None:
    """03 when ``regs`` (the whole block after the write) is not a value the meter takes."""
    blk = block(key)
    if blk.access is Access.W and key not in VALIDATORS:
        ok = all(r == COMMAND_MAGIC for r in regs)
    else:
        ok = VALIDATORS.get(key, _range(0, 0xFFFF))(regs)
    if not ok:
        raise _bad(key, regs)

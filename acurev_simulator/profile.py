"""Factory defaults of a simulated meter: settings, a varied load profile, and drift.

The load profile gives 18 channels different loads: power factors between 0.7
and 1, one capacitive channel (8), a resistive one (3) and two PV circuits
(5 and 12) exporting (negative P), so every energy bank has something to count.
The profile is the same in every wiring mode: wiring only groups channels into users.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from pyacurev.codec import encode_ascii, encode_float32, encode_uint32
from pyacurev.layouts import (
    CT_TYPE_333MV,
    CT_TYPE_RCT,
    SYSTEM_FLOAT_KEYS,
    WIRING_CODE,
    Wiring,
    circuits,
)
from pyacurev.registers import (
    ALARM_CHANNEL_COUNT,
    CHANNEL_COUNT,
    DI_COUNT,
    USER_COUNT,
    block,
)

from .datalog import FACTORY_REGISTERS
from .tou import NORMAL, PEAK, SHARP, VALLEY

# (active kW, reactive kvar) per channel 1..18.
DEFAULT_LOADS: tuple[tuple[float, float], ...] = (
    (1.20, 0.40),
    (2.50, 1.20),
    (0.80, 0.00),
    (1.60, 0.90),
    (-3.20, 0.00),
    (0.95, 0.65),
    (1.10, 0.55),
    (0.60, -0.25),
    (2.00, 2.00),
    (0.45, 0.15),
    (1.75, 0.60),
    (-2.40, 0.00),
    (0.30, 0.10),
    (1.30, 0.80),
    (0.70, 0.20),
    (1.90, 1.10),
    (0.55, 0.25),
    (0.25, 0.05),
)
DEFAULT_NAMES: tuple[str, ...] = (
    "Light",
    "HVAC",
    "Heater",
    "Office",
    "PV-1",
    "Kitch",
    "Server",
    "LED",
    "Motor",
    "Signs",
    "Pumps",
    "PV-2",
    "Alarm",
    "Lab",
    "Garage",
    "Shop",
    "Hall",
    "Spare",
)
NOMINAL_VOLTS = 120.0
NOMINAL_HZ = 60.0
DEFAULT_DI_ON = (1, 3)  # DI1 and DI3 closed at start
DEFAULT_RELAYS_ON = (1,)
DI_COUNTER_MODE = 0x80  # DI8 counts pulses (e.g. a gas meter)
RELAY_ALARM_MODE = 0xC0  # relays 7 and 8 follow alarms, 1-6 are remote-controlled
_LABEL = {key: i for i, key in enumerate(SYSTEM_FLOAT_KEYS)}

# (enable, label, compare, set-point, delay s, relay)
DEFAULT_ALARMS: tuple[tuple[int, int, int, float, int, int], ...] = (
    (1, _LABEL["u1"], 1, 132.0, 5, 7),  # U1 over 110 %
    (1, _LABEL["u1"], 0, 108.0, 5, 0),  # U1 under 90 %
    (1, _LABEL["f"], 1, 60.5, 2, 0),  # over-frequency
    (1, _LABEL["psum"], 1, 60.0, 10, 8),  # system demand limit
)

# TOU: one season; weekdays valley/normal/peak/sharp/normal, weekends mostly valley/normal.
TOU_WEEKDAY = ((0, 0, VALLEY), (7, 0, NORMAL), (11, 0, PEAK), (17, 0, SHARP), (21, 0, NORMAL))
TOU_WEEKEND = ((0, 0, VALLEY), (8, 0, NORMAL), (12, 0, NORMAL), (18, 0, NORMAL), (22, 0, VALLEY))
# Data log: Psum, U1, F, the system's and every channel's import kWh every 15 minutes.
DATALOG_REGISTERS = FACTORY_REGISTERS


def _zeros(key: str) -> list[int]:
    return [0] * block(key).count


def _user_codes(wiring: Wiring, channels: int, users: int) -> tuple[list[int], list[int]]:
    codes = [0] * CHANNEL_COUNT
    base = 100 * wiring.inputs_per_user  # 1xx channels, 2xx two-input, 3xx three-input users
    for i, circuit in enumerate(circuits(wiring, channels, users)):
        codes[i] = base + circuit
    return codes, [1 if c else 0 for c in codes]


def default_config(
    wiring: Wiring, channels: int, model: str, unit_id: int, users: int = USER_COUNT
) -> dict[str, list[int]]:
    """Every setting block at its factory value (``users``: the model's user count)."""
    primaries = [100, 200, 100, 100, 150, 100, 100, 50, 200, 50, 100, 150, 50, 100, 50, 100, 50, 50]
    codes, display = _user_codes(wiring, channels, users)
    alarm = _zeros("alarm_channel")
    for i, (enable, label, compare, setpoint, delay, relay) in enumerate(DEFAULT_ALARMS):
        alarm[i * 8 : i * 8 + 8] = [
            enable,
            label,
            compare,
            *encode_float32(setpoint),
            delay,
            relay,
            0,
        ]
    segments = _zeros("tou_schedule_segment")
    for sched, table in enumerate((TOU_WEEKDAY, TOU_WEEKEND)):
        for g, seg in enumerate(table):
            start = sched * 42 + g * 3
            segments[start : start + 3] = list(seg)
    season = _zeros("tou_season")
    season[0:3] = [1, 1, 1]
    dl_list = [0xFFFF] * block("datalog_register_list").count
    dl_list[: len(DATALOG_REGISTERS)] = DATALOG_REGISTERS
    dl_desc = _zeros("datalog_descriptors")
    dl_desc[: len(DATALOG_REGISTERS) // 2] = [0x0202] * (len(DATALOG_REGISTERS) // 2)
    return {
        "meter_password": [0],
        "modbus_address": [unit_id],
        "rs485_baud": [9600],
        "rs485_parity": [3],
        "rated_voltage": [int(NOMINAL_VOLTS)],
        "pt_primary": encode_uint32(int(NOMINAL_VOLTS)),
        "pt_secondary": [int(NOMINAL_VOLTS)],
        "demand_method": [0],
        "demand_interval": [15],
        "demand_subinterval": [1],
        "ct_type": [CT_TYPE_333MV if model == "333mv" else CT_TYPE_RCT],
        "var_calc_method": [0],
        "var_pf_convention": [0],
        "billing_day": [1],
        "billing_hour": [0],
        "tou_enable": [1],
        "backlight_timeout": [5],
        "user_channel_code": codes,
        "user_display_enable": display,
        "wiring_mode": [WIRING_CODE[wiring]],
        "ct_primary_ch1": [primaries[0]],
        "ct_primary_ch2_18": primaries[1:],
        "user_name": [r for name in DEFAULT_NAMES for r in encode_ascii(name, 3)],
        "di_mode_bitmap": [DI_COUNTER_MODE],
        "relay_mode_bitmap": [RELAY_ALARM_MODE],
        "relay_output_time": [1] * 8,
        "di_pulse_constant": [1] * DI_COUNT,
        "di_unit_code": [0] * (DI_COUNT - 1) + [1],
        "alarm_global_enable": [1],
        "alarm_channel": alarm,
        "datalog_enable": [1],
        "datalog_interval": [15],
        "datalog_register_list": dl_list,
        "datalog_descriptors": dl_desc,
        "datalog_mode": [0],
        "datalog_start_time": [0, 0, 0],
        "datalog_end_time": [0, 0, 0],
        "tou_season_count": [1],
        "tou_schedule_count": [2],
        "tou_segment_count": [5],
        "tou_tariff_count": [4],
        "tou_weekend_schedule": [2],
        "tou_holiday_count": [0],
        "tou_weekend_days": [0x41],
        "tou_season": season,
        "tou_schedule_segment": segments,
        "tou_holiday": _zeros("tou_holiday"),
        "log_select": [0],
        "log_window_offset": [0, 0],
    }


if len(DEFAULT_ALARMS) > ALARM_CHANNEL_COUNT or USER_COUNT != 6:  # pragma: no cover
    raise RuntimeError("default alarm table does not fit the map")


@dataclass(frozen=True, slots=True)
class Wave:
    """A slow sine: 1 + amplitude x sin(2 pi t / period + phase)."""

    amplitude: float
    period_s: float
    phase: float

    def factor(self, t_s: float) -> float:
        """Multiplier at simulated time ``t_s``."""
        return 1.0 + self.amplitude * math.sin(2 * math.pi * t_s / self.period_s + self.phase)


class Drift:
    """Deterministic (seeded) slow wander of loads, voltages and frequency.

    A pure function of simulated time, so two meters with the same seed agree
    at the same simulated instant however time was stepped. Multipliers keep
    signs, so an exporting channel keeps exporting and Q = 0 stays 0.
    """

    def __init__(self, seed: int) -> None:
        """Pick each quantity's amplitude, period and phase from ``seed``."""
        rng = random.Random(seed)

        def wave(amplitude: float) -> Wave:
            return Wave(amplitude, rng.uniform(60.0, 600.0), rng.uniform(0.0, 2 * math.pi))

        self.active = [wave(0.08) for _ in range(CHANNEL_COUNT)]
        self.reactive = [wave(0.08) for _ in range(CHANNEL_COUNT)]
        self.voltage = [wave(0.01) for _ in range(3)]
        self.frequency = wave(0.0003)

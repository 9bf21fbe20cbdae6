"""The encoder: meter state -> registers, using only the shared map, codec and layouts.

Every holding block of ``registers.REGISTER_MAP`` has exactly one encoder here
(settings come straight from the config store); a block without one fails
loudly, so a row added to the map cannot silently read as zeros.

Choices where the map leaves room:

* channels beyond the installed ones (9-channel build) and user records that
  are not circuits of the wiring (all of them in 1LN) read all zero;
* power-quality blocks (0x3200-0x3535) stay mapped on the current-output
  ("ct") build but read 0, so a client's read plan does not depend on the build;
  ``ct_type`` (0x080D) tells whether they mean anything; THFF reads 0 (not
  modelled); phase angles (0x3600) are served on both builds;
* command registers read 0; reserved and UNKNOWN registers read 0 (this is the
  ``full`` map profile; ``firmware.py`` serves profiles that differ);
* empty alarm/SOE ring slots read 0.

This encoder follows our own table, so it proves decoding, never addresses:
the ``evidence`` and ``divergent`` profiles in ``firmware.py`` lay the
evidence-backed blocks out from the vendor sources independently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyacurev.codec import (
    encode_ascii,
    encode_float32,
    encode_time3,
    encode_time7,
    encode_uint32,
)
from pyacurev.groups import ENERGY_BANK_ROWS, ENERGY_BANK_USERS_2100, HARMONICS_KEYS
from pyacurev.layouts import (
    ALARM_RECORD_SIZE,
    CREST_FACTOR_SCALE,
    DEMAND_FULL,
    DEMAND_POWER,
    K_FACTOR_SCALE,
    PQ_PERCENT_SCALE,
    SOE_RECORD_SIZE,
    SYSTEM_FLOAT_KEYS,
    USER_FIELDS,
    DemandQuantity,
)
from pyacurev.registers import (
    CHANNEL_COUNT,
    ENTRY_SYSTEM,
    FIRST_CHANNEL_ENTRY,
    FIRST_USER_ENTRY,
    USER_COUNT,
    Access,
    Block,
    block,
)

from .energy import ALL_BANKS, FIRST_EXTRA_USER_ENTRY, REALTIME_BANK_KEYS, bank_block_key
from .harmonics import crest_factor, even_thd, k_factor, odd_thd, thd
from .physics import LOAD_NATURE_FLOAT, VOLTAGE_ANGLE, ChannelReading, current_angle

if TYPE_CHECKING:
    from .meter import MeterModel

type Encoder = Callable[[MeterModel, Block], list[int]]

SYSTEM_START = block("f").address
ALIAS_SPAN = block("alias_system_floats").count


def floats(values: list[float]) -> list[int]:
    """Several float32 values, high word first."""
    return [r for v in values for r in encode_float32(v)]


def _zeros(blk: Block) -> list[int]:
    return [0] * blk.count


def _u16(get: Callable[[MeterModel], int]) -> Encoder:
    return lambda m, _blk: [get(m) & 0xFFFF]


def _channel_record(r: ChannelReading) -> list[int]:
    if not r.installed:
        return [0] * 12
    return floats(
        [
            r.current,
            r.active_power,
            r.reactive_power,
            r.apparent_power,
            r.power_factor,
            LOAD_NATURE_FLOAT[r.load_nature],
        ]
    )


def _channels(m: MeterModel, _blk: Block) -> list[int]:
    return [reg for n in range(1, CHANNEL_COUNT + 1) for reg in _channel_record(m.channel(n))]


def user_values(m: MeterModel, u: int) -> list[float]:
    """The 5 user-record floats (totals only, as the vendor map has them)."""
    totals = m.user(u).totals
    out = [
        totals.active,
        totals.reactive,
        totals.apparent,
        totals.power_factor,
        LOAD_NATURE_FLOAT[totals.load_nature],
    ]
    if len(out) != len(USER_FIELDS):  # pragma: no cover - layouts changed
        raise RuntimeError("user record layout drifted from layouts.USER_FIELDS")
    return out


def _user_rows(first_user: int) -> Encoder:
    """User records from ``first_user`` on (users 1-6 at 0x21D8, the 2100's 7-9 at 0x2214)."""

    def encode(m: MeterModel, blk: Block) -> list[int]:
        out: list[int] = []
        users = m.users()
        for u in range(first_user, first_user + blk.count // blk.record):
            out += floats(user_values(m, u)) if u in users else [0] * blk.record
        return out

    return encode


_users = _user_rows(1)


def _system_float(key: str) -> Encoder:
    return lambda m, _blk: encode_float32(m.system_floats()[key])


def _alias(m: MeterModel, _blk: Block) -> list[int]:
    return m.read_registers(SYSTEM_START, ALIAS_SPAN)


def _bank(bank: str, first: int = 0, entries: int | None = None) -> Encoder:
    def encode(m: MeterModel, blk: Block) -> list[int]:
        n = entries if entries is not None else blk.count // 2
        counts = m.energy.bank_counts(bank)[first : first + n]
        return [r for c in counts for r in encode_uint32(c)]

    return encode


def demand_quantities(m: MeterModel, entry: int) -> dict[DemandQuantity, list[int]]:
    """The 9-register demand record of every quantity of bank entry ``entry``."""
    d = m.demand(entry)
    tracker = m.demand_tracker
    present = {
        DemandQuantity.CURRENT: (d.current, d.peak_current, 0),
        DemandQuantity.ACTIVE: (d.active, d.peak_active, 1),
        DemandQuantity.REACTIVE: (d.reactive, d.peak_reactive, 2),
        DemandQuantity.APPARENT: (d.apparent, d.peak_apparent, 3),
    }
    return {
        q: [
            *encode_float32(value or 0.0),
            *encode_float32(tracker.predicted(entry, index)),
            *encode_float32(peak.value or 0.0),
            *encode_time3(peak.time),
        ]
        for q, (value, peak, index) in present.items()
    }


def _demand_entry(m: MeterModel, entry: int, quantities: tuple[DemandQuantity, ...]) -> list[int]:
    recs = demand_quantities(m, entry)
    return [r for q in quantities for r in recs[q]]


def _demand_block(first_entry: int, quantities: tuple[DemandQuantity, ...]) -> Encoder:
    def encode(m: MeterModel, blk: Block) -> list[int]:
        return [
            r
            for i in range(blk.count // blk.record)
            for r in _demand_entry(m, first_entry + i, quantities)
        ]

    return encode


def _alarm_records(m: MeterModel, _blk: Block) -> list[int]:
    out: list[int] = []
    for rec in m.alarm_engine.ring.slots:
        if rec is None:
            out += [0] * ALARM_RECORD_SIZE
        else:
            out += [
                int(rec.occurred),
                rec.channel,
                rec.parameter,
                *encode_float32(rec.value or 0.0),
                *encode_time7(rec.time),
            ]
    return out


def _soe_records(m: MeterModel, _blk: Block) -> list[int]:
    out: list[int] = []
    for rec in m.soe.slots:
        if rec is None:
            out += [0] * SOE_RECORD_SIZE
        else:
            out += [rec.di_states, rec.changed, *encode_time7(rec.time), 0]
    return out


def _bitmap(bits: tuple[bool, ...]) -> int:
    return sum(1 << i for i, on in enumerate(bits) if on)


def _clock_field(index: int) -> Encoder:
    def encode(m: MeterModel, _blk: Block) -> list[int]:
        c = m.clock
        return [(c.year, c.month, c.day, c.hour, c.minute, c.second)[index]]

    return encode


# ---------------------------------------------------------------- power quality (333 mV only)


def u16(value: float, scale: float) -> int:
    """A non-negative value as the meter's scaled uint16 (clipped to the register)."""
    return max(0, min(0xFFFF, round(value / scale)))


def _channel_spectrum(m: MeterModel, n: int) -> tuple[float, ...]:
    return m.harmonics.channel[n - 1] if m.channel(n).current > 0 else (0.0,) * 30


def pq_values(m: MeterModel) -> dict[str, list[int]]:
    """Every power-quality block as registers (ground truth through the vendor scales)."""
    v = m.harmonics.voltage
    floats_now = m.system_floats()
    thd_v = [thd(s) for s in v]
    pct = PQ_PERCENT_SCALE
    channels = [_channel_spectrum(m, n) for n in range(1, CHANNEL_COUNT + 1)]
    return {
        "voltage_unbalance": [u16(floats_now["u_unbalance"], 0.1)],
        "thd_voltage": [u16(x, pct) for x in [*thd_v, sum(thd_v) / 3]],
        "ua_harmonic": [u16(h, pct) for h in v[0]],
        "ub_harmonic": [u16(h, pct) for h in v[1]],
        "uc_harmonic": [u16(h, pct) for h in v[2]],
        "current_unbalance": [u16(floats_now["i_unbalance"], 0.1)],
        "voltage_thd_detail": [
            r
            for s in v
            for r in (
                u16(odd_thd(s), pct),
                u16(even_thd(s), pct),
                u16(crest_factor(thd(s)), CREST_FACTOR_SCALE),
                0,
            )
        ],
        "channel_thd_detail": [
            r
            for s in channels
            for r in (
                u16(odd_thd(s), pct),
                u16(even_thd(s), pct),
                u16(k_factor(s) if any(s) else 0.0, K_FACTOR_SCALE),
            )
        ],
        "channel_harmonic": [
            r for s in channels for r in (u16(thd(s), pct), *(u16(h, pct) for h in s))
        ],
        "user_current_unbalance": [0] * USER_COUNT,
    }


def _pq(key: str) -> Encoder:
    def encode(m: MeterModel, blk: Block) -> list[int]:
        return pq_values(m)[key] if m.model == "333mv" else _zeros(blk)

    return encode


def phase_angles(m: MeterModel) -> list[int]:
    """Ub, Uc and the 18 channel current angles in 0.1 degree."""
    out = [u16(VOLTAGE_ANGLE[ph], 0.1) for ph in VOLTAGE_ANGLE if ph.value != "a"]
    for n in range(1, CHANNEL_COUNT + 1):
        r = m.channel(n)
        angle = current_angle(r.phase, r.active_power, r.reactive_power) if r.installed else 0.0
        out.append(u16(angle, 0.1) % 3600)
    return out


ENCODERS: dict[str, Encoder] = {
    "serial_number": lambda m, blk: encode_ascii(m.serial, blk.count),
    "device_model": _u16(lambda m: m.device_model),
    "firmware_version": _u16(lambda m: m.firmware_version),
    "hardware_version": _u16(lambda m: m.hardware_version),
    "map_version": _u16(lambda m: m.map_version),
    "meter_run_time": lambda m, _b: encode_uint32(
        math.floor(m.run_time_hours * 100 + 1e-9) % (1 << 32)
    ),
    "installed_channels": _u16(lambda m: m.installed_channels),
    "io_module_status": _u16(lambda m: 0b11 if m.installed_channels == 18 else 0b01),
    "display_module_present": _u16(lambda m: 1),
    "comm_module_type": _u16(lambda m: 2),
    "latest_alarm_record": _u16(lambda m: m.latest_alarm_record),
    "latest_soe_record": _u16(lambda m: m.latest_soe_record),
    "active_alarm_bitmap": _u16(lambda m: m.active_alarms),
    "di_status_bitmap": _u16(lambda m: _bitmap(m.digital_inputs)),
    "relay_status_bitmap": _u16(lambda m: _bitmap(m.relays)),
    "di_pulse_count": lambda m, _b: m.di_count_registers(),
    "channel_record": _channels,
    "user_record": _users,
    "demand_system": _demand_block(ENTRY_SYSTEM, DEMAND_POWER),
    "demand_phase": _demand_block(0, DEMAND_FULL),
    "demand_channel": _demand_block(FIRST_CHANNEL_ENTRY, DEMAND_FULL),
    "demand_user": _demand_block(FIRST_USER_ENTRY, DEMAND_POWER),
    "phase_angle": lambda m, _b: phase_angles(m),
    "alarm_record": _alarm_records,
    "soe_record": _soe_records,
    "log_window_status": _u16(lambda m: m.logs.window_status),
    "log_window_data": lambda m, _b: list(m.logs.window_data),
    "datalog_record_count": _u16(lambda m: len(m.logs.data)),
    "datalog_record_total": lambda m, _b: encode_uint32(m.logs.data_total),
    "alias_system_floats": _alias,
}
ENCODERS.update({key: _system_float(key) for key in SYSTEM_FLOAT_KEYS})
ENCODERS.update(
    {bank_block_key(bank): _bank(bank) for bank in ALL_BANKS if bank not in REALTIME_BANK_KEYS}
)
for _name, _key in ENERGY_BANK_USERS_2100.items():
    ENCODERS[_key] = _bank(_name, FIRST_EXTRA_USER_ENTRY, block(_key).count // 2)
ENCODERS["user_record_2100"] = _user_rows(USER_COUNT + 1)
for _name, _rows in ENERGY_BANK_ROWS.items():
    for _key in _rows:
        _first = (block(_key).address - block(_rows[0]).address) // 2
        ENCODERS[_key] = _bank(_name, _first, block(_key).count // 2)
# The power-quality blocks are the library's harmonics group (one list), plus the per-user
# unbalance it maps but does not decode.
for _key in (*HARMONICS_KEYS, "user_current_unbalance"):
    ENCODERS[_key] = _pq(_key)
ENCODERS.update(
    {
        key: _clock_field(i)
        for i, key in enumerate(
            ("clock_year", "clock_month", "clock_day", "clock_hour", "clock_minute", "clock_second")
        )
    }
)


def encode_block(m: MeterModel, blk: Block) -> list[int]:
    """The registers of a whole block as the meter would answer them now."""
    if blk.reserved or blk.access is Access.W:
        return _zeros(blk)
    if blk.key in m.config:
        return m.config.get(blk.key)
    encoder = ENCODERS.get(blk.key)
    if encoder is None:
        raise KeyError(f"no encoder for register block {blk.key!r}")
    regs = encoder(m, blk)
    if len(regs) != blk.count:  # pragma: no cover - an encoder bug
        raise RuntimeError(f"{blk.key}: encoded {len(regs)} registers, block has {blk.count}")
    return regs

"""The encoder: meter state -> registers, using only the shared map, codec and layouts.

Every holding block of ``registers.REGISTER_MAP`` has exactly one encoder here
(settings come straight from the config store); a block without one fails
loudly, so a row added to the map cannot silently read as zeros.

Choices where the map leaves room:

* channels beyond the installed ones (9-channel build) and user records that
  are not circuits of the wiring (all of them in 1LN) read all zero;
* in 2LN a user record's phase-C fields read 0 (its PF field too);
* the neutral current (0x201A) reads 0: the AcuRev has no neutral CT input;
* harmonics blocks stay mapped on the current-output ("ct") build but read 0,
  so a client's read plan does not depend on the build; ``ct_input_type``
  (0x0881) tells whether they mean anything;
* command registers read 0; reserved registers read 0;
* max/min records read 0 with a zero time after ``clear_max_min`` until the
  next sample; empty alarm/SOE ring slots read 0.
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
from pyacurev.layouts import (
    ALARM_RECORD_SIZE,
    DEMAND_RECORD_SIZE,
    MAX_MIN_PARAMS,
    SOE_RECORD_SIZE,
    SYSTEM_FLOAT_KEYS,
    USER_FIELDS,
    DemandOffset,
    Phase,
)
from pyacurev.registers import (
    BANK_ENTRIES,
    CHANNEL_COUNT,
    USER_COUNT,
    Access,
    Block,
    block,
)

from .energy import ALL_BANKS, bank_block_key
from .harmonics import crest_factor, k_factor, thd
from .physics import LOAD_NATURE_FLOAT, PHASES, ChannelReading, Power, unbalance

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


def _user_values(members: dict[Phase, Power], totals: Power) -> list[float]:
    """The 20 user-record floats; a phase the user lacks (2LN phase C) reads 0, its PF too."""
    phases = [members.get(ph, Power()) for ph in PHASES]
    values = {
        "current": [p.current for p in phases],
        "active_power": [p.active for p in phases] + [totals.active],
        "reactive_power": [p.reactive for p in phases] + [totals.reactive],
        "apparent_power": [p.apparent for p in phases] + [totals.apparent],
        "power_factor": [members[ph].power_factor if ph in members else 0.0 for ph in PHASES]
        + [totals.power_factor],
    }
    out = [v for group in values.values() for v in group]
    out.append(LOAD_NATURE_FLOAT[totals.load_nature])
    if len(out) != len(USER_FIELDS):  # pragma: no cover - layouts changed
        raise RuntimeError("user record layout drifted from layouts.USER_FIELDS")
    return out


def _users(m: MeterModel, _blk: Block) -> list[int]:
    out: list[int] = []
    users = m.users()
    for u in range(1, USER_COUNT + 1):
        if u not in users:
            out += [0] * 40
            continue
        reading = m.user(u)
        out += floats(_user_values(reading.phases, reading.totals))
    return out


def _system_float(key: str) -> Encoder:
    return lambda m, _blk: encode_float32(m.system_floats()[key])


def _alias(m: MeterModel, _blk: Block) -> list[int]:
    return m.read_registers(SYSTEM_START, ALIAS_SPAN)


def _bank(bank: str) -> Encoder:
    return lambda m, _blk: [r for c in m.energy.bank_counts(bank) for r in encode_uint32(c)]


def _demand(m: MeterModel, _blk: Block) -> list[int]:
    out: list[int] = []
    for entry in range(BANK_ENTRIES):
        d = m.demand(entry)
        rec = [0] * DEMAND_RECORD_SIZE
        rec[DemandOffset.CURRENT : DemandOffset.CURRENT + 2] = encode_float32(d.current or 0.0)
        rec[DemandOffset.ACTIVE : DemandOffset.ACTIVE + 2] = encode_float32(d.active or 0.0)
        rec[DemandOffset.REACTIVE : DemandOffset.REACTIVE + 2] = encode_float32(d.reactive or 0.0)
        rec[DemandOffset.APPARENT : DemandOffset.APPARENT + 2] = encode_float32(d.apparent or 0.0)
        rec[DemandOffset.PREDICTED_ACTIVE : DemandOffset.PREDICTED_ACTIVE + 2] = encode_float32(
            d.predicted_active or 0.0
        )
        for offset, peak in (
            (DemandOffset.PEAK_CURRENT, d.peak_current),
            (DemandOffset.PEAK_ACTIVE, d.peak_active),
            (DemandOffset.PEAK_REACTIVE, d.peak_reactive),
            (DemandOffset.PEAK_APPARENT, d.peak_apparent),
        ):
            rec[offset : offset + 5] = [
                *encode_float32(peak.value or 0.0),
                *encode_time3(peak.time),
            ]
        out += rec
    return out


def _max_min(m: MeterModel, _blk: Block) -> list[int]:
    out: list[int] = []
    for param in MAX_MIN_PARAMS:
        rec = m.max_min_record(param)
        if rec is None:
            out += [0] * 10
            continue
        hi, hi_t, lo, lo_t = rec
        out += [*encode_float32(hi), *encode_time3(hi_t), *encode_float32(lo), *encode_time3(lo_t)]
    return out


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


# ---------------------------------------------------------------- harmonics (333 mV only)


def _pq(m: MeterModel, blk: Block, values: Callable[[MeterModel], list[float]]) -> list[int]:
    return floats(values(m)) if m.model == "333mv" else _zeros(blk)


def _voltage_thd(m: MeterModel) -> list[float]:
    per_phase = [thd(s) for s in m.harmonics.voltage]
    return [*per_phase, sum(per_phase) / 3]


def _channel_thd(m: MeterModel, n: int) -> float:
    return thd(m.harmonics.channel[n - 1]) if m.channel(n).current > 0 else 0.0


def _channel_k(m: MeterModel, n: int) -> float:
    return k_factor(m.harmonics.channel[n - 1]) if m.channel(n).current > 0 else 0.0


def _selected(m: MeterModel) -> int:
    return m.config.value("current_harmonic_channel_select")


def _selected_spectrum(m: MeterModel) -> list[float]:
    n = _selected(m)
    return list(m.harmonics.channel[n - 1]) if m.channel(n).current > 0 else [0.0] * 30


HARMONICS: dict[str, Callable[[MeterModel], list[float]]] = {
    "thd_voltage": _voltage_thd,
    "crest_factor": lambda m: [crest_factor(thd(s)) for s in m.harmonics.voltage],
    "voltage_unbalance": lambda m: [unbalance((m.voltage(1), m.voltage(2), m.voltage(3)))],
    "u1_harmonic": lambda m: list(m.harmonics.voltage[0]),
    "u2_harmonic": lambda m: list(m.harmonics.voltage[1]),
    "u3_harmonic": lambda m: list(m.harmonics.voltage[2]),
    "selected_channel_thd": lambda m: [_channel_thd(m, _selected(m))],
    "selected_channel_k_factor": lambda m: [_channel_k(m, _selected(m))],
    "selected_channel_harmonic": _selected_spectrum,
    "channel_thd": lambda m: [_channel_thd(m, n) for n in range(1, CHANNEL_COUNT + 1)],
    "channel_k_factor": lambda m: [_channel_k(m, n) for n in range(1, CHANNEL_COUNT + 1)],
}


def _harmonics(key: str) -> Encoder:
    return lambda m, blk: _pq(m, blk, HARMONICS[key])


ENCODERS: dict[str, Encoder] = {
    "serial_number": lambda m, blk: encode_ascii(m.serial, blk.count),
    "device_model": _u16(lambda m: m.device_model),
    "firmware_version": _u16(lambda m: m.firmware_version),
    "hardware_version": _u16(lambda m: m.hardware_version),
    "map_version": _u16(lambda m: m.map_version),
    "meter_run_time": lambda m, _b: encode_uint32(
        math.floor(m.run_time_hours * 100 + 1e-9) % (1 << 32)
    ),
    "ct_input_type": _u16(lambda m: 1 if m.model == "333mv" else 0),
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
    "demand_record": _demand,
    "max_min_record": _max_min,
    "alarm_record": _alarm_records,
    "soe_record": _soe_records,
    "log_window_status": _u16(lambda m: m.logs.window_status),
    "log_window_data": lambda m, _b: list(m.logs.window_data),
    "datalog_record_count": _u16(lambda m: len(m.logs.data)),
    "datalog_record_total": lambda m, _b: encode_uint32(m.logs.data_total),
    "alias_system_floats": _alias,
}
ENCODERS.update({key: _system_float(key) for key in SYSTEM_FLOAT_KEYS})
ENCODERS.update({bank_block_key(bank): _bank(bank) for bank in ALL_BANKS})
ENCODERS.update({key: _harmonics(key) for key in HARMONICS})
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

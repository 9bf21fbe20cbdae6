"""Map profiles: how a simulated meter's firmware lays out its registers.

``full`` (the default) answers our whole table through ``image.py``, designed
rows included. The other two play a real meter whose map differs from ours:

* ``evidence`` answers only the addresses the vendor-derived evidence gives
  (SEED, VERIFIED, VERIFIED-2100 in ``docs/reference/register-map.md``); every
  other address, and every request that touches one, gets exception 02;
* ``divergent`` answers the same evidence layout, but our DESIGNED blocks
  answer other data: the identity block reads zeros (no serial, model 0, map
  version 0) and every other designed register reads garbage; UNKNOWN rows
  answer exception 02.

The evidence layout below is written from the sources (AcuRev 2100 vendor
workbook v1.02 as used in ``gzh3797-del/pytest_gzh``: ``Protocols/devices/
acurev2100.py`` @6e55e0c, the General-Settings test; the 2000 manual for the
seed rows) with literal addresses, vendor field orders and vendor codes. It
deliberately does not import ``pyacurev.registers``, ``layouts`` or
``image.py``'s layouts: an address or order wrong in our table then shows up
as a test failure against these profiles instead of being copied into both
sides. Only the physics (what the meter measures) is shared.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pyacurev.codec import encode_time3

from .errors import ILLEGAL_DATA_ADDRESS, ModbusError
from .harmonics import crest_factor, even_thd, k_factor, odd_thd, thd
from .physics import LOAD_NATURE_FLOAT, PHASES, VOLTAGE_ANGLE, current_angle

if TYPE_CHECKING:
    from .meter import MeterModel


class MapProfile(StrEnum):
    """Which register layout the simulated firmware answers."""

    FULL = "full"
    EVIDENCE = "evidence"
    DIVERGENT = "divergent"


type Words = Callable[["MeterModel"], list[int]]

# --------------------------------------------------------------------------- encodings


def _f32(value: float) -> list[int]:
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


def _u32(value: int) -> list[int]:
    value %= 1 << 32
    return [value >> 16, value & 0xFFFF]


def _u16(value: float, scale: float) -> int:
    return max(0, min(0xFFFF, round(value / scale)))


def _time3(when: datetime | None) -> list[int]:
    # The 3-register packing of a peak time is not in the evidence (only its
    # size); it stays our designed codec, shared with the client on purpose.
    return encode_time3(when)


# --------------------------------------------------------------------------- vendor layout

# Vendor wiring codes (S10): 0 = 1LN, 1 = 3LN, 2 = 2LN; the 2100 adds 3 = high-leg
# delta, 4 = 2LL, 5 = 2LN network.
_WIRING_CODE = {"1LN": 0, "3LN": 1, "2LN": 2, "HLD": 3, "2LL": 4, "2LN-NET": 5}
# Vendor CT type codes (S10): 120 = RCT, 333 = 333 mV.
_CT_TYPE = {"ct": 120, "333mv": 333}
_CHANNELS = 18
_USERS = 6  # the 2000's user count; the vendor's 28-entry banks end at user 6
# The 2100's users s001-s009 (S9): records 7-9 continue 0x21D8, their energy is appended.
_USERS_2100 = 9
_EXTRA_USER_ENTRY = 28  # the simulator's entry of user 7 (entries 28-30 after the map's 28)


def _user_count(m: MeterModel) -> int:
    return _USERS_2100 if m.family == "2100" else _USERS


def _settings_080a(m: MeterModel) -> list[int]:
    # 0x080A demand method, 0x080B interval, 0x080C sub-interval, 0x080D CT type.
    c = m.config
    return [
        c.value("demand_method"),
        c.value("demand_interval"),
        c.value("demand_subinterval"),
        _CT_TYPE[m.model],
    ]


def _settings_0835(m: MeterModel) -> list[int]:
    return [m.config.value("var_calc_method"), m.config.value("var_pf_convention")]


def _settings_0887(m: MeterModel) -> list[int]:
    # 0x0887 rated voltage, 0x0888 wiring, 0x0889..0x089A CT primary of channels 1-18.
    rated = m.config.value("rated_voltage")
    return [rated, _WIRING_CODE[m.wiring.value], *(m.ct_primary(n) for n in range(1, 19))]


def _clock(m: MeterModel) -> list[int]:
    c = m.clock
    return [c.year, c.month, c.day, c.hour, c.minute, c.second]


def _system(m: MeterModel) -> list[int]:
    """0x2000-0x2041 in the vendor order (S9): no neutral current, no unbalance floats."""
    s = m.system()
    ph = [s.phases[p] for p in PHASES]
    ll = s.voltage_ll
    il = [p.current for p in ph]
    values = [
        s.frequency,
        *(s.voltage[p] for p in PHASES),
        s.voltage_avg,
        ll["ab"],
        ll["bc"],
        ll["ca"],
        sum(ll.values()) / 3,
        *il,
        sum(il) / 3,
        s.totals.active,
        s.totals.reactive,
        s.totals.apparent,
        s.totals.power_factor,
        LOAD_NATURE_FLOAT[s.totals.load_nature],
        *(p.active for p in ph),
        *(p.reactive for p in ph),
        *(p.apparent for p in ph),
        *(p.power_factor for p in ph),
        *(LOAD_NATURE_FLOAT[p.load_nature] for p in ph),
    ]
    return [w for v in values for w in _f32(v)]


def _channels(m: MeterModel) -> list[int]:
    """0x2100 + 12(n-1): I, P, Q, S, PF, load nature."""
    out: list[int] = []
    for n in range(1, _CHANNELS + 1):
        r = m.channel(n)
        values = (
            [
                r.current,
                r.active_power,
                r.reactive_power,
                r.apparent_power,
                r.power_factor,
                LOAD_NATURE_FLOAT[r.load_nature],
            ]
            if r.installed
            else [0.0] * 6
        )
        out += [w for v in values for w in _f32(v)]
    return out


def _users(m: MeterModel) -> list[int]:
    """0x21D8 + 10(u-1): P, Q, S, PF, load nature (no per-phase values); 2100: u = 1..9."""
    out: list[int] = []
    present = m.users()
    for u in range(1, _user_count(m) + 1):
        if u not in present:
            out += [0] * 10
            continue
        t = m.user(u).totals
        values = [
            t.active,
            t.reactive,
            t.apparent,
            t.power_factor,
            LOAD_NATURE_FLOAT[t.load_nature],
        ]
        out += [w for v in values for w in _f32(v)]
    return out


def _bank(bank: str) -> Words:
    """28 uint32 entries: phase A, B, C, system, channels 1-18, users 1-6."""

    def words(m: MeterModel) -> list[int]:
        return [w for e in range(28) for w in _u32(m.energy_counts(bank, e))]

    return words


def _users_7_9_bank(bank: str) -> Words:
    """2100: users 7-9 of a bank, 3 uint32 (0x2538 kWh, 0x2B70 kvarh, 0x2B76 kVAh; S9)."""

    def words(m: MeterModel) -> list[int]:
        return [
            w
            for e in range(_EXTRA_USER_ENTRY, _EXTRA_USER_ENTRY + 3)
            for w in _u32(m.energy_counts(bank, e))
        ]

    return words


def _demand_record(m: MeterModel, entry: int, quantity: int) -> list[int]:
    """9 registers: float demand, float predicted, float maximum, 3-register time of the max."""
    d = m.demand(entry)
    present = (d.current, d.active, d.reactive, d.apparent)[quantity]
    peak = (d.peak_current, d.peak_active, d.peak_reactive, d.peak_apparent)[quantity]
    return [
        *_f32(present or 0.0),
        *_f32(m.demand_tracker.predicted(entry, quantity)),
        *_f32(peak.value or 0.0),
        *_time3(peak.time),
    ]


def _demand(m: MeterModel) -> list[int]:
    """0x2D00-0x30B0: system P,Q,S; phases A-C I,P,Q,S; channels I,P,Q,S; users P,Q,S."""
    out: list[int] = []
    for q in (1, 2, 3):  # system at 0x2D00: P, Q, S
        out += _demand_record(m, 3, q)
    for entry in (0, 1, 2):  # phase A at 0x2D1B, B 0x2D3F, C 0x2D63
        for q in (0, 1, 2, 3):
            out += _demand_record(m, entry, q)
    for n in range(1, _CHANNELS + 1):  # 0x2D87 + 36(n-1)
        for q in (0, 1, 2, 3):
            out += _demand_record(m, 3 + n, q)
    for u in range(1, _USERS + 1):  # 0x300F + 27(u-1)
        for q in (1, 2, 3):
            out += _demand_record(m, 21 + u, q)
    return out


def _is_333(m: MeterModel) -> bool:
    return m.model == "333mv"


def _spectrum(m: MeterModel, n: int) -> tuple[float, ...]:
    return m.harmonics.channel[n - 1] if m.channel(n).current > 0 else (0.0,) * 30


def _pq_voltage(m: MeterModel) -> list[int]:
    """0x3200 U unbalance x0.1 %; 0x3201-04 THD Ua-c/avg, 0x3205/23/41 orders 2-31, x0.01 %."""
    if not _is_333(m):
        return [0] * 0x5F
    v = m.harmonics.voltage
    thds = [thd(s) for s in v]
    floats = m.system_floats()
    out = [_u16(floats["u_unbalance"], 0.1), *(_u16(t, 0.01) for t in thds)]
    out.append(_u16(sum(thds) / 3, 0.01))
    for s in v:
        out += [_u16(h, 0.01) for h in s]
    return out


def _pq_detail(m: MeterModel) -> list[int]:
    """0x325F I unbalance x0.1 %; 0x3260 + 4p: odd THD, even THD, crest x0.001, THFF."""
    if not _is_333(m):
        return [0] * 13
    out = [_u16(m.system_floats()["i_unbalance"], 0.1)]
    for s in m.harmonics.voltage:
        out += [
            _u16(odd_thd(s), 0.01),
            _u16(even_thd(s), 0.01),
            _u16(crest_factor(thd(s)), 0.001),
            0,
        ]
    return out


def _pq_channel_detail(m: MeterModel) -> list[int]:
    """0x32A0 + 3(n-1): odd THD, even THD (x0.01 %), K factor (x0.1)."""
    if not _is_333(m):
        return [0] * 54
    out: list[int] = []
    for n in range(1, _CHANNELS + 1):
        s = _spectrum(m, n)
        k = k_factor(s) if any(s) else 0.0
        out += [_u16(odd_thd(s), 0.01), _u16(even_thd(s), 0.01), _u16(k, 0.1)]
    return out


def _pq_channel_harmonics(m: MeterModel) -> list[int]:
    """0x3300 + 31(n-1): THD, then orders 2-31 (x0.01 %); 0x352E user current unbalance."""
    if not _is_333(m):
        return [0] * (558 + _user_count(m))
    out: list[int] = []
    for n in range(1, _CHANNELS + 1):
        s = _spectrum(m, n)
        out += [_u16(thd(s), 0.01), *(_u16(h, 0.01) for h in s)]
    return out + [0] * _user_count(m)


def _angles(m: MeterModel) -> list[int]:
    """0x3600 Ub, 0x3601 Uc, 0x3602 + (n-1) channel current angle, x0.1 degree."""
    out = [_u16(VOLTAGE_ANGLE[PHASES[1]], 0.1), _u16(VOLTAGE_ANGLE[PHASES[2]], 0.1)]
    for n in range(1, _CHANNELS + 1):
        r = m.channel(n)
        a = current_angle(r.phase, r.active_power, r.reactive_power) if r.installed else 0.0
        out.append(_u16(a, 0.1) % 3600)
    return out


def _passthrough(m: MeterModel, start: int, count: int) -> list[int]:
    """Seed/manual-verified rows whose content this module does not model itself."""
    return m.full_registers(start, count)


# (start, count, words) of every evidence-backed holding range of the 2020.
EVIDENCE_LAYOUT_2020: tuple[tuple[int, int, Words], ...] = (
    (0x080A, 4, _settings_080a),
    (0x0835, 2, _settings_0835),
    (0x0887, 20, _settings_0887),
    (0x1054, 6, _clock),
    # data-log set-up (manual 2014 p.191-192): served by the full encoder
    (0x1302, 0x13B9 - 0x1302, lambda m: _passthrough(m, 0x1302, 0x13B9 - 0x1302)),
    (0x2000, 66, _system),
    (0x2100, 216, _channels),
    (0x21D8, 60, _users),
    (0x2500, 56, _bank("import_active")),
    (0x2B00, 56, _bank("import_reactive")),
    (0x2B38, 56, _bank("apparent")),
    (0x2D00, 0x30B1 - 0x2D00, _demand),
    (0x3200, 0x5F, _pq_voltage),
    (0x325F, 13, _pq_detail),
    (0x32A0, 54, _pq_channel_detail),
    (0x3300, 558 + _USERS, _pq_channel_harmonics),
    (0x3600, 20, _angles),
    # log window status and offset (manual 2014 p.198)
    (0x3B01, 3, lambda m: _passthrough(m, 0x3B01, 3)),
)
# The 2100: users 1-9 records, users 7-9 energy appended, 9 user current unbalances (S9).
EVIDENCE_LAYOUT_2100: tuple[tuple[int, int, Words], ...] = (
    (0x080A, 4, _settings_080a),
    (0x0835, 2, _settings_0835),
    (0x0887, 20, _settings_0887),
    (0x1054, 6, _clock),
    # data-log set-up (manual 2014 p.191-192): served by the full encoder
    (0x1302, 0x13B9 - 0x1302, lambda m: _passthrough(m, 0x1302, 0x13B9 - 0x1302)),
    (0x2000, 66, _system),
    (0x2100, 216, _channels),
    (0x21D8, 90, _users),
    (0x2500, 56, _bank("import_active")),
    (0x2538, 6, _users_7_9_bank("import_active")),
    (0x2B00, 56, _bank("import_reactive")),
    (0x2B38, 56, _bank("apparent")),
    (0x2B70, 6, _users_7_9_bank("import_reactive")),
    (0x2B76, 6, _users_7_9_bank("apparent")),
    (0x2D00, 0x30B1 - 0x2D00, _demand),
    (0x3200, 0x5F, _pq_voltage),
    (0x325F, 13, _pq_detail),
    (0x32A0, 54, _pq_channel_detail),
    (0x3300, 558 + _USERS_2100, _pq_channel_harmonics),
    (0x3600, 20, _angles),
    # log window status and offset (manual 2014 p.198)
    (0x3B01, 3, lambda m: _passthrough(m, 0x3B01, 3)),
)
EVIDENCE_LAYOUT = EVIDENCE_LAYOUT_2020
_LAYOUTS = {"2020": EVIDENCE_LAYOUT_2020, "2100": EVIDENCE_LAYOUT_2100}


# Coils 0-7 (relays) and discrete inputs 0-7 (DIs): seed.
EVIDENCE_BITS = 8
# The identity and command block the divergent firmware answers with zeros.
IDENTITY_RANGE = (0x1000, 0x1054)


def _covering(address: int, count: int, meter: str = "2020") -> list[tuple[int, int, Words]] | None:
    """The layout ranges a request touches, or None when any register of it is not held.

    Adjacent ranges answer together (0x2100 channels run straight into 0x21D8
    users; 0x2B00 kvarh into 0x2B38 kVAh), as the firmware's map is one table.
    """
    if count < 1:
        return None
    parts: list[tuple[int, int, Words]] = []
    at, end = address, address + count
    for start, size, words in sorted(_LAYOUTS[meter], key=lambda r: r[0]):
        if start <= at < start + size:
            parts.append((start, size, words))
            at = start + size
            if at >= end:
                return parts
    return None


def evidence_answers(address: int, count: int, meter: str = "2020") -> bool:
    """True when the meter's evidence layout holds every register of the request."""
    return _covering(address, count, meter) is not None


def _garbage(address: int) -> int:
    # Deterministic junk that is neither 0 nor a plausible small number.
    return (address * 2654435761 >> 7) & 0xFFFF | 0x8001


def read(m: MeterModel, profile: MapProfile, address: int, count: int) -> list[int]:
    """FC03 as the profile's firmware answers it (``full`` is handled by the meter)."""
    parts = _covering(address, count, m.family)
    if parts is not None:
        out: list[int] = []
        for start, size, words in parts:
            regs = words(m)
            lo = max(start, address)
            hi = min(start + size, address + count)
            out += regs[lo - start : hi - start]
        return out
    if profile is MapProfile.DIVERGENT and m.designed_map_answers(address, count):
        lo, hi = IDENTITY_RANGE
        return [0 if lo <= a < hi else _garbage(a) for a in range(address, address + count)]
    raise ModbusError(ILLEGAL_DATA_ADDRESS, f"{count} registers at {address:#06x} ({profile})")


def check_bits(address: int, count: int) -> None:
    """FC01/02/05 outside relays/DIs 1-8: exception 02 (as in every profile)."""
    if count < 1 or address < 0 or address + count > EVIDENCE_BITS:
        raise ModbusError(ILLEGAL_DATA_ADDRESS, f"{count} bits at {address}")


def check_write(profile: MapProfile, address: int, count: int, meter: str = "2020") -> None:
    """FC16 outside the evidence layout: exception 02 (the firmware has no such register)."""
    if profile is MapProfile.FULL:
        return
    if _covering(address, count, meter) is None:
        raise ModbusError(ILLEGAL_DATA_ADDRESS, f"{count} registers at {address:#06x} ({profile})")


# Make sure the literal layout does not overlap itself (a typo here must not pass silently).
for _layout in _LAYOUTS.values():
    _spans = sorted((s, s + n) for s, n, _ in _layout)
    if any(a[1] > b[0] for a, b in itertools.pairwise(_spans)):  # pragma: no cover
        raise RuntimeError("evidence layout overlaps itself")

"""The point catalogue: every value a meter exposes, as data.

Home Assistant entity descriptions are derived from this table, and the bridge
maps any entity back to a point through its unique id (``<serial>_<key>``), so
keys are a public contract: never rename one. Nothing here imports
``homeassistant``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .protocol.layouts import LoadNature, Phase, Wiring, circuits, user_inputs
from .protocol.models import DeviceInfo, EnergyBank, Snapshot

type PointValue = float | str | datetime | None


class Kind(StrEnum):
    """What a point is to a consumer."""

    MEASUREMENT = "measurement"
    COUNTER = "counter"
    BINARY = "binary"
    RELAY = "relay"
    TIMESTAMP = "timestamp"


class Quantity(StrEnum):
    """Physical quantity; decides device class and unit in Home Assistant."""

    VOLTAGE = "voltage"
    CURRENT = "current"
    ACTIVE_POWER = "active_power"
    REACTIVE_POWER = "reactive_power"
    APPARENT_POWER = "apparent_power"
    POWER_FACTOR = "power_factor"
    FREQUENCY = "frequency"
    PERCENT = "percent"
    LOAD_NATURE = "load_nature"
    ENERGY = "energy"
    REACTIVE_ENERGY = "reactive_energy"
    APPARENT_ENERGY = "apparent_energy"
    COUNT = "count"
    RATIO = "ratio"
    DURATION_H = "duration_h"
    DURATION_S = "duration_s"
    TIMESTAMP = "timestamp"
    STATE = "state"


class Poll(StrEnum):
    """Which coordinator reads the point: fast readings or the slower counters."""

    FAST = "fast"
    SLOW = "slow"


class Option(StrEnum):
    """Optional groups the user switches on or off in the options flow."""

    PER_PHASE = "per_phase"
    DEMAND = "demand"
    TOU = "tou"
    MONTHLY = "monthly"
    HARMONICS = "harmonics"


UNITS: Mapping[Quantity, str | None] = {
    Quantity.VOLTAGE: "V",
    Quantity.CURRENT: "A",
    Quantity.ACTIVE_POWER: "W",
    Quantity.REACTIVE_POWER: "var",
    Quantity.APPARENT_POWER: "VA",
    Quantity.POWER_FACTOR: None,
    Quantity.FREQUENCY: "Hz",
    Quantity.PERCENT: "%",
    Quantity.LOAD_NATURE: None,
    Quantity.ENERGY: "kWh",
    Quantity.REACTIVE_ENERGY: "kvarh",
    Quantity.APPARENT_ENERGY: "kVAh",
    Quantity.COUNT: None,
    Quantity.RATIO: None,
    Quantity.DURATION_H: "h",
    Quantity.DURATION_S: "s",
    Quantity.TIMESTAMP: None,
    Quantity.STATE: None,
}


@dataclass(frozen=True, slots=True)
class Point:
    """One exported value of a meter."""

    key: str
    kind: Kind
    quantity: Quantity
    translation_key: str
    value: Callable[[Snapshot], PointValue]
    poll: Poll = Poll.FAST
    placeholders: Mapping[str, str] = field(default_factory=dict)
    channel: int | None = None
    user: int | None = None
    phase: Phase | None = None
    option: Option | None = None
    enabled_default: bool = True
    diagnostic: bool = False

    @property
    def unit(self) -> str | None:
        """Unit as published (powers in W/var/VA, energy in kWh/kvarh/kVAh)."""
        return UNITS[self.quantity]


@dataclass(frozen=True, slots=True)
class PointOptions:
    """Which optional groups exist for one meter."""

    enabled: frozenset[Option] = frozenset({Option.PER_PHASE})


def _kilo(value: float | None) -> float | None:
    """The map stores kW/kvar/kVA; Home Assistant's Energy dashboard wants W."""
    return None if value is None else value * 1000.0


def _nature(value: LoadNature | None) -> str | None:
    return None if value is None else str(value)


PHASES = (Phase.A, Phase.B, Phase.C)
_LL = ("ab", "bc", "ca")


def _system_points(opts: PointOptions) -> list[Point]:
    pts: list[Point] = [
        Point("frequency", Kind.MEASUREMENT, Quantity.FREQUENCY, "frequency",
              lambda s: s.system.frequency if s.system else None),
        Point("voltage_avg", Kind.MEASUREMENT, Quantity.VOLTAGE, "voltage_avg",
              lambda s: s.system.voltage_avg if s.system else None),
        Point("current_avg", Kind.MEASUREMENT, Quantity.CURRENT, "current_avg",
              lambda s: s.system.current_avg if s.system else None, enabled_default=False),
        Point("active_power", Kind.MEASUREMENT, Quantity.ACTIVE_POWER, "active_power",
              lambda s: _kilo(s.system.active_power_total) if s.system else None),
        Point("reactive_power", Kind.MEASUREMENT, Quantity.REACTIVE_POWER, "reactive_power",
              lambda s: _kilo(s.system.reactive_power_total) if s.system else None),
        Point("apparent_power", Kind.MEASUREMENT, Quantity.APPARENT_POWER, "apparent_power",
              lambda s: _kilo(s.system.apparent_power_total) if s.system else None),
        Point("power_factor", Kind.MEASUREMENT, Quantity.POWER_FACTOR, "power_factor",
              lambda s: s.system.power_factor_total if s.system else None),
        Point("voltage_unbalance", Kind.MEASUREMENT, Quantity.PERCENT, "voltage_unbalance",
              lambda s: s.system.voltage_unbalance if s.system else None, enabled_default=False),
        Point("current_unbalance", Kind.MEASUREMENT, Quantity.PERCENT, "current_unbalance",
              lambda s: s.system.current_unbalance if s.system else None, enabled_default=False),
        Point("load_nature", Kind.MEASUREMENT, Quantity.LOAD_NATURE, "load_nature",
              lambda s: _nature(s.system.load_nature_total) if s.system else None,
              enabled_default=False),
    ]
    for ph in PHASES:
        ph_ = {"phase": ph.upper()}
        pts += [
            Point(f"voltage_{ph}", Kind.MEASUREMENT, Quantity.VOLTAGE, "phase_voltage",
                  lambda s, p=ph: s.system.voltage[p] if s.system else None,
                  placeholders=ph_, phase=ph),
            Point(f"current_{ph}", Kind.MEASUREMENT, Quantity.CURRENT, "phase_current",
                  lambda s, p=ph: s.system.current[p] if s.system else None,
                  placeholders=ph_, phase=ph),
        ]
        if Option.PER_PHASE in opts.enabled:
            pts += [
                Point(f"active_power_{ph}", Kind.MEASUREMENT, Quantity.ACTIVE_POWER,
                      "phase_active_power",
                      lambda s, p=ph: _kilo(s.system.active_power[p]) if s.system else None,
                      placeholders=ph_, phase=ph, option=Option.PER_PHASE),
                Point(f"reactive_power_{ph}", Kind.MEASUREMENT, Quantity.REACTIVE_POWER,
                      "phase_reactive_power",
                      lambda s, p=ph: _kilo(s.system.reactive_power[p]) if s.system else None,
                      placeholders=ph_, phase=ph, option=Option.PER_PHASE, enabled_default=False),
                Point(f"apparent_power_{ph}", Kind.MEASUREMENT, Quantity.APPARENT_POWER,
                      "phase_apparent_power",
                      lambda s, p=ph: _kilo(s.system.apparent_power[p]) if s.system else None,
                      placeholders=ph_, phase=ph, option=Option.PER_PHASE, enabled_default=False),
                Point(f"power_factor_{ph}", Kind.MEASUREMENT, Quantity.POWER_FACTOR,
                      "phase_power_factor",
                      lambda s, p=ph: s.system.power_factor[p] if s.system else None,
                      placeholders=ph_, phase=ph, option=Option.PER_PHASE, enabled_default=False),
                Point(f"import_energy_{ph}", Kind.COUNTER, Quantity.ENERGY, "phase_import_energy",
                      lambda s, p=ph: _bank(s, "import_active", lambda b: b.phase(p)),
                      poll=Poll.SLOW, placeholders=ph_, phase=ph, option=Option.PER_PHASE),
                Point(f"export_energy_{ph}", Kind.COUNTER, Quantity.ENERGY, "phase_export_energy",
                      lambda s, p=ph: _bank(s, "export_active", lambda b: b.phase(p)),
                      poll=Poll.SLOW, placeholders=ph_, phase=ph, option=Option.PER_PHASE),
            ]
    # Disabled by default: a 4-wire installation may report 0 here (manual screenshot).
    for ll in _LL:
        pts.append(
            Point(f"voltage_{ll}", Kind.MEASUREMENT, Quantity.VOLTAGE, "line_voltage",
                  lambda s, x=ll: s.system.voltage_ll[x] if s.system else None,
                  placeholders={"line": ll.upper()}, enabled_default=False)
        )
    pts += [
        Point("import_energy", Kind.COUNTER, Quantity.ENERGY, "import_energy",
              lambda s: _bank(s, "import_active", lambda b: b.system), poll=Poll.SLOW),
        Point("export_energy", Kind.COUNTER, Quantity.ENERGY, "export_energy",
              lambda s: _bank(s, "export_active", lambda b: b.system), poll=Poll.SLOW),
        Point("import_reactive_energy", Kind.COUNTER, Quantity.REACTIVE_ENERGY,
              "import_reactive_energy",
              lambda s: _bank(s, "import_reactive", lambda b: b.system), poll=Poll.SLOW),
        Point("export_reactive_energy", Kind.COUNTER, Quantity.REACTIVE_ENERGY,
              "export_reactive_energy",
              lambda s: _bank(s, "export_reactive", lambda b: b.system), poll=Poll.SLOW),
        Point("apparent_energy", Kind.COUNTER, Quantity.APPARENT_ENERGY, "apparent_energy",
              lambda s: _bank(s, "apparent", lambda b: b.system), poll=Poll.SLOW),
    ]
    return pts


def _bank(snapshot: Snapshot, name: str, pick: Callable[[EnergyBank], float]) -> float | None:
    if snapshot.energy is None:
        return None
    bank: EnergyBank = getattr(snapshot.energy, name)
    return pick(bank)


def _channel_points(channel: int) -> list[Point]:
    ph = {"channel": str(channel)}
    key = f"ch{channel:02d}"

    def rec(s: Snapshot) -> object | None:
        return next((c for c in s.channels if c.channel == channel), None)

    def field_of(name: str, scale: bool = False) -> Callable[[Snapshot], PointValue]:
        def get(s: Snapshot) -> PointValue:
            r = rec(s)
            if r is None:
                return None
            v = getattr(r, name)
            if name == "load_nature":
                return _nature(v)
            return _kilo(v) if scale else v
        return get

    def energy(bank: str) -> Callable[[Snapshot], PointValue]:
        return lambda s: _bank(s, bank, lambda b: b.channel(channel))

    common = {"placeholders": ph, "channel": channel}
    return [
        Point(f"{key}_current", Kind.MEASUREMENT, Quantity.CURRENT, "channel_current",
              field_of("current"), **common),
        Point(f"{key}_active_power", Kind.MEASUREMENT, Quantity.ACTIVE_POWER,
              "channel_active_power", field_of("active_power", True), **common),
        Point(f"{key}_reactive_power", Kind.MEASUREMENT, Quantity.REACTIVE_POWER,
              "channel_reactive_power", field_of("reactive_power", True),
              enabled_default=False, **common),
        Point(f"{key}_apparent_power", Kind.MEASUREMENT, Quantity.APPARENT_POWER,
              "channel_apparent_power", field_of("apparent_power", True),
              enabled_default=False, **common),
        Point(f"{key}_power_factor", Kind.MEASUREMENT, Quantity.POWER_FACTOR,
              "channel_power_factor", field_of("power_factor"), **common),
        Point(f"{key}_load_nature", Kind.MEASUREMENT, Quantity.LOAD_NATURE,
              "channel_load_nature", field_of("load_nature"), enabled_default=False, **common),
        Point(f"{key}_import_energy", Kind.COUNTER, Quantity.ENERGY, "channel_import_energy",
              energy("import_active"), poll=Poll.SLOW, **common),
        Point(f"{key}_export_energy", Kind.COUNTER, Quantity.ENERGY, "channel_export_energy",
              energy("export_active"), poll=Poll.SLOW, **common),
        Point(f"{key}_import_reactive_energy", Kind.COUNTER, Quantity.REACTIVE_ENERGY,
              "channel_import_reactive_energy", energy("import_reactive"), poll=Poll.SLOW,
              enabled_default=False, **common),
        Point(f"{key}_export_reactive_energy", Kind.COUNTER, Quantity.REACTIVE_ENERGY,
              "channel_export_reactive_energy", energy("export_reactive"), poll=Poll.SLOW,
              enabled_default=False, **common),
        Point(f"{key}_apparent_energy", Kind.COUNTER, Quantity.APPARENT_ENERGY,
              "channel_apparent_energy", energy("apparent"), poll=Poll.SLOW,
              enabled_default=False, **common),
    ]


def _user_points(user: int, wiring: Wiring, opts: PointOptions) -> list[Point]:
    ph = {"user": str(user)}
    key = f"user{user}"

    def rec(s: Snapshot) -> object | None:
        return next((u for u in s.users if u.user == user), None)

    def total(name: str, scale: bool = False) -> Callable[[Snapshot], PointValue]:
        def get(s: Snapshot) -> PointValue:
            r = rec(s)
            if r is None:
                return None
            v = getattr(r, name)
            if name == "load_nature":
                return _nature(v)
            return _kilo(v) if scale else v
        return get

    def phase_of(name: str, phase: Phase, scale: bool = False) -> Callable[[Snapshot], PointValue]:
        def get(s: Snapshot) -> PointValue:
            r = rec(s)
            if r is None:
                return None
            v = getattr(r, name)[phase]
            return _kilo(v) if scale else v
        return get

    def energy(bank: str) -> Callable[[Snapshot], PointValue]:
        return lambda s: _bank(s, bank, lambda b: b.user(user))

    common = {"user": user}
    pts = [
        Point(f"{key}_active_power", Kind.MEASUREMENT, Quantity.ACTIVE_POWER, "user_active_power",
              total("active_power_total", True), placeholders=ph, **common),
        Point(f"{key}_reactive_power", Kind.MEASUREMENT, Quantity.REACTIVE_POWER,
              "user_reactive_power", total("reactive_power_total", True), placeholders=ph,
              enabled_default=False, **common),
        Point(f"{key}_apparent_power", Kind.MEASUREMENT, Quantity.APPARENT_POWER,
              "user_apparent_power", total("apparent_power_total", True), placeholders=ph,
              enabled_default=False, **common),
        Point(f"{key}_power_factor", Kind.MEASUREMENT, Quantity.POWER_FACTOR, "user_power_factor",
              total("power_factor_total"), placeholders=ph, **common),
        Point(f"{key}_load_nature", Kind.MEASUREMENT, Quantity.LOAD_NATURE, "user_load_nature",
              total("load_nature"), placeholders=ph, enabled_default=False, **common),
        Point(f"{key}_import_energy", Kind.COUNTER, Quantity.ENERGY, "user_import_energy",
              energy("import_active"), poll=Poll.SLOW, placeholders=ph, **common),
        Point(f"{key}_export_energy", Kind.COUNTER, Quantity.ENERGY, "user_export_energy",
              energy("export_active"), poll=Poll.SLOW, placeholders=ph, **common),
    ]
    for phase in PHASES[: len(user_inputs(user, wiring))]:
        pp = {"user": str(user), "phase": phase.upper()}
        pts.append(
            Point(f"{key}_current_{phase}", Kind.MEASUREMENT, Quantity.CURRENT,
                  "user_phase_current", phase_of("current", phase), placeholders=pp,
                  phase=phase, **common)
        )
        if Option.PER_PHASE in opts.enabled:
            pts += [
                Point(f"{key}_active_power_{phase}", Kind.MEASUREMENT, Quantity.ACTIVE_POWER,
                      "user_phase_active_power", phase_of("active_power", phase, True),
                      placeholders=pp, phase=phase, option=Option.PER_PHASE, **common),
                Point(f"{key}_power_factor_{phase}", Kind.MEASUREMENT, Quantity.POWER_FACTOR,
                      "user_phase_power_factor", phase_of("power_factor", phase),
                      placeholders=pp, phase=phase, option=Option.PER_PHASE,
                      enabled_default=False, **common),
            ]
    return pts


def _demand_points() -> list[Point]:
    def dem(name: str, scale: bool = True) -> Callable[[Snapshot], PointValue]:
        def get(s: Snapshot) -> PointValue:
            rec = next((d for d in s.demand if d.entry == 3), None)
            if rec is None:
                return None
            v = getattr(rec, name)
            if hasattr(v, "value"):
                v = v.value
            return _kilo(v) if scale else v
        return get

    def peak_time(s: Snapshot) -> PointValue:
        rec = next((d for d in s.demand if d.entry == 3), None)
        return None if rec is None else rec.peak_active.time

    common = {"poll": Poll.SLOW, "option": Option.DEMAND}
    return [
        Point("demand_active_power", Kind.MEASUREMENT, Quantity.ACTIVE_POWER,
              "demand_active_power", dem("active"), **common),
        Point("demand_predicted_active_power", Kind.MEASUREMENT, Quantity.ACTIVE_POWER,
              "demand_predicted_active_power", dem("predicted_active"), **common),
        Point("demand_peak_active_power", Kind.MEASUREMENT, Quantity.ACTIVE_POWER,
              "demand_peak_active_power", dem("peak_active"), **common),
        Point("demand_peak_active_power_time", Kind.TIMESTAMP, Quantity.TIMESTAMP,
              "demand_peak_active_power_time", peak_time, **common),
        Point("demand_current", Kind.MEASUREMENT, Quantity.CURRENT, "demand_current",
              dem("current", False), enabled_default=False, **common),
    ]


TOU_TARIFFS = ("sharp", "peak", "valley", "normal")


def _monthly_points() -> list[Point]:
    def month(name: str) -> Callable[[Snapshot], PointValue]:
        return lambda s: s.monthly[name].system if name in s.monthly else None

    common = {"poll": Poll.SLOW, "option": Option.MONTHLY}
    return [
        Point("this_month_import_energy", Kind.COUNTER, Quantity.ENERGY,
              "this_month_import_energy", month("this_month_import_kwh"), **common),
        Point("last_month_import_energy", Kind.MEASUREMENT, Quantity.ENERGY,
              "last_month_import_energy", month("last_month_import_kwh"), **common),
    ]


def _tou_points() -> list[Point]:
    def tou(tariff: str) -> Callable[[Snapshot], PointValue]:
        name = f"this_month_{tariff}"
        return lambda s: s.tou[name].system if name in s.tou else None

    return [
        Point(f"tou_{t}_import_energy", Kind.COUNTER, Quantity.ENERGY, "tou_import_energy",
              tou(t), poll=Poll.SLOW, option=Option.TOU, placeholders={"tariff": t})
        for t in TOU_TARIFFS
    ]


def _harmonic_points(installed: int) -> list[Point]:
    pts: list[Point] = []
    for ph in PHASES:
        pts.append(
            Point(f"thd_voltage_{ph}", Kind.MEASUREMENT, Quantity.PERCENT, "thd_voltage",
                  lambda s, p=ph: s.harmonics.thd_voltage[p] if s.harmonics else None,
                  poll=Poll.SLOW, option=Option.HARMONICS, placeholders={"phase": ph.upper()},
                  phase=ph)
        )
        pts.append(
            Point(f"crest_factor_{ph}", Kind.MEASUREMENT, Quantity.RATIO, "crest_factor",
                  lambda s, p=ph: s.harmonics.crest_factor[p] if s.harmonics else None,
                  poll=Poll.SLOW, option=Option.HARMONICS, placeholders={"phase": ph.upper()},
                  phase=ph, enabled_default=False)
        )
    for ch in range(1, installed + 1):
        pts += [
            Point(f"ch{ch:02d}_thd", Kind.MEASUREMENT, Quantity.PERCENT, "channel_thd",
                  lambda s, c=ch: s.harmonics.channel_thd[c - 1] if s.harmonics else None,
                  poll=Poll.SLOW, option=Option.HARMONICS, placeholders={"channel": str(ch)},
                  channel=ch),
            Point(f"ch{ch:02d}_k_factor", Kind.MEASUREMENT, Quantity.RATIO, "channel_k_factor",
                  lambda s, c=ch: s.harmonics.channel_k_factor[c - 1] if s.harmonics else None,
                  poll=Poll.SLOW, option=Option.HARMONICS, placeholders={"channel": str(ch)},
                  channel=ch, enabled_default=False),
        ]
    return pts


def _io_points(di_counter_mode: tuple[bool, ...]) -> list[Point]:
    pts: list[Point] = []
    for n in range(1, 9):
        ph = {"number": str(n)}
        pts.append(Point(f"relay_{n}", Kind.RELAY, Quantity.STATE, "relay",
                         lambda s, i=n: s.io.relays[i - 1] if s.io else None, placeholders=ph))
        pts.append(Point(f"di_{n}", Kind.BINARY, Quantity.STATE, "digital_input",
                         lambda s, i=n: s.io.digital_inputs[i - 1] if s.io else None,
                         placeholders=ph))
        if n <= len(di_counter_mode) and di_counter_mode[n - 1]:
            pts.append(Point(f"di_{n}_count", Kind.COUNTER, Quantity.COUNT, "digital_input_count",
                             lambda s, i=n: s.io.di_counts[i - 1] if s.io and s.io.di_counts
                             else None, placeholders=ph))
    return pts


def _diagnostic_points() -> list[Point]:
    return [
        Point("clock_drift", Kind.MEASUREMENT, Quantity.DURATION_S, "clock_drift",
              lambda s: s.clock_drift, poll=Poll.SLOW, diagnostic=True),
        Point("run_time", Kind.MEASUREMENT, Quantity.DURATION_H, "run_time",
              lambda s: s.device.run_time_h if s.device else None, poll=Poll.SLOW,
              diagnostic=True, enabled_default=False),
    ]


def build_points(
    device: DeviceInfo, options: PointOptions, di_counter_mode: tuple[bool, ...] = ()
) -> tuple[Point, ...]:
    """All points of one meter, chosen by its wiring mode, build and the user's options."""
    pts = _system_points(options)
    for ch in range(1, device.installed_channels + 1):
        pts += _channel_points(ch)
    if device.wiring is not Wiring.ONE_LN:
        for user in circuits(device.wiring, device.installed_channels):
            pts += _user_points(user, device.wiring, options)
    if Option.DEMAND in options.enabled:
        pts += _demand_points()
    if Option.MONTHLY in options.enabled:
        pts += _monthly_points()
    if Option.TOU in options.enabled:
        pts += _tou_points()
    if device.is_333mv and Option.HARMONICS in options.enabled:
        pts += _harmonic_points(device.installed_channels)
    pts += _io_points(di_counter_mode)
    pts += _diagnostic_points()
    keys = [p.key for p in pts]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate point key")  # a programming error, caught by tests
    return tuple(pts)

"""The point catalogue: every value a meter exposes, as data.

Home Assistant entity descriptions are derived from this table, and the bridge
maps any entity back to a point through its unique id (``<serial>_<key>``), so
keys are a public contract: never rename one. Nothing here imports
``homeassistant``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from .groups import ReadGroup
from .layouts import LoadNature, Phase, Wiring, user_inputs
from .models import (
    ChannelValues,
    DemandValues,
    DeviceInfo,
    EnergyBank,
    Harmonics,
    IOStatus,
    Snapshot,
    SystemValues,
    UserValues,
)
from .profiles import MeterModel
from .registers import ENTRY_SYSTEM, USER_COUNT

type PointValue = float | str | bool | datetime | None


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
    ANGLE = "angle"
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
    Quantity.ANGLE: "°",
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
    # The read group the value comes from: a meter without it gets no such entity,
    # and the entity is unavailable while that group does not answer.
    group: ReadGroup | None = None

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
type Getter = Callable[[Snapshot], PointValue]


def _sys(pick: Callable[[SystemValues], PointValue]) -> Getter:
    """A value of the system table, None until that table was read."""
    return lambda s: None if s.system is None else pick(s.system)


def _bank(name: str, pick: Callable[[EnergyBank], float | None]) -> Getter:
    """An entry of one of the five real-time energy banks."""

    def get(s: Snapshot) -> PointValue:
        if s.energy is None:
            return None
        bank: EnergyBank | None = getattr(s.energy, name)
        return None if bank is None else pick(bank)

    return get


def _phase_bank(name: str, phase: Phase) -> Getter:
    return _bank(name, lambda b: b.phase(phase))


def _system_points(opts: PointOptions) -> list[Point]:
    def sysp(key: str, quantity: Quantity, getter: Getter, *, enabled: bool = True) -> Point:
        return Point(key, Kind.MEASUREMENT, quantity, key, getter, enabled_default=enabled)

    pts: list[Point] = [
        sysp("frequency", Quantity.FREQUENCY, _sys(lambda v: v.frequency)),
        sysp("voltage_avg", Quantity.VOLTAGE, _sys(lambda v: v.voltage_avg)),
        sysp("current_avg", Quantity.CURRENT, _sys(lambda v: v.current_avg), enabled=False),
        sysp("active_power", Quantity.ACTIVE_POWER, _sys(lambda v: _kilo(v.active_power_total))),
        sysp(
            "reactive_power", Quantity.REACTIVE_POWER, _sys(lambda v: _kilo(v.reactive_power_total))
        ),
        sysp(
            "apparent_power", Quantity.APPARENT_POWER, _sys(lambda v: _kilo(v.apparent_power_total))
        ),
        sysp("power_factor", Quantity.POWER_FACTOR, _sys(lambda v: v.power_factor_total)),
        sysp(
            "load_nature",
            Quantity.LOAD_NATURE,
            _sys(lambda v: _nature(v.load_nature_total)),
            enabled=False,
        ),
    ]
    for ph in PHASES:
        pts += _phase_points(ph, opts)
    # Disabled by default: a 4-wire installation may report 0 here (manual screenshot).
    for ll in _LL:
        pts.append(
            Point(
                f"voltage_{ll}",
                Kind.MEASUREMENT,
                Quantity.VOLTAGE,
                "line_voltage",
                _line_voltage(ll),
                placeholders={"line": ll.upper()},
                enabled_default=False,
            )
        )
    energy = [
        ("import_energy", Quantity.ENERGY, "import_active"),
        ("export_energy", Quantity.ENERGY, "export_active"),
        ("import_reactive_energy", Quantity.REACTIVE_ENERGY, "import_reactive"),
        ("export_reactive_energy", Quantity.REACTIVE_ENERGY, "export_reactive"),
        ("apparent_energy", Quantity.APPARENT_ENERGY, "apparent"),
    ]
    pts += [
        Point(key, Kind.COUNTER, quantity, key, _bank(bank, lambda b: b.system), poll=Poll.SLOW)
        for key, quantity, bank in energy
    ]
    return pts


def _line_voltage(line: str) -> Getter:
    return _sys(lambda v: v.voltage_ll[line])


def _phase_points(ph: Phase, opts: PointOptions) -> list[Point]:
    placeholders = {"phase": ph.upper()}

    def php(
        key: str,
        quantity: Quantity,
        getter: Getter,
        *,
        kind: Kind = Kind.MEASUREMENT,
        poll: Poll = Poll.FAST,
        option: Option | None = Option.PER_PHASE,
        enabled: bool = True,
    ) -> Point:
        return Point(
            f"{key}_{ph}",
            kind,
            quantity,
            f"phase_{key}",
            getter,
            poll=poll,
            placeholders=placeholders,
            phase=ph,
            option=option,
            enabled_default=enabled,
        )

    pts = [
        php("voltage", Quantity.VOLTAGE, _sys(lambda v: v.voltage[ph]), option=None),
        php("current", Quantity.CURRENT, _sys(lambda v: v.current[ph]), option=None),
    ]
    if Option.PER_PHASE not in opts.enabled:
        return pts
    return [
        *pts,
        php("active_power", Quantity.ACTIVE_POWER, _sys(lambda v: _kilo(v.active_power[ph]))),
        php(
            "reactive_power",
            Quantity.REACTIVE_POWER,
            _sys(lambda v: _kilo(v.reactive_power[ph])),
            enabled=False,
        ),
        php(
            "apparent_power",
            Quantity.APPARENT_POWER,
            _sys(lambda v: _kilo(v.apparent_power[ph])),
            enabled=False,
        ),
        php(
            "power_factor", Quantity.POWER_FACTOR, _sys(lambda v: v.power_factor[ph]), enabled=False
        ),
        php(
            "import_energy",
            Quantity.ENERGY,
            _phase_bank("import_active", ph),
            kind=Kind.COUNTER,
            poll=Poll.SLOW,
        ),
        php(
            "export_energy",
            Quantity.ENERGY,
            _phase_bank("export_active", ph),
            kind=Kind.COUNTER,
            poll=Poll.SLOW,
        ),
    ]


def _record[R](
    records: Callable[[Snapshot], Iterable[R]],
    match: Callable[[R], bool],
    pick: Callable[[R], PointValue],
) -> Getter:
    """A value of the first record that ``match`` accepts, None while there is none."""

    def get(s: Snapshot) -> PointValue:
        rec = next((r for r in records(s) if match(r)), None)
        return None if rec is None else pick(rec)

    return get


def _channel(number: int, pick: Callable[[ChannelValues], PointValue]) -> Getter:
    return _record(lambda s: s.channels, lambda c: c.channel == number, pick)


def _channel_points(channel: int) -> list[Point]:
    placeholders = {"channel": str(channel)}

    def chp(
        suffix: str,
        kind: Kind,
        quantity: Quantity,
        getter: Getter,
        *,
        poll: Poll = Poll.FAST,
        enabled: bool = True,
    ) -> Point:
        return Point(
            f"ch{channel:02d}_{suffix}",
            kind,
            quantity,
            f"channel_{suffix}",
            getter,
            poll=poll,
            placeholders=placeholders,
            channel=channel,
            enabled_default=enabled,
        )

    def energy(suffix: str, quantity: Quantity, bank: str, enabled: bool = True) -> Point:
        return chp(
            suffix,
            Kind.COUNTER,
            quantity,
            _bank(bank, lambda b: b.channel(channel)),
            poll=Poll.SLOW,
            enabled=enabled,
        )

    m = Kind.MEASUREMENT
    return [
        chp("current", m, Quantity.CURRENT, _channel(channel, lambda c: c.current)),
        chp(
            "active_power",
            m,
            Quantity.ACTIVE_POWER,
            _channel(channel, lambda c: _kilo(c.active_power)),
        ),
        chp(
            "reactive_power",
            m,
            Quantity.REACTIVE_POWER,
            _channel(channel, lambda c: _kilo(c.reactive_power)),
            enabled=False,
        ),
        chp(
            "apparent_power",
            m,
            Quantity.APPARENT_POWER,
            _channel(channel, lambda c: _kilo(c.apparent_power)),
            enabled=False,
        ),
        # Enabled by default: what the Energy dashboard and typical dashboards chart (power,
        # import/export energy, current). The rest exists but starts disabled: every enabled
        # entity is a state write per poll, and the recorder pays for each.
        chp(
            "power_factor",
            m,
            Quantity.POWER_FACTOR,
            _channel(channel, lambda c: c.power_factor),
            enabled=False,
        ),
        chp(
            "load_nature",
            m,
            Quantity.LOAD_NATURE,
            _channel(channel, lambda c: _nature(c.load_nature)),
            enabled=False,
        ),
        energy("import_energy", Quantity.ENERGY, "import_active"),
        energy("export_energy", Quantity.ENERGY, "export_active"),
        energy("import_reactive_energy", Quantity.REACTIVE_ENERGY, "import_reactive", False),
        energy("export_reactive_energy", Quantity.REACTIVE_ENERGY, "export_reactive", False),
        energy("apparent_energy", Quantity.APPARENT_ENERGY, "apparent", False),
    ]


def _user(number: int, pick: Callable[[UserValues], PointValue]) -> Getter:
    return _record(lambda s: s.users, lambda u: u.user == number, pick)


def _user_points(user: int, wiring: Wiring, opts: PointOptions) -> list[Point]:
    def usp(
        suffix: str,
        kind: Kind,
        quantity: Quantity,
        getter: Getter,
        *,
        poll: Poll = Poll.FAST,
        phase: Phase | None = None,
        option: Option | None = None,
        enabled: bool = True,
    ) -> Point:
        placeholders = {"user": str(user)}
        key = f"user{user}_{suffix}"
        tkey = f"user_{suffix}"
        if phase is not None:
            placeholders["phase"] = phase.upper()
            key, tkey = f"{key}_{phase}", f"user_phase_{suffix}"
        return Point(
            key,
            kind,
            quantity,
            tkey,
            getter,
            poll=poll,
            placeholders=placeholders,
            user=user,
            phase=phase,
            option=option,
            enabled_default=enabled,
        )

    m = Kind.MEASUREMENT
    pts = [
        usp(
            "active_power",
            m,
            Quantity.ACTIVE_POWER,
            _user(user, lambda u: _kilo(u.active_power_total)),
        ),
        usp(
            "reactive_power",
            m,
            Quantity.REACTIVE_POWER,
            _user(user, lambda u: _kilo(u.reactive_power_total)),
            enabled=False,
        ),
        usp(
            "apparent_power",
            m,
            Quantity.APPARENT_POWER,
            _user(user, lambda u: _kilo(u.apparent_power_total)),
            enabled=False,
        ),
        usp(
            "power_factor",
            m,
            Quantity.POWER_FACTOR,
            _user(user, lambda u: u.power_factor_total),
            enabled=False,
        ),
        usp(
            "load_nature",
            m,
            Quantity.LOAD_NATURE,
            _user(user, lambda u: _nature(u.load_nature)),
            enabled=False,
        ),
        usp(
            "import_energy",
            Kind.COUNTER,
            Quantity.ENERGY,
            _bank("import_active", lambda b: b.user(user)),
            poll=Poll.SLOW,
        ),
    ]
    if user <= USER_COUNT:
        # The (designed) export bank has 28 entries; the 2100's users 7-9 are not among them.
        pts.append(
            usp(
                "export_energy",
                Kind.COUNTER,
                Quantity.ENERGY,
                _bank("export_active", lambda b: b.user(user)),
                poll=Poll.SLOW,
            )
        )
    for phase in PHASES[: len(user_inputs(user, wiring))]:
        pts.append(
            usp(
                "current",
                m,
                Quantity.CURRENT,
                _user_phase(user, "current", phase, False),
                phase=phase,
            )
        )
        if Option.PER_PHASE in opts.enabled:
            pts += [
                usp(
                    "active_power",
                    m,
                    Quantity.ACTIVE_POWER,
                    _user_phase(user, "active_power", phase, True),
                    phase=phase,
                    option=Option.PER_PHASE,
                    enabled=False,
                ),
                usp(
                    "power_factor",
                    m,
                    Quantity.POWER_FACTOR,
                    _user_phase(user, "power_factor", phase, False),
                    phase=phase,
                    option=Option.PER_PHASE,
                    enabled=False,
                ),
            ]
    return pts


def _user_phase(user: int, name: str, phase: Phase, kilo: bool) -> Getter:
    def pick(u: UserValues) -> PointValue:
        values: dict[Phase, float | None] = getattr(u, name)
        return _kilo(values[phase]) if kilo else values[phase]

    return _user(user, pick)


def _system_demand(pick: Callable[[DemandValues], PointValue]) -> Getter:
    return _record(lambda s: s.demand, lambda d: d.entry == ENTRY_SYSTEM, pick)


def _demand_points() -> list[Point]:
    def dp(key: str, kind: Kind, quantity: Quantity, getter: Getter, enabled: bool = True) -> Point:
        return Point(
            key,
            kind,
            quantity,
            key,
            getter,
            poll=Poll.SLOW,
            option=Option.DEMAND,
            enabled_default=enabled,
        )

    m = Kind.MEASUREMENT
    return [
        dp(
            "demand_active_power",
            m,
            Quantity.ACTIVE_POWER,
            _system_demand(lambda d: _kilo(d.active)),
        ),
        dp(
            "demand_predicted_active_power",
            m,
            Quantity.ACTIVE_POWER,
            _system_demand(lambda d: _kilo(d.predicted_active)),
        ),
        dp(
            "demand_peak_active_power",
            m,
            Quantity.ACTIVE_POWER,
            _system_demand(lambda d: _kilo(d.peak_active.value)),
        ),
        dp(
            "demand_peak_active_power_time",
            Kind.TIMESTAMP,
            Quantity.TIMESTAMP,
            _system_demand(lambda d: d.peak_active.time),
        ),
        dp("demand_current", m, Quantity.CURRENT, _system_demand(lambda d: d.current), False),
    ]


TOU_TARIFFS = ("sharp", "peak", "valley", "normal")


def _named_bank(banks: Callable[[Snapshot], Mapping[str, EnergyBank]], name: str) -> Getter:
    def get(s: Snapshot) -> PointValue:
        bank = banks(s).get(name)
        return None if bank is None else bank.system

    return get


def _monthly_points() -> list[Point]:
    def month(s: Snapshot) -> Mapping[str, EnergyBank]:
        return s.monthly

    return [
        Point(
            "this_month_import_energy",
            Kind.COUNTER,
            Quantity.ENERGY,
            "this_month_import_energy",
            _named_bank(month, "this_month_import_kwh"),
            poll=Poll.SLOW,
            option=Option.MONTHLY,
        ),
        # Last month's total is a fixed number, published without a state class.
        Point(
            "last_month_import_energy",
            Kind.MEASUREMENT,
            Quantity.ENERGY,
            "last_month_import_energy",
            _named_bank(month, "last_month_import_kwh"),
            poll=Poll.SLOW,
            option=Option.MONTHLY,
        ),
    ]


def _tou_points() -> list[Point]:
    def tou(s: Snapshot) -> Mapping[str, EnergyBank]:
        return s.tou

    return [
        Point(
            f"tou_{t}_import_energy",
            Kind.COUNTER,
            Quantity.ENERGY,
            "tou_import_energy",
            _named_bank(tou, f"this_month_{t}"),
            poll=Poll.SLOW,
            option=Option.TOU,
            placeholders={"tariff": t},
        )
        for t in TOU_TARIFFS
    ]


def _harm(pick: Callable[[Harmonics], PointValue]) -> Getter:
    return lambda s: None if s.harmonics is None else pick(s.harmonics)


def _harm_phase(name: str, phase: Phase) -> Getter:
    def pick(h: Harmonics) -> PointValue:
        values: dict[Phase, float | None] = getattr(h, name)
        return values[phase]

    return _harm(pick)


def _harm_channel(name: str, channel: int) -> Getter:
    def pick(h: Harmonics) -> PointValue:
        values: tuple[float | None, ...] = getattr(h, name)
        return values[channel - 1]

    return _harm(pick)


def _harmonic_points(installed: int) -> list[Point]:
    def hp(
        key: str,
        quantity: Quantity,
        tkey: str,
        getter: Getter,
        placeholders: dict[str, str],
        *,
        channel: int | None = None,
        phase: Phase | None = None,
        enabled: bool = True,
    ) -> Point:
        return Point(
            key,
            Kind.MEASUREMENT,
            quantity,
            tkey,
            getter,
            poll=Poll.SLOW,
            placeholders=placeholders,
            channel=channel,
            phase=phase,
            option=Option.HARMONICS,
            enabled_default=enabled,
        )

    # The unbalance factors live in the power-quality block (0x3200/0x325F), not
    # the 0x2000 table; their keys are unchanged from when they were system points.
    pts: list[Point] = [
        hp(
            "voltage_unbalance",
            Quantity.PERCENT,
            "voltage_unbalance",
            _harm(lambda h: h.voltage_unbalance),
            {},
            enabled=False,
        ),
        hp(
            "current_unbalance",
            Quantity.PERCENT,
            "current_unbalance",
            _harm(lambda h: h.current_unbalance),
            {},
            enabled=False,
        ),
    ]
    for ph in PHASES:
        placeholders = {"phase": ph.upper()}
        pts += [
            hp(
                f"thd_voltage_{ph}",
                Quantity.PERCENT,
                "thd_voltage",
                _harm_phase("thd_voltage", ph),
                placeholders,
                phase=ph,
            ),
            hp(
                f"crest_factor_{ph}",
                Quantity.RATIO,
                "crest_factor",
                _harm_phase("crest_factor", ph),
                placeholders,
                phase=ph,
                enabled=False,
            ),
        ]
    for ch in range(1, installed + 1):
        placeholders = {"channel": str(ch)}
        pts += [
            hp(
                f"ch{ch:02d}_thd",
                Quantity.PERCENT,
                "channel_thd",
                _harm_channel("channel_thd", ch),
                placeholders,
                channel=ch,
            ),
            hp(
                f"ch{ch:02d}_k_factor",
                Quantity.RATIO,
                "channel_k_factor",
                _harm_channel("channel_k_factor", ch),
                placeholders,
                channel=ch,
                enabled=False,
            ),
        ]
    return pts


def _pq_2100_points(installed: int) -> list[Point]:
    """Odd/even THD per phase and channel, and each phase's voltage harmonics 2-31 (0x3200).

    Read on the 2020's 333 mV build too (same block), but shown only for a 2100 so a
    2020's entities stay as they were; the harmonic orders start disabled (90 of them).
    """

    def hp(key: str, tkey: str, getter: Getter, placeholders: dict[str, str], **kw: Any) -> Point:
        return Point(
            key,
            Kind.MEASUREMENT,
            Quantity.PERCENT,
            tkey,
            getter,
            poll=Poll.SLOW,
            placeholders=placeholders,
            option=Option.HARMONICS,
            **kw,
        )

    def order(ph: Phase, h: int) -> Getter:
        return _harm(lambda v: v.voltage_harmonics[ph][h - 2])

    pts: list[Point] = []
    for ph in PHASES:
        ph_text = {"phase": ph.upper()}
        pts += [
            hp(
                f"odd_thd_voltage_{ph}",
                "odd_thd_voltage",
                _harm_phase("odd_thd_voltage", ph),
                ph_text,
                phase=ph,
            ),
            hp(
                f"even_thd_voltage_{ph}",
                "even_thd_voltage",
                _harm_phase("even_thd_voltage", ph),
                ph_text,
                phase=ph,
            ),
        ]
        pts += [
            hp(
                f"voltage_harmonic_{h}_{ph}",
                "voltage_harmonic",
                order(ph, h),
                {**ph_text, "order": str(h)},
                phase=ph,
                enabled_default=False,
            )
            for h in range(2, 32)
        ]
    for ch in range(1, installed + 1):
        ch_text = {"channel": str(ch)}
        pts += [
            hp(
                f"ch{ch:02d}_odd_thd",
                "channel_odd_thd",
                _harm_channel("channel_odd_thd", ch),
                ch_text,
                channel=ch,
                enabled_default=False,
            ),
            hp(
                f"ch{ch:02d}_even_thd",
                "channel_even_thd",
                _harm_channel("channel_even_thd", ch),
                ch_text,
                channel=ch,
                enabled_default=False,
            ),
        ]
    return pts


def _angle_points(installed: int) -> list[Point]:
    """Phase angles of the AcuRev 2100 (0x3600): Ub and Uc against Ua, each channel current."""

    def ap(key: str, tkey: str, getter: Getter, placeholders: dict[str, str], **kw: Any) -> Point:
        return Point(
            key,
            Kind.MEASUREMENT,
            Quantity.ANGLE,
            tkey,
            getter,
            poll=Poll.SLOW,
            placeholders=placeholders,
            **kw,
        )

    def voltage(ph: Phase) -> Getter:
        return lambda s: None if s.angles is None else s.angles.voltage[ph]

    def current(ch: int) -> Getter:
        return lambda s: None if s.angles is None else s.angles.channel_current[ch - 1]

    pts = [
        ap(f"voltage_angle_{ph}", "voltage_angle", voltage(ph), {"phase": ph.upper()}, phase=ph)
        for ph in PHASES[1:]
    ]
    pts += [
        ap(
            f"ch{ch:02d}_current_angle",
            "channel_current_angle",
            current(ch),
            {"channel": str(ch)},
            channel=ch,
        )
        for ch in range(1, installed + 1)
    ]
    return pts


def _io(pick: Callable[[IOStatus], PointValue]) -> Getter:
    return lambda s: None if s.io is None else pick(s.io)


def _io_bit(name: str, index: int) -> Getter:
    def pick(io: IOStatus) -> PointValue:
        bits: tuple[bool, ...] = getattr(io, name)
        return bits[index]

    return _io(pick)


def _di_count(index: int) -> Getter:
    return _io(lambda io: io.di_counts[index] if index < len(io.di_counts) else None)


def _io_points(di_counter_mode: tuple[bool, ...]) -> list[Point]:
    pts: list[Point] = []
    for n in range(1, 9):
        placeholders = {"number": str(n)}
        i = n - 1
        pts.append(
            Point(
                f"relay_{n}",
                Kind.RELAY,
                Quantity.STATE,
                "relay",
                _io_bit("relays", i),
                placeholders=placeholders,
            )
        )
        pts.append(
            Point(
                f"di_{n}",
                Kind.BINARY,
                Quantity.STATE,
                "digital_input",
                _io_bit("digital_inputs", i),
                placeholders=placeholders,
            )
        )
        if i < len(di_counter_mode) and di_counter_mode[i]:
            pts.append(
                Point(
                    f"di_{n}_count",
                    Kind.COUNTER,
                    Quantity.COUNT,
                    "digital_input_count",
                    _di_count(i),
                    placeholders=placeholders,
                )
            )
    return pts


def _alarm_active(channel: int) -> Getter:
    def get(s: Snapshot) -> PointValue:
        if s.log_status is None:
            return None
        return bool(s.log_status.active_alarms & (1 << (channel - 1)))

    return get


def _alarm_points(alarm_channels: tuple[int, ...]) -> list[Point]:
    return [
        Point(
            f"alarm_{n}",
            Kind.BINARY,
            Quantity.STATE,
            "alarm",
            _alarm_active(n),
            placeholders={"number": str(n)},
        )
        for n in alarm_channels
    ]


def _diagnostic_points() -> list[Point]:
    return [
        Point(
            "clock_drift",
            Kind.MEASUREMENT,
            Quantity.DURATION_S,
            "clock_drift",
            lambda s: s.clock_drift,
            poll=Poll.SLOW,
            diagnostic=True,
        ),
        Point(
            "run_time",
            Kind.MEASUREMENT,
            Quantity.DURATION_H,
            "run_time",
            lambda s: None if s.device is None else s.device.run_time_h,
            poll=Poll.SLOW,
            diagnostic=True,
            enabled_default=False,
        ),
    ]


_ENERGY_QUANTITIES = frozenset(
    {Quantity.ENERGY, Quantity.REACTIVE_ENERGY, Quantity.APPARENT_ENERGY}
)


def _grouped(points: Iterable[Point], group: ReadGroup) -> list[Point]:
    """Tag points with their read group; energy counters with the bank group they read."""
    out: list[Point] = []
    for p in points:
        g = group
        if p.kind is Kind.COUNTER and p.quantity in _ENERGY_QUANTITIES:
            g = ReadGroup.EXPORT_ENERGY if "export" in p.key else ReadGroup.ENERGY
        out.append(replace(p, group=g))
    return out


def build_points(
    device: DeviceInfo,
    options: PointOptions,
    di_counter_mode: tuple[bool, ...] = (),
    alarm_channels: tuple[int, ...] = (),
    capabilities: Collection[ReadGroup] | None = None,
) -> tuple[Point, ...]:
    """All points of one meter, chosen by its wiring mode, build and the user's options.

    ``capabilities`` are the read groups the meter answered plausibly when it
    was probed; points of any other group are left out (None: all groups).
    """
    pts = _grouped(_system_points(options), ReadGroup.SYSTEM)
    for ch in range(1, device.installed_channels + 1):
        pts += _grouped(_channel_points(ch), ReadGroup.CHANNELS)
    for user in device.users:
        pts += _grouped(_user_points(user, device.wiring, options), ReadGroup.USERS)
    if Option.DEMAND in options.enabled:
        pts += [replace(p, group=ReadGroup.DEMAND) for p in _demand_points()]
    if Option.MONTHLY in options.enabled:
        pts += [replace(p, group=ReadGroup.MONTHLY) for p in _monthly_points()]
    if Option.TOU in options.enabled:
        pts += [replace(p, group=ReadGroup.TOU) for p in _tou_points()]
    if device.is_333mv and Option.HARMONICS in options.enabled:
        pts += [
            replace(p, group=ReadGroup.HARMONICS)
            for p in _harmonic_points(device.installed_channels)
        ]
    if (
        device.is_333mv
        and Option.HARMONICS in options.enabled
        and device.profile.model is MeterModel.ACUREV_2100
    ):
        # The rest of the 2100's power-quality block: odd/even THD, harmonic orders.
        pts += [
            replace(p, group=ReadGroup.HARMONICS)
            for p in _pq_2100_points(device.installed_channels)
        ]
    if device.profile.model is MeterModel.ACUREV_2100:
        # 0x3600 is a 2100 block (discovery does not probe it on a 2020 either).
        pts += [
            replace(p, group=ReadGroup.ANGLES) for p in _angle_points(device.installed_channels)
        ]
    pts += [
        replace(p, group=ReadGroup.IO_CONFIG if p.kind is Kind.COUNTER else ReadGroup.IO)
        for p in _io_points(di_counter_mode)
    ]
    pts += [replace(p, group=ReadGroup.LOG_STATUS) for p in _alarm_points(alarm_channels)]
    pts += [
        replace(p, group=ReadGroup.CLOCK if p.key == "clock_drift" else ReadGroup.DEVICE)
        for p in _diagnostic_points()
    ]
    if capabilities is not None:
        pts = [p for p in pts if p.group in capabilities]
    keys = [p.key for p in pts]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate point key")  # a programming error, caught by tests
    return tuple(pts)

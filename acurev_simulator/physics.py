"""Electrical quantities derived from the ground truth, computed in one place.

A channel is defined by its active power P (kW) and reactive power Q (kvar);
everything else follows, so every value read at one instant is consistent:

* S = sqrt(P^2 + Q^2) (kVA), current = S * 1000 / V of the channel's phase (0 at V = 0);
* PF = P / S, its sign follows P. At S = 0 the PF reads 1.0: that is what meters
  display on an idle circuit, and 0 would trip every "PF below x" alarm on a
  circuit that is merely switched off;
* load nature: R when |Q| <= 1 % of S (and at S = 0), otherwise L for Q > 0 and C for Q < 0.

Totals (phase, system, user) are arithmetic sums of their member channels for
I, P, Q and S, and the totals' PF is Psum / Ssum, as the register map's
section 6.3 prescribes; so S^2 = P^2 + Q^2 holds per channel, not for a total
of channels with different power factors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyacurev.layouts import LoadNature, Phase

PHASES: tuple[Phase, ...] = (Phase.A, Phase.B, Phase.C)
RESISTIVE_Q_RATIO = 0.01
# The float the meter stores for each load nature (ASCII code, INFERRED encoding).
LOAD_NATURE_FLOAT: dict[LoadNature, float] = {
    LoadNature.INDUCTIVE: float(ord("L")),
    LoadNature.CAPACITIVE: float(ord("C")),
    LoadNature.RESISTIVE: float(ord("R")),
}


def power_factor(p: float, s: float) -> float:
    """P / S, and 1.0 for an idle circuit."""
    return p / s if s > 0 else 1.0


def load_nature(q: float, s: float) -> LoadNature:
    """Inductive, capacitive or resistive from the sign and size of Q."""
    if abs(q) <= RESISTIVE_Q_RATIO * s or s == 0:
        return LoadNature.RESISTIVE
    return LoadNature.INDUCTIVE if q > 0 else LoadNature.CAPACITIVE


@dataclass(frozen=True, slots=True)
class Power:
    """I, P, Q, S of a channel or a sum of channels."""

    current: float = 0.0
    active: float = 0.0
    reactive: float = 0.0
    apparent: float = 0.0

    def __add__(self, other: Power) -> Power:
        """Arithmetic sum (how the meter totals channels)."""
        return Power(
            self.current + other.current,
            self.active + other.active,
            self.reactive + other.reactive,
            self.apparent + other.apparent,
        )

    @property
    def power_factor(self) -> float:
        """P / S (1.0 when idle)."""
        return power_factor(self.active, self.apparent)

    @property
    def load_nature(self) -> LoadNature:
        """L / C / R."""
        return load_nature(self.reactive, self.apparent)


def channel_power(active_kw: float, reactive_kvar: float, volts: float) -> Power:
    """The full set of values of one channel from P, Q and its phase voltage."""
    s = math.hypot(active_kw, reactive_kvar)
    current = s * 1000.0 / volts if volts > 0 else 0.0
    return Power(current, active_kw, reactive_kvar, s)


def total(powers: list[Power]) -> Power:
    """Sum of several channels."""
    result = Power()
    for p in powers:
        result = result + p
    return result


@dataclass(frozen=True, slots=True)
class ChannelReading:
    """What an input channel measures now (the 0x2100 record, in engineering units)."""

    channel: int
    phase: Phase
    voltage: float
    current: float
    active_power: float
    reactive_power: float
    apparent_power: float
    power_factor: float
    load_nature: LoadNature
    installed: bool = True

    @classmethod
    def of(
        cls, channel: int, phase: Phase, voltage: float, power: Power, installed: bool = True
    ) -> ChannelReading:
        """Build from a ``Power``."""
        return cls(
            channel,
            phase,
            voltage,
            power.current,
            power.active,
            power.reactive,
            power.apparent,
            power.power_factor,
            power.load_nature,
            installed,
        )

    @property
    def power(self) -> Power:
        """The I/P/Q/S part."""
        return Power(self.current, self.active_power, self.reactive_power, self.apparent_power)


@dataclass(frozen=True, slots=True)
class UserReading:
    """A 2LN/3LN user circuit (the 0x2200 record): per-phase members and totals."""

    user: int
    inputs: tuple[int, ...]
    phases: dict[Phase, Power]  # the member phases only (2LN: A and B)
    totals: Power

    @property
    def current(self) -> dict[Phase, float]:
        """Per-phase current."""
        return {ph: p.current for ph, p in self.phases.items()}

    @property
    def active_power(self) -> float:
        """Psum."""
        return self.totals.active

    @property
    def reactive_power(self) -> float:
        """Qsum."""
        return self.totals.reactive

    @property
    def apparent_power(self) -> float:
        """Ssum (arithmetic)."""
        return self.totals.apparent

    @property
    def power_factor(self) -> float:
        """Psum / Ssum."""
        return self.totals.power_factor

    @property
    def load_nature(self) -> LoadNature:
        """From Qsum / Ssum."""
        return self.totals.load_nature

    def phase_power_factor(self, phase: Phase) -> float:
        """PF of the member channel on ``phase`` (KeyError for a phase the user lacks)."""
        return self.phases[phase].power_factor


def line_to_line(ua: float, ub: float) -> float:
    """Line-to-line voltage of two wye phases 120 degrees apart."""
    return math.sqrt(ua * ua + ub * ub + ua * ub)


def unbalance(values: tuple[float, float, float]) -> float:
    """NEMA unbalance in %: largest deviation from the mean over the mean (0 when the mean is 0)."""
    mean = sum(values) / 3
    if mean <= 0:
        return 0.0
    return max(abs(v - mean) for v in values) / mean * 100.0


@dataclass(frozen=True, slots=True)
class SystemReading:
    """The 0x2000 table ("inline" phase and system values)."""

    frequency: float
    voltage: dict[Phase, float]
    phases: dict[Phase, Power]
    totals: Power

    @property
    def voltage_avg(self) -> float:
        """Uavg."""
        return sum(self.voltage.values()) / 3

    @property
    def voltage_ll(self) -> dict[str, float]:
        """U12, U23, U31 (wye, 120 degrees apart)."""
        a, b, c = (self.voltage[p] for p in PHASES)
        return {"ab": line_to_line(a, b), "bc": line_to_line(b, c), "ca": line_to_line(c, a)}

    @property
    def current(self) -> dict[Phase, float]:
        """IL1..IL3: sums of the channel currents of each phase."""
        return {ph: p.current for ph, p in self.phases.items()}

    def floats(self) -> dict[str, float]:
        """Every value of the 0x2000 table, keyed like ``layouts.SYSTEM_FLOAT_KEYS``."""
        ll = self.voltage_ll
        il = tuple(self.phases[p].current for p in PHASES)
        values: dict[str, float] = {
            "f": self.frequency,
            "u1": self.voltage[Phase.A],
            "u2": self.voltage[Phase.B],
            "u3": self.voltage[Phase.C],
            "uavg": self.voltage_avg,
            "u12": ll["ab"],
            "u23": ll["bc"],
            "u31": ll["ca"],
            "ulavg": sum(ll.values()) / 3,
            "il1": il[0],
            "il2": il[1],
            "il3": il[2],
            "ilavg": sum(il) / 3,
            "psum": self.totals.active,
            "qsum": self.totals.reactive,
            "ssum": self.totals.apparent,
            "pfsum": self.totals.power_factor,
            "load_nature_sum": LOAD_NATURE_FLOAT[self.totals.load_nature],
            # Not in the 0x2000 table (vendor map): served from the power-quality
            # block, kept here for the max/min statistics and that block.
            "u_unbalance": unbalance(
                (self.voltage[Phase.A], self.voltage[Phase.B], self.voltage[Phase.C])
            ),
            "i_unbalance": unbalance((il[0], il[1], il[2])),
        }
        for ph in PHASES:
            p = self.phases[ph]
            values[f"p{ph.value}"] = p.active
            values[f"q{ph.value}"] = p.reactive
            values[f"s{ph.value}"] = p.apparent
            values[f"pf{ph.value}"] = p.power_factor
            values[f"load_nature_{ph.value}"] = LOAD_NATURE_FLOAT[p.load_nature]
        return values


# Phase voltage angles (degrees, phase A = 0; ABC rotation): B lags by 120, C by 240.
VOLTAGE_ANGLE: dict[Phase, float] = {Phase.A: 0.0, Phase.B: 240.0, Phase.C: 120.0}


def current_angle(phase: Phase, active: float, reactive: float) -> float:
    """Angle of a channel current in degrees 0..360 (its voltage angle minus atan2(Q, P))."""
    if active == 0 and reactive == 0:
        return 0.0
    phi = math.degrees(math.atan2(reactive, active))
    return (VOLTAGE_ANGLE[phase] - phi) % 360.0

"""Entity descriptions, generated from the library's point catalogue.

``pyacurev.points`` is the one table of what a meter exposes (key, quantity, kind, which poll
reads it, how to get it from a snapshot); it knows nothing of Home Assistant. This module is
the one place that turns a point into a Home Assistant entity description: device class, unit
(``UnitOf*``), state class, precision, category, enabled default, and the ``value_fn`` /
``exists_fn`` the platforms call. Platforms only pick the descriptions of their kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.components.switch import SwitchEntityDescription
from homeassistant.const import (
    DEGREE,
    PERCENTAGE,
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactivePower,
    UnitOfTime,
)

from pyacurev.groups import ReadGroup
from pyacurev.keys import Role, parse
from pyacurev.models import Snapshot
from pyacurev.points import Kind, Point, PointValue, Poll, Quantity

# Reactive energy got a device class (and UnitOfReactiveEnergy) in HA 2025.6; on 2025.4 the
# sensor still records kvarh, just without the class.
_REACTIVE_ENERGY = getattr(SensorDeviceClass, "REACTIVE_ENERGY", None)

LOAD_NATURE_OPTIONS = ["inductive", "capacitive", "resistive"]

_MEASURE = SensorStateClass.MEASUREMENT
_TOTAL_INC = SensorStateClass.TOTAL_INCREASING


@dataclass(frozen=True, slots=True)
class _Style:
    device_class: SensorDeviceClass | None
    unit: str | None
    state_class: SensorStateClass | None
    precision: int | None


# The catalogue publishes powers in W/var/VA and energy in kWh/kvarh/kVAh (``Point.unit``);
# a test keeps these units equal to the catalogue's.
STYLES: dict[Quantity, _Style] = {
    Quantity.VOLTAGE: _Style(SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT, _MEASURE, 1),
    Quantity.CURRENT: _Style(SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE, _MEASURE, 2),
    Quantity.ACTIVE_POWER: _Style(SensorDeviceClass.POWER, UnitOfPower.WATT, _MEASURE, 0),
    Quantity.REACTIVE_POWER: _Style(
        SensorDeviceClass.REACTIVE_POWER, UnitOfReactivePower.VOLT_AMPERE_REACTIVE, _MEASURE, 0
    ),
    Quantity.APPARENT_POWER: _Style(
        SensorDeviceClass.APPARENT_POWER, UnitOfApparentPower.VOLT_AMPERE, _MEASURE, 0
    ),
    Quantity.POWER_FACTOR: _Style(SensorDeviceClass.POWER_FACTOR, None, _MEASURE, 3),
    Quantity.FREQUENCY: _Style(SensorDeviceClass.FREQUENCY, UnitOfFrequency.HERTZ, _MEASURE, 2),
    Quantity.PERCENT: _Style(None, PERCENTAGE, _MEASURE, 1),
    Quantity.LOAD_NATURE: _Style(SensorDeviceClass.ENUM, None, None, None),
    Quantity.ENERGY: _Style(SensorDeviceClass.ENERGY, UnitOfEnergy.KILO_WATT_HOUR, _TOTAL_INC, 2),
    Quantity.REACTIVE_ENERGY: _Style(_REACTIVE_ENERGY, "kvarh", _TOTAL_INC, 2),
    Quantity.APPARENT_ENERGY: _Style(None, "kVAh", _TOTAL_INC, 2),
    Quantity.COUNT: _Style(None, None, _TOTAL_INC, 0),
    Quantity.RATIO: _Style(None, None, _MEASURE, 2),
    Quantity.ANGLE: _Style(None, DEGREE, _MEASURE, 1),
    Quantity.DURATION_H: _Style(SensorDeviceClass.DURATION, UnitOfTime.HOURS, _TOTAL_INC, 1),
    Quantity.DURATION_S: _Style(SensorDeviceClass.DURATION, UnitOfTime.SECONDS, _MEASURE, 0),
    Quantity.TIMESTAMP: _Style(SensorDeviceClass.TIMESTAMP, None, None, None),
}


# float32 carries 24 bits, about 7 significant decimal digits; whatever follows them
# is noise of the conversion (1.2 kW -> 1200.00004768372 W), not a measurement.
FLOAT32_DIGITS = 7
# Counted, not measured: scaled integers the decoder already rounded to their step.
_EXACT = frozenset(
    {
        Quantity.ENERGY,
        Quantity.REACTIVE_ENERGY,
        Quantity.APPARENT_ENERGY,
        Quantity.COUNT,
        Quantity.DURATION_H,
    }
)


def meter_resolution(value: PointValue, quantity: Quantity) -> PointValue:
    """``value`` rounded to what the meter resolves (the one place states are rounded)."""
    if quantity in _EXACT or isinstance(value, bool) or not isinstance(value, float):
        return value
    if value == 0 or not math.isfinite(value):
        return value
    digits = FLOAT32_DIGITS - 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def _resolved(point: Point) -> Callable[[Snapshot], PointValue]:
    """The point's value function, rounded to the meter's resolution."""
    if point.quantity in _EXACT:
        return point.value
    return lambda snapshot: meter_resolution(point.value(snapshot), point.quantity)


def _always(_snapshot: Snapshot) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class AcuRevSensorEntityDescription(SensorEntityDescription):
    """A sensor made from one catalogue point."""

    value_fn: Callable[[Snapshot], PointValue]
    # The read group the value comes from: unavailable while that group does not answer.
    group: ReadGroup | None = None
    # Decided on the first poll's snapshot: a point whose block is not read has no entity.
    exists_fn: Callable[[Snapshot], bool] = _always
    poll: Poll = Poll.FAST
    # A cumulative counter (energy): published through the energy guard.
    guarded: bool = False


@dataclass(frozen=True, kw_only=True)
class AcuRevBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A digital input or an alarm channel's state."""

    value_fn: Callable[[Snapshot], PointValue]
    # The read group the value comes from: unavailable while that group does not answer.
    group: ReadGroup | None = None
    exists_fn: Callable[[Snapshot], bool] = _always


@dataclass(frozen=True, kw_only=True)
class AcuRevSwitchEntityDescription(SwitchEntityDescription):
    """A relay output."""

    relay: int
    value_fn: Callable[[Snapshot], PointValue]
    # The read group the value comes from: unavailable while that group does not answer.
    group: ReadGroup | None = None
    exists_fn: Callable[[Snapshot], bool] = _always


def _common(point: Point) -> dict[str, object]:
    return {
        "key": point.key,
        "translation_key": point.translation_key,
        "translation_placeholders": dict(point.placeholders),
        "entity_registry_enabled_default": point.enabled_default,
        "entity_category": EntityCategory.DIAGNOSTIC if point.diagnostic else None,
        "group": point.group,
    }


def sensor_description(point: Point) -> AcuRevSensorEntityDescription:
    """The sensor for a measurement, counter or timestamp point."""
    style = STYLES[point.quantity]
    guarded = point.kind is Kind.COUNTER and point.quantity is not Quantity.COUNT
    # A previous month's total is a fixed number, not a growing counter.
    fixed_total = point.quantity is Quantity.ENERGY and point.kind is Kind.MEASUREMENT
    return AcuRevSensorEntityDescription(
        **_common(point),  # type: ignore[arg-type]
        device_class=style.device_class,
        native_unit_of_measurement=style.unit,
        state_class=None if fixed_total else style.state_class,
        suggested_display_precision=style.precision,
        options=LOAD_NATURE_OPTIONS if point.quantity is Quantity.LOAD_NATURE else None,
        value_fn=_resolved(point),
        poll=point.poll,
        guarded=guarded,
    )


def binary_sensor_description(point: Point) -> AcuRevBinarySensorEntityDescription:
    """The binary sensor for a digital input or an alarm channel."""
    ref = parse(point.key)
    alarm = ref is not None and ref.role is Role.ALARM
    return AcuRevBinarySensorEntityDescription(
        **_common(point),  # type: ignore[arg-type]
        device_class=BinarySensorDeviceClass.PROBLEM if alarm else None,
        value_fn=point.value,
    )


def switch_description(point: Point) -> AcuRevSwitchEntityDescription:
    """The switch for a relay output."""
    ref = parse(point.key)
    if ref is None or ref.role is not Role.RELAY or ref.number is None:
        raise ValueError(f"not a relay point: {point.key}")
    return AcuRevSwitchEntityDescription(
        **_common(point),  # type: ignore[arg-type]
        relay=ref.number,
        value_fn=point.value,
    )


def sensor_descriptions(points: Iterable[Point]) -> list[AcuRevSensorEntityDescription]:
    """Descriptions of every sensor-like point."""
    return [sensor_description(p) for p in points if p.kind not in (Kind.BINARY, Kind.RELAY)]


def binary_sensor_descriptions(
    points: Iterable[Point],
) -> list[AcuRevBinarySensorEntityDescription]:
    """Descriptions of every digital input and alarm point."""
    return [binary_sensor_description(p) for p in points if p.kind is Kind.BINARY]


def switch_descriptions(points: Iterable[Point]) -> list[AcuRevSwitchEntityDescription]:
    """Descriptions of every relay point."""
    return [switch_description(p) for p in points if p.kind is Kind.RELAY]

"""Sensors: measurements, energy counters with a monotonic guard, diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorExtraStoredData,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.util import dt as dt_util

from pyacurev.energy_guard import EnergyGuard
from pyacurev.points import Kind, Point, Poll, Quantity

from .coordinator import AcuRevConfigEntry, AcuRevRuntimeData
from .entity import AcuRevEntity

# Coordinator-based, read only: the coordinators already serialise the polls.
PARALLEL_UPDATES = 0

# Reactive energy got a device class in HA 2025.6; on older cores the sensor
# still records kvarh, just without the class.
_REACTIVE_ENERGY = getattr(SensorDeviceClass, "REACTIVE_ENERGY", None)

LOAD_NATURE_OPTIONS = ["inductive", "capacitive", "resistive"]


@dataclass(frozen=True, slots=True)
class _Style:
    device_class: SensorDeviceClass | None
    state_class: SensorStateClass | None
    precision: int | None


_MEASURE = SensorStateClass.MEASUREMENT
_TOTAL_INC = SensorStateClass.TOTAL_INCREASING
STYLES: dict[Quantity, _Style] = {
    Quantity.VOLTAGE: _Style(SensorDeviceClass.VOLTAGE, _MEASURE, 1),
    Quantity.CURRENT: _Style(SensorDeviceClass.CURRENT, _MEASURE, 2),
    Quantity.ACTIVE_POWER: _Style(SensorDeviceClass.POWER, _MEASURE, 0),
    Quantity.REACTIVE_POWER: _Style(SensorDeviceClass.REACTIVE_POWER, _MEASURE, 0),
    Quantity.APPARENT_POWER: _Style(SensorDeviceClass.APPARENT_POWER, _MEASURE, 0),
    Quantity.POWER_FACTOR: _Style(SensorDeviceClass.POWER_FACTOR, _MEASURE, 3),
    Quantity.FREQUENCY: _Style(SensorDeviceClass.FREQUENCY, _MEASURE, 2),
    Quantity.PERCENT: _Style(None, _MEASURE, 1),
    Quantity.LOAD_NATURE: _Style(SensorDeviceClass.ENUM, None, None),
    Quantity.ENERGY: _Style(SensorDeviceClass.ENERGY, _TOTAL_INC, 2),
    Quantity.REACTIVE_ENERGY: _Style(_REACTIVE_ENERGY, _TOTAL_INC, 2),
    Quantity.APPARENT_ENERGY: _Style(None, _TOTAL_INC, 2),
    Quantity.COUNT: _Style(None, _TOTAL_INC, 0),
    Quantity.RATIO: _Style(None, _MEASURE, 2),
    Quantity.DURATION_H: _Style(SensorDeviceClass.DURATION, _TOTAL_INC, 1),
    Quantity.DURATION_S: _Style(SensorDeviceClass.DURATION, _MEASURE, 0),
    Quantity.TIMESTAMP: _Style(SensorDeviceClass.TIMESTAMP, None, None),
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AcuRevConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Create one sensor per sensor-like point of the meter."""
    runtime = entry.runtime_data
    entities: list[SensorEntity] = []
    for point in runtime.points:
        if point.kind in (Kind.BINARY, Kind.RELAY):
            continue
        if point.kind is Kind.COUNTER and point.quantity is not Quantity.COUNT:
            entities.append(AcuRevEnergySensor(runtime, point))
        else:
            entities.append(AcuRevSensor(runtime, point))
    async_add_entities(entities)


class AcuRevSensor(AcuRevEntity, SensorEntity):
    """A point shown as a sensor."""

    def __init__(self, runtime: AcuRevRuntimeData, point: Point) -> None:
        """Style the sensor from the point's quantity."""
        coordinator = runtime.slow if point.poll is Poll.SLOW else runtime.fast
        super().__init__(runtime, coordinator, point)
        style = STYLES[point.quantity]
        self._attr_device_class = style.device_class
        self._attr_native_unit_of_measurement = point.unit
        self._attr_suggested_display_precision = style.precision
        # A previous month's total is a fixed number, not a growing counter.
        self._attr_state_class = (
            None
            if (point.quantity is Quantity.ENERGY and point.kind is Kind.MEASUREMENT)
            else style.state_class
        )
        if point.quantity is Quantity.LOAD_NATURE:
            self._attr_options = LOAD_NATURE_OPTIONS
        if point.diagnostic:
            self._attr_entity_category = EntityCategory.DIAGNOSTIC

    @property
    def native_value(self) -> float | str | datetime | None:
        """The point's value; naive meter timestamps are local time."""
        value = self.point_value
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt_util.get_default_time_zone())
        return value


_GUARD_AT = "guard_at"
_GUARD_REFERENCE = "guard_reference"


@dataclass
class _GuardStoredData(SensorExtraStoredData):
    """The sensor's stored value plus the guard's reference reading and its time."""

    reference: float | None
    at: float | None

    def as_dict(self) -> dict[str, Any]:
        """Stored with the sensor's own keys, so older versions still read the value."""
        return {**super().as_dict(), _GUARD_REFERENCE: self.reference, _GUARD_AT: self.at}


class AcuRevEnergySensor(AcuRevSensor, RestoreSensor):
    """A cumulative counter that never goes backwards except on a genuine reset."""

    def __init__(self, runtime: AcuRevRuntimeData, point: Point) -> None:
        """Start the guard empty; it is restored when the entity is added."""
        super().__init__(runtime, point)
        self.guard = EnergyGuard(
            point.key,
            max_power_kw=runtime.power_limit_kw(point),
            notice=runtime.reset_notice,
            log=runtime.energy_rejects,
        )

    async def async_added_to_hass(self) -> None:
        """Restore the last published value so a restart cannot cause a dip."""
        await super().async_added_to_hass()
        extra = await self.async_get_last_extra_data()
        stored = extra.as_dict() if extra is not None else {}
        value = stored.get("native_value")
        if isinstance(value, (int, float)):
            at, reference = stored.get(_GUARD_AT), stored.get(_GUARD_REFERENCE)
            if not isinstance(at, (int, float)):
                # Stored before the guard kept its own time: the state's is later or
                # equal, which only makes the bound tighter for one reading.
                state = await self.async_get_last_state()
                at = state.last_updated.timestamp() if state is not None else None
            self.guard.restore(
                float(value),
                None if at is None else float(at),
                float(reference) if isinstance(reference, (int, float)) else None,
            )
        self._feed()

    @property
    def extra_restore_state_data(self) -> SensorExtraStoredData:
        """Also the time of the last believed reading: the base of the physics bound.

        The state's last_updated moves whenever the sensor comes back from
        unavailable; restoring that instead would make the meter's counting during
        an outage look impossible.
        """
        return _GuardStoredData(
            self.native_value,
            self.native_unit_of_measurement,
            self.guard.reference,
            self.guard.at,
        )

    @callback
    def _handle_coordinator_update(self) -> None:
        self._feed()
        super()._handle_coordinator_update()

    def _feed(self) -> None:
        if self.coordinator.last_update_success:
            value = self.point_value
            reading = float(value) if isinstance(value, (int, float)) else None
            self.guard.update(reading, dt_util.utcnow().timestamp())

    @property
    def native_value(self) -> float | None:
        """The guarded value."""
        return self.guard.value

    @property
    def available(self) -> bool:
        """Unavailable rather than 0 while the meter has not answered."""
        return super().available and self.guard.value is not None

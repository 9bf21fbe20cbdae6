"""Sensors: measurements, energy counters with a monotonic guard, diagnostics."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorEntity,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from pyacurev.energy_guard import EnergyGuard
from pyacurev.points import Poll

from .coordinator import AcuRevConfigEntry, AcuRevRuntimeData
from .descriptions import AcuRevSensorEntityDescription, sensor_descriptions
from .entity import AcuRevEntity

# Coordinator-based, read only: the coordinators already serialise the polls.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AcuRevConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create one sensor per sensor-like point of the meter."""
    runtime = entry.runtime_data
    entities: list[SensorEntity] = []
    for description in sensor_descriptions(runtime.points):
        coordinator = runtime.slow if description.poll is Poll.SLOW else runtime.fast
        if not description.exists_fn(coordinator.data):
            continue
        cls = AcuRevEnergySensor if description.guarded else AcuRevSensor
        entities.append(cls(runtime, description))
    async_add_entities(entities)


class AcuRevSensor(AcuRevEntity, SensorEntity):
    """A point shown as a sensor."""

    entity_description: AcuRevSensorEntityDescription

    def __init__(
        self, runtime: AcuRevRuntimeData, description: AcuRevSensorEntityDescription
    ) -> None:
        """Bind the description to the poller that reads its point."""
        coordinator = runtime.slow if description.poll is Poll.SLOW else runtime.fast
        super().__init__(runtime, coordinator, description)

    @property
    def native_value(self) -> float | str | datetime | None:
        """The point's value; naive meter timestamps are local time."""
        value = self.point_value
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt_util.get_default_time_zone())
        return value


class AcuRevEnergySensor(AcuRevSensor, RestoreSensor):
    """A cumulative counter that never goes backwards except on a genuine reset."""

    def __init__(
        self, runtime: AcuRevRuntimeData, description: AcuRevSensorEntityDescription
    ) -> None:
        """Start the guard empty; it is restored when the entity is added."""
        super().__init__(runtime, description)
        self.guard = EnergyGuard()
        runtime.energy_guards.append(self.guard)

    async def async_added_to_hass(self) -> None:
        """Restore the last published value so a restart cannot cause a dip."""
        await super().async_added_to_hass()
        last = await self.async_get_last_sensor_data()
        if last is not None and isinstance(last.native_value, (int, float)):
            self.guard.restore(float(last.native_value))
        self._feed()

    @callback
    def _handle_coordinator_update(self) -> None:
        self._feed()
        super()._handle_coordinator_update()

    def _feed(self) -> None:
        if self.coordinator.last_update_success:
            value = self.point_value
            self.guard.update(value if isinstance(value, (int, float)) else None)

    @property
    def native_value(self) -> float | None:
        """The guarded value."""
        return self.guard.value

    @property
    def available(self) -> bool:
        """Unavailable rather than 0 while the meter has not answered."""
        return super().available and self.guard.value is not None

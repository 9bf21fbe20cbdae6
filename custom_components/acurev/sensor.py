"""Sensors: measurements, energy counters with a monotonic guard, diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorEntity,
    SensorExtraStoredData,
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

    def __init__(
        self, runtime: AcuRevRuntimeData, description: AcuRevSensorEntityDescription
    ) -> None:
        """Start the guard empty; it is restored when the entity is added."""
        super().__init__(runtime, description)
        self.guard = EnergyGuard(
            description.key,
            max_power_kw=runtime.power_limit_kw(description.key),
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

"""Digital inputs and alarm states as binary sensors."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import AcuRevConfigEntry
from .descriptions import AcuRevBinarySensorEntityDescription, binary_sensor_descriptions
from .entity import AcuRevEntity

# Coordinator-based, read only.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AcuRevConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One binary sensor per digital input and per enabled alarm channel."""
    runtime = entry.runtime_data
    async_add_entities(
        AcuRevBinarySensor(runtime, runtime.fast, description)
        for description in binary_sensor_descriptions(runtime.points)
        if description.exists_fn(runtime.fast.data)
    )


class AcuRevBinarySensor(AcuRevEntity, BinarySensorEntity):
    """Digital input n (on while closed) or alarm channel n (on while active)."""

    entity_description: AcuRevBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The point's state."""
        value = self.point_value
        return None if value is None else bool(value)

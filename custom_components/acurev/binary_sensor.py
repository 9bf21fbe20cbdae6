"""Digital inputs and alarm states as binary sensors."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from pyacurev.points import Kind

from .coordinator import AcuRevConfigEntry
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
        (AcuRevAlarm if p.translation_key == "alarm" else AcuRevDigitalInput)(
            runtime, runtime.fast, p
        )
        for p in runtime.points
        if p.kind is Kind.BINARY
    )


class AcuRevDigitalInput(AcuRevEntity, BinarySensorEntity):
    """Digital input n (FC02), or an alarm channel's state."""

    @property
    def is_on(self) -> bool | None:
        """On while the input is closed."""
        value = self.point_value
        return None if value is None else bool(value)


class AcuRevAlarm(AcuRevDigitalInput):
    """On while alarm channel n is active (the meter's active-alarm bitmap)."""

    _attr_device_class = BinarySensorDeviceClass.PROBLEM

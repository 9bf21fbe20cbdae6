"""Buttons for the meter's resets (configuration category)."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .actions import Reset, async_reset
from .coordinator import AcuRevConfigEntry, AcuRevRuntimeData
from .entity import device_info

# One command at a time per meter.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AcuRevConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One button per reset."""
    runtime = entry.runtime_data
    async_add_entities(AcuRevResetButton(runtime, reset) for reset in Reset)


class AcuRevResetButton(ButtonEntity, Entity):
    """Press to send one reset command to the meter."""

    _attr_has_entity_name = True
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, runtime: AcuRevRuntimeData, reset: Reset) -> None:
        """Bind the button to its command."""
        self._runtime = runtime
        self._reset = reset
        self._attr_unique_id = f"{runtime.device.serial}_{reset.value}"
        self._attr_translation_key = reset.value
        self._attr_device_info = device_info(runtime.device)
        # Clearing energy or records cannot be undone: keep those out of casual dashboards.
        self._attr_entity_registry_enabled_default = reset is not Reset.RESET_ENERGY

    @property
    def available(self) -> bool:
        """Usable while the meter answers."""
        return self._runtime.fast.last_update_success

    async def async_press(self) -> None:
        """Send the command."""
        await async_reset(self._runtime, self._reset)

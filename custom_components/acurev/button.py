"""Buttons for the meter's resets (configuration category)."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from pyacurev.groups import ReadGroup

from .actions import Reset, async_reset
from .coordinator import AcuRevConfigEntry, AcuRevRuntimeData
from .entity import runtime_device_info

# One command at a time per meter.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AcuRevConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One button per reset."""
    runtime = entry.runtime_data
    buttons: list[ButtonEntity] = []
    # The command registers sit in the designed 0x10xx block beside the identity:
    # a meter that does not answer that block gets no reset buttons.
    if ReadGroup.DEVICE in runtime.discovery.capabilities:
        buttons += [AcuRevResetButton(runtime, reset) for reset in Reset]
    buttons.append(AcuRevRescanButton(hass, entry, runtime))
    async_add_entities(buttons)


class AcuRevResetButton(ButtonEntity, Entity):
    """Press to send one reset command to the meter."""

    _attr_has_entity_name = True
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, runtime: AcuRevRuntimeData, reset: Reset) -> None:
        """Bind the button to its command."""
        self._runtime = runtime
        self._reset = reset
        self._attr_unique_id = f"{runtime.meter_id}_{reset.value}"
        self._attr_translation_key = reset.value
        self._attr_device_info = runtime_device_info(runtime)
        # Clearing energy or records cannot be undone: keep those out of casual dashboards.
        self._attr_entity_registry_enabled_default = reset is not Reset.RESET_ENERGY

    @property
    def available(self) -> bool:
        """Usable while the meter answers."""
        return self._runtime.fast.last_update_success

    async def async_press(self) -> None:
        """Send the command."""
        await async_reset(self._runtime, self._reset)


class AcuRevRescanButton(ButtonEntity, Entity):
    """Probe the meter again: reload the entry, which re-reads what every block answers.

    After a firmware update a block may start (or stop) answering; the reload
    runs the same discovery as set-up and rebuilds the entities from it.
    """

    _attr_has_entity_name = True
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "rescan_meter"

    def __init__(
        self, hass: HomeAssistant, entry: AcuRevConfigEntry, runtime: AcuRevRuntimeData
    ) -> None:
        """Bind the button to its entry."""
        self._entry_id = entry.entry_id
        self._attr_unique_id = f"{runtime.meter_id}_rescan_meter"
        self._attr_device_info = runtime_device_info(runtime)

    async def async_press(self) -> None:
        """Reload the entry (its set-up probes the meter)."""
        self.hass.config_entries.async_schedule_reload(self._entry_id)

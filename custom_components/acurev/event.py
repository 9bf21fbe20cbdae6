"""Event entities: the latest alarm record and the latest SOE record of a meter."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from pyacurev.groups import ReadGroup

from .const import EVENT_ALARM, EVENT_SOE
from .coordinator import AcuRevConfigEntry, AcuRevRuntimeData
from .entity import device_info

# Fed by events, no polling of their own.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AcuRevConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """One event entity per log, when the meter answers the (designed) ring pointers."""
    runtime = entry.runtime_data
    if ReadGroup.LOG_STATUS not in runtime.discovery.capabilities:
        return
    async_add_entities(
        [
            AcuRevLogEvent(runtime, "alarm_log", EVENT_ALARM, ["occurred", "recovered"]),
            AcuRevLogEvent(runtime, "soe_log", EVENT_SOE, ["on", "off", "changed"]),
        ]
    )


class AcuRevLogEvent(EventEntity):
    """Mirrors the meter's acurev_alarm / acurev_soe events for the UI and history."""

    _attr_has_entity_name = True

    def __init__(
        self, runtime: AcuRevRuntimeData, key: str, bus_event: str, event_types: list[str]
    ) -> None:
        """Listen to ``bus_event`` for this meter."""
        self._serial = runtime.meter_id
        self._bus_event = bus_event
        self._attr_unique_id = f"{self._serial}_{key}"
        self._attr_translation_key = key
        self._attr_event_types = event_types
        self._attr_device_info = device_info(runtime)

    async def async_added_to_hass(self) -> None:
        """Subscribe while the entity exists (entity-event-setup)."""
        self.async_on_remove(
            self.hass.bus.async_listen(self._bus_event, self._handle, self._for_me)
        )

    @callback
    def _for_me(self, event_data: Any) -> bool:
        return bool(event_data.get("serial") == self._serial)

    @callback
    def _handle(self, event: Event[Any]) -> None:
        data = dict(event.data)
        if self._bus_event == EVENT_ALARM:
            event_type = data["state"]
        else:
            states = list(data.get("states", {}).values())
            event_type = ("on" if states[0] else "off") if len(states) == 1 else "changed"
        self._trigger_event(event_type, {k: v for k, v in data.items() if k != "device_id"})
        self.async_write_ha_state()

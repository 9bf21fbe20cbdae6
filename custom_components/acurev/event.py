"""Event entities: the latest alarm record and the latest SOE record of a meter.

Fed directly by the readings poller, which owns the log watcher: each poll that turned ring
records into events hands them over as a numbered batch, and each entity takes every batch once.
The ``acurev_alarm`` / ``acurev_soe`` bus events (and the device triggers built on them) carry
the same records; the entities do not listen to our own bus.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from pyacurev.groups import ReadGroup

from .const import EVENT_ALARM, EVENT_SOE
from .coordinator import AcuRevConfigEntry, AcuRevRuntimeData, ReadingsCoordinator
from .entity import runtime_device_info

# Fed by the readings poller, no polling of their own.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AcuRevConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
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


def _event_type(bus_event: str, data: dict[str, Any]) -> str:
    if bus_event == EVENT_ALARM:
        return str(data["state"])
    states = list(data.get("states", {}).values())
    return ("on" if states[0] else "off") if len(states) == 1 else "changed"


class AcuRevLogEvent(CoordinatorEntity[ReadingsCoordinator], EventEntity):
    """The meter's alarm log or SOE log, one event per new record."""

    _attr_has_entity_name = True

    def __init__(
        self, runtime: AcuRevRuntimeData, key: str, bus_event: str, event_types: list[str]
    ) -> None:
        """Take the records of ``bus_event``'s kind from the readings poller."""
        super().__init__(runtime.fast)
        self._bus_event = bus_event
        # Batches before the entity existed were fired on the bus already; not replayed.
        self._seen_batch = runtime.fast.log_batch
        self._attr_unique_id = f"{runtime.meter_id}_{key}"
        self._attr_translation_key = key
        self._attr_event_types = event_types
        self._attr_device_info = runtime_device_info(runtime)

    @callback
    def _handle_coordinator_update(self) -> None:
        batch = self.coordinator.log_batch
        if batch == self._seen_batch:
            super()._handle_coordinator_update()  # availability may have changed
            return
        self._seen_batch = batch
        for bus_event, data in self.coordinator.log_events:
            if bus_event == self._bus_event:
                self._trigger_event(
                    _event_type(bus_event, data),
                    {k: v for k, v in data.items() if k != "device_id"},
                )
                # One state per record, so history and automations see every one.
                self.async_write_ha_state()

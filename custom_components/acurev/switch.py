"""Relay outputs as switches; the state shown is always the one read back."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import AcuRevConfigEntry, AcuRevRuntimeData
from .descriptions import AcuRevSwitchEntityDescription, switch_descriptions
from .entity import AcuRevEntity
from .errors import Context, translated

# One relay command at a time per meter: writes share the meter's single link.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AcuRevConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One switch per relay."""
    runtime = entry.runtime_data
    async_add_entities(
        AcuRevRelaySwitch(runtime, description)
        for description in switch_descriptions(runtime.points)
        if description.exists_fn(runtime.fast.data)
    )


class AcuRevRelaySwitch(AcuRevEntity, SwitchEntity):
    """Relay n of the meter (FC05 write, FC01 read back)."""

    entity_description: AcuRevSwitchEntityDescription

    def __init__(
        self, runtime: AcuRevRuntimeData, description: AcuRevSwitchEntityDescription
    ) -> None:
        """Remember which relay this is."""
        super().__init__(runtime, runtime.fast, description)
        self._runtime = runtime
        self._relay = description.relay
        self._read_back: bool | None = None

    @property
    def is_on(self) -> bool | None:
        """Read-back state after our own write, else the last poll."""
        if self._read_back is not None:
            return self._read_back
        value = self.point_value
        return None if value is None else bool(value)

    @callback
    def _handle_coordinator_update(self) -> None:
        # A fresh poll is newer than our read-back: drop it.
        self._read_back = None
        super()._handle_coordinator_update()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Close the relay."""
        await self._switch(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Open the relay."""
        await self._switch(False)

    async def _switch(self, on: bool) -> None:
        with translated(Context.RELAY, {"relay": str(self._relay)}):
            state = await self._runtime.client.set_relay(self._relay, on)
        self._read_back = state
        self.async_write_ha_state()
        if state is not on:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="relay_did_not_switch",
                translation_placeholders={"relay": str(self._relay)},
            )

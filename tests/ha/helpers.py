"""Small helpers shared by the Home Assistant tests."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.acurev.const import DOMAIN


def entity_id(hass: HomeAssistant, platform: str, serial: str, key: str) -> str:
    """The entity id registered for point ``key`` of meter ``serial``."""
    eid = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{serial}_{key}")
    assert eid is not None, f"no {platform} entity for point {key}"
    return eid


def state(hass: HomeAssistant, platform: str, serial: str, key: str) -> State:
    """The current state of point ``key``."""
    st = hass.states.get(entity_id(hass, platform, serial, key))
    assert st is not None, f"entity for {key} has no state (disabled?)"
    return st


def number(hass: HomeAssistant, platform: str, serial: str, key: str) -> float:
    """The numeric state of point ``key``."""
    return float(state(hass, platform, serial, key).state)


def device_id(hass: HomeAssistant, serial: str) -> str:
    """The Home Assistant device id of meter ``serial``."""
    # Per config entry, not async_get_device(identifiers=...) or registry.devices: HA 2026.10
    # turned both into errors (identifiers are no longer unique across entries) and 2025.4
    # lacks their successors.
    registry = dr.async_get(hass)
    matches = [
        device.id
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if (DOMAIN, serial) in device.identifiers
    ]
    assert len(matches) == 1, f"{len(matches)} devices for meter {serial}"
    return matches[0]

"""Device triggers: alarm occurred/recovered, DI turned on/off, relay turned on/off.

Alarms fire on the integration's ``acurev_alarm`` event (matching the device and,
optionally, the alarm channel); DIs and relays are state triggers on their
entities, so the automation editor lists them under the meter.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.components.homeassistant.triggers import state as state_trigger
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_ENTITY_ID,
    CONF_PLATFORM,
    CONF_TYPE,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from pyacurev.registers import ALARM_CHANNEL_COUNT

from .const import DOMAIN, EVENT_ALARM

CONF_CHANNEL = "channel"
ALARM_TRIGGERS = {"alarm_occurred": "occurred", "alarm_recovered": "recovered"}
ENTITY_TRIGGERS = {
    "di_turned_on": ("binary_sensor", "_di_", STATE_ON),
    "di_turned_off": ("binary_sensor", "_di_", STATE_OFF),
    "relay_turned_on": ("switch", "_relay_", STATE_ON),
    "relay_turned_off": ("switch", "_relay_", STATE_OFF),
}

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_TYPE): vol.In([*ALARM_TRIGGERS, *ENTITY_TRIGGERS]),
        vol.Optional(CONF_CHANNEL): vol.All(vol.Coerce(int), vol.Range(1, ALARM_CHANNEL_COUNT)),
        vol.Optional(CONF_ENTITY_ID): cv.entity_id_or_uuid,
    }
)


def _base(device_id: str, trigger_type: str) -> dict[str, Any]:
    return {
        CONF_PLATFORM: "device",
        CONF_DOMAIN: DOMAIN,
        CONF_DEVICE_ID: device_id,
        CONF_TYPE: trigger_type,
    }


def _is_point(entry: er.RegistryEntry, marker: str) -> bool:
    # Unique ids are <serial>_di_<n> / <serial>_relay_<n>; DI counters end in _count.
    tail = entry.unique_id.rsplit(marker, 1)
    return len(tail) == 2 and tail[1].isdigit()


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """Every trigger the meter offers."""
    triggers: list[dict[str, Any]] = []
    entities = er.async_entries_for_device(er.async_get(hass), device_id)
    alarm_channels = sorted(
        int(e.unique_id.rsplit("_alarm_", 1)[1])
        for e in entities
        if e.platform == DOMAIN and e.domain == "binary_sensor" and _is_point(e, "_alarm_")
    )
    for trigger_type in ALARM_TRIGGERS:
        triggers.append(_base(device_id, trigger_type))
        triggers += [{**_base(device_id, trigger_type), CONF_CHANNEL: ch} for ch in alarm_channels]
    for trigger_type, (domain, marker, _) in ENTITY_TRIGGERS.items():
        triggers += [
            {**_base(device_id, trigger_type), CONF_ENTITY_ID: e.id}
            for e in entities
            if e.platform == DOMAIN and e.domain == domain and _is_point(e, marker)
        ]
    return triggers


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """An alarm trigger may be narrowed to one alarm channel."""
    if config[CONF_TYPE] in ALARM_TRIGGERS:
        return {
            "extra_fields": vol.Schema(
                {
                    vol.Optional(CONF_CHANNEL): vol.All(
                        vol.Coerce(int), vol.Range(1, ALARM_CHANNEL_COUNT)
                    ),
                }
            )
        }
    return {}


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Attach an event trigger (alarms) or a state trigger (DIs, relays)."""
    trigger_type = config[CONF_TYPE]
    if trigger_type in ALARM_TRIGGERS:
        event_data: dict[str, Any] = {
            CONF_DEVICE_ID: config[CONF_DEVICE_ID],
            "state": ALARM_TRIGGERS[trigger_type],
        }
        if CONF_CHANNEL in config:
            event_data[CONF_CHANNEL] = config[CONF_CHANNEL]
        event_config = event_trigger.TRIGGER_SCHEMA(
            {
                CONF_PLATFORM: "event",
                "event_type": EVENT_ALARM,
                "event_data": event_data,
            }
        )
        return await event_trigger.async_attach_trigger(
            hass, event_config, action, trigger_info, platform_type="device"
        )
    _, _, to_state = ENTITY_TRIGGERS[trigger_type]
    state_config = await state_trigger.async_validate_trigger_config(
        hass,
        {
            CONF_PLATFORM: "state",
            CONF_ENTITY_ID: config[CONF_ENTITY_ID],
            state_trigger.CONF_TO: to_state,
        },
    )
    return await state_trigger.async_attach_trigger(
        hass, state_config, action, trigger_info, platform_type="device"
    )

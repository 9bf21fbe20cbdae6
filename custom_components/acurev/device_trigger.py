"""Device triggers: alarm occurred / recovered, optionally for one alarm channel.

Alarms fire on the integration's ``acurev_alarm`` event (matching the device and,
optionally, the alarm channel); the alarm event entity is the entity-based alternative.
DI and relay changes are offered by Home Assistant's own state triggers of their
entities, so this module no longer lists ``di_turned_on/off`` / ``relay_turned_on/off``;
automations created with them before still validate and attach (as state triggers), so
nothing a user built breaks.
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
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from pyacurev import keys
from pyacurev.keys import Role
from pyacurev.registers import ALARM_CHANNEL_COUNT

from .const import DOMAIN, EVENT_ALARM

CONF_CHANNEL = "channel"
ALARM_TRIGGERS = {"alarm_occurred": "occurred", "alarm_recovered": "recovered"}
# Not listed any more (built-in state triggers cover them); still attached for old automations.
LEGACY_ENTITY_TRIGGERS = {
    "di_turned_on": STATE_ON,
    "di_turned_off": STATE_OFF,
    "relay_turned_on": STATE_ON,
    "relay_turned_off": STATE_OFF,
}

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_TYPE): vol.In([*ALARM_TRIGGERS, *LEGACY_ENTITY_TRIGGERS]),
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


def _alarm_channels(hass: HomeAssistant, device_id: str) -> list[int]:
    """The alarm channels the meter has entities for (unique ids are ``<serial>_<key>``)."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return []
    serials = [ident for domain, ident in device.identifiers if domain == DOMAIN]
    channels: set[int] = set()
    for entry in er.async_entries_for_device(er.async_get(hass), device_id):
        if entry.platform != DOMAIN:
            continue
        for serial in serials:
            prefix = f"{serial}_"
            if not entry.unique_id.startswith(prefix):
                continue
            ref = keys.parse(entry.unique_id.removeprefix(prefix))
            if ref is not None and ref.role is Role.ALARM and ref.channel is not None:
                channels.add(ref.channel)
    return sorted(channels)


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """Every trigger the meter offers: any alarm, and each alarm channel's."""
    triggers: list[dict[str, Any]] = []
    channels = _alarm_channels(hass, device_id)
    for trigger_type in ALARM_TRIGGERS:
        triggers.append(_base(device_id, trigger_type))
        triggers += [{**_base(device_id, trigger_type), CONF_CHANNEL: ch} for ch in channels]
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
    """Attach an event trigger (alarms) or, for old automations, a state trigger."""
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
    to_state = LEGACY_ENTITY_TRIGGERS[trigger_type]
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

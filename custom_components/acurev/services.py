"""Actions (services) that target one meter, registered once in ``async_setup``."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from pyacurev.registers import CHANNEL_COUNT, DI_COUNT

from .actions import Reset, async_reset, async_set_clock, async_set_ct_primary
from .const import DOMAIN
from .coordinator import AcuRevConfigEntry, AcuRevRuntimeData

ATTR_DEVICE_ID = "device_id"
ATTR_DIGITAL_INPUTS = "digital_inputs"
ATTR_TIME = "time"
ATTR_CHANNEL = "channel"
ATTR_AMPS = "amps"

SERVICE_SET_CLOCK = "set_clock"
SERVICE_SET_CT_PRIMARY = "set_ct_primary"

BASE = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
SCHEMAS: dict[str, vol.Schema] = {
    **{reset.value: BASE for reset in Reset if reset is not Reset.CLEAR_DI_COUNTERS},
    Reset.CLEAR_DI_COUNTERS.value: BASE.extend(
        {
            vol.Optional(ATTR_DIGITAL_INPUTS): vol.All(
                cv.ensure_list, [vol.All(vol.Coerce(int), vol.Range(1, DI_COUNT))]
            ),
        }
    ),
    SERVICE_SET_CLOCK: BASE.extend({vol.Optional(ATTR_TIME): cv.datetime}),
    SERVICE_SET_CT_PRIMARY: BASE.extend(
        {
            vol.Required(ATTR_CHANNEL): vol.All(vol.Coerce(int), vol.Range(1, CHANNEL_COUNT)),
            vol.Required(ATTR_AMPS): vol.All(vol.Coerce(int), vol.Range(5, 50000)),
        }
    ),
}


def _runtime(call: ServiceCall) -> AcuRevRuntimeData:
    """The loaded meter an action targets, or a translated validation error."""
    device = dr.async_get(call.hass).async_get(call.data[ATTR_DEVICE_ID])
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_device",
            translation_placeholders={"device_id": call.data[ATTR_DEVICE_ID]},
        )
    for entry_id in device.config_entries:
        entry: AcuRevConfigEntry | None = call.hass.config_entries.async_get_entry(entry_id)
        if entry is not None and entry.domain == DOMAIN:
            if entry.state is not ConfigEntryState.LOADED:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="not_loaded",
                    translation_placeholders={"name": entry.title},
                )
            return entry.runtime_data
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_device",
        translation_placeholders={"device_id": call.data[ATTR_DEVICE_ID]},
    )


async def _reset(reset: Reset, call: ServiceCall) -> None:
    await async_reset(_runtime(call), reset, call.data.get(ATTR_DIGITAL_INPUTS))


async def _set_clock(call: ServiceCall) -> None:
    runtime = _runtime(call)
    when: datetime = call.data.get(ATTR_TIME) or dt_util.now()
    if when.tzinfo is not None:
        # The meter keeps local time without a zone: convert to Home Assistant's zone.
        when = dt_util.as_local(when).replace(tzinfo=None)
    await async_set_clock(runtime, when)


async def _set_ct_primary(call: ServiceCall) -> None:
    await async_set_ct_primary(_runtime(call), call.data[ATTR_CHANNEL], call.data[ATTR_AMPS])


def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action of the integration."""
    for reset in Reset:
        hass.services.async_register(
            DOMAIN, reset.value, partial(_reset, reset), schema=SCHEMAS[reset.value]
        )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_CLOCK, _set_clock, schema=SCHEMAS[SERVICE_SET_CLOCK]
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_CT_PRIMARY, _set_ct_primary, schema=SCHEMAS[SERVICE_SET_CT_PRIMARY]
    )

"""UI set-up: connect, read the meter's identity, then create the entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers import selector

from pyacurev.client import AcuRevClient
from pyacurev.errors import (
    AcuRevConnectionError,
    AcuRevError,
    AcuRevTimeoutError,
)
from pyacurev.models import DeviceInfo
from pyacurev.points import Option

from .const import (
    CONF_BACKFILL,
    CONF_CLOCK_SYNC,
    CONF_CLOCK_THRESHOLD,
    CONF_ENERGY_INTERVAL,
    CONF_SCAN_INTERVAL,
    CONF_UNIT_ID,
    DEFAULT_CLOCK_THRESHOLD,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
    DOMAIN,
    MAX_ENERGY_INTERVAL,
    MAX_SCAN_INTERVAL,
    MIN_ENERGY_INTERVAL,
    MIN_SCAN_INTERVAL,
    REQUEST_TIMEOUT,
)
from .coordinator import AcuRevConfigEntry
from .options import backfill_enabled, energy_interval, point_options, scan_interval

KNOWN_MODELS = (2010, 2020)


class NotAnAcuRevError(AcuRevError):
    """Something answers Modbus there, but not with an AcuRev identity."""


def _seconds(minimum: int, maximum: int) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            mode=selector.NumberSelectorMode.BOX,
            unit_of_measurement="s",
        )
    )


def _connection_schema(defaults: Mapping[str, Any], with_unit: bool = True) -> vol.Schema:
    # Ranges are checked in the step, not by the schema, so that the user gets a
    # translated field error instead of a generic "invalid input".
    fields: dict[Any, Any] = {
        vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): str,
        vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): vol.Coerce(int),
    }
    if with_unit:
        fields[vol.Required(CONF_UNIT_ID, default=defaults.get(CONF_UNIT_ID, DEFAULT_UNIT_ID))] = (
            vol.Coerce(int)
        )
    return vol.Schema(fields)


def _check_ranges(data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 1 <= int(data[CONF_PORT]) <= 65535:
        errors[CONF_PORT] = "invalid_port"
    if CONF_UNIT_ID in data and not 1 <= int(data[CONF_UNIT_ID]) <= 247:
        errors[CONF_UNIT_ID] = "invalid_unit_id"
    return errors


async def read_identity(host: str, port: int, unit_id: int) -> DeviceInfo:
    """Connect once and read who answers; raise when it is no AcuRev."""
    client = AcuRevClient(host, port, unit_id, timeout=REQUEST_TIMEOUT)
    try:
        device = await client.read_device_info()
    finally:
        await client.close()
    if device.model not in KNOWN_MODELS or not device.serial.isprintable() or not device.serial:
        raise NotAnAcuRevError(f"model {device.model}, serial {device.serial!r}")
    return device


async def _try_identity(data: Mapping[str, Any]) -> tuple[DeviceInfo | None, dict[str, str]]:
    try:
        device = await read_identity(data[CONF_HOST], int(data[CONF_PORT]), int(data[CONF_UNIT_ID]))
    except AcuRevTimeoutError:
        return None, {"base": "timeout"}
    except AcuRevConnectionError:
        return None, {"base": "cannot_connect"}
    except AcuRevError:
        # A Modbus exception, a garbled answer or an implausible identity: a
        # device is there, but it is not an AcuRev speaking this register map.
        return None, {"base": "not_acurev"}
    return device, {}


class AcuRevConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add an AcuRev meter by host, port and unit id."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the connection and check the meter answers."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _check_ranges(user_input)
            if not errors:
                device, errors = await _try_identity(user_input)
                if device is not None:
                    await self.async_set_unique_id(device.serial)
                    self._abort_if_unique_id_configured()
                    return self.async_create_entry(
                        title=f"{device.model_name} {device.serial}",
                        data={
                            CONF_HOST: user_input[CONF_HOST],
                            CONF_PORT: int(user_input[CONF_PORT]),
                            CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
                        },
                    )
        return self.async_show_form(
            step_id="user",
            data_schema=_connection_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the entry to a new address; refuse a different meter."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            errors = _check_ranges(data)
            if not errors:
                device, errors = await _try_identity(data)
                if device is not None:
                    await self.async_set_unique_id(device.serial)
                    self._abort_if_unique_id_mismatch(reason="wrong_meter")
                    # The entry's update listener reloads it; no reload here, so
                    # the two never race (deprecated combination since 2026.6).
                    self.hass.config_entries.async_update_entry(
                        entry,
                        data={
                            **data,
                            CONF_PORT: int(data[CONF_PORT]),
                            CONF_UNIT_ID: int(data[CONF_UNIT_ID]),
                        },
                    )
                    return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_connection_schema(user_input or entry.data),
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: AcuRevConfigEntry) -> OptionsFlow:
        """Polling intervals and optional groups."""
        return AcuRevOptionsFlow()


class AcuRevOptionsFlow(OptionsFlow):
    """Change polling intervals and which optional groups exist."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form; saving it reloads the entry through its update listener."""
        if user_input is not None:
            return self.async_create_entry(
                data={
                    **user_input,
                    CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                    CONF_ENERGY_INTERVAL: int(user_input[CONF_ENERGY_INTERVAL]),
                    CONF_CLOCK_THRESHOLD: int(user_input[CONF_CLOCK_THRESHOLD]),
                }
            )
        options = self.config_entry.options
        enabled = point_options(options).enabled
        schema: dict[Any, Any] = {
            vol.Required(CONF_SCAN_INTERVAL, default=scan_interval(options)): _seconds(
                MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL
            ),
            vol.Required(CONF_ENERGY_INTERVAL, default=energy_interval(options)): _seconds(
                MIN_ENERGY_INTERVAL, MAX_ENERGY_INTERVAL
            ),
        }
        for opt in Option:
            schema[vol.Required(opt.value, default=opt in enabled)] = selector.BooleanSelector()
        schema[vol.Required(CONF_CLOCK_SYNC, default=options.get(CONF_CLOCK_SYNC, False))] = (
            selector.BooleanSelector()
        )
        schema[
            vol.Required(
                CONF_CLOCK_THRESHOLD,
                default=options.get(CONF_CLOCK_THRESHOLD, DEFAULT_CLOCK_THRESHOLD),
            )
        ] = _seconds(5, 3600)
        schema[vol.Required(CONF_BACKFILL, default=backfill_enabled(options))] = (
            selector.BooleanSelector()
        )
        return self.async_show_form(step_id="init", data_schema=vol.Schema(schema))

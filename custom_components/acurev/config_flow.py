"""UI set-up: connect, read the meter's identity, then create the entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback

from pyacurev.client import AcuRevClient
from pyacurev.errors import (
    AcuRevConnectionError,
    AcuRevError,
    AcuRevTimeoutError,
)
from pyacurev.models import DeviceInfo

from .const import (
    CONF_UNIT_ID,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
    DOMAIN,
    REQUEST_TIMEOUT,
)
from .coordinator import AcuRevConfigEntry
from .options_flow import AcuRevOptionsFlow

KNOWN_MODELS = (2010, 2020)


class NotAnAcuRevError(AcuRevError):
    """Something answers Modbus there, but not with an AcuRev identity."""


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
                    return self.async_update_reload_and_abort(
                        entry,
                        data_updates={
                            **data,
                            CONF_PORT: int(data[CONF_PORT]),
                            CONF_UNIT_ID: int(data[CONF_UNIT_ID]),
                        },
                    )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_connection_schema(user_input or entry.data),
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: AcuRevConfigEntry) -> OptionsFlow:
        """Optional point groups and clock sync."""
        return AcuRevOptionsFlow()

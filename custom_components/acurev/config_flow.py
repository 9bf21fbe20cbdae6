"""UI set-up: connect, read what the meter answers, then create the entry.

Our register map is not the meter's map: the serial, model and map version sit
in DESIGNED registers. The flow therefore accepts a meter when the
evidence-backed core answers plausibly (system floats with a plausible
frequency, channel records, the import energy bank, relays and DIs), even if
every designed block answers exception 02 or nonsense. The serial is the unique
id when it answers plausibly; otherwise a stable id from the address
(``const.fallback_meter_id``), and the user is told which blocks did not answer.

The model (AcuRev 2020 or its successor 2100) is detected from what answers
(``pyacurev.discovery.detect_model``); when the answers cannot tell (the identity
block does not answer, the wiring is one both models have and the 2100's users
7-9 read zeros), the user chooses, and the choice is stored in the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback

from pyacurev.client import AcuRevClient
from pyacurev.discovery import Discovery, WrongUnitIdError, discover
from pyacurev.errors import (
    AcuRevConnectionError,
    AcuRevError,
    AcuRevTimeoutError,
)
from pyacurev.profiles import PROFILES, MeterModel

from .const import (
    CONF_CAPABILITIES,
    CONF_MODEL,
    CONF_UNIT_ID,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
    DOMAIN,
    REQUEST_TIMEOUT,
    fallback_meter_id,
)
from .coordinator import AcuRevConfigEntry
from .options_flow import AcuRevOptionsFlow


class NotAnAcuRevError(AcuRevError):
    """Something answers Modbus there, but not with the AcuRev's evidence-backed core."""


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


async def probe_meter(host: str, port: int, unit_id: int, model: str | None = None) -> Discovery:
    """Connect once and read what the meter answers; raise when the core is not there.

    ``model`` is the user's choice, used only where the answers cannot tell the model.
    """
    client = AcuRevClient(host, port, unit_id, timeout=REQUEST_TIMEOUT)
    try:
        found = await discover(client, model)
    finally:
        await client.close()
    if not found.core_ok:
        raise NotAnAcuRevError("; ".join(found.core_problems))
    return found


def model_undecided(found: Discovery) -> bool:
    """The answers did not tell the model (the profiles differ in users, wirings, angles)."""
    return found.model.model is None


async def _try_probe(data: Mapping[str, Any]) -> tuple[Discovery | None, dict[str, str]]:
    try:
        found = await probe_meter(
            data[CONF_HOST], int(data[CONF_PORT]), int(data[CONF_UNIT_ID]), data.get(CONF_MODEL)
        )
    except WrongUnitIdError:
        # The connection works, but a gateway refuses the unit id (0x0A/0x0B) or
        # nothing answers at it: the unit id is wrong, not the device.
        return None, {"base": "wrong_unit_id"}
    except AcuRevTimeoutError:
        return None, {"base": "timeout"}
    except AcuRevConnectionError:
        return None, {"base": "cannot_connect"}
    except AcuRevError:
        # The verified core (system floats, channels, import energy, relays/DIs)
        # did not answer plausibly: not an AcuRev speaking this register map.
        return None, {"base": "not_acurev"}
    return found, {}


def meter_id(found: Discovery, data: Mapping[str, Any]) -> str:
    """The entry's unique id: the serial when it answered plausibly, else the fallback."""
    if found.identified:
        return found.device.serial
    return fallback_meter_id(data[CONF_HOST], int(data[CONF_PORT]), int(data[CONF_UNIT_ID]))


def _missing_text(found: Discovery) -> str:
    return ", ".join(f"{g} ({found.groups[g]})" for g in found.missing) or "-"


class AcuRevConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add an AcuRev meter by host, port and unit id."""

    VERSION = 1

    def __init__(self) -> None:
        """Nothing probed yet."""
        self._found: Discovery | None = None
        self._data: dict[str, Any] = {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the connection and check the meter's core answers."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _check_ranges(user_input)
            if not errors:
                found, errors = await _try_probe(user_input)
                if found is not None:
                    await self.async_set_unique_id(meter_id(found, user_input))
                    self._abort_if_unique_id_configured()
                    self._found = found
                    self._data = {
                        CONF_HOST: user_input[CONF_HOST],
                        CONF_PORT: int(user_input[CONF_PORT]),
                        CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
                    }
                    if model_undecided(found):
                        return await self.async_step_model()
                    return await self._after_probe()
        return self.async_show_form(
            step_id="user",
            data_schema=_connection_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_model(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask which model this is when its answers cannot tell; probe again with the choice."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**self._data, CONF_MODEL: user_input[CONF_MODEL]}
            found, errors = await _try_probe(data)
            if found is not None:
                self._found = found
                return await self._after_probe()
        assert self._found is not None
        return self.async_show_form(
            step_id="model",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_MODEL, default=MeterModel.ACUREV_2020.value): vol.In(
                        {m.value: p.name for m, p in PROFILES.items()}
                    )
                }
            ),
            errors=errors,
            description_placeholders={"reason": self._found.model.reason},
        )

    async def _after_probe(self) -> ConfigFlowResult:
        assert self._found is not None
        found = self._found
        self._data[CONF_CAPABILITIES] = sorted(found.capabilities)
        self._data[CONF_MODEL] = found.device.profile.model.value
        if found.missing:
            return await self.async_step_partial()
        return self._create()

    async def async_step_partial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Tell the user which blocks did not answer before the entry is created."""
        assert self._found is not None
        if user_input is not None:
            return self._create()
        return self.async_show_form(
            step_id="partial",
            data_schema=vol.Schema({}),
            description_placeholders={
                "missing": _missing_text(self._found),
                "meter_id": str(self.unique_id),
            },
        )

    def _create(self) -> ConfigFlowResult:
        assert self._found is not None
        found = self._found
        name = found.device.model_name if found.identified else "AcuRev"
        return self.async_create_entry(title=f"{name} {self.unique_id}", data=self._data)

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
                found, errors = await _try_probe(data)
                if found is not None:
                    # A meter without a serial cannot prove it is the same one:
                    # its fallback id follows the address, so moving it is allowed.
                    if found.identified:
                        await self.async_set_unique_id(found.device.serial)
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

"""One place that turns the library's exceptions into Home Assistant's translated errors.

The library raises a small hierarchy (``pyacurev.errors``): identity, timeout, Modbus exception,
invalid value, other communication failure. What Home Assistant needs depends on where the call
ran, not on the exception: a poll must raise ``UpdateFailed`` (the coordinator then marks the
entities unavailable and logs once), set-up ``ConfigEntryNotReady`` / ``ConfigEntryError`` (retry
or stop), an action or a switch ``HomeAssistantError`` / ``ServiceValidationError`` (shown to the
user). :func:`translated` maps every combination, so every message is translated and every
caller stays a one-line ``with``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum, auto

from homeassistant.exceptions import (
    ConfigEntryError,
    ConfigEntryNotReady,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import UpdateFailed

from pyacurev.errors import (
    AcuRevError,
    AcuRevIdentityError,
    AcuRevTimeoutError,
    AcuRevValueError,
    ModbusExceptionError,
)

from .const import DOMAIN

# The meter answers "slave device failure" when asked to force a relay that its alarm or event
# logic controls (relay mode is not "remote").
EXC_DEVICE_FAILURE = 4


class Context(Enum):
    """Where the failing call ran: decides the exception class Home Assistant expects."""

    SETUP = auto()  # async_setup_entry
    POLL = auto()  # a coordinator update
    COMMAND = auto()  # an action or a button: placeholder "command"
    RELAY = auto()  # a relay switch: placeholder "relay"


def _key(err: AcuRevError, context: Context) -> str:
    if isinstance(err, AcuRevIdentityError):
        return "wrong_meter"
    if context is Context.SETUP:
        return "cannot_connect"
    if context is Context.RELAY:
        relay_refused = (
            isinstance(err, ModbusExceptionError) and err.exception_code == EXC_DEVICE_FAILURE
        )
        return "relay_not_remote" if relay_refused else "write_failed"
    if context is Context.COMMAND:
        return "command_failed"
    if isinstance(err, AcuRevTimeoutError):
        return "timeout"
    if isinstance(err, ModbusExceptionError):
        return "modbus_exception"
    return "communication_error"


def to_ha_error(
    err: AcuRevError,
    context: Context,
    placeholders: dict[str, str] | None = None,
    *,
    invalid_value_key: str | None = None,
) -> HomeAssistantError:
    """The translated Home Assistant error for ``err`` raised in ``context``."""
    values = {**(placeholders or {}), "error": str(err)}
    if isinstance(err, AcuRevIdentityError):
        values = {"expected": err.expected, "found": err.found}
    if isinstance(err, AcuRevValueError) and invalid_value_key is not None:
        # The user asked for something the meter cannot take: their input, not a failure.
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=invalid_value_key,
            translation_placeholders=placeholders or {},
        )
    key = _key(err, context)
    cls: type[HomeAssistantError]
    match context:
        case Context.SETUP:
            cls = ConfigEntryError if key == "wrong_meter" else ConfigEntryNotReady
        case Context.POLL:
            cls = UpdateFailed
        case _:
            cls = HomeAssistantError
    return cls(translation_domain=DOMAIN, translation_key=key, translation_placeholders=values)


@contextmanager
def translated(
    context: Context,
    placeholders: dict[str, str] | None = None,
    *,
    invalid_value_key: str | None = None,
) -> Iterator[None]:
    """Run a block of meter I/O; library errors leave it as translated HA errors."""
    try:
        yield
    except AcuRevError as err:
        raise to_ha_error(err, context, placeholders, invalid_value_key=invalid_value_key) from err

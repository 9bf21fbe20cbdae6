"""The meter's commands, shared by the actions (services) and the buttons."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from pyacurev.commands import ALL_DI_MASK, Command
from pyacurev.registers import DI_COUNT

from .const import DOMAIN
from .coordinator import AcuRevRuntimeData
from .errors import Context, translated


class Reset(StrEnum):
    """Resets offered as actions and buttons (keys are also the translation keys)."""

    RESET_DEMAND = "reset_demand"
    RESET_ENERGY = "reset_energy"
    RESET_MAX_MIN = "reset_max_min"
    CLEAR_ALARM_RECORDS = "clear_alarm_records"
    RESET_RUN_TIME = "reset_run_time"
    CLEAR_DI_COUNTERS = "clear_di_counters"


COMMANDS: dict[Reset, Command] = {
    Reset.RESET_DEMAND: Command.CLEAR_DEMAND,
    Reset.RESET_ENERGY: Command.CLEAR_ENERGY,
    Reset.RESET_MAX_MIN: Command.CLEAR_MAX_MIN,
    Reset.CLEAR_ALARM_RECORDS: Command.CLEAR_ALARM_RECORDS,
    Reset.RESET_RUN_TIME: Command.CLEAR_RUN_TIME,
    Reset.CLEAR_DI_COUNTERS: Command.CLEAR_DI_COUNTERS,
}


async def async_reset(
    runtime: AcuRevRuntimeData, reset: Reset, digital_inputs: list[int] | None = None
) -> None:
    """Send one reset command, then re-read what it changed."""
    mask = ALL_DI_MASK
    if digital_inputs:
        mask = 0
        for n in digital_inputs:
            mask |= 1 << (n - 1)
    with translated(Context.COMMAND, {"command": reset.value}):
        # A failed command raises here: nothing announced, so a later glitch cannot
        # pass as a reset.
        await runtime.client.run_command(COMMANDS[reset], mask)
    if reset is Reset.RESET_ENERGY:
        # Announced only now that the meter acknowledged the clear, and before the
        # refresh below: the counters' drop is then taken as the one real reset.
        runtime.reset_notice.announce(dt_util.utcnow().timestamp())
    # Refreshed now, not debounced: whoever pressed it wants to see the effect.
    await runtime.slow.async_refresh()
    await runtime.fast.async_refresh()


async def async_set_clock(runtime: AcuRevRuntimeData, when: datetime) -> None:
    """Set the meter clock (naive local time)."""
    with translated(Context.COMMAND, {"command": "set_clock"}):
        await runtime.client.set_clock(when)
    await runtime.slow.async_refresh()


async def async_set_ct_primary(runtime: AcuRevRuntimeData, channel: int, amps: int) -> None:
    """Change one channel's CT primary rating (range-checked, read back)."""
    if channel > runtime.device.installed_channels:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="channel_not_installed",
            translation_placeholders={
                "channel": str(channel),
                "installed": str(runtime.device.installed_channels),
            },
        )
    with translated(
        Context.COMMAND,
        {"command": "set_ct_primary", "amps": str(amps)},
        invalid_value_key="invalid_ct_primary",
    ):
        await runtime.client.set_ct_primary(channel, amps)


DI_RANGE = range(1, DI_COUNT + 1)

"""The options flow: which optional point groups exist, and whether the meter's clock is kept.

No polling rates: they are fixed (``const``), as Home Assistant core asks of device
integrations; a user who wants another rate turns polling off in the entry's system options and
calls ``homeassistant.update_entity`` from an automation. Options saved by older versions
(``scan_interval``, ``energy_interval``) are ignored and dropped at the next save.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant import config_entries
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers import selector

from pyacurev.points import Option

from .const import CONF_CLOCK_SYNC, CONF_CLOCK_THRESHOLD, DEFAULT_CLOCK_THRESHOLD
from .options import point_options

# HA 2025.8+ has OptionsFlowWithReload: the flow reloads the entry itself when the options
# changed (and update listeners are not allowed beside it). HA 2025.4-2025.7 has not: there
# the entry's update listener reloads (``NEEDS_UPDATE_LISTENER``).
if TYPE_CHECKING:
    _OptionsFlowBase = OptionsFlow
else:
    _OptionsFlowBase = getattr(config_entries, "OptionsFlowWithReload", OptionsFlow)
NEEDS_UPDATE_LISTENER = not hasattr(config_entries, "OptionsFlowWithReload")

CLOCK_THRESHOLD_RANGE = (5, 3600)


class AcuRevOptionsFlow(_OptionsFlowBase):
    """One form; saving it reloads the entry (entities follow the groups)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the groups and the clock options; store what was chosen."""
        if user_input is not None:
            return self.async_create_entry(
                data={**user_input, CONF_CLOCK_THRESHOLD: int(user_input[CONF_CLOCK_THRESHOLD])}
            )
        options = self.config_entry.options
        enabled = point_options(options).enabled
        schema: dict[Any, Any] = {
            vol.Required(opt.value, default=opt in enabled): selector.BooleanSelector()
            for opt in Option
        }
        schema[vol.Required(CONF_CLOCK_SYNC, default=options.get(CONF_CLOCK_SYNC, False))] = (
            selector.BooleanSelector()
        )
        low, high = CLOCK_THRESHOLD_RANGE
        schema[
            vol.Required(
                CONF_CLOCK_THRESHOLD,
                default=options.get(CONF_CLOCK_THRESHOLD, DEFAULT_CLOCK_THRESHOLD),
            )
        ] = selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=low,
                max=high,
                step=1,
                mode=selector.NumberSelectorMode.BOX,
                unit_of_measurement="s",
            )
        )
        return self.async_show_form(step_id="init", data_schema=vol.Schema(schema))

"""Diagnostics: what a user with a real meter attaches to a bug report.

The register map is partly designed, so the most useful thing in a report is
what the real meter answered: the capability set and per-group verdicts of the
last probe (set-up, reload, re-scan), the raw words of every block as the meter
last sent them, the last snapshots, the energy guards' held-back readings and
the backfill's record. All of it is what the integration already holds: the
download does no Modbus I/O (a slow or silent meter cannot stall it, and it
never adds load). The host is redacted; the serial number is kept because it
identifies the meter build, not a person.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from .coordinator import AcuRevConfigEntry

TO_REDACT = {CONF_HOST}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AcuRevConfigEntry
) -> dict[str, Any]:
    """Entry, device, probe result, last snapshots, last raw words, guard and backfill."""
    runtime = entry.runtime_data
    client = runtime.client
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "device": dataclasses.asdict(runtime.device),
        # What this firmware answered when it was last probed (set-up, reload, re-scan).
        "capabilities": runtime.discovery.as_dict(),
        "readings": _jsonable(runtime.fast.data),
        "counters": _jsonable(runtime.slow.data),
        "client_stats": _jsonable(client.stats),
        # Readings the energy guards held back, by kind and by counter.
        "energy_guard": runtime.energy_rejects.as_dict(),
        # Every block as the meter last answered it: its words, or the exception it drew.
        "raw_registers": client.last_answers(),
        "backfill": runtime.backfill.as_dict() if runtime.backfill else "disabled",
    }


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)

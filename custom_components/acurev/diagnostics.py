"""Diagnostics: what a user with a real meter attaches to a bug report.

The register map is partly designed, so the most useful thing in a report is
what the real meter answered: the capability set (which read groups answered
plausibly at the last probe), the raw dump of every block and the probe's
per-block result (address, count, answered or exception code, plausible or
why not). The host is redacted; the serial number is kept because it
identifies the meter build, not a person.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from pyacurev.errors import AcuRevError
from pyacurev.probe import run_probe

from .coordinator import AcuRevConfigEntry

TO_REDACT = {CONF_HOST}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AcuRevConfigEntry
) -> dict[str, Any]:
    """Entry, device, last snapshots, raw registers and the probe report."""
    runtime = entry.runtime_data
    client = runtime.client
    try:
        raw: Any = await client.read_raw_dump()
    except AcuRevError as err:
        raw = f"error: {err}"
    try:
        probe: Any = (await run_probe(client, interval=0.0)).as_dict()
    except AcuRevError as err:
        probe = f"error: {err}"
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
        "raw_registers": raw,
        "probe": probe,
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

"""Constants of the AcuRev integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "acurev"
MANUFACTURER: Final = "Accuenergy"

CONF_UNIT_ID: Final = "unit_id"
# What the meter answered when it was last probed (set-up, reload, "re-scan meter").
CONF_CAPABILITIES: Final = "capabilities"
# The model profile ("2020" / "2100"): detected from the answers, or chosen in the flow.
CONF_MODEL: Final = "model"

DEFAULT_PORT: Final = 502
DEFAULT_UNIT_ID: Final = 1
# Polling rates are fixed (core's rule for device integrations): another rate is
# "polling off" in the entry's system options plus homeassistant.update_entity.
# Readings every 10 s: fast enough for a load curve, a small share of what the
# module's single Modbus TCP server can answer (a full fast poll is 6-8 requests).
READINGS_INTERVAL: Final = timedelta(seconds=10)
# Counters and demand change slowly; a minute keeps the Energy dashboard exact
# (statistics are 5-minute buckets) at a fraction of the traffic.
COUNTERS_INTERVAL: Final = timedelta(seconds=60)

# A Modbus request that takes longer than this is treated as lost.
REQUEST_TIMEOUT: Final = 5.0

EVENT_ALARM: Final = "acurev_alarm"
EVENT_SOE: Final = "acurev_soe"

CONF_CLOCK_SYNC: Final = "clock_sync"


def fallback_meter_id(host: str, port: int, unit_id: int) -> str:
    """Unique id of a meter whose (designed) serial register does not answer.

    Stable for as long as the meter keeps its address, so the same meter cannot
    be added twice; a meter that later answers a serial keeps this id (its
    entities keep their history).
    """
    safe = "".join(c if c.isalnum() else "-" for c in host.lower())
    return f"{FALLBACK_ID_PREFIX}{safe}-{port}-{unit_id}"


FALLBACK_ID_PREFIX: Final = "acurev-"


def is_fallback_meter_id(unique_id: str | None) -> bool:
    """True for an id made by ``fallback_meter_id`` (no serial to check the meter by)."""
    return unique_id is None or unique_id.startswith(FALLBACK_ID_PREFIX)


CONF_CLOCK_THRESHOLD: Final = "clock_drift_threshold"
DEFAULT_CLOCK_THRESHOLD: Final = 30

# Fill the energy statistics' gaps from the meter's data log (on unless switched off).
CONF_BACKFILL: Final = "backfill"

"""Reading the entry's options into typed values (one place for the defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyacurev.points import Option, PointOptions

from .const import (
    CONF_CLOCK_SYNC,
    CONF_CLOCK_THRESHOLD,
    DEFAULT_CLOCK_THRESHOLD,
)

# Optional groups that are on when the user has not chosen.
DEFAULT_GROUPS: frozenset[Option] = frozenset({Option.PER_PHASE, Option.HARMONICS})


def point_options(options: Mapping[str, Any]) -> PointOptions:
    """Which optional groups are enabled."""
    return PointOptions(
        frozenset(opt for opt in Option if options.get(opt.value, opt in DEFAULT_GROUPS))
    )


def clock_sync_threshold(options: Mapping[str, Any]) -> float | None:
    """Drift (s) that triggers a clock sync; None when syncing is off."""
    if not options.get(CONF_CLOCK_SYNC, False):
        return None
    return float(options.get(CONF_CLOCK_THRESHOLD, DEFAULT_CLOCK_THRESHOLD))

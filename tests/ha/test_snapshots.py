"""Snapshots of every platform's entities and states, in Home Assistant core's style.

A reviewer reads one file to see what a meter becomes in Home Assistant: each entity's id,
translation key, device and state class, unit, category and its state for a frozen simulator.
Core's ``snapshot_platform`` serialises whole registry entries, whose fields differ between the
two Home Assistant versions CI runs (2025.4 and the newest), so this projection keeps the
fields that are ours to decide and are the same on both.

Update after a deliberate change with ``pytest tests/ha/test_snapshots.py --snapshot-update``
and review the diff like code.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from syrupy.assertion import SnapshotAssertion

from custom_components.acurev import PLATFORMS

from .conftest import SimFactory, entry_for, setup_entry

START = datetime(2026, 3, 10, 12, 0, 0)  # the meter's naive local clock, a Tuesday noon
ALL_GROUPS = {"per_phase": True, "demand": True, "tou": True, "monthly": True, "harmonics": True}


def _plain(value: Any) -> Any:
    """Enums to their values, keys to strings: newer cores key attributes by StrEnum."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {
            str(_plain(k)): _plain(v) for k, v in sorted(value.items(), key=lambda i: str(i[0]))
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# The one field that differs by Home Assistant version on purpose: reactive energy has a device
# class from HA 2025.6 on. Checked here against the running core, then written version-free.
REACTIVE_ENERGY = getattr(SensorDeviceClass, "REACTIVE_ENERGY", None)
REACTIVE_MARK = "reactive_energy from HA 2025.6"


def _project(hass: HomeAssistant, entry: er.RegistryEntry) -> dict[str, Any]:
    state = hass.states.get(entry.entity_id)
    assert state is not None, entry.entity_id
    attributes = dict(state.attributes)
    device_class = entry.original_device_class
    if entry.unit_of_measurement == "kvarh":
        assert device_class == REACTIVE_ENERGY, entry.entity_id
        assert attributes.pop("device_class", None) == REACTIVE_ENERGY, entry.entity_id
        device_class = attributes["device_class"] = REACTIVE_MARK
    return _plain(
        {
            "unique_id": entry.unique_id,
            "translation_key": entry.translation_key,
            "device_class": device_class,
            "unit": entry.unit_of_measurement,
            "capabilities": entry.capabilities,
            "entity_category": entry.entity_category,
            "disabled_by": entry.disabled_by,
            "state": state.state,
            "attributes": attributes,
        }
    )


@pytest.mark.usefixtures("all_entities_enabled")
@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(("model", "wiring"), [("ct", "3LN"), ("333mv", "2LN")])
async def test_platform_snapshot(
    hass: HomeAssistant,
    make_simulator: SimFactory,
    freezer: Any,
    snapshot: SnapshotAssertion,
    platform: Platform,
    model: str,
    wiring: str,
) -> None:
    """Every entity of one platform, with its state, for a frozen meter at a fixed time."""
    await hass.config.async_set_time_zone("UTC")
    freezer.move_to(START.replace(tzinfo=dt_util.UTC))
    sim = await make_simulator(wiring=wiring, channels=9, model=model, clock=START)
    with patch("custom_components.acurev.PLATFORMS", [platform]):
        entry = await setup_entry(hass, entry_for(sim, **ALL_GROUPS))
    registry = er.async_get(hass)
    entries = sorted(
        er.async_entries_for_config_entry(registry, entry.entry_id), key=lambda e: e.entity_id
    )
    assert entries, f"no {platform} entities"
    assert {e.domain for e in entries} == {platform}
    assert {e.entity_id: _project(hass, e) for e in entries} == snapshot

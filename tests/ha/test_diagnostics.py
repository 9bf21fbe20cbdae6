"""Diagnostics carry the raw registers and the probe report, with the host redacted."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)


async def test_diagnostics(hass: HomeAssistant, hass_client, simulator, loaded_entry) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    diag = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    assert diag["entry"]["data"]["host"] == "**REDACTED**"
    assert diag["device"]["serial"] == simulator.meter.serial
    raw = diag["raw_registers"]
    # The raw serial-number registers spell the simulator's serial.
    words = raw["serial_number"]
    text = b"".join(w.to_bytes(2, "big") for w in words).rstrip(b"\0").decode()
    assert text == simulator.meter.serial
    assert diag["probe"]


async def test_diagnostics_when_meter_is_silent(
    hass: HomeAssistant, hass_client, simulator, loaded_entry
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    simulator.faults.silent = True
    diag = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    # Still a report: the last good snapshots, and the failures spelled out.
    assert diag["readings"]["channels"]
    assert isinstance(diag["raw_registers"], (dict, str))
    assert "error" in str(diag["raw_registers"]) or "error" in str(diag["probe"])

"""Diagnostics carry what the integration holds (raw words, probe result), host redacted."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)


async def test_diagnostics(hass: HomeAssistant, hass_client, simulator, loaded_entry) -> None:
    """The report holds the meter's last raw words and probe result; the download reads nothing."""
    assert await async_setup_component(hass, "diagnostics", {})
    stats = loaded_entry.runtime_data.client.stats
    before = (stats.transactions, stats.connects)
    diag = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    assert (stats.transactions, stats.connects) == before
    assert diag["entry"]["data"]["host"] == "**REDACTED**"
    assert diag["device"]["serial"] == simulator.meter.serial
    raw = diag["raw_registers"]
    # The raw serial-number registers spell the simulator's serial.
    words = raw["serial_number"]
    text = b"".join(w.to_bytes(2, "big") for w in words).rstrip(b"\0").decode()
    assert text == simulator.meter.serial
    assert diag["capabilities"]["identified"] is True
    assert "system" in diag["capabilities"]["capabilities"]
    assert "energy_guard" in diag
    assert "meter_password" not in raw  # never in a report, even when a read covered it


async def test_diagnostics_when_meter_is_silent(
    hass: HomeAssistant, hass_client, simulator, loaded_entry
) -> None:
    """A silent meter cannot stall the download: it returns what was last answered."""
    assert await async_setup_component(hass, "diagnostics", {})
    simulator.faults.silent = True
    stats = loaded_entry.runtime_data.client.stats
    before = stats.transactions
    diag = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    assert stats.transactions == before
    assert diag["readings"]["channels"]
    assert diag["raw_registers"]["channel_record"]

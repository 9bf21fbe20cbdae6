"""Throwaway: exercises more of phcc against whichever HA is installed."""
import custom_components  # noqa: F401  (the repo's, imported before hass mounts phcc testing_config)
import logging

import pytest
from homeassistant import loader
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry


async def test_logger_component(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "logger", {"logger": {"default": "info"}})
    await hass.services.async_call("logger", "set_level", {"custom_components.acurev": "debug"}, blocking=True)
    assert logging.getLogger("custom_components.acurev").isEnabledFor(logging.DEBUG)


async def test_custom_integration_manifest(hass: HomeAssistant, enable_custom_integrations: None) -> None:
    integration = await loader.async_get_integration(hass, "acurev")
    assert integration.domain == "acurev"


async def test_mock_config_entry(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain="acurev_nonexistent", data={"host": "127.0.0.1"})
    entry.add_to_hass(hass)
    assert hass.config_entries.async_entries("acurev_nonexistent") == [entry]


async def test_sensor_platform(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "sensor", {})
    await hass.async_block_till_done()

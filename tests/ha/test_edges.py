"""Less common paths: another meter at the same address, refused writes, capabilities."""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automation_capabilities,
)

from acurev_simulator import Simulator
from custom_components.acurev.const import DOMAIN

from .conftest import HOST, entry_for, setup_entry
from .helpers import device_id, state


async def test_different_meter_at_same_address_is_an_error_not_data(
    hass: HomeAssistant, simulator, loaded_entry, caplog
) -> None:
    """Another meter at the configured address is reported as an error, never read as data."""
    serial = simulator.meter.serial
    port = simulator.port
    await simulator.stop()
    impostor = Simulator(
        host=HOST, port=port, frozen=True, wiring="3LN", channels=18, serial="AR2020-IMPOSTOR"
    )
    await impostor.start()
    try:
        await loaded_entry.runtime_data.fast.async_refresh()
        await hass.async_block_till_done()
        assert state(hass, "sensor", serial, "ch01_active_power").state == STATE_UNAVAILABLE
        assert "AR2020-IMPOSTOR" in caplog.text
    finally:
        await impostor.stop()


async def test_set_clock_refused(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """A refused set_clock raises the translated command error."""
    simulator.faults.exceptions["clock_year"] = 4
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "set_clock",
            {"device_id": device_id(hass, simulator.meter.serial)},
            blocking=True,
        )
    assert err.value.translation_key == "command_failed"


async def test_set_ct_primary_refused(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """A refused set_ct_primary raises the translated command error."""
    simulator.faults.exceptions["ct_primary_ch1"] = 4
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "set_ct_primary",
            {"device_id": device_id(hass, simulator.meter.serial), "channel": 1, "amps": 300},
            blocking=True,
        )
    assert err.value.translation_key == "command_failed"


async def test_action_on_a_device_of_another_integration(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """An action aimed at another integration's device is refused as a validation error."""
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "reset_demand", {"device_id": device.id}, blocking=True
        )
    assert err.value.translation_key == "unknown_device"


async def test_failed_clock_sync_keeps_the_readings(hass: HomeAssistant, simulator, caplog) -> None:
    """A failing clock write is logged and retried; the readings stay available."""
    meter = simulator.meter
    meter.clock = dt_util.now().replace(tzinfo=None) + timedelta(seconds=600)
    entry = entry_for(simulator, clock_sync=True, clock_drift_threshold=60)
    simulator.faults.exceptions[(16, 0x1054)] = 4  # refuse the FC16 clock write only
    await setup_entry(hass, entry)
    assert "Setting the clock of meter" in caplog.text
    assert state(hass, "sensor", meter.serial, "clock_drift").state != STATE_UNAVAILABLE


async def test_alarm_trigger_capabilities(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """Alarm triggers offer a channel field; old DI/relay trigger types validate without one."""
    trigger = {
        "platform": "device",
        "domain": DOMAIN,
        "type": "alarm_occurred",
        "device_id": device_id(hass, simulator.meter.serial),
    }
    caps = await async_get_device_automation_capabilities(
        hass, DeviceAutomationType.TRIGGER, trigger
    )
    assert [f["name"] for f in caps["extra_fields"]] == ["channel"]
    relay = {**trigger, "type": "relay_turned_on"}
    caps = await async_get_device_automation_capabilities(hass, DeviceAutomationType.TRIGGER, relay)
    assert not caps.get("extra_fields")


async def test_settings_without_alarms_give_no_alarm_sensors(
    hass: HomeAssistant, simulator
) -> None:
    """With alarms disabled globally, no alarm binary sensors are created."""
    simulator.meter.set_setting("alarm_global_enable", 0)
    entry = await setup_entry(hass, entry_for(simulator))
    assert not any(p.key.startswith("alarm_") for p in entry.runtime_data.points)

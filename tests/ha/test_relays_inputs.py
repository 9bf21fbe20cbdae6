"""Relay switches reach the simulator's coils; DI changes reach the binary sensors."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .helpers import entity_id, state


@pytest.mark.parametrize("relay", [1, 2, 6])
async def test_relay_switch_toggles_the_coil(
    hass: HomeAssistant, simulator, loaded_entry, relay: int
) -> None:
    """Turning a relay switch on and off moves the simulator's coil, and the state follows."""
    serial = simulator.meter.serial
    eid = entity_id(hass, "switch", serial, f"relay_{relay}")
    await hass.services.async_call("switch", "turn_on", {"entity_id": eid}, blocking=True)
    assert simulator.meter.relays[relay - 1] is True
    assert hass.states.get(eid).state == STATE_ON
    await hass.services.async_call("switch", "turn_off", {"entity_id": eid}, blocking=True)
    assert simulator.meter.relays[relay - 1] is False
    assert hass.states.get(eid).state == STATE_OFF


async def test_relay_state_is_read_back_not_assumed(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """The switch shows the state the meter reads back, not the one that was asked for."""
    serial = simulator.meter.serial
    # Someone else switches relay 3 on the meter: HA shows it after the next poll.
    simulator.meter.set_relay(3, True)
    await loaded_entry.runtime_data.fast.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "switch", serial, "relay_3").state == STATE_ON


async def test_relay_in_alarm_mode_is_refused(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """A relay driven by the meter's alarm logic refuses remote control with a translated error."""
    serial = simulator.meter.serial
    simulator.meter.relay_mode |= 1 << 4  # relay 5 driven by alarms, not remote
    eid = entity_id(hass, "switch", serial, "relay_5")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("switch", "turn_on", {"entity_id": eid}, blocking=True)
    assert err.value.translation_key == "relay_not_remote"
    assert simulator.meter.relays[4] is False


async def test_relay_write_fails_when_meter_silent(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """A relay command to a silent meter fails with a translated error and changes no state."""
    serial = simulator.meter.serial
    eid = entity_id(hass, "switch", serial, "relay_6")
    simulator.faults.silent = True
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("switch", "turn_on", {"entity_id": eid}, blocking=True)
    assert err.value.translation_key == "write_failed"


async def test_digital_input_follows_the_simulator(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """A digital input's binary sensor follows the simulator's input after the next poll."""
    serial = simulator.meter.serial
    initial = simulator.meter.digital_inputs[3]
    assert state(hass, "binary_sensor", serial, "di_4").state == (
        STATE_ON if initial else STATE_OFF
    )
    simulator.meter.set_di(4, not initial)
    await loaded_entry.runtime_data.fast.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor", serial, "di_4").state == (
        STATE_OFF if initial else STATE_ON
    )

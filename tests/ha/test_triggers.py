"""Device triggers, used by real automations against the simulator."""

from __future__ import annotations

from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_get_device_automations,
    async_mock_service,
)

from custom_components.acurev.const import DOMAIN

from .helpers import device_id, entity_id


def _trigger(device_id: str, kind: str, **extra) -> dict:
    return {"platform": "device", "domain": DOMAIN, "device_id": device_id, "type": kind, **extra}


async def _poll(hass: HomeAssistant, entry) -> None:
    await entry.runtime_data.fast.async_refresh()
    await hass.async_block_till_done()


async def test_triggers_offered_for_the_meter(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """Alarm triggers per enabled channel; DI/relay changes are HA's own state triggers."""
    serial = simulator.meter.serial
    dev_id = device_id(hass, serial)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, dev_id)
    offered = {
        (t["type"], t.get("channel"), t.get("entity_id")) for t in triggers if t["domain"] == DOMAIN
    }
    enabled = [a.channel for a in simulator.meter.alarm_settings() if a.enabled]
    assert enabled == [1, 2, 3, 4]  # the alarm channels the simulator has enabled
    expected = {
        (kind, channel, None)
        for kind in ("alarm_occurred", "alarm_recovered")
        for channel in (None, *enabled)
    }
    # Exactly these: DI and relay changes are Home Assistant's own state triggers of their
    # entities, which the automation editor offers under the device already.
    assert offered == expected
    reg = er.async_get(hass)
    builtin = {(t["domain"], t["type"], t.get("entity_id")) for t in triggers}
    for n in range(1, 9):
        relay = reg.async_get(entity_id(hass, "switch", serial, f"relay_{n}")).id
        di = reg.async_get(entity_id(hass, "binary_sensor", serial, f"di_{n}")).id
        assert ("switch", "turned_on", relay) in builtin
        assert ("binary_sensor", "turned_on", di) in builtin


async def test_alarm_3_notifies_and_switches_relay_2_off(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """The issue's done-when: built from device triggers and actions alone."""
    meter = simulator.meter
    serial = meter.serial
    notify = async_mock_service(hass, "notify", "notify")
    relay_2 = entity_id(hass, "switch", serial, "relay_2")
    await hass.services.async_call("switch", "turn_on", {"entity_id": relay_2}, blocking=True)
    assert meter.relays[1] is True
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "alarm 3 sheds relay 2",
                "triggers": [_trigger(device_id(hass, serial), "alarm_occurred", channel=3)],
                "actions": [
                    {
                        "action": "notify.notify",
                        "data": {"message": "Alarm 3 on {{ trigger.event.data.serial }}"},
                    },
                    {"action": "switch.turn_off", "target": {"entity_id": relay_2}},
                ],
            }
        },
    )
    meter.set_frequency(61.0)  # alarm 3: over-frequency, > 60.5 Hz for 2 s
    meter.advance(3)
    await _poll(hass, loaded_entry)
    assert len(notify) == 1
    assert notify[0].data["message"] == f"Alarm 3 on {serial}"
    assert meter.relays[1] is False


async def test_di_and_relay_triggers_run_their_actions(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Automations made with the old DI/relay trigger types still fire on real changes."""
    meter = simulator.meter
    serial = meter.serial
    dev_id = device_id(hass, serial)
    calls = async_mock_service(hass, "test", "automation")
    reg = er.async_get(hass)
    di_5 = reg.async_get(entity_id(hass, "binary_sensor", serial, "di_5")).id
    relay_3 = reg.async_get(entity_id(hass, "switch", serial, "relay_3")).id
    start_on = meter.digital_inputs[4]
    di_kind = "di_turned_off" if start_on else "di_turned_on"
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "triggers": [_trigger(dev_id, di_kind, entity_id=di_5)],
                    "actions": [{"action": "test.automation", "data": {"which": "di"}}],
                },
                {
                    "triggers": [_trigger(dev_id, "relay_turned_on", entity_id=relay_3)],
                    "actions": [{"action": "test.automation", "data": {"which": "relay"}}],
                },
                {
                    "triggers": [_trigger(dev_id, "alarm_recovered")],
                    "actions": [{"action": "test.automation", "data": {"which": "recovered"}}],
                },
            ]
        },
    )
    meter.set_di(5, not start_on)
    await _poll(hass, loaded_entry)
    assert [c.data["which"] for c in calls] == ["di"]
    meter.set_relay(3, True)  # switched by someone else: seen on the next poll
    await _poll(hass, loaded_entry)
    assert [c.data["which"] for c in calls] == ["di", "relay"]
    meter.set_voltage("a", 140.0)
    meter.advance(6)
    meter.set_voltage("a", 120.0)
    meter.advance(6)
    await _poll(hass, loaded_entry)
    assert [c.data["which"] for c in calls][-1] == "recovered"

"""Alarm and SOE records become events exactly once; alarm state; repairs on ring wrap."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from custom_components.acurev.const import DOMAIN, EVENT_ALARM, EVENT_SOE

from .helpers import device_id, entity_id, state

OVER_VOLTAGE = 140.0  # the simulator's alarm 1 trips above 132 V after 5 s
NORMAL_VOLTAGE = 120.0


def _capture(hass: HomeAssistant, event_type: str) -> list[Event]:
    events: list[Event] = []

    @callback
    def record(event: Event) -> None:
        # A @callback runs in order in the event loop, as automations see the events.
        events.append(event)

    hass.bus.async_listen(event_type, record)
    return events


async def _poll(hass: HomeAssistant, entry) -> None:
    await entry.runtime_data.fast.async_refresh()
    await hass.async_block_till_done()


def _trip(meter) -> None:
    meter.set_voltage("a", OVER_VOLTAGE)
    meter.advance(6)


def _clear(meter) -> None:
    meter.set_voltage("a", NORMAL_VOLTAGE)
    meter.advance(6)


async def test_alarm_occurred_and_recovered_once_each(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """An alarm fires one occurred and one recovered event with its details; its sensor follows."""
    meter = simulator.meter
    events = _capture(hass, EVENT_ALARM)
    _trip(meter)
    await _poll(hass, loaded_entry)
    await _poll(hass, loaded_entry)  # a second poll must not repeat it
    assert [e.data["state"] for e in events] == ["occurred"]
    data = events[0].data
    assert data["device_id"] == device_id(hass, meter.serial)
    assert data["serial"] == meter.serial
    assert data["channel"] == 1
    assert data["parameter"] == "u1"
    assert data["value"] == pytest.approx(OVER_VOLTAGE, rel=1e-5)
    assert data["time"].startswith(str(meter.clock.year))
    assert state(hass, "binary_sensor", meter.serial, "alarm_1").state == STATE_ON
    alarm_event = hass.states.get(entity_id(hass, "event", meter.serial, "alarm_log"))
    assert alarm_event.attributes["event_type"] == "occurred"

    _clear(meter)
    await _poll(hass, loaded_entry)
    assert [e.data["state"] for e in events] == ["occurred", "recovered"]
    assert state(hass, "binary_sensor", meter.serial, "alarm_1").state == STATE_OFF


async def test_history_is_not_replayed_after_restart(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """A reload replays no past alarm; a record made while it was down arrives once."""
    meter = simulator.meter
    events = _capture(hass, EVENT_ALARM)
    _trip(meter)
    await _poll(hass, loaded_entry)
    assert len(events) == 1
    # A Home Assistant restart rebuilds everything from storage.
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    await _poll(hass, loaded_entry)
    assert len(events) == 1
    # ...and what happens while it was down still arrives, once.
    _clear(meter)
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert [e.data["state"] for e in events] == ["occurred", "recovered"]


def _truth(records) -> list[tuple[str, int, int]]:
    """What the events should say, from the simulator's own alarm log."""
    return [("occurred" if r.occurred else "recovered", r.channel, r.index) for r in records]


def _seen(events: list[Event]) -> list[tuple[str, int, int]]:
    return [(e.data["state"], e.data["channel"], e.data["record"]) for e in events]


async def test_poll_gap_loses_nothing(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """Several alarm records between two polls all become events, in order, with no repair."""
    meter = simulator.meter
    events = _capture(hass, EVENT_ALARM)
    already = len(meter.alarm_records())
    for _ in range(3):  # several records between two polls
        _trip(meter)
        _clear(meter)
    await _poll(hass, loaded_entry)
    expected = _truth(meter.alarm_records()[already:])
    assert len(expected) >= 6
    assert _seen(events) == expected
    assert not ir.async_get(hass).issues


async def test_ring_wrap_warns_and_raises_a_repair(
    hass: HomeAssistant, simulator, loaded_entry, caplog
) -> None:
    """A wrapped alarm ring fires the 20 records left, logs a warning and raises a repair."""
    meter = simulator.meter
    events = _capture(hass, EVENT_ALARM)
    for _ in range(11):  # 22 records: the 20-record ring wraps before the next poll
        _trip(meter)
        _clear(meter)
    await _poll(hass, loaded_entry)
    # The 20 records the meter still holds, oldest first; the older ones are gone.
    assert _seen(events) == _truth(meter.alarm_records())
    assert len(events) == 20
    assert "wrapped before it could be read" in caplog.text
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"alarm_log_wrapped_{meter.serial}")
    assert issue is not None
    assert issue.translation_key == "log_wrapped"


async def test_soe_event_on_di_change(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """A digital input change fires one SOE event naming the input and its new state."""
    meter = simulator.meter
    events = _capture(hass, EVENT_SOE)
    before = meter.digital_inputs[3]
    meter.set_di(4, not before)
    await _poll(hass, loaded_entry)
    assert len(events) == 1
    assert events[0].data["digital_inputs"] == [4]
    assert events[0].data["states"] == {4: not before}
    soe = hass.states.get(entity_id(hass, "event", meter.serial, "soe_log"))
    assert soe.attributes["event_type"] == ("off" if before else "on")


async def test_cleared_alarm_log_is_not_an_event(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Clearing the alarm log fires no event; the first record after the clear is still new."""
    meter = simulator.meter
    events = _capture(hass, EVENT_ALARM)
    _trip(meter)
    await _poll(hass, loaded_entry)
    await hass.services.async_call(
        DOMAIN, "clear_alarm_records", {"device_id": device_id(hass, meter.serial)}, blocking=True
    )
    await _poll(hass, loaded_entry)
    assert meter.latest_alarm_record == 0
    assert len(events) == 1
    _clear(meter)  # the first record after a clear lands in slot 1 and is new
    await _poll(hass, loaded_entry)
    assert [e.data["state"] for e in events] == ["occurred", "recovered"]


async def test_position_is_saved_before_the_event_fires(
    hass: HomeAssistant, simulator, loaded_entry, hass_storage
) -> None:
    """A crash right after an event fired must not replay it: it is already stored."""
    meter = simulator.meter
    key = f"{DOMAIN}.{loaded_entry.entry_id}.logs"
    stored_when_fired: list[int | None] = []

    @callback
    def record(event: Event) -> None:
        stored_when_fired.append(hass_storage[key]["data"]["alarms"]["latest"])

    hass.bus.async_listen(EVENT_ALARM, record)
    _trip(meter)
    await _poll(hass, loaded_entry)
    assert stored_when_fired == [meter.latest_alarm_record]
    # The "crash": everything in memory is gone, only the store survives.
    events = _capture(hass, EVENT_ALARM)
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    await _poll(hass, loaded_entry)
    assert events == []


async def test_event_entity_shows_every_record_of_a_poll_once(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Two records in one poll give the alarm event entity two states; later polls none."""
    meter = simulator.meter
    eid = entity_id(hass, "event", meter.serial, "alarm_log")
    changes = _capture(hass, "state_changed")
    _trip(meter)
    _clear(meter)
    await _poll(hass, loaded_entry)
    await _poll(hass, loaded_entry)
    mine = [e.data["new_state"] for e in changes if e.data["entity_id"] == eid]
    assert [s.attributes["event_type"] for s in mine] == ["occurred", "recovered"]
    assert mine[-1].attributes["serial"] == meter.serial
    assert "device_id" not in mine[-1].attributes

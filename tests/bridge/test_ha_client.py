"""The Home Assistant side: mirroring, meter selection, events, relay commands."""

from __future__ import annotations

import pytest

from bacnet_bridge.model import MeterEvent, PointKind, RelayCommandError

from .conftest import wait_for


async def test_table_mirrors_home_assistant(start_bridge, meter) -> None:
    bridge = await start_bridge()
    table = bridge.table
    serial = meter.serial
    assert set(table.meters) == {serial}
    m = table.meters[serial]
    assert m.available
    assert m.model
    # Every enabled sensor, binary sensor and switch; buttons and event entities are not points.
    hass_ids = {
        e.unique_id
        for e in meter.hass.data["entity_registry"].entities.values()
        if e.platform == "acurev"
        and not e.disabled_by
        and e.domain in ("sensor", "binary_sensor", "switch")
    }
    assert set(table.points) == hass_ids
    assert any(
        e.domain == "button"
        for e in meter.hass.data["entity_registry"].entities.values()
        if e.platform == "acurev"
    )
    power = table.points[f"{serial}_ch01_active_power"]
    assert (power.kind, power.unit, power.channel) == (PointKind.MEASUREMENT, "W", 1)
    assert power.value == float(meter.hass.states.get(power.entity_id).state)
    energy = table.points[f"{serial}_ch01_import_energy"]
    assert (energy.kind, energy.unit) == (PointKind.COUNTER, "kWh")
    assert table.points[f"{serial}_relay_1"].kind is PointKind.RELAY
    assert table.points[f"{serial}_di_1"].kind is PointKind.BINARY
    assert isinstance(table.points[f"{serial}_di_1"].value, bool)


async def test_only_the_configured_meters(start_bridge, make_meter, make_config) -> None:
    first = await make_meter()
    second = await make_meter(sim_kwargs={"serial": "AR2020-00009999"})
    bridge = await start_bridge(make_config(meters=[second.serial]))
    assert set(bridge.table.meters) == {second.serial}
    assert {p.serial for p in bridge.table.points.values()} == {second.serial}
    assert first.serial != second.serial


async def test_meter_events_are_forwarded(start_bridge, meter) -> None:
    bridge = await start_bridge()
    seen: list[MeterEvent] = []
    bridge.table.on_event(seen.append)
    device_id = bridge.table.meters[meter.serial].device_id
    # The integration's own event data (custom_components/acurev/logs.py); the SOE event is
    # matched by its device id alone.
    meter.hass.bus.async_fire(
        "acurev_alarm",
        {
            "device_id": device_id,
            "serial": meter.serial,
            "channel": 3,
            "parameter": "current",
            "parameter_label": 2,
            "value": 61.5,
            "state": "occurred",
            "time": "2026-11-26T10:00:00+01:00",
            "record": 7,
        },
    )
    meter.hass.bus.async_fire(
        "acurev_soe",
        {
            "device_id": device_id,
            "digital_inputs": [2],
            "states": {2: True},
            "time": "2026-11-26T10:00:01+01:00",
            "record": 3,
        },
    )
    await wait_for(lambda: len(seen) >= 2)
    assert [e.event_type for e in seen] == ["acurev_alarm", "acurev_soe"]
    assert seen[0].serial == seen[1].serial == meter.serial
    assert seen[0].data["channel"] == 3
    assert seen[0].data["state"] == "occurred"


async def test_relay_command_through_home_assistant(start_bridge, meter) -> None:
    bridge = await start_bridge()
    uid = f"{meter.serial}_relay_3"
    assert await bridge.table.command_relay(uid, True) is True
    assert meter.sim.meter.relays[2] is True
    assert await bridge.table.command_relay(uid, True) is True  # already on: no new state
    assert await bridge.table.command_relay(uid, False) is False
    assert meter.sim.meter.relays[2] is False
    meter.sim.meter.relay_mode |= 1 << 2
    with pytest.raises(RelayCommandError, match="relay_3"):
        await bridge.table.command_relay(uid, True)
    with pytest.raises(RelayCommandError, match="not a relay"):
        await bridge.table.command_relay(f"{meter.serial}_di_1", True)


async def test_unavailable_keeps_the_last_value(start_bridge, meter) -> None:
    bridge = await start_bridge()
    point = bridge.table.points[f"{meter.serial}_ch02_active_power"]
    before = point.value
    meter.sim.faults.silent = True
    await meter.poll()
    # Once every entity of the meter is unavailable, so is the meter.
    await wait_for(lambda: not bridge.table.meters[meter.serial].available)
    assert not point.available
    assert point.value == before
    meter.sim.faults.silent = False
    await meter.poll()
    await wait_for(lambda: point.available)
    assert bridge.table.meters[meter.serial].available


async def test_keepalive_pings_do_not_disturb(meter, make_config) -> None:
    from bacnet_bridge.app import Bridge

    bridge = Bridge(make_config())
    bridge.ha._ping_interval = 0.05
    try:
        await bridge.start()
        await bridge.wait_synced(timeout=10)
        await wait_for(lambda: bridge.ha._pings >= 3)
        assert bridge.ha.connections == 1
        assert bridge.table.ha_connected
    finally:
        await bridge.close()


async def test_entity_without_a_state_after_a_restart_keeps_its_description(
    start_bridge, meter, ha_server
) -> None:
    """Home Assistant restarting: registries are back before every state is."""
    bridge = await start_bridge()
    uid = f"{meter.serial}_ch01_import_energy"
    eid = meter.entity_id("sensor", "ch01_import_energy")
    state = meter.hass.states.get(eid)
    value = bridge.table.points[uid].value
    await ha_server.stop()
    await wait_for(lambda: not bridge.table.ha_connected)
    meter.hass.states.async_remove(eid)
    await ha_server.start()
    await bridge.wait_synced(timeout=10)
    point = bridge.table.points[uid]
    assert (point.kind, point.unit, point.available, point.value) == (
        PointKind.COUNTER,
        "kWh",
        False,
        value,
    )
    meter.hass.states.async_set(eid, state.state, state.attributes)
    await wait_for(lambda: bridge.table.points[uid].available)
    assert bridge.table.points[uid].unit == "kWh"

"""Instance numbers never change; the database revision follows the object list."""

from __future__ import annotations

import json

import pytest
from homeassistant.helpers import entity_registry as er

from .conftest import wait_for


def _instances(names: dict[str, str], kind: str) -> set[int]:
    return {int(oid.split(",")[1]) for oid in names.values() if oid.startswith(kind + ",")}


async def test_same_numbers_after_restart_and_when_entities_come_and_go(
    start_bridge, make_meter, make_config, bacnet_peer
) -> None:
    meter = await make_meter(enable_all=False)  # the integration's own defaults
    hass = meter.hass
    config = make_config()
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    first = await peer.names()
    revision = await peer.read(peer.device, "database-revision")

    # 1. A bridge restart (same state directory): identical numbering, same revision.
    await bridge.close()
    bridge = await start_bridge(config)
    assert await peer.names() == first
    assert await peer.read(peer.device, "database-revision") == revision

    # 2. An entity that was disabled by default is enabled while the bridge runs.
    reactive = f"{meter.serial}_ch01_reactive_power"
    assert reactive not in first
    registry = er.async_get(hass)
    registry.async_update_entity(meter.entity_id("sensor", "ch01_reactive_power"), disabled_by=None)
    await hass.config_entries.async_reload(meter.entry.entry_id)
    await hass.async_block_till_done()
    names = await wait_for(lambda: _names_with(peer, reactive), timeout=10)
    assert {n: names[n] for n in first} == first
    new_ai = int(names[reactive].split(",")[1])
    assert new_ai > max(_instances(first, "analog-input"))
    assert await peer.read(names[reactive], "units") == 11  # volt-amperes-reactive
    second_revision = await peer.read(peer.device, "database-revision")
    assert second_revision > revision

    # 3. An option adds a whole group (demand) through an entry reload.
    hass.config_entries.async_update_entry(
        meter.entry, options={**meter.entry.options, "demand": True}
    )
    # The options flow reloads the entry itself (OptionsFlowWithReload on HA 2025.8+); an
    # update made outside the flow, as here, is followed by the reload the flow would do.
    await hass.config_entries.async_reload(meter.entry.entry_id)
    await hass.async_block_till_done()
    demand = f"{meter.serial}_demand_active_power"
    names = await wait_for(lambda: _names_with(peer, demand), timeout=10)
    assert {n: names[n] for n in first} == first
    assert names[reactive] == f"analog-input,{new_ai}"

    # 4. The entity goes away (disabled again): its object goes, its number stays reserved;
    #    when it comes back it gets the same number.
    registry.async_update_entity(
        meter.entity_id("sensor", "ch01_reactive_power"), disabled_by=er.RegistryEntryDisabler.USER
    )
    await hass.async_block_till_done()
    await wait_for(lambda: _names_without(peer, reactive), timeout=10)
    registry.async_update_entity(meter.entity_id("sensor", "ch01_reactive_power"), disabled_by=None)
    await hass.config_entries.async_reload(meter.entry.entry_id)
    await hass.async_block_till_done()
    names = await wait_for(lambda: _names_with(peer, reactive), timeout=10)
    assert names[reactive] == f"analog-input,{new_ai}"
    final = names

    # 5. And after one more bridge restart, everything is where it was.
    await bridge.close()
    await start_bridge(config)
    assert await peer.names() == final
    stored = json.loads((config.state_dir / "bacnet-instances.json").read_text())
    assert stored["types"]["analog-input"]["instances"][reactive] == new_ai


async def _names_with(peer, name: str) -> dict[str, str] | None:
    names = await peer.names()
    return names if name in names else None


async def _names_without(peer, name: str) -> bool:
    return name not in await peer.names()


async def test_objects_exist_before_home_assistant_answers(
    start_bridge, meter, make_config, bacnet_peer, ha_server
) -> None:
    """After a restart the cached object list is served at once, all unreliable."""
    config = make_config()
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    names = await peer.names()
    power = names[f"{meter.serial}_ch01_active_power"]
    await bridge.close()

    await ha_server.stop()
    await start_bridge(config, wait=False)
    assert await peer.names() == names
    assert await peer.read(power, "reliability") == 12  # communication-failure
    flags = await peer.read(power, "status-flags")
    assert flags[1]
    await ha_server.start()


async def test_cov_increment_written_by_the_bms_survives_a_restart(
    start_bridge, meter, make_config, bacnet_peer
) -> None:
    config = make_config()
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    energy = (await peer.names())[f"{meter.serial}_ch02_import_energy"]
    assert await peer.read(energy, "cov-increment") == pytest.approx(0.1)
    await peer.write(energy, "cov-increment", 2.5)
    await bridge.close()
    await start_bridge(config)
    assert await peer.read(energy, "cov-increment") == 2.5

"""Meter drops and returns; energy never reports 0 or a decrease; restarts keep the guard."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_restore_state_shutdown_restart,
)

from pyacurev.client import Command
from pyacurev.codec import encode_uint32
from pyacurev.energy_guard import FALLBACK_CHANNEL_KW
from pyacurev.registers import bank_entry_channel, block

from .conftest import SimFactory, entry_for, free_port, setup_entry
from .helpers import entity_id, number, state


async def _poll(hass: HomeAssistant, entry) -> None:
    runtime = entry.runtime_data
    await runtime.fast.async_refresh()
    await runtime.slow.async_refresh()
    await hass.async_block_till_done()


async def test_not_ready_when_meter_unreachable(hass: HomeAssistant, simulator) -> None:
    """With nothing listening at the address, set-up is retried later instead of failing."""
    entry = entry_for(simulator)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, "port": free_port()})
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_refuses_a_different_meter(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """Set-up fails when the meter at the address has another serial than the entry's."""
    sim = await make_simulator(wiring="3LN", channels=18, serial="AR-OTHER-999")
    entry = MockConfigEntry(domain="acurev", unique_id="AR-EXPECTED-1", data=entry_for(sim).data)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """Log lines a user sees (INFO and up) containing ``text``."""
    return sum(1 for r in caplog.records if r.levelno >= logging.INFO and text in r.getMessage())


async def test_unavailable_while_silent_then_back(
    hass: HomeAssistant, simulator, loaded_entry, caplog
) -> None:
    """A silent meter's entities go unavailable, logged once; on return they show its values."""
    meter = simulator.meter
    serial = meter.serial
    energy_key = "ch01_import_energy"
    before = number(hass, "sensor", serial, energy_key)

    simulator.faults.silent = True
    await _poll(hass, loaded_entry)
    assert state(hass, "sensor", serial, "ch01_active_power").state == STATE_UNAVAILABLE
    assert state(hass, "sensor", serial, energy_key).state == STATE_UNAVAILABLE
    assert state(hass, "switch", serial, "relay_1").state == STATE_UNAVAILABLE
    await _poll(hass, loaded_entry)  # a second failure is not logged again
    assert _lines(caplog, "Error fetching acurev") == 1  # once per meter, not per poller

    simulator.faults.silent = False
    meter.advance(3600)  # an hour passes on the meter while HA could not see it
    # ... and for Home Assistant (frozen only now: a silent meter needs a running clock
    # for its timeouts to fire).
    with freeze_time(dt_util.utcnow() + timedelta(hours=1)):
        await _poll(hass, loaded_entry)
    after = number(hass, "sensor", serial, energy_key)
    assert after == pytest.approx(meter.energy_counts("import_active", bank_entry_channel(1)) / 10)
    assert after >= before
    assert number(hass, "sensor", serial, "ch01_active_power") == pytest.approx(
        meter.channel(1).active_power * 1000, rel=1e-5
    )
    assert _lines(caplog, "data recovered") == 1  # and once when it returns


async def test_meter_refusing_connections_logs_once_not_per_poll(
    hass: HomeAssistant, simulator, loaded_entry, caplog
) -> None:
    """pymodbus warns on every failed connect; for our meter that stays at debug."""
    simulator.faults.max_clients = 0
    simulator.drop_connections()
    for _ in range(5):
        await _poll(hass, loaded_entry)
    assert state(hass, "sensor", simulator.meter.serial, "ch01_active_power").state == (
        STATE_UNAVAILABLE
    )
    pymodbus = [r for r in caplog.records if r.name.startswith("pymodbus")]
    assert pymodbus, "pymodbus said nothing: the test no longer provokes its warning"
    assert all(r.levelno == logging.DEBUG for r in pymodbus)
    assert _lines(caplog, "Error fetching acurev") == 1
    simulator.faults.reset()
    await _poll(hass, loaded_entry)
    assert _lines(caplog, "data recovered") == 1
    # Ours only: a loaded machine adds Home Assistant's own "took longer than" warnings.
    ours = ("custom_components.acurev", "pyacurev", "pymodbus")
    assert (
        sum(1 for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(ours))
        == 1
    )


async def test_energy_never_zero_or_decreasing_through_faults(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Through silence, drops, garbage and exceptions energy goes unavailable, never 0 or down."""
    serial = simulator.meter.serial
    eid = entity_id(hass, "sensor", serial, "ch02_import_energy")
    seen: list[str] = []

    def record(event) -> None:
        new: State | None = event.data.get("new_state")
        if new is not None and new.entity_id == eid:
            seen.append(new.state)

    unsub = hass.bus.async_listen("state_changed", record)
    for fault in ("silent", "drop", "garbage", "exception"):
        simulator.meter.advance(600)
        if fault == "silent":
            simulator.faults.silent = True
        elif fault == "drop":
            simulator.faults.drop_next = 1
        elif fault == "garbage":
            simulator.faults.corrupt = "garbage"
        else:
            simulator.faults.exceptions["import_active_energy_channels"] = 4
        await _poll(hass, loaded_entry)
        simulator.faults.reset()
        await _poll(hass, loaded_entry)
    unsub()
    numbers = [float(s) for s in seen if s not in (STATE_UNAVAILABLE, "unknown")]
    assert numbers, "the energy sensor never reported a value"
    assert all(n > 0 for n in numbers)
    assert numbers == sorted(numbers)
    assert STATE_UNAVAILABLE in seen  # the faults were really seen as outages


async def test_restart_keeps_the_guard(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """After a restart the restored energy guard holds back a single far-too-low reading."""
    meter = simulator.meter
    serial = meter.serial
    entry_no = bank_entry_channel(3)
    before = number(hass, "sensor", serial, "ch03_import_energy")
    assert before == pytest.approx(meter.energy_counts("import_active", entry_no) / 10)
    # Home Assistant stops (its states are saved) ...
    await async_mock_restore_state_shutdown_restart(hass)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    # ... and while it is down the meter's counter reads 1000 kWh low (a bad preset, a
    # swapped module): one low reading after the restart must not reach the statistics.
    address = block("import_active_energy_phases").address + 2 * entry_no
    meter.write_registers(address, encode_uint32(round(before * 10) - 10_000))
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert number(hass, "sensor", serial, "ch03_import_energy") == pytest.approx(before)


async def test_genuine_energy_reset_is_accepted(
    hass: HomeAssistant, simulator, loaded_entry, freezer: FrozenDateTimeFactory
) -> None:
    """A reset from the front panel (not announced) is believed once the meter counts up."""
    serial = simulator.meter.serial
    high = number(hass, "sensor", serial, "ch04_import_energy")
    assert high > 1
    await loaded_entry.runtime_data.client.run_command(Command.CLEAR_ENERGY)
    await _poll(hass, loaded_entry)
    # One low reading alone could be a glitch: the old value holds.
    assert number(hass, "sensor", serial, "ch04_import_energy") == pytest.approx(high)
    for _ in range(3):  # counting up from the low value, over more than five minutes
        simulator.meter.advance(150)
        freezer.tick(150)
        await _poll(hass, loaded_entry)
    low = number(hass, "sensor", serial, "ch04_import_energy")
    assert low < high
    assert low == pytest.approx(
        simulator.meter.energy_counts("import_active", bank_entry_channel(4)) / 10
    )


async def test_not_ready_when_first_poll_fails(hass: HomeAssistant, simulator) -> None:
    """A refused first poll leaves the entry retrying set-up; it loads once the meter answers."""
    # The identity answers but the channel block is refused: nothing half-set-up is kept.
    simulator.faults.exceptions["channel_record"] = 4
    entry = await setup_entry(hass, entry_for(simulator))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    simulator.faults.reset()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_unload_closes_the_connection(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """Unloading the entry closes its Modbus connection to the meter."""
    client = loaded_entry.runtime_data.client
    assert client.connected
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert not client.connected


async def test_unknown_ct_settings_fall_back_to_the_fixed_bound(
    hass: HomeAssistant, simulator
) -> None:
    """Settings the meter refuses leave the guards on their conservative fixed bound."""
    simulator.faults.exceptions["rated_voltage"] = 2
    entry = await setup_entry(hass, entry_for(simulator))
    assert entry.state is ConfigEntryState.LOADED  # the counters still work
    assert entry.runtime_data.settings is None
    eid = entity_id(hass, "sensor", simulator.meter.serial, "ch01_import_energy")
    sensor = hass.data["entity_components"]["sensor"].get_entity(eid)
    assert sensor.guard.max_power_kw == FALLBACK_CHANNEL_KW

"""Actions and buttons reach the simulator; bad input gets the documented error."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import voluptuous as vol
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from custom_components.acurev.const import DOMAIN
from pyacurev.registers import ENTRY_SYSTEM, bank_entry_channel

from .conftest import SimFactory, entry_for, setup_entry
from .helpers import device_id, entity_id, number


async def _call(hass: HomeAssistant, service: str, **data) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)


async def test_reset_demand(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """Resetting demand clears the peak demand the meter built up under load."""
    meter = simulator.meter
    meter.advance(1800)  # half an hour of load builds demand and a peak
    assert (meter.demand(ENTRY_SYSTEM).peak_active.value or 0) > 0
    await _call(hass, "reset_demand", device_id=device_id(hass, meter.serial))
    assert meter.demand(ENTRY_SYSTEM).peak_active.value in (0, None)


async def test_reset_energy_is_accepted_as_a_genuine_reset(
    hass: HomeAssistant, simulator, loaded_entry, freezer: FrozenDateTimeFactory
) -> None:
    """Our energy reset shows 0 at once, not held as a glitch, then counts only upwards."""
    meter = simulator.meter
    serial = meter.serial
    # A channel that imports (some simulated circuits export, like a PV feed).
    channel = max(
        range(1, 19), key=lambda ch: meter.energy_counts("import_active", bank_entry_channel(ch))
    )
    key = f"ch{channel:02d}_import_energy"
    eid = entity_id(hass, "sensor", serial, key)
    high = number(hass, "sensor", serial, key)
    assert high > 0
    seen: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        callback(
            lambda e: seen.append(e.data["new_state"].state) if e.data["entity_id"] == eid else None
        ),
    )
    await _call(hass, "reset_energy", device_id=device_id(hass, serial))
    await hass.async_block_till_done()
    assert meter.energy_counts("import_active", bank_entry_channel(channel)) == 0
    # Announced, so accepted at once: the counter restarts at 0 - a new cycle for the
    # statistics, not a glitch to be held back and not a negative step.
    assert number(hass, "sensor", serial, key) == 0
    meter.advance(3600)
    freezer.tick(3600)
    await loaded_entry.runtime_data.slow.async_refresh()
    await hass.async_block_till_done()
    after = number(hass, "sensor", serial, key)
    assert after == pytest.approx(
        meter.energy_counts("import_active", bank_entry_channel(channel)) / 10
    )
    values = [float(v) for v in seen]
    assert values[0] == 0  # straight from the old total to the reset, nothing in between
    assert values == sorted(values)  # and only upwards from there


async def test_reset_max_min_run_time_and_di_counters(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """The run-time, max/min and DI-counter actions each clear their values on the meter."""
    meter = simulator.meter
    dev_id = device_id(hass, meter.serial)
    meter.advance(600)
    assert meter.run_time_hours > 0
    await _call(hass, "reset_run_time", device_id=dev_id)
    assert meter.run_time_hours == 0
    await _call(hass, "reset_max_min", device_id=dev_id)
    assert meter.max_min("u1").maximum.value in (0, None)
    counters = [n for n in range(1, 9) if meter.di_mode & (1 << (n - 1))]
    assert counters, "the simulator should have a DI in counter mode"
    n = counters[0]
    for _ in range(3):
        meter.set_di(n, True)
        meter.set_di(n, False)
    assert meter.di_counts[n - 1] > 0
    await _call(hass, "clear_di_counters", device_id=dev_id, digital_inputs=[n])
    assert meter.di_counts[n - 1] == 0


async def test_set_clock_to_given_and_to_now(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """set_clock writes the given time to the meter, or Home Assistant's local time if none."""
    meter = simulator.meter
    dev_id = device_id(hass, meter.serial)
    await _call(hass, "set_clock", device_id=dev_id, time="2030-01-02T03:04:05")
    assert meter.clock == datetime(2030, 1, 2, 3, 4, 5)
    await _call(hass, "set_clock", device_id=dev_id)
    now = dt_util.now().replace(tzinfo=None)
    assert abs((meter.clock - now).total_seconds()) < 3


async def test_set_ct_primary(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """set_ct_primary writes the new CT rating to the chosen channel on the meter."""
    meter = simulator.meter
    await _call(
        hass, "set_ct_primary", device_id=device_id(hass, meter.serial), channel=3, amps=250
    )
    assert meter.ct_primary(3) == 250


@pytest.mark.parametrize(("channel", "amps"), [(0, 100), (19, 100), (3, 0), (3, 70000)])
async def test_set_ct_primary_rejects_bad_input(
    hass: HomeAssistant, simulator, loaded_entry, channel: int, amps: int
) -> None:
    """An out-of-range channel or rating fails validation and leaves the meter's CT as it was."""
    before = simulator.meter.ct_primary(3)
    with pytest.raises(vol.Invalid):
        await _call(
            hass,
            "set_ct_primary",
            device_id=device_id(hass, simulator.meter.serial),
            channel=channel,
            amps=amps,
        )
    assert simulator.meter.ct_primary(3) == before


async def test_set_ct_primary_on_a_channel_the_build_lacks(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """A CT rating for a channel the build lacks is refused with a translated error."""
    sim = await make_simulator(wiring="1LN", channels=9)
    await setup_entry(hass, entry_for(sim))
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "set_ct_primary",
            device_id=device_id(hass, sim.meter.serial),
            channel=12,
            amps=100,
        )
    assert err.value.translation_key == "channel_not_installed"


async def test_unknown_device_and_unloaded_meter(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Actions on an unknown device or an unloaded meter raise translated validation errors."""
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "reset_demand", device_id="no-such-device")
    assert err.value.translation_key == "unknown_device"
    dev_id = device_id(hass, simulator.meter.serial)
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "reset_demand", device_id=dev_id)
    assert err.value.translation_key == "not_loaded"


async def test_command_refused_by_the_meter(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """A command the meter answers with an exception raises the translated command error."""
    simulator.faults.exceptions["clear_demand"] = 4
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "reset_demand", device_id=device_id(hass, simulator.meter.serial))
    assert err.value.translation_key == "command_failed"


async def test_buttons_press_reaches_the_meter(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Pressing the reset-run-time button clears the run time on the meter."""
    meter = simulator.meter
    meter.advance(600)
    button = entity_id(hass, "button", meter.serial, "reset_run_time")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert meter.run_time_hours == 0


async def test_clock_sync_option(hass: HomeAssistant, simulator) -> None:
    """With clock sync on, a meter clock 300 s off is set right at set-up; drift then reads ~0."""
    meter = simulator.meter
    meter.clock = dt_util.now().replace(tzinfo=None) + timedelta(seconds=300)
    entry = await setup_entry(hass, entry_for(simulator, clock_sync=True, clock_drift_threshold=60))
    # The first counters poll saw 300 s of drift and set the clock.
    assert abs((meter.clock - dt_util.now().replace(tzinfo=None)).total_seconds()) < 3
    await entry.runtime_data.slow.async_refresh()
    await hass.async_block_till_done()
    assert abs(number(hass, "sensor", meter.serial, "clock_drift")) < 3


async def test_failed_reset_energy_primes_nothing(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """A refused energy clear announces no reset: the next bank of zeros is still a glitch."""
    meter = simulator.meter
    key = "ch01_import_energy"
    high = number(hass, "sensor", meter.serial, key)
    assert high > 0
    simulator.faults.exceptions["clear_energy"] = 4
    with pytest.raises(HomeAssistantError):
        await _call(hass, "reset_energy", device_id=device_id(hass, meter.serial))
    simulator.faults.reset()
    assert loaded_entry.runtime_data.reset_notice.generation == 0
    assert meter.energy_counts("import_active", bank_entry_channel(1)) > 0  # not cleared
    simulator.faults.fill = {"import_active_energy_channels": 0x0000}
    await loaded_entry.runtime_data.slow.async_refresh()
    await hass.async_block_till_done()
    assert number(hass, "sensor", meter.serial, key) == high


async def test_reset_energy_announces_only_after_the_meter_confirmed(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """The announcement is made once the command was acknowledged, before the re-read."""
    notice = loaded_entry.runtime_data.reset_notice
    seen_at_command: list[int] = []
    real = loaded_entry.runtime_data.client.run_command

    async def spy(*args, **kwargs) -> None:
        seen_at_command.append(notice.generation)
        await real(*args, **kwargs)
        seen_at_command.append(notice.generation)

    loaded_entry.runtime_data.client.run_command = spy  # type: ignore[method-assign]
    await _call(hass, "reset_energy", device_id=device_id(hass, simulator.meter.serial))
    assert seen_at_command == [0, 0]  # not primed before, nor while it ran
    assert notice.generation == 1

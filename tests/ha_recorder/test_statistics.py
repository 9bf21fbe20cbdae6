"""An energy reset leaves no negative and no spiking long-term statistics.

Runs the real recorder (phcc's in-memory database) and compiles real 5-minute
statistics around a reset, then checks the growth the Energy dashboard would show
against the simulator's own counters.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.acurev.const import DOMAIN
from custom_components.acurev.sensor import AcuRevEnergySensor
from pyacurev.registers import REGISTER_MAP, bank_entry_channel
from tests.ha.conftest import entry_for, setup_entry
from tests.ha.helpers import device_id, entity_id, number


async def test_energy_reset_books_no_negative_and_no_spike(
    recorder_first: Recorder, hass: HomeAssistant, simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Our energy reset books no negative step and no second copy of the total in the statistics."""
    meter = simulator.meter
    channel = max(
        range(1, 19), key=lambda ch: meter.channel(ch).active_power
    )  # the busiest importer
    key = f"ch{channel:02d}_import_energy"
    bank_entry = bank_entry_channel(channel)

    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    freezer.move_to(start + timedelta(seconds=30))
    entry = await setup_entry(hass, entry_for(simulator))
    eid = entity_id(hass, "sensor", meter.serial, key)
    first = number(hass, "sensor", meter.serial, key)

    async def period(minutes: int, hours_on_meter: float) -> None:
        meter.advance(hours_on_meter * 3600)
        freezer.move_to(start + timedelta(minutes=minutes, seconds=30))
        await entry.runtime_data.slow.async_refresh()
        await hass.async_block_till_done()

    await period(5, 1.0)
    before_reset = number(hass, "sensor", meter.serial, key)
    freezer.tick(timedelta(seconds=20))  # the user presses reset a little later
    await hass.services.async_call(
        DOMAIN, "reset_energy", {"device_id": device_id(hass, meter.serial)}, blocking=True
    )
    await hass.async_block_till_done()
    await period(10, 0.5)
    after_reset = number(hass, "sensor", meter.serial, key)
    assert after_reset == pytest.approx(meter.energy_counts("import_active", bank_entry) / 10)

    await async_wait_recording_done(hass)
    for minutes in (0, 5, 10):
        do_adhoc_statistics(hass, start=start + timedelta(minutes=minutes))
        await async_wait_recording_done(hass)
    stats = await hass.async_add_executor_job(
        statistics_during_period, hass, start, None, {eid}, "5minute", None, {"sum", "state"}
    )
    sums = [row["sum"] for row in stats[eid]]
    assert len(sums) == 3
    growth = [b - a for a, b in itertools.pairwise(sums)]
    # Never negative, and what the dashboard books is exactly what the meter counted:
    # the hour before the reset, then the half hour after it - no re-booking of the total.
    assert all(step >= 0 for step in growth)
    assert sums[-1] - sums[0] == pytest.approx((before_reset - first) + after_reset, abs=0.2)
    assert sums[-1] - sums[0] < before_reset  # a spike would add the whole lifetime again


# Every energy counter block (the import bank is three blocks: phases, channels, users).
ENERGY_BANK_BLOCKS = [
    b.key for b in REGISTER_MAP if b.unit in ("kWh", "kvarh", "kVAh") and not b.reserved
]


async def test_zero_polls_and_all_ones_leave_every_counter_monotonic_and_bounded(
    recorder_first: Recorder, hass: HomeAssistant, simulator, freezer: FrozenDateTimeFactory
) -> None:
    """The issue's case, on every energy counter: three polls of zeros, one of 0xFFFF."""
    meter = simulator.meter
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    freezer.move_to(start + timedelta(seconds=30))
    entry = await setup_entry(hass, entry_for(simulator, monthly=True, tou=True))
    component = hass.data["entity_components"]["sensor"]
    sensors = [e for e in component.entities if isinstance(e, AcuRevEnergySensor)]
    assert len(sensors) > 50  # channels, phases, system, users, monthly, TOU
    seen: dict[str, list[tuple[float, float]]] = {s.entity_id: [] for s in sensors}

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if (
            new is not None
            and new.entity_id in seen
            and new.state not in ("unknown", "unavailable")
        ):
            seen[new.entity_id].append((new.last_updated.timestamp(), float(new.state)))

    hass.bus.async_listen("state_changed", record)
    for s in sensors:
        assert s.native_value is not None
        seen[s.entity_id].append((dt_util.utcnow().timestamp(), s.native_value))

    fills = [0x0000] * 3 + [0xFFFF] + [None] * 3
    for minute, word in enumerate(fills, start=1):
        meter.advance(60)
        freezer.move_to(start + timedelta(minutes=minute, seconds=30))
        simulator.faults.fill = {} if word is None else dict.fromkeys(ENERGY_BANK_BLOCKS, word)
        await entry.runtime_data.slow.async_refresh()
        await hass.async_block_till_done()
    simulator.faults.fill = {}
    # Compile the two 5-minute periods the polls fell into.
    await async_wait_recording_done(hass)
    for minutes in (0, 5):
        do_adhoc_statistics(hass, start=start + timedelta(minutes=minutes))
        await async_wait_recording_done(hass)
    ids = {s.entity_id for s in sensors}
    stats = await hass.async_add_executor_job(
        statistics_during_period, hass, start, None, ids, "5minute", None, {"sum"}
    )

    for s in sensors:
        values = seen[s.entity_id]
        # Three zero polls and the 0xFFFF one (zeros are no glitch for a counter at 0).
        assert s.guard.rejected >= (4 if values[0][1] > 0 else 1), s.entity_id
        for (t0, v0), (t1, v1) in itertools.pairwise(values):
            assert v1 >= v0, (s.entity_id, values)  # monotonic: no dip, no reset
            assert v1 - v0 <= s.guard.bound(t1 - t0), (s.entity_id, values)  # no spike
        # After the glitches it follows the meter again.
        assert s.native_value == s.point_value, s.entity_id
        # The statistics booked exactly the growth, nothing more.
        rows = stats[s.entity_id]
        assert rows[-1]["sum"] == pytest.approx(values[-1][1] - values[0][1], abs=1e-6)
    rejects = entry.runtime_data.energy_rejects.as_dict()["rejected"]
    assert rejects["drop"] >= 3 * sum(1 for s in sensors if seen[s.entity_id][0][1] > 0)
    assert rejects["sentinel"] >= len(sensors)

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
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.acurev.const import DOMAIN
from pyacurev.registers import bank_entry_channel
from tests.ha.conftest import entry_for, setup_entry
from tests.ha.helpers import device_id, entity_id, number


async def test_energy_reset_books_no_negative_and_no_spike(
    recorder_first: Recorder, hass: HomeAssistant, simulator, freezer: FrozenDateTimeFactory
) -> None:
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

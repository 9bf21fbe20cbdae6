"""Backfill: the meter's data log fills the hours Home Assistant missed.

Real recorder (phcc's database), real simulator over TCP, real statistics
compiles every 5 simulated minutes. "Home Assistant down" is the entry unloaded
(its sensors unavailable, so the recorder compiles nothing for them) while the
meter keeps logging; the expected hourly energy is decoded here from the
simulator's own log records and counters, not through pyacurev.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from acurev_simulator import Simulator
from custom_components.acurev.const import CONF_BACKFILL, DOMAIN
from pyacurev.registers import bank_entry_channel, block
from tests.conftest import SimFactory
from tests.ha.conftest import entry_for, setup_entry
from tests.ha.helpers import entity_id

STEP = timedelta(minutes=5)
HOUR = timedelta(hours=1)


def local_naive(when: datetime) -> datetime:
    """The meter's clock: Home Assistant's local time without a zone."""
    return dt_util.as_local(when).replace(tzinfo=None)


def logged_counts(sim: Simulator, channel: int) -> dict[datetime, int]:
    """Meter time -> the channel's import count in the simulator's data log (raw registers)."""
    entries = [a for a in sim.meter.config.get("datalog_register_list") if a not in (0, 0xFFFF)]
    high = block("import_active_energy_phases").address + 2 * bank_entry_channel(channel)
    i = 3 + entries.index(high)
    out: dict[datetime, int] = {}
    for rec in sim.meter.logs.data:
        yy, mo, dd, hh, mi, ss = (
            rec[0] >> 8,
            rec[0] & 0xFF,
            rec[1] >> 8,
            rec[1] & 0xFF,
            rec[2] >> 8,
            rec[2] & 0xFF,
        )
        out[datetime(2000 + yy, mo, dd, hh, mi, ss)] = rec[i] << 16 | rec[i + 1]
    return out


async def hourly(hass: HomeAssistant, eid: str, start: datetime) -> dict[datetime, dict[str, Any]]:
    stats = await hass.async_add_executor_job(
        statistics_during_period, hass, start, None, {eid}, "hour", None, {"sum", "state"}
    )
    return {dt_util.utc_from_timestamp(r["start"]): r for r in stats.get(eid, [])}


def grown(samples: list[tuple[datetime, int]]) -> float:
    """kWh counted along counter samples: increments, and after a drop the new value."""
    ordered = sorted(samples)
    total = 0
    for (_, a), (_, b) in itertools.pairwise(ordered):
        total += b - a if b >= a else b
    return total / 10


class Run:
    """Drives simulated time: meter, frozen clock, polls and the recorder's compiles.

    Each step is five minutes: the meter runs, Home Assistant polls 10 s before the
    period ends (when it is up), then the recorder compiles the period.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        sim: Simulator,
        freezer: FrozenDateTimeFactory,
        t0: datetime,
        channel: int,
    ) -> None:
        self.hass, self.sim, self.freezer, self.now = hass, sim, freezer, t0
        self.channel = channel
        # Meter time and counts of every counter poll that succeeded.
        self.polled: list[tuple[datetime, int]] = []

    def counts(self) -> int:
        return self.sim.meter.energy_counts("import_active", 3 + self.channel)

    async def step(self, entry: Any | None) -> None:
        """Five minutes; ``entry`` None: Home Assistant is down (no poll, no compile)."""
        self.sim.meter.advance(STEP.total_seconds() - 10)
        self.freezer.move_to(self.now + STEP - timedelta(seconds=10))
        if entry is not None:
            runtime = entry.runtime_data
            await runtime.fast.async_refresh()
            await runtime.slow.async_refresh()
            await self.hass.async_block_till_done()
            if runtime.slow.last_update_success:
                self.polled.append((self.sim.meter.clock, self.counts()))
        self.sim.meter.advance(10)
        self.now += STEP
        self.freezer.move_to(self.now + timedelta(seconds=10))
        if entry is None:
            return
        await async_wait_recording_done(self.hass)
        do_adhoc_statistics(self.hass, start=self.now - STEP)
        await async_wait_recording_done(self.hass)


@pytest.mark.parametrize("reset_in_gap", [False, True], ids=["plain", "reset"])
async def test_three_hours_down_are_filled_from_the_log(
    recorder_first: Recorder,
    hass: HomeAssistant,
    make_simulator: SimFactory,
    freezer: FrozenDateTimeFactory,
    reset_in_gap: bool,
) -> None:
    """Three hours HA was down are booked from the meter's log once, even with a reset."""
    t0 = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + HOUR
    freezer.move_to(t0 + timedelta(seconds=5))
    sim = await make_simulator(wiring="3LN", channels=18, clock=local_naive(t0))
    channel = max(range(1, 19), key=lambda ch: sim.meter.channel(ch).active_power)
    entry = await setup_entry(hass, entry_for(sim))
    eid = entity_id(hass, "sensor", sim.meter.serial, f"ch{channel:02d}_import_energy")
    run = Run(hass, sim, freezer, t0, channel)

    for _ in range(12):  # one hour up
        await run.step(entry)
    # Home Assistant stops (10 s after the hour's last compile) and stays down three hours.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    gap_start = run.now
    for n in range(36):  # three hours down; the meter keeps logging
        if reset_in_gap and n == 18:
            sim.meter.run_command("clear_energy")  # 90 minutes in
        await run.step(None)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    for _ in range(12):  # one hour up again
        await run.step(entry)

    rows = await hourly(hass, eid, t0 - HOUR)
    sums = {h: r["sum"] for h, r in rows.items()}
    hours = sorted(sums)
    assert hours == [t0 + k * HOUR for k in range(5)], hours
    # Never a negative hour.
    assert all(sums[b] - sums[a] >= -1e-9 for a, b in itertools.pairwise(hours))

    log = logged_counts(sim, channel)
    for k in range(3):
        hour = gap_start + k * HOUR
        inside = [
            (t, c) for t, c in log.items() if local_naive(hour) <= t <= local_naive(hour + HOUR)
        ]
        assert len(inside) == 5
        assert sums[hour] - sums[hour - HOUR] == pytest.approx(grown(inside), abs=0.011), hour

    # From Home Assistant's last state before the stop to its last one after the restart:
    # everything the meter counted, booked once.
    from_stop = [s for s in run.polled if s[0] <= local_naive(gap_start)][-1]
    first_after = min(s for s in run.polled if s[0] > local_naive(gap_start))
    gap_log = [(t, c) for t, c in log.items() if from_stop[0] <= t <= first_after[0]]
    after = [s for s in run.polled if s[0] >= first_after[0]]
    expected = grown([from_stop, *gap_log]) + grown(after) + grown([gap_log[-1], first_after])
    assert sums[hours[-1]] - sums[gap_start - HOUR] == pytest.approx(expected, abs=0.011)
    backfill = entry.runtime_data.backfill
    assert backfill is not None
    assert backfill.as_dict()["imported"][eid]["hours"] == 3

    # A second import changes nothing, even reading the whole log again.
    assert backfill.reader is not None
    backfill.reader.last_total = None
    await entry.runtime_data.slow.async_refresh()
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    assert await hourly(hass, eid, t0 - HOUR) == rows


async def test_backfill_off_imports_nothing(
    recorder_first: Recorder,
    hass: HomeAssistant,
    make_simulator: SimFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With backfill turned off, nothing is imported from the meter's log."""
    t0 = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + HOUR
    freezer.move_to(t0 + timedelta(seconds=10))
    sim = await make_simulator(clock=local_naive(t0), log_history_hours=6)
    entry = await setup_entry(hass, entry_for(sim, **{CONF_BACKFILL: False}))
    await entry.runtime_data.slow.async_refresh()
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    eid = entity_id(hass, "sensor", sim.meter.serial, "ch01_import_energy")
    assert await hourly(hass, eid, t0 - 7 * HOUR) == {}
    assert entry.runtime_data.backfill is None


async def test_first_set_up_fills_the_logged_history_and_continues_it(
    recorder_first: Recorder,
    hass: HomeAssistant,
    make_simulator: SimFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """First set-up imports the logged hours; the recorder's own first hour then adds no spike."""
    t0 = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + HOUR
    freezer.move_to(t0 + timedelta(seconds=5))
    sim = await make_simulator(clock=local_naive(t0), log_history_hours=6)
    channel = max(range(1, 19), key=lambda ch: sim.meter.channel(ch).active_power)
    entry = await setup_entry(hass, entry_for(sim))
    eid = entity_id(hass, "sensor", sim.meter.serial, f"ch{channel:02d}_import_energy")
    run = Run(hass, sim, freezer, t0, channel)
    for _ in range(12):
        await run.step(entry)

    rows = await hourly(hass, eid, t0 - 7 * HOUR)
    hours = sorted(rows)
    # Five logged hours (24 records: the oldest is 15 min past an hour), then HA's own.
    assert hours == [t0 - k * HOUR for k in range(5, -1, -1)], hours
    log = logged_counts(sim, channel)
    for hour in hours[1:-1]:
        inside = [
            (t, c) for t, c in log.items() if local_naive(hour) <= t <= local_naive(hour + HOUR)
        ]
        growth = rows[hour]["sum"] - rows[hour - HOUR]["sum"]
        assert growth == pytest.approx(grown(inside), abs=0.011)
    # No spike when the recorder takes over: its hour books what the meter counted in it.
    first_poll = run.polled[0]
    hour_log = [(t, c) for t, c in log.items() if t == local_naive(t0)]
    own = rows[t0]["sum"] - rows[t0 - HOUR]["sum"]
    assert own == pytest.approx(grown([*hour_log, first_poll, *run.polled]), abs=0.011)
    assert all(r["sum"] >= 0 for r in rows.values())
    diag = entry.runtime_data.backfill.as_dict()
    assert diag["imported"][eid]["continuation"] is True
    assert diag["probe"]["status"] == "ok"


async def test_a_log_without_energy_is_reported_once_and_imports_nothing(
    recorder_first: Recorder,
    hass: HomeAssistant,
    make_simulator: SimFactory,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A data log without energy gives one repair and one log line, and imports nothing."""
    t0 = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + HOUR
    freezer.move_to(t0 + timedelta(seconds=5))
    sim = await make_simulator(clock=local_naive(t0), log_history_hours=6)
    regs = [0xFFFF] * block("datalog_register_list").count
    regs[:2] = [0x2002, 0x2003]  # the user logs U1 only
    sim.meter.set_setting("datalog_register_list", regs)
    entry = await setup_entry(hass, entry_for(sim))
    run = Run(hass, sim, freezer, t0, 1)
    for _ in range(3):
        await run.step(entry)
    eid = entity_id(hass, "sensor", sim.meter.serial, "ch01_import_energy")
    assert await hourly(hass, eid, t0 - 7 * HOUR) == {}
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"datalog_unusable_{sim.meter.serial}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["status"] == "no_energy"
    assert caplog.text.count("cannot fill energy history") == 1
    diag = entry.runtime_data.backfill.as_dict()
    assert diag["probe"]["status"] == "no_energy"
    assert diag["imported"] == {}


async def test_hours_the_meter_was_unreachable_are_filled_once_it_answers(
    recorder_first: Recorder,
    hass: HomeAssistant,
    make_simulator: SimFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Hours the meter did not answer are filled from its log once it does, booked once."""
    # Home Assistant keeps running and compiling; the meter drops every request for two
    # hours, from its last poll of the first hour on.
    t0 = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + HOUR
    freezer.move_to(t0 + timedelta(seconds=5))
    sim = await make_simulator(clock=local_naive(t0))
    channel = max(range(1, 19), key=lambda ch: sim.meter.channel(ch).active_power)
    entry = await setup_entry(hass, entry_for(sim))
    eid = entity_id(hass, "sensor", sim.meter.serial, f"ch{channel:02d}_import_energy")
    run = Run(hass, sim, freezer, t0, channel)
    for _ in range(11):
        await run.step(entry)
    last_seen = run.polled[-1]
    sim.faults.drop_next = 10**9
    for _ in range(25):
        await run.step(entry)
    assert hass.states.get(eid).state == "unavailable"
    assert len(run.polled) == 11
    sim.faults.drop_next = 0
    for _ in range(12):
        await run.step(entry)

    rows = await hourly(hass, eid, t0 - HOUR)
    sums = {h: r["sum"] for h, r in rows.items()}
    hours = sorted(sums)
    assert hours == [t0 + k * HOUR for k in range(4)], hours
    log = logged_counts(sim, channel)

    def logged(hour: datetime) -> list[tuple[datetime, int]]:
        return [
            (t, c) for t, c in log.items() if local_naive(hour) <= t <= local_naive(hour + HOUR)
        ]

    # The recorder compiled the first hour up to the last reading; the rest of it is
    # booked in the first hour it has nothing for (its own rows are never rewritten).
    first, second = t0 + HOUR, t0 + 2 * HOUR
    rest = grown([last_seen, (local_naive(first), log[local_naive(first)])])
    assert sums[first] - sums[t0] == pytest.approx(rest + grown(logged(first)), abs=0.011)
    assert sums[second] - sums[first] == pytest.approx(grown(logged(second)), abs=0.011)
    assert all(sums[b] - sums[a] >= -1e-9 for a, b in itertools.pairwise(hours))
    # Everything counted from the last reading before the outage to the last one, once.
    after = [s for s in run.polled if s[0] > last_seen[0]]
    gap = [(t, c) for t, c in log.items() if last_seen[0] < t < after[0][0]]
    assert sums[hours[-1]] - sums[t0] == pytest.approx(grown([last_seen, *gap, *after]), abs=0.011)

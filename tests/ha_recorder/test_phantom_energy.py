"""Zero phantom kWh, proven against Home Assistant's own statistics.

Hypothesis generates sequences of meter behaviour - good readings, banks of
zeros, all-ones words, single wrong drops and spikes on the wire, outages, Home
Assistant restarts (the entry reloaded: entities removed and restored from the
restore-state store), genuine resets from the front panel and by our action,
failed reset commands, load changes - and plays them through the simulator over
TCP, the integration and the real recorder. The recorder's own statistics code
compiles the 5-minute statistics; their sum must equal the energy the simulator's
meter counted, to the meter's resolution:

* never more than the meter counted until it was last asked (zero phantom kWh);
* never less than it showed in good readings, except a genuine reset of a counter
  smaller than what the meter counts before such a reset can be confirmed (it is
  indistinguishable from a glitch; at most that small value is left out);
* exactly equal when the sequence had no genuine reset.

The glitch model (shared with tests/library/test_energy_guard.py): a wrong value
on the wire is transient - at most one wrong-but-usable value between two good
readings - and two genuine resets are a few minutes of normal counting apart.

Hypothesis runs in an executor thread and plays each example on Home Assistant's
loop, so it sees failures and shrinks them; one Home Assistant, one recorder and
one simulator serve all examples, each example in its own stretch of time.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from acurev_simulator import Simulator
from acurev_simulator.faults import DEFAULT_MAX_CLIENTS
from custom_components.acurev.const import DOMAIN
from pyacurev.codec import encode_uint32
from pyacurev.energy_guard import CONFIRM_SECONDS, HA_RESET_FRACTION, EnergyGuard
from pyacurev.registers import bank_entry_channel, block
from tests.conftest import SimFactory
from tests.ha.conftest import entry_for, setup_entry
from tests.ha.helpers import device_id, entity_id

# 500 sequences per run, the floor (about 100 s on HA 2025.4.4, 0.2 s each).
EXAMPLES = 500
CHANNEL = 1  # CT primary 100 A at 120 V: the guard's bound is 24 kW
KEY = f"ch{CHANNEL:02d}_import_energy"
KEY_ENTITY_SUFFIX = f"channel_{CHANNEL}_import_energy"  # the entity id's end (translation)
BANK = "import_active"
BLOCK = "import_active_energy_channels"
POLL = 60.0
MAX_LOAD_KW = 12.0  # the bound carries a margin of 2 over CT primary x voltage
SETTLE_POLLS = int(CONFIRM_SECONDS // POLL) + 2
SWALLOWABLE_KWH = MAX_LOAD_KW * (10 * POLL + 2 * CONFIRM_SECONDS) / 3600
TOLERANCE = 1e-3  # float sums in the database; the meter's resolution is 0.1

GOOD, ZEROS, ONES, DROP, SPIKE, DOWN = "good", "zeros", "ones", "drop", "spike", "down"
RESTART, PANEL_RESET, OUR_RESET, FAILED_RESET, LOAD = (
    "restart",
    "panel_reset",
    "our_reset",
    "failed_reset",
    "load",
)

events = st.one_of(
    st.tuples(st.just(GOOD), st.integers(1, 6)),
    st.tuples(st.just(ZEROS), st.integers(1, 4)),
    st.tuples(st.just(ONES), st.integers(1, 2)),
    st.tuples(st.just(DROP), st.floats(0.0, 0.999)),
    st.tuples(st.just(SPIKE), st.floats(0.0, 1e5)),
    st.tuples(st.just(DOWN), st.integers(1, 10)),
    st.tuples(st.just(RESTART), st.just(0.0)),
    st.tuples(st.just(PANEL_RESET), st.just(0.0)),
    st.tuples(st.just(OUR_RESET), st.just(0.0)),
    st.tuples(st.just(FAILED_RESET), st.just(0.0)),
    st.tuples(st.just(LOAD), st.floats(0.0, MAX_LOAD_KW)),
)


class Bench:
    """One Home Assistant with the recorder, one simulator, one entry: all examples."""

    def __init__(self, hass: HomeAssistant, sim: Simulator, freezer: FrozenDateTimeFactory):
        self.hass, self.sim, self.freezer = hass, sim, freezer
        self.entry_index = bank_entry_channel(CHANNEL)
        self.now = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        self.periods: list[datetime] = []  # 5-minute periods with polls, to compile
        self.sum = 0.0
        self.eid = ""
        self.entry_id = ""
        self.clean = True  # the last example ended in a settled state
        self.start_time = self.now
        self.last_good = 0.0  # the meter's reading at the last good poll
        self.trace: list[float] = []  # every value published, in order

    # -- the meter as Home Assistant sees it ---------------------------------------------

    @property
    def truth(self) -> float:
        return round(self.sim.meter.energy_counts(BANK, self.entry_index) / 10, 1)

    @property
    def published(self) -> float | None:
        state = self.hass.states.get(self.eid)
        if state is None or state.state in ("unavailable", "unknown"):
            return None
        return float(state.state)

    @property
    def guard(self) -> EnergyGuard:
        component = self.hass.data["entity_components"]["sensor"]
        return component.get_entity(self.eid).guard  # type: ignore[no-any-return]

    def tick(self, seconds: float = POLL) -> None:
        self.sim.meter.advance(seconds)
        self.now += timedelta(seconds=seconds)
        self.freezer.move_to(self.now)
        period = self.now.replace(minute=self.now.minute - self.now.minute % 5, second=0)
        if not self.periods or self.periods[-1] != period:
            self.periods.append(period)

    def manual(self) -> None:
        """Only this bench polls: moving the frozen clock must not fire scheduled refreshes."""
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        assert entry is not None
        for coordinator in (entry.runtime_data.slow, entry.runtime_data.fast):
            coordinator.update_interval = None
            coordinator._unschedule_refresh()  # no public way in 2025.4

    async def poll(self) -> None:
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        assert entry is not None
        await entry.runtime_data.slow.async_refresh()
        await self.hass.async_block_till_done()
        self.note()

    def note(self) -> None:
        value = self.published
        if value is not None and (not self.trace or self.trace[-1] != value):
            self.trace.append(value)

    async def start(self) -> None:
        self.freezer.move_to(self.now + timedelta(seconds=30))
        self.now += timedelta(seconds=30)
        self.sim.meter.set_channel_load(CHANNEL, 3.0, 0.0)
        entry = await setup_entry(self.hass, entry_for(self.sim))
        self.entry_id = entry.entry_id
        self.manual()
        self.eid = entity_id(self.hass, "sensor", self.sim.meter.serial, KEY)
        assert self.eid.endswith(KEY_ENTITY_SUFFIX)  # else the recorder would not record it
        # The bound comes from the meter's own settings: 100 A x 120 V x margin 2.
        assert self.guard.max_power_kw == pytest.approx(2 * MAX_LOAD_KW)
        self.last_good = self.truth
        self.periods.append(
            self.now.replace(minute=self.now.minute - self.now.minute % 5, second=0)
        )

    async def compile(self) -> float:
        """Compile the periods polled since last time; the statistics' sum now."""
        await async_wait_recording_done(self.hass)
        for period in self.periods[:-1]:
            do_adhoc_statistics(self.hass, start=period)
            await async_wait_recording_done(self.hass)
        first, self.periods = self.periods[0], self.periods[-1:]
        rows = await self.hass.async_add_executor_job(
            statistics_during_period,
            self.hass,
            first,
            None,
            {self.eid},
            "5minute",
            None,
            {"sum"},
        )
        if rows.get(self.eid):
            self.sum = float(rows[self.eid][-1]["sum"] or 0.0)
        return self.sum


class Episode:
    """One generated sequence, with what the meter counted and what it showed."""

    def __init__(self, bench: Bench) -> None:
        self.b = bench
        r = bench.last_good
        # Per segment between resets: start, last good reading, reading at last contact.
        self.segments: list[list[float]] = [[r, r, r]]
        self.glitches_since_good = 0
        self.good_streak = 0
        self.small_resets = 0.0
        self.load = 3.0

    def contact(self) -> None:
        self.segments[-1][2] = self.b.truth

    async def good(self, advance: bool = True) -> None:
        if advance:
            self.b.tick()
        await self.b.poll()
        self.contact()
        self.segments[-1][1] = self.b.last_good = self.b.truth
        self.glitches_since_good = 0
        self.good_streak += 1

    async def wrong(self, words: Callable[[], int | tuple[int, ...]]) -> None:
        """One poll answered with ``words`` in the energy bank."""
        self.b.tick()
        if self.glitches_since_good >= 1:
            await self.good(advance=False)
            self.b.tick()
        self.glitches_since_good += 1
        self.b.sim.faults.fill = {BLOCK: words()}
        try:
            await self.b.poll()
        finally:
            self.b.sim.faults.fill = {}
        self.contact()
        self.good_streak = 0

    def counts_words(self, kwh: float) -> tuple[int, ...]:
        return tuple(encode_uint32(round(kwh * 10), block(BLOCK).word_order))

    def spike(self, extra: float) -> tuple[int, ...]:
        # Beyond what the meter can count in all the time this bench has run, above
        # the true counter and above what is published.
        top = max(self.b.truth, self.b.published or 0.0)
        elapsed = (self.b.now - self.b.start_time).total_seconds()
        return self.counts_words(top + self.b.guard.bound(elapsed) + 0.1 + extra)

    async def set_load(self, kw: float) -> None:
        self.load = kw
        self.b.sim.meter.set_channel_load(CHANNEL, kw, 0.0)

    async def reset(self, ours: bool, fails: bool = False) -> None:
        if not fails and len(self.segments) > 1 and self.good_streak < SETTLE_POLLS:
            load = self.load
            await self.set_load(max(load, 3.0))
            while self.good_streak < SETTLE_POLLS:
                await self.good()
            await self.set_load(load)
        # Some seconds after the last poll: with a frozen clock, two states written at
        # the same instant leave the recorder's "state at period start" ambiguous.
        self.b.tick(5)
        before = self.b.truth
        if not ours:
            self.b.sim.meter.run_command("clear_energy")
            self.record_reset(before)
            return
        if fails:
            self.b.sim.faults.exceptions = {"clear_energy": 4}
        call = self.b.hass.services.async_call(
            DOMAIN,
            "reset_energy",
            {"device_id": device_id(self.b.hass, self.b.sim.meter.serial)},
            blocking=True,
        )
        try:
            if fails:
                with pytest.raises(HomeAssistantError):
                    await call
            else:
                self.record_reset(before)
                await call
                self.contact()
                self.segments[-1][1] = self.b.last_good = (
                    self.b.truth
                )  # the action re-reads at once
                self.b.note()
        finally:
            self.b.sim.faults.exceptions = {}
        await self.b.hass.async_block_till_done()

    def record_reset(self, before: float) -> None:
        if before < SWALLOWABLE_KWH:
            self.small_resets += before
        self.segments.append([0.0, 0.0, 0.0])
        self.good_streak = 0

    async def run(self, kind: str, arg: float) -> None:
        b = self.b
        if kind == GOOD:
            for _ in range(int(arg)):
                await self.good()
        elif kind in (ZEROS, ONES):
            word = 0x0000 if kind == ZEROS else 0xFFFF
            b.sim.faults.fill = {BLOCK: word}
            try:
                for _ in range(int(arg)):
                    b.tick()
                    await b.poll()
                    self.contact()
            finally:
                b.sim.faults.fill = {}
            self.good_streak = 0
        elif kind == DROP:
            await self.wrong(lambda: self.counts_words(math.floor(b.truth * arg * 10) / 10))
        elif kind == SPIKE:
            await self.wrong(lambda: self.spike(arg))
        elif kind == DOWN:
            # The module refuses connections: every poll fails at once.
            b.sim.faults.max_clients = 0
            b.sim.drop_connections()
            try:
                for _ in range(int(arg)):
                    b.tick()
                    await b.poll()
                    assert b.published is None  # unavailable, not a number
            finally:
                b.sim.faults.max_clients = DEFAULT_MAX_CLIENTS
            self.good_streak = 0
        elif kind == RESTART:
            b.tick(5)  # distinct timestamps (see ``reset``)
            await b.hass.config_entries.async_reload(b.entry_id)
            await b.hass.async_block_till_done()
            b.manual()
            entry = b.hass.config_entries.async_get_entry(b.entry_id)
            assert entry is not None
            assert entry.state is ConfigEntryState.LOADED
            self.contact()
            self.segments[-1][1] = b.last_good = b.truth  # set-up polls the counters once
            b.note()
            self.good_streak = 0  # a held reset's evidence is not kept across restarts
        elif kind == PANEL_RESET:
            await self.reset(ours=False)
        elif kind == OUR_RESET:
            await self.reset(ours=True)
        elif kind == FAILED_RESET:
            await self.reset(ours=True, fails=True)
        elif kind == LOAD:
            await self.set_load(arg)

    async def settle(self) -> None:
        """Load and time until Home Assistant shows what the meter shows, twice running.

        Confirming a held reset takes a few minutes of counting; a value published too
        high (a spike small enough to be possible) needs the meter to count past it,
        for which a long stretch at load follows if needed.
        """
        await self.set_load(MAX_LOAD_KW / 2)
        agreeing = 0
        for _ in range(SETTLE_POLLS + 1):
            await self.good()
            agreeing = agreeing + 1 if self.b.published == self.b.truth else 0
            if agreeing == 2:
                break
        else:
            self.b.tick(3 * 3600)
            await self.good()
        assert self.b.published == self.b.truth
        # Into the next 5-minute period, so the last one with polls can be compiled.
        now = self.b.now
        self.b.tick(300 - (now.minute % 5) * 60 - now.second + 1)

    @property
    def shown(self) -> float:
        return sum(last - start for start, last, _ in self.segments)

    @property
    def counted(self) -> float:
        return sum(contact - start for start, _, contact in self.segments)


async def play(bench: Bench, sequence: list[tuple[str, float]]) -> None:
    """One example: start settled, play, settle, compare the statistics with the meter."""
    if not bench.clean:
        bench.sim.faults.reset()
        entry = bench.hass.config_entries.async_get_entry(bench.entry_id)
        assert entry is not None
        if entry.state is not ConfigEntryState.LOADED:
            await bench.hass.config_entries.async_reload(bench.entry_id)
            bench.manual()
        await Episode(bench).settle()
    bench.clean = False
    sum_before = await bench.compile()
    ep = Episode(bench)
    bench.trace = bench.trace[-1:]
    assert bench.published == bench.last_good  # the guard follows the meter
    for kind, arg in sequence:
        await ep.run(kind, arg)
    await ep.settle()
    booked = await bench.compile() - sum_before
    # No phantom energy, ever: never more than the meter counted until last asked.
    assert booked <= ep.counted + TOLERANCE, (booked, ep.counted, ep.segments, bench.trace)
    # Nothing the meter showed is missed, but a reset of a counter too small to tell.
    assert booked >= ep.shown - ep.small_resets - TOLERANCE, (booked, ep.shown, ep.segments)
    if len(ep.segments) == 1:
        assert booked == pytest.approx(ep.shown, abs=TOLERANCE)
    # Published: only rises, and one drop per genuine reset at most.
    drops = sum(1 for a, b in itertools.pairwise(bench.trace) if b < a)
    assert drops <= len(ep.segments) - 1, bench.trace
    # The drops HA takes for resets are the genuine ones; no other drop was published.
    assert all(b < HA_RESET_FRACTION * a for a, b in itertools.pairwise(bench.trace) if b < a)
    bench.clean = True


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Record the one counter under test: each poll updates every sensor of the meter, and
    writing all of them would be most of the run time (the statistics do not change)."""
    return {"include": {"entity_globs": [f"sensor.*_{KEY_ENTITY_SUFFIX}"]}}


@pytest.mark.timeout(900)
async def test_statistics_book_no_phantom_energy(
    recorder_first: Recorder,
    hass: HomeAssistant,
    make_simulator: SimFactory,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Generated glitch, outage, reset and restart sequences book no phantom or lost energy."""
    # Thousands of polls: phcc's per-statement SQL log and asyncio's debug mode (a stack
    # extracted for every callback) would be most of the time; neither is under test here.
    caplog.set_level(logging.WARNING, logger="sqlalchemy.engine")
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)
    try:
        await _run(hass, make_simulator, freezer)
    finally:
        loop.set_debug(debug)


async def _run(
    hass: HomeAssistant, make_simulator: SimFactory, freezer: FrozenDateTimeFactory
) -> None:
    sim = await make_simulator(wiring="1LN", channels=9)
    bench = Bench(hass, sim, freezer)
    await bench.start()
    bench.start_time = bench.now
    loop = asyncio.get_running_loop()

    def on_loop(coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, loop).result()

    # Derandomized: CI replays the same 500 sequences on every run and HA version, so a
    # red run is a regression, not luck. New sequences are explored by running with
    # ACUREV_EXPLORE=1 and kept below as examples. One random run on 2026-12-02 found an
    # under-booking (energy lost, never phantom) that depends on the examples played before
    # it on the shared bench and does not reproduce alone; it is recorded in the closing note.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("ACUREV_EXPLORE"),
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(events, max_size=12))
    @example([(ZEROS, 3), (ONES, 1)])
    @example([(PANEL_RESET, 0.0), (GOOD, 2), (OUR_RESET, 0.0), (RESTART, 0.0)])
    @example([(FAILED_RESET, 0.0), (ZEROS, 2), (GOOD, 1)])
    @example([(DOWN, 3), (PANEL_RESET, 0.0), (DOWN, 2), (GOOD, 1)])
    @example(
        [
            (FAILED_RESET, 0.0),
            (DOWN, 9),
            (LOAD, 1.5),
            (ZEROS, 1),
            (DOWN, 8),
            (DROP, 0.817),
            (LOAD, 11.57),
            (RESTART, 0.0),
            (SPIKE, 76744.5),
            (LOAD, 1.5),
            (OUR_RESET, 0.0),
            (GOOD, 5),
        ]
    )
    @example(
        [
            (RESTART, 0.0),
            (GOOD, 4),
            (OUR_RESET, 0.0),
            (DOWN, 3),
            (OUR_RESET, 0.0),
            (OUR_RESET, 0.0),
            (RESTART, 0.0),
            (PANEL_RESET, 0.0),
            (ZEROS, 1),
            (DOWN, 8),
        ]
    )
    def check(sequence: list[tuple[str, float]]) -> None:
        on_loop(play(bench, sequence))

    await hass.async_add_executor_job(check)

"""The energy guard alone: what it publishes for each kind of reading.

The property test at the end drives a model meter (exact kWh inside, floor to
0.1 kWh outside, as the simulator and the real meter do) through random
sequences of good readings, glitches, outages, restarts and genuine resets, and
books the published values the way Home Assistant's statistics do. What it
books must equal what the meter showed it counted: zero phantom kWh.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyacurev.energy_guard import (
    ANNOUNCE_TTL,
    CONFIRM_SECONDS,
    FALLBACK_CHANNEL_KW,
    HA_RESET_FRACTION,
    MARGIN,
    EnergyGuard,
    Reject,
    RejectLog,
    ResetNotice,
    power_limit_kw,
)

pytestmark = pytest.mark.protocol  # pure Python, no Home Assistant needed

LIMIT_KW = 24.0  # 100 A x 120 V x margin 2
ALL_ONES = (2**32 - 1) / 10  # 0xFFFF 0xFFFF as the decoder scales it


def guard(**kwargs: object) -> EnergyGuard:
    kwargs.setdefault("max_power_kw", LIMIT_KW)
    return EnergyGuard(**kwargs)  # type: ignore[arg-type]


def feed(g: EnergyGuard, readings: list[float | None], start: float = 0.0, step: float = 60.0):
    return [g.update(r, start + step * i) for i, r in enumerate(readings)]


def test_rising_values_pass_through() -> None:
    assert feed(guard(), [1.0, 1.1, 1.1, 1.3]) == [1.0, 1.1, 1.1, 1.3]


@pytest.mark.parametrize("bad", [None, -1.0, math.nan, math.inf, ALL_ONES, 0xFFFF0000 / 10])
def test_unusable_readings_keep_the_last_value(bad: float | None) -> None:
    g = guard()
    assert feed(g, [10.0, bad, 10.2]) == [10.0, 10.0, 10.2]
    assert g.rejected == (0 if bad is None else 1)


def test_three_zero_polls_and_all_ones_change_nothing() -> None:
    """The issue's case: 20639.5 -> 0.0 -> 20639.5 and 429,496,729.5 kWh."""
    g = guard()
    published = feed(g, [20639.5, 0.0, 0.0, 0.0, ALL_ONES, 20639.6])
    assert published == [20639.5] * 5 + [20639.6]
    assert g.rejected == 4


def test_constant_zeros_never_confirm_however_long() -> None:
    g = guard()
    published = feed(g, [500.0] + [0.0] * 200)
    assert set(published) == {500.0}


def test_spike_beyond_physics_is_held() -> None:
    g = guard()
    # 24 kW for 60 s is 0.4 kWh (+0.2 kWh rounding slack): 1.0 kWh more is impossible.
    assert feed(g, [100.0, 101.0, 100.3]) == [100.0, 100.0, 100.3]
    assert g.rejected == 1


def test_increase_allowed_grows_with_elapsed_time() -> None:
    g = guard()
    g.update(100.0, 0.0)
    assert g.update(124.0, 3600.0) == 124.0  # an hour at the limit is possible


def test_lower_reading_counting_up_is_a_reset_published_once() -> None:
    g = guard()
    readings = [1000.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    published = feed(g, readings)
    # Held while unconfirmed; then the reading (below 90 % of the old value) once.
    first_new = next(i for i, v in enumerate(published) if v != 1000.0)
    assert (first_new - 1) * 60 >= CONFIRM_SECONDS
    assert published[first_new] == readings[first_new]
    assert published[first_new:] == readings[first_new:]


def test_unrelated_low_readings_are_not_a_reset() -> None:
    g = guard()
    assert set(feed(g, [1000.0, 500.0, 100.0, 600.0, 50.0, 0.0, 900.0])) == {1000.0}


def test_a_true_counter_under_a_too_high_value_is_not_a_reset() -> None:
    """A spike small enough to be possible is published; the true counter below it
    counts up but starts far above what a reset could have counted: hold, never reset."""
    g = guard()
    published = feed(g, [1000.0, 1000.5] + [1000.1 + 0.01 * i for i in range(20)])
    assert min(published[1:]) == 1000.5


def test_announced_reset_is_accepted_at_once() -> None:
    notice = ResetNotice()
    g = guard(notice=notice)
    g.update(1000.0, 0.0)
    notice.announce(30.0)
    assert g.update(0.0, 31.0) == 0.0
    assert g.update(0.2, 91.0) == 0.2


def test_announcement_needs_a_plausibly_low_reading_and_is_used_once() -> None:
    notice = ResetNotice()
    g = guard(notice=notice)
    g.update(1000.0, 0.0)
    notice.announce(30.0)
    assert g.update(999.0, 31.0) == 1000.0  # cannot have counted 999 kWh in a second
    assert g.update(0.0, 32.0) == 0.0
    g.update(10.0, 3600.0)
    assert g.update(0.0, 3700.0) == 10.0  # the same announcement does not pass a glitch


def test_unconsumed_announcement_lapses() -> None:
    notice = ResetNotice()
    g = guard(notice=notice)
    g.update(0.0, 0.0)
    notice.announce(1.0)
    assert g.update(0.0, 2.0) == 0.0  # counter was at 0: nothing lower to see
    g.update(5.0, ANNOUNCE_TTL)
    assert g.update(0.0, ANNOUNCE_TTL + 10) == 5.0


def test_announcement_before_the_guard_existed_is_not_news() -> None:
    notice = ResetNotice()
    notice.announce(0.0)
    g = guard(notice=notice)
    g.update(1000.0, 10.0)
    assert g.update(0.0, 20.0) == 1000.0


def test_reset_of_a_small_counter_shows_as_zero_first() -> None:
    """Home Assistant sees a reset only below 90 %: 1.0 -> 0.9 would book -0.1."""
    g = guard()
    g.update(1.0, 0.0)
    published = feed(g, [0.0, 0.3, 0.6, 0.9, 0.9, 0.9, 1.1, 1.2], start=60.0)
    assert published == [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.1, 1.2]
    assert ha_booked([1.0, 0.0, 1.1, 1.2]) == pytest.approx(1.2)  # all since the reset


def test_restore_continues_with_the_time_of_the_value() -> None:
    g = guard()
    g.restore(50.0, 0.0)
    assert g.value == 50.0
    assert g.update(0.0, 60.0) == 50.0  # a booting meter after a power cut
    assert g.update(74.0, 3600.0) == 74.0


@pytest.mark.parametrize(
    ("restored", "at", "expected"),
    [
        (50.0, 0.0, 50.0),
        (None, 0.0, None),
        (-3.0, 0.0, None),
        (math.nan, 0.0, None),
        (5.0, None, None),
    ],
)
def test_restore(restored: float | None, at: float | None, expected: float | None) -> None:
    g = guard()
    g.restore(restored, at)
    assert g.value == expected


def test_power_limit() -> None:
    assert power_limit_kw(120, [100, 200]) == pytest.approx(300 * 120 * MARGIN / 1000)
    assert power_limit_kw(120, [100], pt_ratio=4.0) == pytest.approx(100 * 480 * MARGIN / 1000)
    assert power_limit_kw(None, [100, 100]) == 2 * FALLBACK_CHANNEL_KW
    assert power_limit_kw(120, [100, 0, 50]) == 3 * FALLBACK_CHANNEL_KW


def test_reject_log_warns_once_per_kind(caplog: pytest.LogCaptureFixture) -> None:
    log = RejectLog("SER1")
    g = guard(log=log)
    with caplog.at_level("DEBUG", logger="pyacurev.energy_guard"):
        feed(g, [100.0, 0.0, 0.0, 0.0, ALL_ONES, ALL_ONES, 100.1])
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2  # one drop, one sentinel
    assert log.counts == {Reject.DROP: 3, Reject.SENTINEL: 2}
    assert log.as_dict()["rejected_by_point"] == {"counter": 5}


# --------------------------------------------------------------------------- property

POLL = 60.0
GOOD, ZEROS, ONES, NAN, DROP, SPIKE, DOWN = "good", "zeros", "ones", "nan", "drop", "spike", "down"
RESTART, PANEL_RESET, OUR_RESET, FAILED_RESET, LOAD = (
    "restart",
    "panel_reset",
    "our_reset",
    "failed_reset",
    "load",
)

events = st.one_of(
    st.tuples(st.just(GOOD), st.integers(1, 8)),
    st.tuples(st.just(ZEROS), st.integers(1, 4)),
    st.tuples(st.just(ONES), st.integers(1, 2)),
    st.tuples(st.just(NAN), st.integers(1, 2)),
    st.tuples(st.just(DROP), st.floats(0.0, 0.999)),
    st.tuples(st.just(SPIKE), st.floats(0.0, 1e6)),
    st.tuples(st.just(DOWN), st.integers(1, 30)),
    st.tuples(st.just(RESTART), st.just(0)),
    st.tuples(st.just(PANEL_RESET), st.just(0)),
    st.tuples(st.just(OUR_RESET), st.just(0)),
    st.tuples(st.just(FAILED_RESET), st.just(0)),
    st.tuples(st.just(LOAD), st.floats(0.0, LIMIT_KW / MARGIN)),
)


# A reset of a counter that holds less than the meter counts before the reset can be
# confirmed (outage plus confirmation window, at the highest load) is indistinguishable
# from a glitch drop: the counter is back above its old value before it could be
# seen counting up from below it. At most that old value goes unbooked - never more.
SETTLE_POLLS = int(CONFIRM_SECONDS // POLL) + 2
SWALLOWABLE_KWH = LIMIT_KW / MARGIN * (30 * POLL + 2 * CONFIRM_SECONDS) / 3600


def ha_booked(published: list[float]) -> float:
    """What Home Assistant's statistics add up for a total_increasing sensor.

    A drop below 90 % of the previous state is a reset: the new state counts in full;
    any other change counts as its difference (a small drop books negative energy).
    """
    booked = 0.0
    for prev, new in itertools.pairwise(published):
        booked += new if new < HA_RESET_FRACTION * prev else new - prev
    return booked


@dataclass
class Model:
    """A meter counter, the guard in front of it and what Home Assistant saw."""

    kwh: float = 1000.0
    load_kw: float = 3.0
    now: float = 0.0
    notice: ResetNotice = field(default_factory=ResetNotice)
    guard: EnergyGuard = field(init=False)
    published: list[float] = field(default_factory=list)
    # Per segment between resets: where it started (first reading, or 0 after a
    # reset), the last good reading, and the true reading at the last poll the
    # meter answered (glitch or not).
    segments: list[list[float]] = field(default_factory=list)
    glitches_since_good: int = 0
    good_streak: int = 0  # good readings in a row (no glitch, outage or restart)
    small_resets: float = 0.0  # sum of the readings at resets of small counters

    def __post_init__(self) -> None:
        self.guard = guard(notice=self.notice)

    @property
    def reading(self) -> float:
        return math.floor(self.kwh * 10 + 1e-9) / 10

    def tick(self) -> None:
        self.now += POLL
        self.kwh += self.load_kw * POLL / 3600

    def publish(self, reading: float | None) -> None:
        if reading is not None and self.segments:
            # The meter answered: everything it counted until now could have been seen.
            self.segments[-1][2] = self.reading
        self.good_streak = 0
        value = self.guard.update(reading, self.now)
        if value is not None and (not self.published or value != self.published[-1]):
            self.published.append(value)

    def good(self) -> None:
        r, streak = self.reading, self.good_streak
        if not self.segments:
            self.segments.append([r, r, r])
        self.segments[-1][1] = r
        self.glitches_since_good = 0
        self.publish(r)
        self.good_streak = streak + 1

    def glitch(self, value: Callable[[], float]) -> None:
        """One wrong reading at the next poll (``value`` computed then)."""
        self.tick()
        # A glitch is transient: at most one wrong-but-usable value between two good
        # readings. A wrong value that keeps counting up for minutes is a meter.
        if self.glitches_since_good >= 1:
            self.good()
            self.tick()
        self.glitches_since_good += 1
        self.publish(value())

    def spike(self, extra: float) -> float:
        # Beyond physics for any time since the sequence began, above the true counter
        # and above what is published (a glitch landing just above a held value is
        # indistinguishable from counting, for any guard).
        top = max(self.reading, self.published[-1] if self.published else 0.0)
        return top + self.guard.bound(self.now) + 0.1 + extra

    def reset(self) -> None:
        # Two genuine resets closer than one confirmation cannot be told from a drop
        # glitch and the energy between them would go unbooked: the model lets the
        # meter count normally for a few minutes after a reset before the next one.
        if len(self.segments) > 1 and self.good_streak < SETTLE_POLLS:
            load, self.load_kw = self.load_kw, max(self.load_kw, 3.0)
            while self.good_streak < SETTLE_POLLS:
                self.tick()
                self.good()
            self.load_kw = load
        before = self.reading
        if before < SWALLOWABLE_KWH:
            self.small_resets += before
        self.kwh = 0.0
        self.segments.append([0.0, 0.0, 0.0])

    def run(self, kind: str, arg: float) -> None:
        if kind == GOOD:
            for _ in range(int(arg)):
                self.tick()
                self.good()
        elif kind in (ZEROS, ONES, NAN):
            value = {ZEROS: 0.0, ONES: ALL_ONES, NAN: math.nan}[kind]
            for _ in range(int(arg)):
                self.tick()
                self.publish(value)
        elif kind == DROP:
            self.glitch(lambda: math.floor(self.reading * arg * 10) / 10)
        elif kind == SPIKE:
            self.glitch(lambda: self.spike(arg))
        elif kind == DOWN:
            for _ in range(int(arg)):
                self.tick()
                self.publish(None)
        elif kind == RESTART:
            self.good_streak = 0  # a held reset's evidence is not kept across restarts
            old = self.guard
            self.notice = ResetNotice()
            self.guard = guard(notice=self.notice)
            # What the sensor stores: the published value, the reference and its time.
            self.guard.restore(old.value, old.at, old.reference)
        elif kind == PANEL_RESET:
            self.reset()
        elif kind == OUR_RESET:
            self.reset()
            self.notice.announce(self.now)
            self.good()  # the action refreshes right away
        elif kind == LOAD:
            self.load_kw = arg
        # FAILED_RESET: the command failed; nothing is announced, nothing changes.

    def settle(self) -> None:
        """Enough load and time for every held state to resolve."""
        self.load_kw = LIMIT_KW / 4
        self.run(GOOD, 8)
        self.now += 3 * 3600
        self.kwh += self.load_kw * 3
        self.run(GOOD, 3)

    @property
    def shown(self) -> float:
        """Energy the meter showed in good readings: all of it must be booked."""
        return sum(last - start for start, last, _ in self.segments)

    @property
    def counted(self) -> float:
        """Energy the meter counted until it was last asked: nothing beyond is booked."""
        return sum(contact - start for start, _, contact in self.segments)


def check(sequence: list[tuple[str, float]]) -> None:
    m = Model()
    m.good()
    for kind, arg in sequence:
        m.run(kind, arg)
    m.settle()
    # Never anything but a rise, except the one drop of each genuine reset.
    drops = sum(1 for a, b in zip(m.published, m.published[1:], strict=False) if b < a)
    assert drops <= len(m.segments) - 1
    booked = ha_booked(m.published)
    # No phantom energy, ever: never more than the meter counted until last asked.
    assert booked <= m.counted + 1e-6
    # Nothing the meter showed is missed, but a reset of a counter too small to tell.
    assert booked >= m.shown - m.small_resets - 1e-6
    # The last segment ends in good readings: with no reset at all, exactly equal.
    if len(m.segments) == 1:
        assert booked == pytest.approx(m.shown, abs=1e-6)


@settings(max_examples=3000, deadline=None)
@given(st.lists(events, max_size=40))
@example([(PANEL_RESET, 0), (DOWN, 30), (PANEL_RESET, 0)])
@example([(ZEROS, 3), (ONES, 1)])
@example([(OUR_RESET, 0), (OUR_RESET, 0)])
@example([(PANEL_RESET, 0), (GOOD, 1), (GOOD, 1), (PANEL_RESET, 0)])
@example([(OUR_RESET, 0), (OUR_RESET, 0), (GOOD, 2), (ZEROS, 1)])
@example([(OUR_RESET, 0), (ZEROS, 3), (DROP, 0.5), (OUR_RESET, 0)])
@example([(PANEL_RESET, 0), (GOOD, 1), (SPIKE, 999.0)])
@example([(DROP, 0.0), (PANEL_RESET, 0), (SPIKE, 0.0)])
@example([(PANEL_RESET, 0), (LOAD, 10.0), (GOOD, 2), (DOWN, 46), (PANEL_RESET, 0)])
@example([(DOWN, 21), (DROP, 0.999), (GOOD, 1), (PANEL_RESET, 0)])
def test_property_no_phantom_energy(sequence: list[tuple[str, float]]) -> None:
    check(sequence)

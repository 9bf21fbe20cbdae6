"""The ring tracker: new records exactly once, wraps detected, clears handled."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pyacurev.ring import RingTracker

pytestmark = pytest.mark.protocol  # pure Python


@dataclass(frozen=True)
class Rec:
    index: int
    serial_no: int  # stands for the record's content (its time, value...)


class FakeRing:
    """A 20-slot ring written like the meter writes it (independent of the tracker)."""

    def __init__(self, size: int = 20) -> None:
        self.size = size
        self.latest = 0
        self.count = 0
        self.slots = {i: Rec(i, 0) for i in range(1, size + 1)}

    def write(self, n: int = 1) -> list[int]:
        written = []
        for _ in range(n):
            self.count += 1
            self.latest = self.latest % self.size + 1
            self.slots[self.latest] = Rec(self.latest, self.count)
            written.append(self.count)
        return written

    def clear(self) -> None:
        self.latest = 0
        self.slots = {i: Rec(i, 0) for i in range(1, self.size + 1)}

    def read(self) -> tuple[int, list[Rec]]:
        return self.latest, list(self.slots.values())


def _feed(tracker: RingTracker[Rec], ring: FakeRing):
    return tracker.update(*ring.read())


def test_history_is_not_news_then_each_record_once() -> None:
    ring, tracker = FakeRing(), RingTracker[Rec]()
    ring.write(5)
    assert _feed(tracker, ring).new == ()
    written = ring.write(3)
    assert [r.serial_no for r in _feed(tracker, ring).new] == written
    assert _feed(tracker, ring).new == ()  # same pointer: nothing again


@pytest.mark.parametrize("gap", [1, 7, 19])
def test_poll_gap_without_wrap_loses_nothing(gap: int) -> None:
    ring, tracker = FakeRing(), RingTracker[Rec]()
    ring.write(15)
    _feed(tracker, ring)
    written = ring.write(gap)  # crosses slot 20 -> 1 for gap >= 6
    update = _feed(tracker, ring)
    assert [r.serial_no for r in update.new] == written
    assert not update.lost


@pytest.mark.parametrize("gap", [20, 23, 45])
def test_wrap_is_reported_and_the_surviving_records_delivered(gap: int) -> None:
    ring, tracker = FakeRing(), RingTracker[Rec]()
    ring.write(4)
    _feed(tracker, ring)
    written = ring.write(gap)
    update = _feed(tracker, ring)
    assert update.lost
    assert [r.serial_no for r in update.new] == written[-20:]


def test_restart_resumes_from_persisted_state() -> None:
    ring, tracker = FakeRing(), RingTracker[Rec]()
    ring.write(3)
    _feed(tracker, ring)
    ring.write(2)
    _feed(tracker, ring)
    resumed = RingTracker[Rec](state=tracker.state)
    assert _feed(resumed, ring).new == ()  # no replay after a restart
    written = ring.write(4)
    assert [r.serial_no for r in _feed(resumed, ring).new] == written


def test_clear_then_new_records() -> None:
    ring, tracker = FakeRing(), RingTracker[Rec]()
    ring.write(6)
    _feed(tracker, ring)
    ring.clear()
    assert _feed(tracker, ring).cleared
    written = ring.write(2)
    update = _feed(tracker, ring)
    assert [r.serial_no for r in update.new] == written
    assert not update.lost


def test_pointer_back_on_the_same_slot_is_caught_by_a_full_read() -> None:
    ring, tracker = FakeRing(), RingTracker[Rec]()
    ring.write(3)
    _feed(tracker, ring)
    ring.write(20)  # exactly one lap: the pointer looks unchanged
    assert not tracker.needs_records(ring.latest)
    update = _feed(tracker, ring)  # the periodic full read
    assert update.lost
    assert len(update.new) == 20


def test_empty_ring_is_not_read_again() -> None:
    ring, tracker = FakeRing(), RingTracker[Rec]()
    assert tracker.needs_records(0)
    _feed(tracker, ring)
    assert not tracker.needs_records(0)

"""Keeps an energy counter monotonic so the Energy dashboard never books phantom energy.

Home Assistant's statistics treat a drop of a ``total_increasing`` sensor as a
meter reset and add the next value in full; a jump up is booked as consumption.
One wrong reading therefore books the whole lifetime energy again (a drop) or
hundreds of millions of kWh (an all-ones "no data" word). Real meters read 0
for several polls while booting, a wrong address or a 0xFFFF word gives huge
values, so the guard publishes only what the meter can physically have counted:

* a reading is *plausible* when it is not below the last believed reading and
  rose by no more than the meter can measure in the time since it (or since the
  believed reading before it, in case that one was a low glitch that happened to
  fit): ``power_limit_kw`` x hours, plus two counts for the meter's floor
  rounding. Plausible readings are published at once;
* NaN, infinity, negatives and readings whose high word is all ones are
  *sentinels*: never published, never evidence of anything;
* anything else (a drop, a spike) is held back: the published value stays. A
  lower reading is taken as a reset at once only when the reset was announced
  (``ResetNotice``: our energy-clear command succeeded) and the reading is no
  more than the meter can have counted since the announcement (the first such
  reading uses up the announcement; it lapses after ``ANNOUNCE_TTL``). Otherwise a new
  level - lower or higher - is believed only when the meter is seen counting up
  from it: at least ``CONFIRM_RISES`` rises over ``CONFIRM_SECONDS``, each step
  plausible, none going down. Constant zeros never confirm. A lower level is a
  reset only if it starts no higher than the meter can have counted since the
  last believed reading (a reset restarts from 0); otherwise it is the true
  counter under a value published too high, and the guard holds until it passes.
* a reset (announced or confirmed) publishes the reading, which Home Assistant
  books in full. Its statistics see a reset only in a drop below 90 % of the old
  value, so when the reading is not that low (the old value was small) 0 - the
  level every reset restarts from - is published instead for one reading; readings
  are judged against what the meter showed (``reference``), not against the 0.
  A second reset before the next reading first publishes what the meter showed
  after the first, so nothing it counted goes unbooked. A confirmed jump up is
  published as the run's latest reading (booked: the meter says so).

Time is whatever the caller passes as ``now`` (seconds, e.g. a UTC timestamp):
the guard holds no clock of its own, so tests drive it exactly.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

_LOGGER = logging.getLogger(__name__)

# The meter counts 0.1 kWh (kvarh, kVAh): every real-time and monthly bank.
RESOLUTION = 0.1
# A counter whose high word is all ones is a "no data" word, not 429 million kWh.
SENTINEL_COUNTS = 0xFFFF << 16
# Over-range of the CTs plus the unknown (line-to-line or line-to-neutral) meaning
# of the rated voltage: both stay well below a factor of two.
MARGIN = 2.0
# When CT primaries or the rated voltage are unknown: 5000 A at 400 V per channel,
# more than any AcuRev 2020 channel measures, still far below one all-ones word.
FALLBACK_CHANNEL_KW = 2000.0
# A new level (after a drop or a physically impossible jump) is believed only after
# the meter was seen counting up from it this often, over at least this long.
CONFIRM_RISES = 2
CONFIRM_SECONDS = 300.0
# An announced reset is consumed by the first reading low enough to follow it; one
# that never comes (only stale higher readings) lapses, so a later glitch is not
# taken for it.
ANNOUNCE_TTL = 3600.0
# Home Assistant's statistics take a total_increasing sensor as reset only when it
# drops below this fraction of its previous value; a smaller drop books negative energy.
HA_RESET_FRACTION = 0.9


class Reject(StrEnum):
    """Why a reading was not published."""

    SENTINEL = "sentinel"  # NaN, infinity, negative, all-ones high word
    DROP = "drop"  # below the published value, not (yet) a confirmed reset
    SPIKE = "spike"  # more than the meter can measure in the elapsed time


def power_limit_kw(
    rated_voltage: float | None,
    ct_primaries: Iterable[float | None],
    pt_ratio: float = 1.0,
) -> float:
    """Most power the channels can carry: CT primaries x rated voltage x margin.

    One unknown or zero primary (or an unknown voltage) makes the whole bound the
    conservative fixed one, since a wrong bound would reject real energy.
    """
    primaries = list(ct_primaries)
    if (
        not rated_voltage
        or rated_voltage <= 0
        or not primaries
        or any(not p or p <= 0 for p in primaries)
        or pt_ratio <= 0
    ):
        return FALLBACK_CHANNEL_KW * max(1, len(primaries))
    amps = sum(p for p in primaries if p)
    return amps * rated_voltage * pt_ratio * MARGIN / 1000.0


class ResetNotice:
    """The meter confirmed an energy-clear command: state every guard of it reads.

    Owned by the meter's runtime data. Each guard remembers the generation it has
    seen, so an announcement reaches every guard once, whenever it next reads,
    and a guard created later does not take an old announcement for a new one.
    """

    def __init__(self) -> None:
        """Nothing announced yet."""
        self.generation = 0
        self.at: float | None = None

    def announce(self, now: float) -> None:
        """Call only after the meter acknowledged the command."""
        self.generation += 1
        self.at = now


@dataclass(slots=True)
class RejectLog:
    """Counts a meter's rejected readings and logs the first of each kind once.

    One per meter, shared by its guards: a bank of zeros touches every counter of
    the meter at once and must not become a hundred log lines.
    """

    meter: str
    counts: Counter[str] = field(default_factory=Counter)
    by_point: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)

    def rejected(self, name: str, why: Reject, reading: float, published: float | None) -> None:
        """One reading was held back."""
        first = self.counts[why] == 0
        self.counts[why] += 1
        self.by_point[name] += 1
        # The first of each kind is worth a warning; repeats are in diagnostics.
        level = logging.WARNING if first else logging.DEBUG
        _LOGGER.log(
            level,
            "Meter %r: held back a %s reading of %s (%r), keeping %r; further ones "
            "are counted in the diagnostics",
            self.meter,
            why.value,
            name,
            reading,
            published,
        )

    def believed(self, name: str, what: str, old: float | None, new: float) -> None:
        """A new level was accepted (announced or confirmed reset, confirmed jump)."""
        self.accepted[what] += 1
        # Debug: a reset moves every counter of the meter at once.
        _LOGGER.debug("Meter %s: %s of %s: %r -> %r", self.meter, what, name, old, new)

    def as_dict(self) -> dict[str, object]:
        """For diagnostics."""
        return {
            "rejected": dict(self.counts),
            "rejected_by_point": dict(self.by_point),
            "accepted_new_levels": dict(self.accepted),
        }


@dataclass(slots=True)
class _Run:
    """Readings outside the rules that might be a counter counting up from a new level."""

    base: float
    base_at: float
    last: float
    last_at: float
    rises: int = 0


class EnergyGuard:
    """Monotonic, physically plausible filter for one cumulative counter."""

    def __init__(
        self,
        name: str = "counter",
        *,
        max_power_kw: float = FALLBACK_CHANNEL_KW,
        resolution: float = RESOLUTION,
        notice: ResetNotice | None = None,
        log: RejectLog | None = None,
    ) -> None:
        """Start with no value (unknown until the first reading)."""
        self.name = name
        self.max_power_kw = max_power_kw
        self.resolution = resolution
        self.notice = notice
        self.log = log
        self.value: float | None = None  # what is published
        # The last reading believed and when: the base of the physics bound. It
        # equals ``value`` except for the one reading after a reset (published 0).
        self.reference: float | None = None
        self.at: float | None = None
        self.rejected = 0
        self._run: _Run | None = None
        self._previous: tuple[float, float] | None = None  # the believed reading before
        self._reset_due: float | None = None  # published before a reset still to show
        # An announcement made before this guard existed is not news to it.
        self._seen = notice.generation if notice is not None else 0

    @property
    def sentinel_floor(self) -> float:
        """Readings at or above this are "no data" words."""
        return SENTINEL_COUNTS * self.resolution

    def bound(self, seconds: float) -> float:
        """Most the meter can count in ``seconds`` (two counts of rounding slack)."""
        return self.max_power_kw * max(seconds, 0.0) / 3600.0 + 2 * self.resolution

    def restore(
        self, value: float | None, at: float | None, reference: float | None = None
    ) -> None:
        """Continue after a restart from the published value, the time of the last
        believed reading (``at``) and that reading (``reference``, when it differed)."""
        if not self._usable(value) or at is None:
            return
        assert value is not None
        self.value = value
        self.reference = reference if self._usable(reference) else value
        self.at = at

    def _usable(self, value: float | None) -> bool:
        return value is not None and math.isfinite(value) and 0 <= value < self.sentinel_floor

    def update(self, reading: float | None, now: float) -> float | None:
        """Feed one reading taken at ``now``; return the value to publish."""
        if reading is None:
            return self.value  # not read at all: nothing to judge
        if not math.isfinite(reading) or reading < 0 or reading >= self.sentinel_floor:
            self._reject(Reject.SENTINEL, reading)
            return self.value
        if self._reset_due is not None:
            # Whatever this reading is, the reset found last time shows now.
            published, self._reset_due = self._reset_due, None
            if self._plausible(self.reference or 0.0, self.at or now, reading, now):
                self._accept(reading, now)
            self.value = self._reset_value(published, self.reference or 0.0)
        elif self.reference is None or self.at is None:
            self._accept(reading, now)
        elif self._announced_reset(self.reference, reading, now):
            pass
        elif self._plausible(self.reference, self.at, reading, now) or (
            # The last believed reading may itself have been a low glitch that
            # happened to fit; then the one before it still bounds the truth.
            self._previous is not None
            and reading >= self.reference
            and self._plausible(*self._previous, reading, now)
        ):
            self._accept(reading, now)
        else:
            self._follow_run(self.reference, reading, now)
        return self.value

    def _plausible(self, old: float, old_at: float, reading: float, now: float) -> bool:
        return old <= reading <= old + self.bound(now - old_at)

    def _announced_reset(self, reference: float, reading: float, now: float) -> bool:
        notice = self.notice
        if notice is None or notice.generation == self._seen or notice.at is None:
            return False
        if now - notice.at > ANNOUNCE_TTL:
            self._seen = notice.generation  # lapsed: the counter never went lower
            return False
        # Since the clear the counter can hold no more than it counted since; a
        # higher reading was taken before the clear and leaves the notice pending.
        if reading > self.bound(now - notice.at):
            return False
        self._seen = notice.generation
        if reading < reference:
            self._reset(reading, now, "announced reset")
            return True
        return False  # the counter was at 0 already: nothing to show

    def _follow_run(self, reference: float, reading: float, now: float) -> None:
        why = Reject.DROP if reading < reference else Reject.SPIKE
        run = self._run
        if run is not None and self._plausible(run.last, run.last_at, reading, now):
            if reading > run.last:
                run.rises += 1
            run.last, run.last_at = reading, now
            if run.rises >= CONFIRM_RISES and now - run.base_at >= CONFIRM_SECONDS:
                if run.base < reference:
                    assert self.at is not None
                    # A reset restarts from 0 after the last believed reading, so the
                    # run cannot start higher than what was countable since; a run
                    # that does is the true counter below a value published too
                    # high (a plausible-sized spike): keep holding until it passes.
                    if run.base <= self.bound(run.base_at - self.at):
                        self._reset(reading, now, "confirmed reset")
                        return
                else:
                    old = self.value
                    self._accept(reading, now)
                    if self.log is not None:
                        self.log.believed(self.name, "confirmed jump", old, reading)
                    return
        else:
            self._run = _Run(reading, now, reading, now)
        self._reject(why, reading)

    def _reset(self, reading: float, now: float, what: str) -> None:
        old, unbooked = self.value, self.reference
        self._accept(reading, now)
        self._previous = None  # the counter restarted: nothing before bounds it
        if old is not None and unbooked is not None and unbooked > old:
            # Still showing the previous reset's 0: Home Assistant has not seen what
            # the meter counted after it. Publish that first; this reset shows next.
            self.value = unbooked
            self._reset_due = unbooked
        else:
            self.value = self._reset_value(old, reading)
        if self.log is not None:
            self.log.believed(self.name, what, old, reading)

    @staticmethod
    def _reset_value(published: float | None, reading: float) -> float:
        """What shows a reset: Home Assistant takes only a drop below 90 % for one."""
        if published is None or reading < HA_RESET_FRACTION * published:
            return reading
        return 0.0

    def _reject(self, why: Reject, reading: float) -> None:
        self.rejected += 1
        if self.log is not None:
            self.log.rejected(self.name, why, reading, self.value)

    def _accept(self, reading: float, now: float) -> None:
        if self.reference is not None and self.at is not None:
            self._previous = (self.reference, self.at)
        self.value = self.reference = reading
        self.at = now
        self._run = None

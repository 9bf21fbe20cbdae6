"""Keeps an energy counter monotonic so the Energy dashboard never books phantom energy.

Home Assistant's statistics treat a drop of a ``total_increasing`` sensor as a
meter reset and add the next value in full; a jump up is booked as consumption.
One wrong reading therefore books the whole lifetime energy again (a drop) or
hundreds of millions of kWh (an all-ones "no data" word). Real meters read 0
for several polls while booting, a wrong address or a 0xFFFF word gives huge
values, so the guard publishes only what the meter can physically have counted:

* a reading is *plausible* when it is not below the published value and rose by
  no more than the meter can measure in the time since the last accepted reading
  (``power_limit_kw`` x hours, plus two counts for the meter's floor rounding);
  plausible readings are published at once;
* NaN, infinity, negatives and readings whose high word is all ones are
  *sentinels*: never published, never evidence of anything;
* anything else (a drop, a spike) is held back: the published value stays. A
  lower reading is taken as a reset at once only when the reset was announced
  (``ResetNotice``: our energy-clear command succeeded) and the reading is no
  more than the meter can have counted since the announcement. Otherwise a new
  level - lower or higher - is believed only when the meter is seen counting up
  from it: at least ``CONFIRM_RISES`` rises over ``CONFIRM_SECONDS``, each step
  plausible, none going down. Constant zeros never confirm.
* a confirmed reset publishes the level the counter restarted from first (the
  run's lowest reading), so Home Assistant sees exactly one drop, detects the
  reset and books everything counted since; the next reading continues from it.

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
# An announced reset is consumed by the first lower reading; unconsumed (the counter
# was already at zero) it lapses, so a later glitch is not taken for it.
ANNOUNCE_TTL = 3600.0


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
            "Meter %s: %s reading %r of %s held back (%s); keeping %r. "
            "Further rejects are counted in diagnostics",
            self.meter,
            why.value,
            reading,
            name,
            why.value,
            published,
        )

    def believed(self, name: str, what: str, old: float | None, new: float) -> None:
        """A new level was accepted (announced or confirmed reset, confirmed jump)."""
        self.accepted[what] += 1
        _LOGGER.info("Meter %s: %s of %s: %r -> %r", self.meter, what, name, old, new)

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
        self.value: float | None = None
        self.at: float | None = None  # when ``value`` was last confirmed by a reading
        self.rejected = 0
        self._run: _Run | None = None
        # An announcement made before this guard existed is not news to it.
        self._seen = notice.generation if notice is not None else 0

    @property
    def sentinel_floor(self) -> float:
        """Readings at or above this are "no data" words."""
        return SENTINEL_COUNTS * self.resolution

    def bound(self, seconds: float) -> float:
        """Most the meter can count in ``seconds`` (two counts of rounding slack)."""
        return self.max_power_kw * max(seconds, 0.0) / 3600.0 + 2 * self.resolution

    def restore(self, value: float | None, at: float | None) -> None:
        """Continue from the value published before a restart (``at``: when it was)."""
        if (
            value is not None
            and math.isfinite(value)
            and 0 <= value < self.sentinel_floor
            and at is not None
        ):
            self.value, self.at = value, at

    def update(self, reading: float | None, now: float) -> float | None:
        """Feed one reading taken at ``now``; return the value to publish."""
        if reading is None:
            return self.value  # not read at all: nothing to judge
        if not math.isfinite(reading) or reading < 0 or reading >= self.sentinel_floor:
            self._reject(Reject.SENTINEL, reading)
            return self.value
        if self.value is None or self.at is None:
            self._accept(reading, now)
            return self.value
        if self._announced_reset(reading, now):
            return self.value
        if self._plausible(self.value, self.at, reading, now):
            self._accept(reading, now)
            return self.value
        self._follow_run(reading, now)
        return self.value

    def _plausible(self, old: float, old_at: float, reading: float, now: float) -> bool:
        return old <= reading <= old + self.bound(now - old_at)

    def _announced_reset(self, reading: float, now: float) -> bool:
        notice = self.notice
        if notice is None or notice.generation == self._seen or notice.at is None:
            return False
        if now - notice.at > ANNOUNCE_TTL:
            self._seen = notice.generation  # lapsed: the counter never went lower
            return False
        assert self.value is not None
        # Since the clear the counter can hold no more than it counted since.
        if reading < self.value and reading <= self.bound(now - notice.at):
            self._seen = notice.generation
            old = self.value
            self._accept(reading, now)
            if self.log is not None:
                self.log.believed(self.name, "announced reset", old, reading)
            return True
        return False

    def _follow_run(self, reading: float, now: float) -> None:
        assert self.value is not None
        why = Reject.DROP if reading < self.value else Reject.SPIKE
        run = self._run
        if run is not None and self._plausible(run.last, run.last_at, reading, now):
            if reading > run.last:
                run.rises += 1
            run.last, run.last_at = reading, now
            if run.rises >= CONFIRM_RISES and now - run.base_at >= CONFIRM_SECONDS:
                old = self.value
                # Publish the level the counter restarted from: Home Assistant then
                # sees one drop (a reset) and books everything counted since.
                self._accept(run.base, run.base_at)
                if self.log is not None:
                    what = "confirmed reset" if run.base < old else "confirmed jump"
                    self.log.believed(self.name, what, old, run.base)
                return
        else:
            self._run = _Run(reading, now, reading, now)
        self._reject(why, reading)

    def _reject(self, why: Reject, reading: float) -> None:
        self.rejected += 1
        if self.log is not None:
            self.log.rejected(self.name, why, reading, self.value)

    def _accept(self, reading: float, now: float) -> None:
        self.value, self.at = reading, now
        self._run = None


"""Demand: sliding-window averages of I, P, Q and S per bank entry, with peaks.

Method codes (register 0x080A, vendor codes 1 rolling / 2 fixed; 0 and 3 follow
the manual's list of four methods; the sub-interval is how often the window moves):

* 0 sliding: window = demand interval, moves every minute;
* 1 rolling: window = demand interval, moves every sub-interval;
* 2 fixed: window = sub-interval = demand interval (block demand);
* 3 thermal: not modelled; behaves like sliding.

The window always spans the whole period: after a clear or a restart the
sub-intervals before it count as zero, so demand climbs over the first window
as on a freshly cleared meter. ``predicted`` is the value the window will show
at the end of the running sub-interval if the power keeps its average so far.
A peak takes the present value and the time whenever the present value exceeds
it (peaks start at 0 with no time, so a purely exporting entry has no P peak).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

QUANTITIES = 4  # current, active, reactive, apparent
US_PER_MINUTE = 60_000_000
SLIDING, ROLLING, FIXED, THERMAL = 0, 1, 2, 3

PEAK_EPSILON = 1e-9

type Values = tuple[float, float, float, float]
ZERO: Values = (0.0, 0.0, 0.0, 0.0)


class DemandTracker:
    """Demand of every entry of the bank layout."""

    def __init__(self, entries: int) -> None:
        """All zero, sliding 15-minute window."""
        self._entries = entries
        self.present: list[list[float]] = []
        self.peak: list[list[float]] = []
        self.peak_time: list[list[datetime | None]] = []
        self.window_minutes = 15
        self.sub_us = US_PER_MINUTE
        self.slots = 15
        self._window: list[deque[Values]] = []
        self._acc: list[list[float]] = []
        self._last: list[Values] = []
        self._elapsed_us = 0
        self._streak = 0
        self._streak_values: list[Values] = []
        self.clear()

    def configure(self, method: int, period_min: int, subperiod_min: int) -> None:
        """Apply the demand settings; a change restarts the window (peaks are kept)."""
        period = max(1, period_min)
        if method == FIXED:
            sub = period
        elif method == ROLLING:
            sub = max(1, min(subperiod_min, period))
        else:
            sub = 1
        slots = max(1, period // sub)
        if (period, sub * US_PER_MINUTE, slots) != (self.window_minutes, self.sub_us, self.slots):
            self.window_minutes, self.sub_us, self.slots = period, sub * US_PER_MINUTE, slots
            self.restart()

    def clear(self) -> None:
        """The clear_demand command: present values, peaks and their times to zero."""
        self.restart()
        self.present = [[0.0] * QUANTITIES for _ in range(self._entries)]
        self.peak = [[0.0] * QUANTITIES for _ in range(self._entries)]
        self.peak_time = [[None] * QUANTITIES for _ in range(self._entries)]

    def restart(self) -> None:
        """Empty the window and start a new sub-interval (present values stay until it ends)."""
        self._window = [deque(maxlen=self.slots) for _ in range(self._entries)]
        self._acc = [[0.0] * QUANTITIES for _ in range(self._entries)]
        self._last = [ZERO] * self._entries
        self._elapsed_us = 0
        self._streak = 0

    def sync(self) -> None:
        """Start a new sub-interval now (demand sync command or DI); the window history stays."""
        self._acc = [[0.0] * QUANTITIES for _ in range(self._entries)]
        self._elapsed_us = 0
        self._streak = 0

    def prefill(self, values: list[Values], at: datetime) -> None:
        """A meter that has been running at ``values`` for a whole window, ending at ``at``."""
        for entry, vals in enumerate(values):
            self._window[entry].extend([vals] * self.slots)
            self.present[entry] = list(vals)
            self._last[entry] = vals
            self._update_peaks(entry, at)

    def time_to_boundary_us(self) -> int:
        """Microseconds until the running sub-interval ends."""
        return self.sub_us - self._elapsed_us

    def run(self, values: list[Values], dt_us: int, start: datetime) -> None:
        """Integrate ``dt_us`` of constant ``values`` starting at clock ``start``."""
        if values != self._streak_values:
            self._streak_values = list(values)
            self._streak = 0
        self._last = list(values)
        done = 0
        while done < dt_us:
            if self._streak > self.slots:
                # Window and running sub-interval hold nothing but ``values``: further
                # boundaries change no present value and no peak; keep only the phase.
                self._elapsed_us = (self._elapsed_us + dt_us - done) % self.sub_us
                self._acc = [[v * self._elapsed_us for v in vals] for vals in values]
                return
            step = min(self.sub_us - self._elapsed_us, dt_us - done)
            for acc, vals in zip(self._acc, values, strict=True):
                for q in range(QUANTITIES):
                    acc[q] += vals[q] * step
            self._elapsed_us += step
            done += step
            if self._elapsed_us >= self.sub_us:
                self._boundary(start + timedelta(microseconds=done))
                self._streak += 1

    def _boundary(self, at: datetime) -> None:
        for entry in range(self._entries):
            avg = tuple(a / self.sub_us for a in self._acc[entry])
            window = self._window[entry]
            window.append((avg[0], avg[1], avg[2], avg[3]))
            present = self.present[entry]
            for q in range(QUANTITIES):
                present[q] = sum(v[q] for v in window) / self.slots
            self._update_peaks(entry, at)
        self._acc = [[0.0] * QUANTITIES for _ in range(self._entries)]
        self._elapsed_us = 0

    def _update_peaks(self, entry: int, at: datetime) -> None:
        for q in range(QUANTITIES):
            # A tolerance, so float noise of an unchanged average does not move a peak's time.
            if self.present[entry][q] > self.peak[entry][q] + PEAK_EPSILON * max(
                1.0, self.peak[entry][q]
            ):
                self.peak[entry][q] = self.present[entry][q]
                self.peak_time[entry][q] = at

    def predicted_active(self, entry: int) -> float:
        """Active-power demand expected at the end of the running sub-interval."""
        return self.predicted(entry, 1)

    def predicted(self, entry: int, quantity: int) -> float:
        """Demand of quantity 0..3 (I, P, Q, S) expected at the end of the running sub-interval."""
        window = list(self._window[entry])
        kept = window[len(window) - self.slots + 1 :] if len(window) >= self.slots else window
        if self._elapsed_us:
            running = self._acc[entry][quantity] / self._elapsed_us
        else:
            running = self._last[entry][quantity]
        return (sum(v[quantity] for v in kept) + running) / self.slots

"""Keeps an energy counter monotonic so the Energy dashboard never spikes.

Home Assistant's statistics treat a drop of a ``total_increasing`` sensor as a
meter reset and add the next value in full. One wrong low reading therefore
books the whole lifetime energy again. The guard publishes the highest value
seen and accepts a lower one only when it is a real reset: announced (the
integration sent the energy-clear command) or confirmed by a second reading
that is again below the old value and not below the first low one (a counter
that restarted from zero and is counting up).
"""

from __future__ import annotations

import math


class EnergyGuard:
    """Monotonic filter for one cumulative counter."""

    def __init__(self) -> None:
        """Start with no value (unknown until the first reading)."""
        self.value: float | None = None
        self._pending: float | None = None
        self._reset_expected = False
        self.ignored = 0

    def restore(self, value: float | None) -> None:
        """Continue from the value published before a restart."""
        if value is not None and math.isfinite(value) and value >= 0:
            self.value = value

    def expect_reset(self) -> None:
        """The next lower reading is genuine: the meter was told to clear its energy."""
        self._reset_expected = True

    def update(self, reading: float | None) -> float | None:
        """Feed one reading; return the value to publish."""
        if reading is None or not math.isfinite(reading) or reading < 0:
            return self.value
        rising = self.value is None or reading >= self.value
        # A second low reading not below the first: a counter counting up from a reset.
        confirmed = self._pending is not None and reading >= self._pending
        if rising or self._reset_expected or confirmed:
            self._accept(reading)
        else:
            # A single low sample: remember it, publish the old value.
            self._pending = reading
            self.ignored += 1
        return self.value

    def _accept(self, reading: float) -> None:
        self.value = reading
        self._pending = None
        self._reset_expected = False

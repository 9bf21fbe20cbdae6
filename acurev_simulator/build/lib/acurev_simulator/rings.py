"""The 20-record rings of the alarm and SOE logs."""

from __future__ import annotations

from collections.abc import Callable

from pyacurev.registers import LOG_RING_SIZE


class Ring[T]:
    """Slots 1..20; ``latest`` is the slot written last (0: none yet), advancing 1 -> 20 -> 1."""

    def __init__(self, size: int = LOG_RING_SIZE) -> None:
        """An empty ring."""
        self.size = size
        self.slots: list[T | None] = [None] * size
        self.latest = 0

    def push(self, make: Callable[[int], T]) -> T:
        """Write the next slot with ``make(slot)`` and return the record."""
        self.latest = self.latest % self.size + 1
        record = make(self.latest)
        self.slots[self.latest - 1] = record
        return record

    def clear(self) -> None:
        """Empty every slot; the next record goes to slot 1."""
        self.slots = [None] * self.size
        self.latest = 0

    def chronological(self) -> list[T]:
        """Records oldest first."""
        order = self.slots[self.latest :] + self.slots[: self.latest]
        return [r for r in order if r is not None]

"""Exactly-once reading of the meter's 20-record alarm and SOE rings.

The meter keeps the newest 20 records and a pointer to the newest slot. Each
poll reads the pointer; when it moved, the ring is read and the records after
the last one we processed are new. We remember the slot we processed last and a
fingerprint of its content (persisted across Home Assistant restarts): if that
slot still holds the same record, everything between it and the pointer is new
and nothing was lost; if it was overwritten, the ring went round at least once
while we were not looking — all 20 records are new to us, and older ones are
gone for good (the caller warns and raises a repair issue).

Nothing here imports Home Assistant; the records are the protocol's dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Any, Protocol


class RingRecord(Protocol):
    """What the tracker needs of a record: its slot, 1..size."""

    @property
    def index(self) -> int:
        """Ring slot, 1-based."""
        ...


@dataclass(frozen=True, slots=True)
class RingUpdate[R]:
    """Result of one poll of a ring."""

    new: tuple[R, ...] = ()
    lost: bool = False  # the ring wrapped before we read it: older records are gone
    cleared: bool = False  # the ring was emptied (clear-records command)


def fingerprint(record: object) -> list[Any]:
    """A JSON-able identity of a record: all its fields (the time makes it unique)."""
    return [str(v) for v in astuple(record)]  # type: ignore[call-overload]


class RingTracker[R: RingRecord]:
    """Turns successive reads of one ring into new records, each exactly once."""

    def __init__(self, size: int = 20, state: dict[str, Any] | None = None) -> None:
        """Resume from ``state`` (as returned by ``state``) or start fresh."""
        self.size = size
        self.latest: int | None = None
        self.last_fp: list[Any] | None = None
        if state:
            self.latest = int(state["latest"])
            self.last_fp = state.get("fingerprint")

    @property
    def state(self) -> dict[str, Any]:
        """What to persist so a restart neither replays nor misses a record."""
        return {"latest": self.latest, "fingerprint": self.last_fp}

    def needs_records(self, latest: int) -> bool:
        """Whether the ring itself must be read for this pointer value.

        An unchanged pointer means nothing new, except after exactly 20 (40, ...)
        records, which bring the pointer back to the same slot; the caller reads
        the ring now and then anyway to catch that (``RingTracker.update`` then
        sees the overwritten slot).
        """
        return self.latest is None or latest != self.latest

    def update(self, latest: int, records: Sequence[R]) -> RingUpdate[R]:
        """Feed the pointer (0 = empty) and the ring (slots 1..size, any order)."""
        by_slot = {r.index: r for r in records}
        if latest == 0:
            cleared = bool(self.latest)
            self._remember(0, None)
            return RingUpdate(cleared=cleared)
        newest = by_slot[latest]
        if self.latest is None:
            # First contact with this meter: its history is not news.
            self._remember(latest, newest)
            return RingUpdate()
        if self.latest == 0:
            # After a clear the meter refills from slot 1; slots past the pointer are
            # only non-empty if it went round since.
            start, wrapped = (
                1,
                any(
                    fingerprint(by_slot[s]) != self._empty_fp(by_slot[s])
                    for s in range(latest + 1, self.size + 1)
                    if s in by_slot
                ),
            )
        else:
            start = self.latest % self.size + 1
            wrapped = fingerprint(by_slot[self.latest]) != self.last_fp
        if wrapped:
            order = [(latest + k) % self.size + 1 for k in range(self.size)]
        else:
            count = (latest - start) % self.size + 1 if latest != self.latest else 0
            order = [(start - 1 + k) % self.size + 1 for k in range(count)]
        self._remember(latest, newest)
        return RingUpdate(new=tuple(by_slot[s] for s in order), lost=wrapped)

    def _remember(self, latest: int, record: R | None) -> None:
        self.latest = latest
        self.last_fp = None if record is None else fingerprint(record)

    @staticmethod
    def _empty_fp(record: object) -> list[Any]:
        """Fingerprint the same record would have if its slot had never been written."""
        fields = astuple(record)  # type: ignore[call-overload]
        return [
            str(fields[0]),
            *(str(type(v)(0)) if isinstance(v, (int, float, bool)) else "None" for v in fields[1:]),
        ]

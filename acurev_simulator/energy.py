"""Energy banks: exact float kWh inside, floor(kWh x 10) uint32 counts outside.

Each of the 28 entries of a bank (phases, system, channels, users; see
``registers.py``) is its own accumulator: a phase, system or user entry adds
the sum of its member channels' increments, so the totals equal the sums of
the channels (section 6.3), and a preset of one entry over FC16 sticks.

* import/export active: P x dt into import when P >= 0, -P x dt into export otherwise;
* import/export reactive: the same by the sign of Q;
* apparent: S x dt;
* this-month banks follow import kWh, import kvarh and kVAh; at the billing
  instant they are copied to the last-month banks and zeroed;
* TOU banks: import kWh into the tariff the programme selects, only while
  ``tou_enable`` = 1; they roll over with the monthly banks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pyacurev.groups import ENERGY_BANK_ROWS
from pyacurev.models import ENERGY_BANKS
from pyacurev.profiles import MAX_USER_COUNT
from pyacurev.registers import BANK_ENTRIES, USER_COUNT, block

from .physics import Power
from .tou import TARIFF_NAMES

UINT32_SPAN = 1 << 32
# The simulator keeps the 28 map entries plus one per AcuRev 2100 user 7-9 (entries 28-30),
# which the 2100's map appends outside the 28-entry banks; on a 2020 they stay at zero.
FIRST_EXTRA_USER_ENTRY = BANK_ENTRIES
ENTRIES = BANK_ENTRIES + MAX_USER_COUNT - USER_COUNT

# models.ENERGY_BANKS name -> the register block key of its first row.
REALTIME_BANK_KEYS: dict[str, str] = {name: rows[0] for name, rows in ENERGY_BANK_ROWS.items()}
if tuple(REALTIME_BANK_KEYS) != ENERGY_BANKS:  # pragma: no cover - the map changed
    raise RuntimeError("models.ENERGY_BANKS and the bank keys disagree")
# Register block key of every bank row -> (bank name, index of its first entry).
BANK_ROW_ENTRIES: dict[str, tuple[str, int]] = {
    key: (name, (block(key).address - block(rows[0]).address) // 2)
    for name, rows in ENERGY_BANK_ROWS.items()
    for key in rows
}
# Monthly bank -> the real-time bank it follows.
MONTHLY_SOURCES: dict[str, str] = {
    "import_kwh": "import_active",
    "import_kvarh": "import_reactive",
    "kvah": "apparent",
}
MONTHLY_BANKS: tuple[str, ...] = tuple(
    f"{when}_month_{kind}" for kind in MONTHLY_SOURCES for when in ("this", "last")
)
TOU_BANKS: tuple[str, ...] = tuple(
    f"tou_{when}_month_{name}_import_kwh"
    for when in ("this", "last")
    for name in TARIFF_NAMES.values()
)
ALL_BANKS: tuple[str, ...] = ENERGY_BANKS + MONTHLY_BANKS + TOU_BANKS


def bank_block_key(bank: str) -> str:
    """Register block key of a bank name."""
    return REALTIME_BANK_KEYS.get(bank, f"{bank}_bank")


def to_counts(kwh: float) -> int:
    """floor(kWh x 10) as the uint32 the meter exposes (wraps like the meter's counter)."""
    return math.floor(kwh * 10 + 1e-9) % UINT32_SPAN


def increments(power: Power, hours: float) -> dict[str, float]:
    """Energy of one channel over ``hours`` at constant ``power``, per real-time bank."""
    p, q = power.active * hours, power.reactive * hours
    return {
        "import_active": max(p, 0.0),
        "export_active": max(-p, 0.0),
        "import_reactive": max(q, 0.0),
        "export_reactive": max(-q, 0.0),
        "apparent": power.apparent * hours,
    }


class EnergyStore:
    """All energy banks of one meter."""

    def __init__(self) -> None:
        """Every bank at zero."""
        self._kwh: dict[str, list[float]] = {b: [0.0] * ENTRIES for b in ALL_BANKS}

    def kwh(self, bank: str, entry: int) -> float:
        """Exact value of one entry (KeyError for an unknown bank)."""
        return self._kwh[bank][entry]

    def counts(self, bank: str, entry: int) -> int:
        """The uint32 the meter exposes for one entry."""
        return to_counts(self._kwh[bank][entry])

    def bank_counts(self, bank: str) -> list[int]:
        """All entries as counts (the map's 28, then the 2100's users 7-9)."""
        return [to_counts(v) for v in self._kwh[bank]]

    def preset(self, bank: str, entry: int, counts: int) -> None:
        """Set one entry from a count (the FC16 preset of the manual)."""
        self._kwh[bank][entry] = counts / 10

    def integrate(
        self,
        channel_powers: dict[int, Power],
        members: Sequence[tuple[int, ...]],
        hours: float,
        tariff: int | None,
        *,
        monthly: bool = True,
    ) -> None:
        """Add ``hours`` of constant power; ``members[k]`` are the channels of entry k.

        ``tariff`` (1-4) also adds import kWh to that TOU bank; ``monthly=False``
        leaves the this-month banks alone (history before the last two months).
        """
        per_channel = {ch: increments(p, hours) for ch, p in channel_powers.items()}
        tou_bank = f"tou_this_month_{TARIFF_NAMES[tariff]}_import_kwh" if tariff else None
        for entry, channels in enumerate(members):
            if not channels:
                continue
            for bank in ENERGY_BANKS:
                self._kwh[bank][entry] += sum(per_channel[ch][bank] for ch in channels)
            if not monthly:
                continue
            for kind, source in MONTHLY_SOURCES.items():
                self._kwh[f"this_month_{kind}"][entry] += sum(
                    per_channel[ch][source] for ch in channels
                )
            if tou_bank is not None:
                self._kwh[tou_bank][entry] += sum(
                    per_channel[ch]["import_active"] for ch in channels
                )

    def rollover(self) -> None:
        """Billing instant: this month becomes last month, this month restarts at 0."""
        for bank in MONTHLY_BANKS + TOU_BANKS:
            if bank.startswith(("this_", "tou_this_")):
                last = bank.replace("this_month", "last_month")
                self._kwh[last] = self._kwh[bank]
                self._kwh[bank] = [0.0] * ENTRIES

    def clear(self) -> None:
        """The clear_energy command: every bank, monthly and TOU included."""
        for bank in ALL_BANKS:
            self._kwh[bank] = [0.0] * ENTRIES

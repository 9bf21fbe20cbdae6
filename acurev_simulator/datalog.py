"""The data log: the factory parameter list, record taking and history from before start.

Records (DESIGNED, see ``logs.py``): a 3-register packed time, then one
register per valid entry of ``datalog_register_list``, read from the live
register image when the record is taken. The factory list logs Psum, U1 and F
(floats, two entries each) and the import active energy of the system and of
every channel (uint32, two entries each), so a reader can rebuild hourly
energy from it.

Counters (DESIGNED, 0x13B9-0x13BB): ``datalog_record_count`` is the number of
records kept (the window's offsets run 0..count-1, oldest first) and
``datalog_record_total`` the number taken since power-up (uint32, wraps). When
the ring is full the count stands still and only the total moves: a reader
that remembers the total knows how many records are new.

History: a meter that has been running has a full-ish log already. ``prefill``
writes the records the meter would have taken over the given span before the
clock, on the interval's clock multiples, as if the present loads had run all
along (the same assumption ``MeterModel._start_history`` makes for the
counters): energy entries are the present counter minus the energy of the
present power over the time still to come; every other entry is its present
value. A clock exactly on a multiple has that instant's record already.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pyacurev.codec import encode_time3, encode_uint32
from pyacurev.registers import (
    BANK_ENTRIES,
    CHANNEL_COUNT,
    ENTRY_SYSTEM,
    bank_entry_channel,
    block,
    is_mapped,
)

from .energy import to_counts
from .logs import UNUSED_ENTRIES

if TYPE_CHECKING:
    from .meter import MeterModel

# The import bank's first block: entry n is at its address + 2n (phases and system, then the
# channels and users that follow it contiguously in the vendor layout).
ENERGY_BANK_KEY = "import_active_energy_phases"
ENERGY_BANK = "import_active"

# Psum, U1 and F (two registers each, the floats' words in order; Psum at 0x201A in the
# vendor order).
FACTORY_FLOATS = (0x201A, 0x201B, 0x2002, 0x2003, 0x2000, 0x2001)


def energy_entries() -> tuple[int, ...]:
    """List entries (register addresses) of the system's, then channels 1..18's import kWh."""
    base = block(ENERGY_BANK_KEY).address
    out: list[int] = []
    for entry in (ENTRY_SYSTEM, *(bank_entry_channel(ch) for ch in range(1, CHANNEL_COUNT + 1))):
        first = base + 2 * entry
        out += [first, first + 1]
    return tuple(out)


FACTORY_REGISTERS: tuple[int, ...] = FACTORY_FLOATS + energy_entries()


def valid_entries(register_list: list[int]) -> list[int]:
    """The list's used entries in record order."""
    return [a for a in register_list if a not in UNUSED_ENTRIES]


def record_now(meter: MeterModel) -> list[int]:
    """The record the meter takes at its present clock."""
    values = [
        meter.full_registers(a, 1)[0] if is_mapped(a) else 0
        for a in valid_entries(meter.config.get("datalog_register_list"))
    ]
    return [*encode_time3(meter.clock), *values]


def prefill(meter: MeterModel, span: timedelta) -> int:
    """Fill the log with the records of ``span`` before the clock; returns how many."""
    interval = meter.config.value("datalog_interval")
    if span <= timedelta(0) or not meter.config.value("datalog_enable") or interval == 0:
        return 0
    now = meter.clock
    step = timedelta(minutes=interval)
    midnight = datetime.combine(now.date(), datetime.min.time())
    # On a multiple itself the record of that instant is already taken (the next
    # one is due a whole interval later, see MeterModel._next_datalog).
    last = midnight + ((now - midnight) // step) * step
    count = min(int(span // step), meter.logs.data.maxlen or 0)
    entries = valid_entries(meter.config.get("datalog_register_list"))
    present = {a: meter.full_registers(a, 1)[0] for a in entries if is_mapped(a)}
    rates = _import_rates_kw(meter)
    # The whole 28-entry bank (three rows since the map split it by provenance), so the
    # channels' entries are back-dated too, not only the phases' and the system's.
    bank_start = block(ENERGY_BANK_KEY).address
    bank_end = bank_start + 2 * BANK_ENTRIES
    for k in range(count - 1, -1, -1):
        when = last - k * step
        hours_to_go = (now - when) / timedelta(hours=1)
        values: list[int] = []
        for a in entries:
            if bank_start <= a < bank_end:
                entry, word = divmod(a - bank_start, 2)
                kwh = meter.energy.kwh(ENERGY_BANK, entry) - rates[entry] * hours_to_go
                values.append(encode_uint32(to_counts(max(0.0, kwh)))[word])
            else:
                values.append(present.get(a, 0))
        meter.logs.append_data([*encode_time3(when), *values])
    return count


def _import_rates_kw(meter: MeterModel) -> list[float]:
    """Import power (kW) flowing into each bank entry now."""
    powers = {ch: max(0.0, meter.channel(ch).power.active) for ch in range(1, CHANNEL_COUNT + 1)}
    return [sum(powers[ch] for ch in members) for members in meter.entry_members()]

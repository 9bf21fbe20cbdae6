"""The meter's data log: its layout, its counters and reading new records through the window.

Model. The meter takes a record every ``datalog_interval`` minutes: a 3-register
packed time, then one register per used entry of ``datalog_register_list``
(0x0000/0xFFFF entries are unused) - the entries are Modbus addresses, so a
32-bit counter is logged as two consecutive entries. The records are read
through the window (0x3B00-0x3B7E): write log 0 (data), the records wanted
(high byte of 0x3B01) and the record offset (0x3B02, 0 = oldest kept); read the
status back (records placed << 8 | 0x0B ready, 0xFF nothing there) with the
offset and the records. Two DESIGNED counters say what is new:
``datalog_record_count`` (records kept) and ``datalog_record_total`` (records
taken, uint32, wraps); the kept records are the last ``count`` of ``total``.

Provenance. The list, the window status and the offset are VERIFIED addresses;
the record layout, the counters and the data registers are DESIGNED. So
nothing here is trusted blindly: ``DataLogProbe`` reports whether the block
answers (an exception or a malformed answer is a verdict; a lost connection is
not, it propagates), whether the list carries energy, and whether a record
decodes; any failure makes the reader degrade (no backfill), never the meter's
setup fail.

Energy. An entry of the import bank (``import_active_energy_phases`` onwards: system,
user total) is in the log when the list holds both of its words in order; the
scale is the bank's. Records are decoded to kWh per bank entry and the caller
decides what a drop means.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .codec import decode_time3, decode_uint32
from .errors import AcuRevProtocolError, ModbusExceptionError
from .registers import (
    BANK_ENTRIES,
    CHANNEL_COUNT,
    FIRST_CHANNEL_ENTRY,
    MAX_READ_REGISTERS,
    bank_entry_channel,
    block,
)

# The import bank's first block: entry n is at its address + 2n (phases and system, then the
# channels and users that follow it contiguously in the vendor layout).
ENERGY_BANK_KEY = "import_active_energy_phases"
UNUSED_ENTRIES = (0x0000, 0xFFFF)
TIME_REGS = 3
STATUS_READY = 0x0B
DATA_LOG = 0
UINT32_SPAN = 1 << 32
# One read returns status (1) + offset (2) + records: the offset echo proves the
# records are the ones asked for, in a single request.
WINDOW_READ_DATA = MAX_READ_REGISTERS - 3

# What "the block does not answer" is; a lost connection is not a verdict and propagates.
_NOT_ANSWERED = (ModbusExceptionError, AcuRevProtocolError)

# Probe verdicts.
OK = "ok"
NO_ANSWER = "no_answer"
DISABLED = "disabled"
NO_ENERGY = "no_energy"
BAD_RECORD = "bad_record"


class WindowClient(Protocol):
    """What the reader needs of a client (``AcuRevClient`` has it)."""

    async def read_holding(self, address: int, count: int) -> list[int]:
        """FC03."""

    async def write_holding(self, address: int, values: Sequence[int]) -> None:
        """FC16."""


def bank_energy_entries() -> dict[int, int]:
    """Bank entry -> address of the high word of its import kWh (the list entry to look for)."""
    base = block(ENERGY_BANK_KEY).address
    return {entry: base + 2 * entry for entry in range(BANK_ENTRIES)}


def entry_channel(entry: int) -> int | None:
    """The input channel a bank entry totals (None: system, phase or user entry)."""
    channel = entry - FIRST_CHANNEL_ENTRY + 1
    return channel if 1 <= channel <= CHANNEL_COUNT else None


@dataclass(frozen=True, slots=True)
class DataLogLayout:
    """What one record holds, from the meter's own configuration."""

    enabled: bool
    interval_min: int
    entries: tuple[int, ...]
    # Bank entry -> index in a record of the high word of its import kWh.
    energy_index: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def decode(cls, enable: int, interval: int, register_list: Sequence[int]) -> DataLogLayout:
        """Layout from ``datalog_enable``, ``datalog_interval`` and the list's registers."""
        entries = tuple(a for a in register_list if a not in UNUSED_ENTRIES)
        index: dict[int, int] = {}
        for entry, high in bank_energy_entries().items():
            for i, (a, b) in enumerate(itertools.pairwise(entries)):
                if a == high and b == high + 1:
                    index[entry] = TIME_REGS + i
                    break
        return cls(bool(enable) and interval > 0, interval, entries, index)

    @property
    def record_size(self) -> int:
        """Registers per record."""
        return TIME_REGS + len(self.entries)

    @property
    def per_window(self) -> int:
        """Whole records one window read returns."""
        return max(0, WINDOW_READ_DATA // self.record_size)

    @property
    def channels(self) -> tuple[int, ...]:
        """Channels whose import kWh the log carries."""
        found = (entry_channel(e) for e in self.energy_index)
        return tuple(sorted(ch for ch in found if ch is not None))

    def decode_record(self, regs: Sequence[int]) -> DataLogRecord | None:
        """One record; None when its time does not decode (an empty or garbled slot)."""
        when = decode_time3(regs[:TIME_REGS])
        if when is None or len(regs) < self.record_size:
            return None
        scale = block(ENERGY_BANK_KEY).scale
        energy = {
            entry: round(decode_uint32(regs[i : i + 2]) * scale, 3)
            for entry, i in self.energy_index.items()
        }
        return DataLogRecord(when, energy)


@dataclass(frozen=True, slots=True)
class DataLogRecord:
    """One record: the meter's naive local time and each logged bank entry's import kWh."""

    time: datetime
    energy_kwh: Mapping[int, float]

    def channel_kwh(self, channel: int) -> float | None:
        """Import kWh of input channel 1..18 (None: not logged)."""
        return self.energy_kwh.get(bank_entry_channel(channel))


@dataclass(frozen=True, slots=True)
class DataLogCounters:
    """Records kept and records taken (uint32)."""

    kept: int
    total: int


async def read_layout(client: WindowClient) -> DataLogLayout:
    """Read enable, interval and the parameter list (one request)."""
    start = block("datalog_enable").address
    lst = block("datalog_register_list")
    regs = await client.read_holding(start, lst.end - start)
    enable = regs[block("datalog_enable").address - start]
    interval = regs[block("datalog_interval").address - start]
    return DataLogLayout.decode(enable, interval, regs[lst.address - start :])


async def read_counters(client: WindowClient) -> DataLogCounters:
    """Read the DESIGNED record counters (one request)."""
    count = block("datalog_record_count")
    total = block("datalog_record_total")
    regs = await client.read_holding(count.address, total.end - count.address)
    return DataLogCounters(regs[0], decode_uint32(regs[total.address - count.address :]))


async def read_window(
    client: WindowClient, layout: DataLogLayout, offset: int, wanted: int
) -> list[DataLogRecord | None]:
    """Records from ``offset`` (at most ``wanted``, one window); None: an undecodable slot."""
    wanted = min(wanted, layout.per_window)
    if wanted <= 0:
        return []
    select = block("log_select").address
    await client.write_holding(select, [DATA_LOG, wanted << 8, offset >> 16, offset & 0xFFFF])
    status_addr = block("log_window_status").address
    regs = await client.read_holding(status_addr, 3 + wanted * layout.record_size)
    status, echo = regs[0], decode_uint32(regs[1:3])
    if status & 0xFF != STATUS_READY:
        return []
    if echo != offset:
        raise AcuRevProtocolError(f"data-log window at offset {echo}, asked for {offset}")
    placed = min(status >> 8, wanted)
    size = layout.record_size
    return [layout.decode_record(regs[3 + i * size : 3 + (i + 1) * size]) for i in range(placed)]


@dataclass(slots=True)
class DataLogProbe:
    """Whether the log can serve energy history, and why not."""

    status: str
    detail: str
    interval_min: int = 0
    channels: tuple[int, ...] = ()
    entries: tuple[int, ...] = ()
    record_size: int = 0
    kept: int | None = None
    total: int | None = None
    newest: str | None = None

    @property
    def usable(self) -> bool:
        """The log answers and carries channel energy."""
        return self.status == OK

    def as_dict(self) -> dict[str, Any]:
        """JSON types only."""
        return {
            "status": self.status,
            "detail": self.detail,
            "interval_min": self.interval_min,
            "channels": list(self.channels),
            "bank_entries": list(self.entries),
            "record_size": self.record_size,
            "kept": self.kept,
            "total": self.total,
            "newest": self.newest,
        }


async def probe_layout(client: WindowClient) -> tuple[DataLogProbe, DataLogLayout | None]:
    """Read-only part of the probe: configuration and counters (no window write)."""
    try:
        layout = await read_layout(client)
    except _NOT_ANSWERED as err:
        return DataLogProbe(NO_ANSWER, f"configuration did not answer: {err}"), None
    probe = DataLogProbe(
        OK,
        "",
        layout.interval_min,
        layout.channels,
        tuple(sorted(layout.energy_index)),
        layout.record_size if layout.entries else 0,
    )
    if not layout.enabled:
        probe.status, probe.detail = DISABLED, "logging is off (enable 0 or interval 0)"
        return probe, layout
    if not layout.energy_index:
        probe.status, probe.detail = NO_ENERGY, "the parameter list holds no import kWh"
        return probe, layout
    if layout.per_window == 0:
        probe.status, probe.detail = NO_ENERGY, f"a record of {layout.record_size} registers"
        return probe, layout
    try:
        counters = await read_counters(client)
    except _NOT_ANSWERED as err:
        probe.status, probe.detail = NO_ANSWER, f"record counters did not answer: {err}"
        return probe, layout
    probe.kept, probe.total = counters.kept, counters.total
    probe.detail = (
        f"import kWh of {len(layout.energy_index)} bank entries "
        f"({len(layout.channels)} channels) every {layout.interval_min} min"
    )
    return probe, layout


async def probe_datalog(client: WindowClient) -> tuple[DataLogProbe, DataLogLayout | None]:
    """Full probe: the read-only part, then the newest record through the window."""
    probe, layout = await probe_layout(client)
    if not probe.usable or layout is None or not probe.kept:
        return probe, layout
    try:
        newest = await read_window(client, layout, probe.kept - 1, 1)
    except _NOT_ANSWERED as err:
        probe.status, probe.detail = NO_ANSWER, f"the window did not answer: {err}"
        return probe, layout
    if not newest or newest[0] is None:
        probe.status, probe.detail = BAD_RECORD, "the newest record does not decode"
        return probe, layout
    probe.newest = newest[0].time.isoformat()
    return probe, layout


@dataclass(slots=True)
class DataLogReader:
    """Reads the records taken since it last read (all kept ones the first time).

    ``last_total`` is the counter seen at the last successful read; records lost
    to the ring in between are simply not there (``lost`` counts them). A total
    that went back (a meter reboot) rereads everything kept.
    """

    layout: DataLogLayout
    last_total: int | None = None
    lost: int = 0
    garbled: int = 0

    def new_count(self, counters: DataLogCounters) -> int:
        """How many of the kept records are new."""
        if self.last_total is None:
            return counters.kept
        new = (counters.total - self.last_total) % UINT32_SPAN
        if new > counters.kept:
            # Either the ring overwrote unread records, or the meter restarted its count.
            self.lost += new - counters.kept if new < UINT32_SPAN // 2 else 0
            return counters.kept
        return new

    async def read_new(
        self, client: WindowClient, counters: DataLogCounters | None = None
    ) -> list[DataLogRecord]:
        """The new records, oldest first (empty when the count did not move)."""
        if counters is None:
            counters = await read_counters(client)
        new = self.new_count(counters)
        records: list[DataLogRecord] = []
        offset = counters.kept - new
        while offset < counters.kept:
            chunk = await read_window(client, self.layout, offset, counters.kept - offset)
            if not chunk:
                break
            for rec in chunk:
                if rec is None:
                    self.garbled += 1
                else:
                    records.append(rec)
            offset += len(chunk)
        self.last_total = counters.total
        return records

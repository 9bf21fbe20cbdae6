"""The system event log, the data log and the log retrieval window (0x3B00-0x3B7E).

Window protocol (section 6.3): write ``log_select`` (0 data log, 1 event log),
write ``log_window_status`` with the high byte = records wanted, write the
32-bit ``log_window_offset``; after any of these writes the window is filled
from the selected log, oldest record first (offset 0 = the oldest record kept).
``log_window_status`` then reads (records placed << 8) | 0x0B, or
(records wanted << 8) | 0xFF when the offset is past the end or nothing was
asked for. As many whole records as fit into the 123 data registers are placed.

Records (DESIGNED):

* event log: event code, then a 7-register time (8 registers);
* data log: a 3-register packed time, then one register per valid entry of
  ``datalog_register_list`` (0x0000 and 0xFFFF entries are unused), read from
  the live register image when the record is taken. The record is taken every
  ``datalog_interval`` minutes, on clock multiples of the interval, while
  ``datalog_enable`` = 1. ``datalog_mode`` is kept but every mode behaves like
  mode 0 (fixed interval, oldest record overwritten when full).

Event codes: 4-12 as the manual lists them (4 energy clear, 5 running-hour
clear, 7 parameter change, 8 energy preset, 9 TOU change, 10 clock change,
11 reversed power direction, 12 DI counter clear). The manual's events 1-3 were
not retrieved; the simulator uses 1 for power-up (start and reboot).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from pyacurev.codec import encode_time7
from pyacurev.registers import block

EVENT_POWER_ON = 1
EVENT_ENERGY_CLEAR = 4
EVENT_RUN_TIME_CLEAR = 5
EVENT_PARAMETER_CHANGE = 7
EVENT_ENERGY_PRESET = 8
EVENT_TOU_CHANGE = 9
EVENT_CLOCK_CHANGE = 10
EVENT_REVERSED_POWER = 11
EVENT_DI_COUNTER_CLEAR = 12

EVENT_LOG_SIZE = 100
DATA_LOG_SIZE = 1000
STATUS_READY = 0x0B
STATUS_NOT_READY = 0xFF
WINDOW_REGS = block("log_window_data").count
UNUSED_ENTRIES = (0x0000, 0xFFFF)


class LogStore:
    """Event and data logs plus the retrieval window's current contents."""

    def __init__(self) -> None:
        """Empty logs, empty window."""
        self.events: deque[tuple[int, datetime]] = deque(maxlen=EVENT_LOG_SIZE)
        self.data: deque[list[int]] = deque(maxlen=DATA_LOG_SIZE)
        # Data records taken since power-up (uint32, wraps): moves even when the full ring does not.
        self.data_total = 0
        self.window_status = 0
        self.window_data = [0] * WINDOW_REGS

    def event(self, code: int, when: datetime) -> None:
        """Append a system event."""
        self.events.append((code, when))

    def append_data(self, record: list[int]) -> None:
        """Take one data-log record (the oldest is overwritten when the ring is full)."""
        self.data.append(record)
        self.data_total = (self.data_total + 1) % (1 << 32)

    def records(self, log: int) -> list[list[int]]:
        """The selected log's records as register lists, oldest first."""
        if log == 1:
            return [[code, *encode_time7(when)] for code, when in self.events]
        return list(self.data)

    def fill(self, log: int, wanted: int, offset: int) -> None:
        """Fill the window from ``log`` starting at record ``offset``."""
        records = self.records(log)
        self.window_data = [0] * WINDOW_REGS
        if wanted == 0 or offset >= len(records):
            self.window_status = (wanted << 8) | STATUS_NOT_READY
            return
        size = max(1, len(records[0]))
        chunk = records[offset : offset + min(wanted, WINDOW_REGS // size)]
        flat = [reg for rec in chunk for reg in rec][:WINDOW_REGS]
        self.window_data[: len(flat)] = flat
        self.window_status = (len(chunk) << 8) | STATUS_READY

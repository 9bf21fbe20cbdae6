"""Malformed traffic: counted, and summarised in the log at most once per interval.

A peer that sends garbage (a broken stack, a scanner, an attack) must neither fill the disk
with a traceback per datagram nor go unnoticed. Each protocol view owns a
:class:`GarbageCounter`; the first bad datagram of a quiet period is logged at once, later
ones are summed and reported when the interval is over (one line: how many, from how many
peers, why, and the first reason in escaped form).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from .logsafe import escape

INTERVAL = 60.0  # s between two summary lines


class GarbageCounter:
    """Counts bad datagrams of one protocol and logs a summary once per ``interval``."""

    def __init__(self, logger: logging.Logger, protocol: str, interval: float = INTERVAL) -> None:
        """Count for ``protocol`` (e.g. "BACnet"), logging to ``logger``."""
        self.logger = logger
        self.protocol = protocol
        self.interval = interval
        self.total = 0
        self.by_reason: Counter[str] = Counter()
        self.logged_lines = 0
        self._window: Counter[str] = Counter()
        self._peers: set[str] = set()
        self._example = ""
        self._next_log = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def count(self, reason: str, peer: object = None, detail: object = None) -> None:
        """One bad datagram (``reason``: a short fixed word; ``peer``/``detail`` from the net)."""
        self.total += 1
        self.by_reason[reason] += 1
        self._window[reason] += 1
        if peer is not None:
            self._peers.add(escape(peer, 60))
        if not self._example:
            self._example = escape(detail if detail is not None else reason)
        now = time.monotonic()
        if now >= self._next_log:
            self.flush()
            return
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._timer = loop.call_later(self._next_log - now, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        """Log what the current window holds (nothing if it is empty)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._window:
            return
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(self._window.items()))
        self.logger.warning(
            "%s: ignored %d malformed or refused datagram(s) from %d peer(s) (%s; first: %s); "
            "at most one such line per %g s",
            self.protocol,
            sum(self._window.values()),
            len(self._peers),
            reasons,
            self._example,
            self.interval,
        )
        self.logged_lines += 1
        self._window.clear()
        self._peers.clear()
        self._example = ""
        self._next_log = time.monotonic() + self.interval

    def close(self) -> None:
        """Report what is left and stop the timer."""
        self.flush()


class CountingFilter(logging.Filter):
    """Turns a library's per-datagram error records (with tracebacks) into counts."""

    def __init__(self, counter: GarbageCounter, reason: str) -> None:
        """Errors logged by the filtered loggers are counted as ``reason``."""
        super().__init__()
        self.counter = counter
        self.reason = reason

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop ERROR records (counting them); pass everything else."""
        if record.levelno < logging.ERROR:
            return True
        detail = record.exc_info[1] if record.exc_info and record.exc_info[1] else None
        self.counter.count(self.reason, None, repr(detail) if detail else record.getMessage())
        return False

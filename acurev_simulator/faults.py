"""Fault injection, changed at runtime by tests through ``Simulator.faults``.

Order in which the server applies them to a request:

1. ``drop_next`` > 0: the connection is closed without an answer (the counter
   goes down by one per dropped request);
2. ``silent``: read requests (FC01/02/03) get no answer; the connection stays
   open, so the client times out. Writes are still answered;
3. ``exceptions``: a request touching a listed block key (in the data space of
   its function code) or a listed (function code, address) is answered with the
   mapped exception code, and a write is not applied;
4. the request runs; ``delay`` seconds pass before the reply is sent;
5. ``fill``: a read (FC03) overlapping a listed block key answers that block's words
   with the given word instead (0x0000: a booting meter's zeros; 0xFFFF: the "no
   data" word), or with a tuple of words repeated over the block (two words: every
   32-bit entry the same wrong value), for the next ``fill_count`` such reads when
   that is set, else until cleared. The meter itself is untouched: its counters
   keep the true values;
6. ``corrupt`` garbles the reply frame (every reply, or only the next
   ``corrupt_count`` replies when that is set):

   * "short": the PDU is cut in half, MBAP length consistent with the cut PDU;
   * "length": the MBAP length field claims 3 bytes more than are sent;
   * "transaction_id": the transaction id is not the request's;
   * "function": the reply's function code is not the request's;
   * "byte_count": the byte count of a read reply is 2 too high (other replies unchanged);
   * "garbage": the whole frame is replaced by random bytes of the same length.

``max_clients``: the AcuRev's Ethernet module serves only a few TCP clients.
A connection beyond the limit is accepted and closed at once (the client sees
the connection reset/closed before any answer), as small embedded TCP stacks
do, rather than left hanging in the listen backlog. None = no limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

type CorruptMode = Literal["short", "length", "transaction_id", "function", "byte_count", "garbage"]
CORRUPT_MODES: tuple[CorruptMode, ...] = (
    "short",
    "length",
    "transaction_id",
    "function",
    "byte_count",
    "garbage",
)
DEFAULT_MAX_CLIENTS = 4


@dataclass
class Faults:
    """What the simulator does wrong on purpose (all off by default)."""

    delay: float = 0.0
    silent: bool = False
    drop_next: int = 0
    exceptions: dict[str | tuple[int, int], int] = field(default_factory=dict)
    corrupt: CorruptMode | None = None
    corrupt_count: int | None = None
    max_clients: int | None = DEFAULT_MAX_CLIENTS
    fill: dict[str, int | tuple[int, ...]] = field(default_factory=dict)
    fill_count: int | None = None

    def reset(self) -> None:
        """Back to a well-behaved meter (max_clients back to the default as well)."""
        fresh = Faults()
        for name in (
            "delay",
            "silent",
            "drop_next",
            "exceptions",
            "corrupt",
            "corrupt_count",
            "max_clients",
            "fill",
            "fill_count",
        ):
            setattr(self, name, getattr(fresh, name))

    def take_fill(self) -> dict[str, int | tuple[int, ...]]:
        """The fills to apply to the read being answered now (counts one down)."""
        fill = self.fill
        if fill and self.fill_count is not None:
            self.fill_count -= 1
            if self.fill_count <= 0:
                self.fill, self.fill_count = {}, None
        return fill

    def take_corruption(self) -> CorruptMode | None:
        """The corruption to apply to the reply being sent now (counts one down)."""
        mode = self.corrupt
        if mode is not None and mode not in CORRUPT_MODES:
            raise ValueError(f"unknown corrupt mode {mode!r}; use one of {CORRUPT_MODES}")
        if mode is not None and self.corrupt_count is not None:
            self.corrupt_count -= 1
            if self.corrupt_count <= 0:
                self.corrupt, self.corrupt_count = None, None
        return mode

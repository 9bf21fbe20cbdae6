"""Read planner: the fewest FC03 requests that fetch a set of holding registers.

Rules the plan obeys, all taken from the register map:

* a request reads at most ``MAX_READ_REGISTERS`` (125) registers;
* a request never touches an address outside ``plan_segments()`` — the meter
  answers exception 02 for the whole request if one address is unmapped, so
  UNKNOWN rows are never crossed and evidence-backed rows never share a request
  with DESIGNED ones (a meter that refuses our design still gives the evidence);
* inside a mapped segment a request may cover reserved rows and unwanted blocks
  (they read 0 and are simply ignored), because one more request costs a full
  network round trip while a few extra registers cost microseconds;
* a value (float/uint32), a packed time or a record is never split across two
  requests: two halves read at different moments can combine into a value the
  meter never held (a uint32 energy counter whose low word wrapped in between
  jumps by 65536 counts). Each wanted range is therefore cut into indivisible
  "atoms" of its value or record size.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from .registers import MAX_READ_REGISTERS, Block, DataType, Space, block, plan_segments


@dataclass(frozen=True, slots=True)
class Span:
    """Registers ``[address, address + count)`` wanted, in indivisible pieces of ``atom``."""

    address: int
    count: int
    atom: int = 1

    def __post_init__(self) -> None:
        """A span that cannot be tiled by its atom is a caller bug."""
        if self.count <= 0 or self.atom <= 0 or self.count % self.atom:
            raise ValueError(f"bad span {self!r}")
        if self.atom > MAX_READ_REGISTERS:
            raise ValueError(f"atom of {self.atom} registers cannot fit in one read")

    @property
    def end(self) -> int:
        """First address after the span."""
        return self.address + self.count


def atom_size(blk: Block) -> int:
    """Registers of ``blk`` that must arrive in the same response."""
    if blk.record:
        return blk.record
    if blk.dtype in (DataType.FLOAT32, DataType.UINT32):
        return 2
    if blk.dtype is DataType.TIME3:
        return 3
    if blk.dtype is DataType.ASCII:
        return blk.count  # one string
    return 1


def block_span(key: str) -> Span:
    """The span of a whole holding-register block."""
    blk = block(key)
    if blk.space is not Space.HOLDING:
        raise ValueError(f"{key} is not a holding-register block")
    return Span(blk.address, blk.count, atom_size(blk))


def record_span(key: str, first: int, count: int) -> Span:
    """Records ``first .. first + count - 1`` (0-based) of a record block."""
    blk = block(key)
    if not blk.record or first < 0 or count <= 0 or (first + count) * blk.record > blk.count:
        raise ValueError(f"records {first}..{first + count - 1} outside {key}")
    return Span(blk.address + first * blk.record, count * blk.record, blk.record)


def _segment_index(
    address: int, end: int, starts: list[int], segments: tuple[tuple[int, int], ...]
) -> int:
    i = bisect_right(starts, address) - 1
    if i < 0 or end > segments[i][1]:
        raise ValueError(f"registers 0x{address:04X}..0x{end - 1:04X} are not all mapped")
    return i


def plan_reads(wanted: Iterable[Span | str]) -> list[tuple[int, int]]:
    """Plan FC03 reads for ``wanted`` spans or block keys: a list of ``(address, count)``.

    Greedy, left to right within each mapped segment: open a request at the
    first atom not yet covered and put every following atom in it while the
    request stays within 125 registers; the request's count ends at its last
    wanted register. This is optimal (no plan has fewer requests) by the usual
    exchange argument for covering points on a line with fixed-length windows:
    any plan must cover the leftmost uncovered atom with some request, that
    request cannot start after the atom and so cannot reach further right than
    the greedy one does; replacing it with the greedy request leaves at most as
    much still to cover. Segments are independent because no request may cross
    an unmapped address, so per-segment optimality is global optimality.
    """
    segments = plan_segments(Space.HOLDING)
    starts = [s for s, _ in segments]
    atoms: list[tuple[int, int]] = []
    for item in wanted:
        span = block_span(item) if isinstance(item, str) else item
        _segment_index(span.address, span.end, starts, segments)
        atoms.extend((a, a + span.atom) for a in range(span.address, span.end, span.atom))
    if not atoms:
        return []
    atoms.sort()

    # Overlapping atoms (the same registers asked for with different atom
    # sizes) must still arrive together: merge them into one.
    merged: list[list[int]] = []
    for start, end in atoms:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])

    plan: list[tuple[int, int]] = []
    req_start = req_end = req_seg = -1
    for start, end in merged:
        if end - start > MAX_READ_REGISTERS:
            raise ValueError(f"overlapping atoms at 0x{start:04X} exceed one read")
        seg = _segment_index(start, end, starts, segments)
        if seg == req_seg and end - req_start <= MAX_READ_REGISTERS:
            req_end = end
            continue
        if req_seg >= 0:
            plan.append((req_start, req_end - req_start))
        req_start, req_end, req_seg = start, end, seg
    plan.append((req_start, req_end - req_start))
    return plan

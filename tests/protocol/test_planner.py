"""Read planner: limits, no torn values, and optimality against an independent DP.

The reference minimum is computed from ``pyacurev/data/register-map.csv`` (not
from ``registers.py``) by a dynamic programme over all ways to partition the
wanted addresses, so a planner bug and a table bug cannot cancel out.
"""

from __future__ import annotations

import csv
import random
from functools import cache

import pytest

from pyacurev.groups import (
    GROUP_BLOCKS,
    ReadGroup,
    group_spans,
)
from pyacurev.layouts import Wiring
from pyacurev.models import DeviceInfo
from pyacurev.planner import Span, block_span, plan_reads, record_span
from pyacurev.registers import (
    MAX_READ_REGISTERS,
    REGISTER_MAP,
    DataType,
    Space,
)

from .conftest import ROOT

pytestmark = pytest.mark.protocol

LIMIT = 125  # Modbus FC03 limit, written here rather than imported


@cache
def csv_rows() -> tuple[tuple[str, int, int, str, str], ...]:
    """(space, start, count, name, status) of every row of the published map."""
    with (ROOT / "pyacurev" / "data" / "register-map.csv").open(newline="") as fh:
        return tuple(
            (r["space"], int(r["start_dec"]), int(r["count"]), r["name"], r["status"])
            for r in csv.DictReader(fh)
        )


@cache
def answered_runs() -> dict[int, int]:
    """Holding address -> id of the run one request may cover.

    A run is contiguous, never contains an UNKNOWN row and never mixes
    DESIGNED rows with evidence-backed ones (a real meter may refuse our design
    with exception 02 for the whole request).
    """
    cls_of: dict[int, bool] = {}
    for space, start, count, _, status in csv_rows():
        if space != "hr" or status == "UNKNOWN":
            continue
        for a in range(start, start + count):
            cls_of[a] = status != "DESIGNED"
    answered = sorted(cls_of)
    run_of: dict[int, int] = {}
    run = 0
    for prev, addr in zip([None, *answered], answered, strict=False):
        if prev is not None and (addr != prev + 1 or cls_of[addr] != cls_of[prev]):
            run += 1
        run_of[addr] = run
    return run_of


def csv_addresses(*names: str) -> set[int]:
    out: set[int] = set()
    for name in names:
        rows = [r for r in csv_rows() if r[0] == "hr" and r[3] == name]
        assert len(rows) == 1, name
        _, start, count, _, _ = rows[0]
        out |= set(range(start, start + count))
    return out


def min_requests_unconstrained(wanted: set[int]) -> int:
    """Fewest windows of <= 125 answered addresses covering ``wanted`` (values may be split)."""
    runs = answered_runs()
    w = sorted(wanted)
    inf = float("inf")
    best = [0.0] + [inf] * len(w)
    for k in range(1, len(w) + 1):
        last = w[k - 1]
        for j in range(k - 1, -1, -1):
            if last - w[j] + 1 > LIMIT:
                break
            if runs.get(w[j]) == runs.get(last) is not None:
                best[k] = min(best[k], best[j] + 1)
    return int(best[-1])


def min_requests_atoms(atoms: list[tuple[int, int]]) -> int:
    """Fewest windows when every atom [start, end) must lie inside one window."""
    runs = answered_runs()
    a = sorted(set(atoms))
    inf = float("inf")
    best = [0.0] + [inf] * len(a)
    for k in range(1, len(a) + 1):
        end = a[k - 1][1]
        for j in range(k - 1, -1, -1):
            start = a[j][0]
            if end - start > LIMIT:
                break
            if runs.get(start) == runs.get(end - 1) is not None:
                best[k] = min(best[k], best[j] + 1)
    return int(best[-1])


def full_snapshot_wanted() -> set[int]:
    system = [r[3] for r in csv_rows() if r[0] == "hr" and 0x2000 <= r[1] < 0x2042]
    return csv_addresses(
        *system,
        "channel[1..18] record",
        "user[1..6] record",
        "import_active_energy A,B,C,total",
        "import_active_energy channel[1..18]",
        "import_active_energy user[1..6]",
        "export_active_energy bank",
        "import_reactive_energy bank",
        "export_reactive_energy bank",
        "apparent_energy bank",
        "di_mode_bitmap",
        "relay_mode_bitmap",
        "di_pulse_count[1..8]",
    )


DEVICE_3LN_18 = DeviceInfo("S", 2020, 211, 100, 2, Wiring.THREE_LN, 120, 18, 0.0)
DEVICE_1LN_9 = DeviceInfo("S", 2020, 211, 100, 2, Wiring.ONE_LN, 120, 9, 0.0)
DEVICE_2LN_9 = DeviceInfo("S", 2020, 211, 100, 2, Wiring.TWO_LN, 333, 9, 0.0)

FULL = (
    ReadGroup.SYSTEM,
    ReadGroup.CHANNELS,
    ReadGroup.USERS,
    ReadGroup.ENERGY,
    ReadGroup.EXPORT_ENERGY,
    ReadGroup.IO,
    ReadGroup.IO_CONFIG,
)


def test_full_snapshot_plan_is_minimal() -> None:
    spans = [s for g in FULL for s in group_spans(g, DEVICE_3LN_18)]
    plan = plan_reads(spans)
    reference = min_requests_unconstrained(full_snapshot_wanted())
    # Not tearing values costs nothing here: the unconstrained optimum is reached.
    # system 1, channels + users 3, import kWh 1, export banks 2, kvarh + kVAh 1, I/O 1
    assert len(plan) == reference == 9
    covered = {a for start, count in plan for a in range(start, start + count)}
    assert full_snapshot_wanted() <= covered


def assert_valid_plan(plan: list[tuple[int, int]], atoms: list[tuple[int, int]]) -> None:
    runs = answered_runs()
    starts_ends = {a for atom in atoms for a in atom}
    for start, count in plan:
        assert 1 <= count <= MAX_READ_REGISTERS == LIMIT
        # inside one answered run: no exception 02 for the whole request
        assert runs.get(start) is not None
        assert runs.get(start) == runs.get(start + count - 1)
        # trimmed: a request starts at an atom start and ends at an atom end
        assert start in starts_ends
        assert start + count in starts_ends
    for a_start, a_end in atoms:
        assert any(s <= a_start and a_end <= s + c for s, c in plan), (a_start, a_end)


@pytest.mark.parametrize("seed", range(60))
def test_random_block_sets_are_planned_optimally(seed: int) -> None:
    rng = random.Random(seed)
    keys = [b.key for b in REGISTER_MAP if b.space is Space.HOLDING and not b.reserved]
    chosen = rng.sample(keys, rng.randint(1, 25))
    spans = [block_span(k) for k in chosen]
    atoms = [(a, a + s.atom) for s in spans for a in range(s.address, s.end, s.atom)]
    plan = plan_reads(chosen)
    assert_valid_plan(plan, atoms)
    assert len(plan) == min_requests_atoms(atoms)
    assert plan == sorted(plan)


def test_values_and_records_are_never_split() -> None:
    # 11 channel records (132 registers) cannot share one request; the split
    # must fall on a record boundary, as the map's polling plan (6.4) reads them.
    plan = plan_reads([record_span("channel_record", 0, 18)])
    assert plan == [(0x2100, 120), (0x2178, 96)]
    # Channels then users (10-register records at 0x21D8): 2 records join the second read.
    assert plan_reads(["channel_record", "user_record"]) == [
        (0x2100, 120),
        (0x2178, 116),
        (0x21EC, 40),
    ]
    # Channel demand: 3 records of 36 registers per request.
    assert plan_reads([record_span("demand_channel", 0, 6)]) == [(0x2D87, 108), (0x2DF3, 108)]
    # Channel harmonics (31-register records): 4 per request, never split.
    for start, count in plan_reads(["channel_harmonic"]):
        assert (start - 0x3300) % 31 == 0
        assert count % 31 == 0
    # A float table: the last float is never cut in half.
    for start, count in plan_reads(["channel_record", "user_record"]):
        assert start % 2 == 0
        assert count % 2 == 0


def test_gaps_inside_a_segment_are_read_through_but_not_across_segments() -> None:
    # 0x1000 and 0x1039 are in the same designed run: one request covers both.
    assert plan_reads(["serial_number", "reboot_meter"]) == [(0x1000, 0x3A)]
    # The seed clock (0x1054) never shares a request with the designed identity.
    assert plan_reads(["serial_number", "clock_second"]) == [(0x1000, 8), (0x1059, 1)]
    # 0x0882 and 0x1000 are in different runs: two requests even though close.
    assert plan_reads(["installed_channels", "serial_number"]) == [(0x0882, 1), (0x1000, 8)]
    # Wiring (0x0888) and CT type (0x080D) are evidence; the designed 0x0882 sits between.
    assert plan_reads(["ct_type", "wiring_mode"]) == [(0x080D, 1), (0x0888, 1)]


def test_device_narrowing() -> None:
    # 9 channels fit one request; no users in 1LN; 3 users of 2LN in one request.
    assert plan_reads(group_spans(ReadGroup.CHANNELS, DEVICE_1LN_9)) == [(0x2100, 108)]
    assert group_spans(ReadGroup.USERS, DEVICE_1LN_9) == []
    # 2LN users 1-3 on 9 channels: 3 user records plus the 9 channel records.
    assert plan_reads(group_spans(ReadGroup.USERS, DEVICE_2LN_9)) == [(0x2100, 108), (0x21D8, 30)]
    # Harmonics only exist on the 333 mV build.
    assert group_spans(ReadGroup.HARMONICS, DEVICE_1LN_9) == []
    assert group_spans(ReadGroup.HARMONICS, DEVICE_2LN_9)
    # Demand: phases, system and the 9 channels = entries 0..12 -> 13 records, 5 requests.
    assert len(plan_reads(group_spans(ReadGroup.DEMAND, DEVICE_1LN_9))) == 5
    # Without a device everything is read.
    assert plan_reads(group_spans(ReadGroup.CHANNELS)) == [(0x2100, 120), (0x2178, 96)]


def test_clock_is_one_atom() -> None:
    (span,) = group_spans(ReadGroup.CLOCK)
    assert (span.address, span.count, span.atom) == (0x1054, 6, 6)


def test_every_group_plans() -> None:
    for group in ReadGroup:
        for device in (None, DEVICE_3LN_18, DEVICE_2LN_9):
            plan = plan_reads(group_spans(group, device))
            assert all(c <= LIMIT for _, c in plan)
    assert set(GROUP_BLOCKS) == set(ReadGroup)


def test_rejects_unmapped_and_malformed_spans() -> None:
    with pytest.raises(ValueError, match="not all mapped"):
        plan_reads([Span(0x4600, 2)])
    with pytest.raises(ValueError, match="not all mapped"):
        plan_reads([Span(0x08AE, 4)])  # runs past the end of the 0x0800 segment
    with pytest.raises(ValueError, match="not all mapped"):
        plan_reads([Span(0x2580, 2)])  # an UNKNOWN row is never read
    with pytest.raises(ValueError, match="bad span"):
        Span(0x2000, 3, 2)
    with pytest.raises(ValueError, match="cannot fit"):
        Span(0x3300, 128, 128)
    with pytest.raises(ValueError, match="not a holding"):
        block_span("relay_1")
    with pytest.raises(ValueError, match="outside"):
        record_span("channel_record", 17, 2)
    assert plan_reads([]) == []


def test_overlapping_requests_merge() -> None:
    # The same registers asked as one record and as single floats arrive together once.
    plan = plan_reads([record_span("channel_record", 0, 1), Span(0x2104, 2, 2), "f"])
    assert plan == [(0x2000, 2), (0x2100, 12)]


def test_atom_sizes_follow_the_data_type() -> None:
    assert block_span("serial_number").atom == 8  # one string
    assert block_span("datalog_start_time").atom == 3
    assert block_span("import_active_energy_channels").atom == 2
    assert block_span("demand_channel").atom == 36
    assert block_span("thd_voltage").atom == 1
    assert block_span("user_name").atom == 3
    assert block_span("datalog_register_list").atom == 1
    assert all(
        block_span(b.key).atom == b.record for b in REGISTER_MAP if b.dtype is DataType.RECORD
    )

"""The register table follows the reference row for row; SEED/VERIFIED addresses exactly."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from pyacurev.planner import plan_reads
from pyacurev.registers import REGISTER_MAP, Provenance, Space, plan_segments

pytestmark = pytest.mark.protocol

CSV = Path(__file__).resolve().parents[2] / "pyacurev" / "data" / "register-map.csv"


def _rows() -> list[dict[str, str]]:
    with CSV.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_reference_row_is_in_the_table_with_its_provenance() -> None:
    table = {(b.space.value, b.address, b.count): b for b in REGISTER_MAP}
    rows = _rows()
    assert len(rows) == len(REGISTER_MAP)
    for row in rows:
        key = (row["space"], int(row["start_dec"]), int(row["count"]))
        assert key in table, f"reference row {row['name']} at {row['start_hex']} is missing"
        assert table[key].provenance.value == row["status"], row["name"]


@pytest.mark.parametrize(
    "status",
    [
        "SEED",
        "VERIFIED",
        "VERIFIED-2100",
        "SEED+VERIFIED-2100",
        "VERIFIED+VERIFIED-2100",
        "VERIFIED-3P+VERIFIED-2100",
    ],
)
def test_seed_and_verified_addresses_are_kept_exactly(status: str) -> None:
    expected = {
        (r["space"], int(r["start_dec"]), int(r["count"])) for r in _rows() if r["status"] == status
    }
    kept = {
        (b.space.value, b.address, b.count)
        for b in REGISTER_MAP
        if b.provenance is Provenance(status)
    }
    assert expected
    assert kept == expected


def test_seed_facts_from_the_manual() -> None:
    """Spot checks typed from the manual itself, not from the CSV."""
    by = {(b.space, b.address): b for b in REGISTER_MAP}
    assert by[(Space.COIL, 0x0000)].provenance is Provenance.SEED  # relay 1, FC01/05
    assert by[(Space.DISCRETE_INPUT, 0x0000)].provenance is Provenance.SEED  # DI1, FC02
    assert by[(Space.HOLDING, 0x1054)].key == "clock_year"
    assert by[(Space.HOLDING, 0x0889)].key == "ct_primary_ch1"
    assert by[(Space.HOLDING, 0x2500)].scale == pytest.approx(0.1)  # 0.1 kWh per count


def test_blocks_do_not_overlap() -> None:
    for space in Space:
        blocks = sorted((b for b in REGISTER_MAP if b.space is space), key=lambda b: b.address)
        for a, b in itertools.pairwise(blocks):
            assert a.end <= b.address, f"{a.key} overlaps {b.key}"


# Typed from the vendor-derived sources themselves (gzh3797-del/pytest_gzh,
# Protocols/devices/acurev2100.py @6e55e0c and the AcuRev2100 General-Settings
# test), not from our CSV: a row moved by mistake fails here.
VENDOR_FACTS = [
    (0x201A, "psum", 2),
    (0x2020, "pfsum", 2),
    (0x2024, "pa", 2),
    (0x2036, "pfa", 2),
    (0x2040, "load_nature_c", 2),
    (0x21D8, "user_record", 60),
    (0x2506 - 6, "import_active_energy_phases", 8),
    (0x2508, "import_active_energy_channels", 36),
    (0x252C, "import_active_energy_users", 12),
    (0x2B00, "import_reactive_energy_bank", 56),
    (0x2B38, "apparent_energy_bank", 56),
    (0x2D00, "demand_system", 27),
    (0x2D1B, "demand_phase", 108),
    (0x2D87, "demand_channel", 648),
    (0x300F, "demand_user", 162),
    (0x3200, "voltage_unbalance", 1),
    (0x3205, "ua_harmonic", 30),
    (0x3300, "channel_harmonic", 558),
    (0x080A, "demand_method", 1),  # 2058 in S10
    (0x0835, "var_calc_method", 1),  # 2101
    (0x0887, "rated_voltage", 1),  # 2183
    (0x0888, "wiring_mode", 1),  # 2184
    (0x0889, "ct_primary_ch1", 1),  # 2185; channels 1-18 at 2185-2202
]


@pytest.mark.parametrize(("address", "key", "count"), VENDOR_FACTS)
def test_vendor_addresses(address: int, key: str, count: int) -> None:
    by = {(b.space, b.address): b for b in REGISTER_MAP}
    blk = by[(Space.HOLDING, address)]
    assert (blk.key, blk.count) == (key, count)
    assert blk.provenance.evidence_backed


def test_user_record_is_ten_registers() -> None:
    user = next(b for b in REGISTER_MAP if b.key == "user_record")
    assert user.record == 10
    assert user.address + 6 * user.record == 0x2214  # users 7-9 of the 2100 start here


def test_unknown_rows_are_never_planned_and_design_never_shares_a_read_with_evidence() -> None:
    unknown = [b for b in REGISTER_MAP if b.provenance is Provenance.UNKNOWN]
    # 0x2214/0x2538/0x2B70 became the 2100's users 7-9 rows (issue #15); 0x2232 and 0x253E
    # are what is left of those UNKNOWN ranges.
    assert len(unknown) == 9
    segments = plan_segments(Space.HOLDING)
    for blk in unknown:
        assert not any(s < blk.end and blk.address < e for s, e in segments), blk.key
    by_address = sorted(
        (b for b in REGISTER_MAP if b.space is Space.HOLDING and not b.reserved),
        key=lambda b: b.address,
    )
    for start, end in segments:
        inside = {b.provenance.evidence_backed for b in by_address if start <= b.address < end}
        assert len(inside) <= 1, f"segment 0x{start:04X} mixes design and evidence"
    # the whole 0x2000 table and the identity block never end up in one request
    plan = plan_reads(["f", "serial_number"])
    assert len(plan) == 2


# The AcuRev 2100's users 7-9, typed from S9 (acurev2100.py @6e55e0c: s007-s009 records at
# 0x21D8 + 10(u-1), EP_IMP at 0x252C + 2(u-1), EQ_IMP at 0x2B70, ES at 0x2B76), not from the CSV.
USERS_7_9_FACTS = [
    ("user_record_2100", 0x21D8 + 10 * 6, 30),
    ("import_active_energy_users_2100", 0x252C + 2 * 6, 6),
    ("import_reactive_energy_users_2100", 0x2B70, 6),
    ("apparent_energy_users_2100", 0x2B76, 6),
]


@pytest.mark.parametrize(("key", "address", "count"), USERS_7_9_FACTS)
def test_2100_user_rows_are_tagged_for_the_2100_only(key: str, address: int, count: int) -> None:
    blk = next(b for b in REGISTER_MAP if b.key == key)
    assert (blk.address, blk.count) == (address, count)
    assert blk.provenance is Provenance.VERIFIED_2100
    assert blk.on_model("2100")
    assert not blk.on_model("2020")


def test_csv_model_column_matches_the_table() -> None:
    by = {(b.space.value, b.address): b for b in REGISTER_MAP}
    rows = _rows()
    assert {r["model"] for r in rows} == {"", "2100"}
    for row in rows:
        assert by[(row["space"], int(row["start_dec"]))].model == row["model"], row["name"]


def test_the_csv_keeps_crlf_line_endings() -> None:
    raw = CSV.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") > 200

"""The register table follows the reference row for row; SEED/VERIFIED addresses exactly."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from pyacurev.registers import REGISTER_MAP, Provenance, Space

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


@pytest.mark.parametrize("status", ["SEED", "VERIFIED", "VERIFIED (partial)", "VERIFIED-3P"])
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

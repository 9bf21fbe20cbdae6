"""The response-frame gate: what reaches pymodbus's decoder, byte by byte.

Frames here are built by hand from the Modbus TCP spec, not with the code
under test, so a shared misunderstanding cannot make both sides agree.
"""

from __future__ import annotations

import struct

import pytest

from pyacurev.client import check_response

pytestmark = pytest.mark.protocol


def adu(tid: int, unit: int, pdu: bytes, pid: int = 0, length: int | None = None) -> bytes:
    return struct.pack(">HHHB", tid, pid, len(pdu) + 1 if length is None else length, unit) + pdu


READ = adu(7, 1, struct.pack(">BHH", 3, 0x2000, 2))
GOOD = adu(7, 1, bytes([3, 4, 0x42, 0x48, 0, 0]))


def test_good_answers_pass() -> None:
    assert check_response(READ, GOOD) == ""
    assert check_response(READ, adu(7, 1, bytes([0x83, 2]))) == ""  # exception answer
    coils = adu(9, 1, struct.pack(">BHH", 1, 0, 8))
    assert check_response(coils, adu(9, 1, bytes([1, 1, 0x05]))) == ""
    ten_bits = adu(9, 1, struct.pack(">BHH", 2, 0, 10))
    assert check_response(ten_bits, adu(9, 1, bytes([2, 2, 0xFF, 0x03]))) == ""
    fc05 = adu(3, 1, struct.pack(">BHH", 5, 2, 0xFF00))
    assert check_response(fc05, fc05) == ""
    fc16 = adu(4, 1, struct.pack(">BHHB", 16, 0x1054, 6, 12) + bytes(12))
    assert check_response(fc16, adu(4, 1, struct.pack(">BHH", 16, 0x1054, 6))) == ""


def test_incomplete_answers_wait() -> None:
    for cut in range(len(GOOD)):
        assert check_response(READ, GOOD[:cut]) is None, cut


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        (adu(8, 1, bytes([3, 4, 0, 0, 0, 0])), "transaction id"),
        (adu(7, 1, bytes([3, 4, 0, 0, 0, 0]), pid=1), "protocol id"),
        (adu(7, 2, bytes([3, 4, 0, 0, 0, 0])), "unit id"),
        (adu(7, 1, bytes([4, 4, 0, 0, 0, 0])), "function code"),
        (adu(7, 1, bytes([0x84, 2])), "function code"),
        (adu(7, 1, bytes([3, 2, 0, 0])), "byte count"),
        (adu(7, 1, bytes([3, 6, 0, 0, 0, 0])), "byte count 6"),
        (adu(7, 1, bytes([3, 4, 0, 0, 0, 0, 0, 0])), "6 data bytes"),
        (adu(7, 1, bytes([3, 4, 0, 0, 0, 0])) + b"\x00", "after the frame"),
        (adu(7, 1, bytes([3]), length=1), "MBAP length"),
        (adu(7, 1, bytes([0x83, 2, 0])), "exception response of 3 bytes"),
    ],
)
def test_malformed_answers_are_named(frame: bytes, why: str) -> None:
    verdict = check_response(READ, frame)
    assert verdict
    assert why in verdict


def test_write_answers_must_echo() -> None:
    fc05 = adu(3, 1, struct.pack(">BHH", 5, 2, 0xFF00))
    assert "echo" in (check_response(fc05, adu(3, 1, struct.pack(">BHH", 5, 2, 0))) or "")
    fc16 = adu(4, 1, struct.pack(">BHHB", 16, 0x1054, 6, 12) + bytes(12))
    assert "echo" in (check_response(fc16, adu(4, 1, struct.pack(">BHH", 16, 0x1054, 5))) or "")
    # a bit read answered with too few bytes for the quantity
    ten_bits = adu(9, 1, struct.pack(">BHH", 2, 0, 10))
    assert "byte count" in (check_response(ten_bits, adu(9, 1, bytes([2, 1, 0xFF]))) or "")

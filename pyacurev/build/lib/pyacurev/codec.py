"""Conversions between Modbus registers and Python values, both directions.

The client decodes with these and the simulator encodes with them, so a
mistake shows up as a disagreement with the simulator's ground truth only if
the two sides use the map differently — which is what the tests look for.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from datetime import datetime

from .registers import WordOrder

_U16 = 0xFFFF


def _words(hi: int, lo: int, order: WordOrder) -> tuple[int, int]:
    return (hi, lo) if order is WordOrder.HIGH_FIRST else (lo, hi)


def decode_uint32(regs: Sequence[int], order: WordOrder = WordOrder.HIGH_FIRST) -> int:
    """Two registers to an unsigned 32-bit integer."""
    hi, lo = _words(regs[0], regs[1], order)
    return (hi << 16) | lo


def encode_uint32(value: int, order: WordOrder = WordOrder.HIGH_FIRST) -> list[int]:
    """An unsigned 32-bit integer to two registers (ValueError outside 0..2**32-1)."""
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"uint32 out of range: {value}")
    return list(_words(value >> 16, value & _U16, order))


def decode_float32(regs: Sequence[int], order: WordOrder = WordOrder.HIGH_FIRST) -> float:
    """Two registers (IEEE-754 single, ABCD by default) to a float."""
    hi, lo = _words(regs[0], regs[1], order)
    value: float = struct.unpack(">f", struct.pack(">HH", hi, lo))[0]
    return value


def encode_float32(value: float, order: WordOrder = WordOrder.HIGH_FIRST) -> list[int]:
    """A float to two registers."""
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return list(_words(hi, lo, order))


def decode_int16(reg: int) -> int:
    """One register to a signed 16-bit integer."""
    return reg - 0x10000 if reg & 0x8000 else reg


def decode_ascii(regs: Sequence[int]) -> str:
    """Registers holding two characters each (high byte first), NUL/space padded."""
    raw = b"".join(struct.pack(">H", r) for r in regs)
    return raw.split(b"\x00", 1)[0].decode("ascii", errors="replace").strip()


def encode_ascii(text: str, registers: int) -> list[int]:
    """Text to ``registers`` registers, NUL padded (ValueError when it does not fit)."""
    raw = text.encode("ascii")
    if len(raw) > 2 * registers:
        raise ValueError(f"{text!r} does not fit in {registers} registers")
    raw = raw.ljust(2 * registers, b"\x00")
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


def decode_time3(regs: Sequence[int]) -> datetime | None:
    """Accuenergy 3-register packed time: (yy<<8|mm), (dd<<8|hh), (mi<<8|ss); yy = year-2000.

    All-zero means "never" (a peak that has not happened yet); an impossible
    date is treated the same way rather than raising, because one bad record
    must not take down a whole poll.
    """
    if not any(regs[:3]):
        return None
    yy, mo = regs[0] >> 8, regs[0] & 0xFF
    dd, hh = regs[1] >> 8, regs[1] & 0xFF
    mi, ss = regs[2] >> 8, regs[2] & 0xFF
    try:
        return datetime(2000 + yy, mo, dd, hh, mi, ss)
    except ValueError:
        return None


def encode_time3(when: datetime | None) -> list[int]:
    """A naive datetime to the 3-register packed time (None: three zeros)."""
    if when is None:
        return [0, 0, 0]
    return [
        ((when.year - 2000) << 8) | when.month,
        (when.day << 8) | when.hour,
        (when.minute << 8) | when.second,
    ]


def decode_time7(regs: Sequence[int]) -> datetime | None:
    """7-register time: year, month, day, hour, minute, second, millisecond."""
    if not any(regs[:7]):
        return None
    try:
        return datetime(regs[0], regs[1], regs[2], regs[3], regs[4], regs[5], regs[6] * 1000)
    except ValueError:
        return None


def encode_time7(when: datetime | None) -> list[int]:
    """A naive datetime to the 7-register time."""
    if when is None:
        return [0] * 7
    return [
        when.year,
        when.month,
        when.day,
        when.hour,
        when.minute,
        when.second,
        when.microsecond // 1000,
    ]


def decode_clock6(regs: Sequence[int]) -> datetime | None:
    """The 6-register device clock at 0x1054 (full year first)."""
    try:
        return datetime(regs[0], regs[1], regs[2], regs[3], regs[4], regs[5])
    except ValueError:
        return None


def encode_clock6(when: datetime) -> list[int]:
    """A naive datetime to the 6 clock registers."""
    return [when.year, when.month, when.day, when.hour, when.minute, when.second]


def finite(value: float) -> float | None:
    """A float that is a number, or None (NaN/inf registers are not data)."""
    return value if math.isfinite(value) else None

"""Draw the integration's 256x256 brand icon (a meter dial with a bolt) without any imaging library.

Run: python scripts/make_icon.py  ->  custom_components/acurev/brand/icon.png
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

SIZE = 256
OUT = Path(__file__).resolve().parent.parent / "custom_components/acurev/brand/icon.png"

BLUE = (0, 94, 184)
ORANGE = (255, 166, 0)
WHITE = (255, 255, 255)


def _inside_bolt(x: float, y: float) -> bool:
    # A lightning bolt as two triangles, in a 256 box.
    def tri(
        p: tuple[float, float],
        a: tuple[float, float],
        b: tuple[float, float],
        c: tuple[float, float],
    ) -> bool:
        def s(p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]) -> float:
            return (p1[0] - p3[0]) * (p2[1] - p3[1]) - (p2[0] - p3[0]) * (p1[1] - p3[1])

        d1, d2, d3 = s(p, a, b), s(p, b, c), s(p, c, a)
        neg = d1 < 0 or d2 < 0 or d3 < 0
        pos = d1 > 0 or d2 > 0 or d3 > 0
        return not (neg and pos)

    p = (x, y)
    return tri(p, (150, 40), (88, 140), (136, 140)) or tri(p, (120, 116), (168, 116), (106, 216))


def pixel(x: int, y: int) -> tuple[int, int, int, int]:
    cx = cy = SIZE / 2
    r = math.hypot(x + 0.5 - cx, y + 0.5 - cy)
    if r > 124:
        return (0, 0, 0, 0)
    if _inside_bolt(x + 0.5, y + 0.5):
        return (*ORANGE, 255)
    if r > 108:
        return (*BLUE, 255)
    return (*WHITE, 255) if r < 100 else (*BLUE, 255)


def png(width: int, height: int) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(struct.pack("BBBB", *pixel(x, y)) for x in range(width))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(png(SIZE, SIZE))
    print(OUT)

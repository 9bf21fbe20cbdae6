"""Text from the network as it may appear in a log line.

A peer chooses the bytes of a URL path, an SNMP community or a BACnet character string. Logged
as they are, a newline forges a log line and an escape sequence rewrites the operator's
terminal. Everything a peer sent passes through :func:`escape` before it reaches a log: ASCII
only, control and non-ASCII characters as Python escapes, cut to a bounded length.
"""

from __future__ import annotations

LIMIT = 120  # characters of peer text kept in one log line


def escape(value: object, limit: int = LIMIT) -> str:
    """``value`` as printable ASCII (quoted, escaped), at most about ``limit`` characters."""
    if isinstance(value, bytes | bytearray | memoryview):
        text: str = bytes(value[: limit + 1]).decode("latin-1")
    else:
        text = str(value)[: limit + 1]
    cut = len(text) > limit
    shown = ascii(text[:limit])
    return f"{shown}..." if cut else shown

"""Typed errors of the protocol layer.

Callers must tell "the meter is not there" (retry later, mark unavailable) from
"the meter answered no" (a Modbus exception: wrong address or value, do not
retry blindly) from "the answer is not data" (garbled frame): each needs a
different reaction, so each is its own type.
"""

from __future__ import annotations


class AcuRevError(Exception):
    """Base class of every error this package raises."""


class AcuRevConnectionError(AcuRevError):
    """No usable transport: refused, reset, closed or unreachable."""


class AcuRevTimeoutError(AcuRevConnectionError):
    """The meter did not answer within the timeout."""


class AcuRevProtocolError(AcuRevError):
    """The answer arrived but is not valid data (short, garbled or mis-sized)."""


class ModbusExceptionError(AcuRevError):
    """The meter answered with a Modbus exception response."""

    NAMES = {
        1: "illegal function",
        2: "illegal data address",
        3: "illegal data value",
        4: "server device failure",
        5: "acknowledge",
        6: "server device busy",
        10: "gateway path unavailable",
        11: "gateway target failed to respond",
    }

    def __init__(self, function_code: int, exception_code: int, address: int | None = None) -> None:
        """Remember what was asked and what the meter said."""
        self.function_code = function_code
        self.exception_code = exception_code
        self.address = address
        name = self.NAMES.get(exception_code, "unknown")
        where = f" at 0x{address:04X}" if address is not None else ""
        super().__init__(
            f"Modbus exception {exception_code} ({name}) for function {function_code}{where}"
        )


class AcuRevIdentityError(AcuRevError):
    """A different meter (serial number) answers at the configured address."""

    def __init__(self, expected: str, found: str) -> None:
        """Name both serial numbers."""
        self.expected = expected
        self.found = found
        super().__init__(f"expected meter {expected!r}, found {found!r}")


class AcuRevValueError(AcuRevError, ValueError):
    """A write was refused before it was sent: the value is out of range."""

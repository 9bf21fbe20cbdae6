"""The one error the meter model raises towards the Modbus layer."""

from __future__ import annotations

ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
SERVER_DEVICE_FAILURE = 0x04
GATEWAY_TARGET_FAILED = 0x0B


class ModbusError(Exception):
    """A request the meter refuses; ``code`` is the Modbus exception code to answer."""

    def __init__(self, code: int, reason: str) -> None:
        """Remember the exception code and say why (for logs and test failures)."""
        super().__init__(f"exception {code:#04x}: {reason}")
        self.code = code
        self.reason = reason

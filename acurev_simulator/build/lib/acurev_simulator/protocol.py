"""Modbus PDUs: parse a request, run it against the meter, build the reply.

Function codes 01, 02, 03, 05 and 16; anything else answers 01. Checks follow
the Modbus application protocol's order (function, then quantity, then
address, then value) with the meter's rules from section 6.3:

* 03: FC01/02 quantity outside 1..2000; FC03 outside 1..125; FC16 outside
  1..123 or a byte count that is not 2 x quantity (or not the bytes sent);
  FC05 value other than FF00/0000; a split 32-bit value; a bad setting value;
  a command register written with anything but 0x000A (clear_di_counters: a bitmask);
* 02: any address outside every mapped run (relays/DIs above 7 included) and
  writes to read-only registers;
* 04: forcing a relay that follows alarms (relay_mode_bitmap bit = 1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pyacurev.registers import (
    MAX_READ_REGISTERS,
    MAX_WRITE_REGISTERS,
    Space,
)

from .errors import ILLEGAL_DATA_VALUE, ILLEGAL_FUNCTION, ModbusError
from .meter import MeterModel

READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
READ_HOLDING_REGISTERS = 0x03
WRITE_SINGLE_COIL = 0x05
WRITE_MULTIPLE_REGISTERS = 0x10
READ_FUNCTIONS = frozenset({READ_COILS, READ_DISCRETE_INPUTS, READ_HOLDING_REGISTERS})
MAX_READ_BITS = 2000
COIL_ON, COIL_OFF = 0xFF00, 0x0000

SPACES: dict[int, Space] = {
    READ_COILS: Space.COIL,
    WRITE_SINGLE_COIL: Space.COIL,
    READ_DISCRETE_INPUTS: Space.DISCRETE_INPUT,
    READ_HOLDING_REGISTERS: Space.HOLDING,
    WRITE_MULTIPLE_REGISTERS: Space.HOLDING,
}


@dataclass(frozen=True, slots=True)
class Request:
    """What a request asks for (None fields when the PDU is too short to say)."""

    function: int
    address: int | None = None
    count: int | None = None

    @property
    def space(self) -> Space | None:
        """Data space the function code addresses."""
        return SPACES.get(self.function)

    @property
    def is_read(self) -> bool:
        """FC01/02/03."""
        return self.function in READ_FUNCTIONS


def parse(pdu: bytes) -> Request:
    """Function code, start address and quantity of a request PDU."""
    fc = pdu[0]
    if len(pdu) < 5:
        return Request(fc)
    address, second = struct.unpack(">HH", pdu[1:5])
    count = 1 if fc == WRITE_SINGLE_COIL else second
    return Request(fc, address, count)


def exception_pdu(function: int, code: int) -> bytes:
    """An exception reply."""
    return bytes([function | 0x80, code])


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply PDU and how many registers/bits it served."""

    pdu: bytes
    registers: int = 0
    bits: int = 0
    exception: int | None = None


def handle(meter: MeterModel, pdu: bytes) -> Reply:
    """Run one request PDU against ``meter``."""
    fc = pdu[0]
    try:
        if fc in (READ_COILS, READ_DISCRETE_INPUTS):
            return _read_bits(meter, fc, pdu)
        if fc == READ_HOLDING_REGISTERS:
            return _read_registers(meter, pdu)
        if fc == WRITE_SINGLE_COIL:
            return _write_coil(meter, pdu)
        if fc == WRITE_MULTIPLE_REGISTERS:
            return _write_registers(meter, pdu)
        raise ModbusError(ILLEGAL_FUNCTION, f"function {fc} not supported")
    except ModbusError as err:
        return Reply(exception_pdu(fc, err.code), exception=err.code)


def _fields(pdu: bytes, size: int) -> tuple[int, int]:
    if len(pdu) != size:
        raise ModbusError(ILLEGAL_DATA_VALUE, f"PDU of {len(pdu)} bytes, expected {size}")
    first, second = struct.unpack(">HH", pdu[1:5])
    return first, second


def _read_bits(meter: MeterModel, fc: int, pdu: bytes) -> Reply:
    address, count = _fields(pdu, 5)
    if not 1 <= count <= MAX_READ_BITS:
        raise ModbusError(ILLEGAL_DATA_VALUE, f"bit quantity {count}")
    space = Space.COIL if fc == READ_COILS else Space.DISCRETE_INPUT
    bits = meter.read_bits(space, address, count)
    data = bytearray((count + 7) // 8)
    for i, on in enumerate(bits):
        if on:
            data[i // 8] |= 1 << (i % 8)
    return Reply(bytes([fc, len(data)]) + bytes(data), bits=count)


def _read_registers(meter: MeterModel, pdu: bytes) -> Reply:
    address, count = _fields(pdu, 5)
    if not 1 <= count <= MAX_READ_REGISTERS:
        raise ModbusError(ILLEGAL_DATA_VALUE, f"register quantity {count}")
    regs = meter.read_registers(address, count)
    return Reply(
        bytes([READ_HOLDING_REGISTERS, 2 * count]) + struct.pack(f">{count}H", *regs),
        registers=count,
    )


def _write_coil(meter: MeterModel, pdu: bytes) -> Reply:
    address, value = _fields(pdu, 5)
    if value not in (COIL_ON, COIL_OFF):
        raise ModbusError(ILLEGAL_DATA_VALUE, f"FC05 value {value:#06x}")
    meter.write_coil(address, value == COIL_ON)
    return Reply(bytes(pdu), bits=1)


def _write_registers(meter: MeterModel, pdu: bytes) -> Reply:
    if len(pdu) < 6:
        raise ModbusError(ILLEGAL_DATA_VALUE, "FC16 request too short")
    address, count = struct.unpack(">HH", pdu[1:5])
    byte_count = pdu[5]
    if not 1 <= count <= MAX_WRITE_REGISTERS or byte_count != 2 * count:
        raise ModbusError(ILLEGAL_DATA_VALUE, f"quantity {count}, byte count {byte_count}")
    if len(pdu) != 6 + byte_count:
        raise ModbusError(ILLEGAL_DATA_VALUE, "byte count does not match the data sent")
    values = list(struct.unpack(f">{count}H", pdu[6:]))
    meter.write_registers(address, values)
    return Reply(
        bytes([WRITE_MULTIPLE_REGISTERS]) + struct.pack(">HH", address, count), registers=count
    )

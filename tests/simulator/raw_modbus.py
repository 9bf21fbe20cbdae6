"""A tiny Modbus TCP client on raw sockets: checks the simulator independently.

Deliberately not pymodbus and not the integration's client, and it decodes
with ``struct`` only, so a misunderstanding shared by the simulator and the
protocol layer's codec cannot hide here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import struct
from dataclasses import dataclass
from datetime import datetime

HOST = "127.0.0.1"
MBAP = struct.Struct(">HHHB")


class ModbusExceptionReply(Exception):
    """The server answered with an exception PDU."""

    def __init__(self, function: int, code: int) -> None:
        super().__init__(f"function {function:#04x} exception {code:#04x}")
        self.function = function
        self.code = code


@dataclass(frozen=True)
class Frame:
    """A received MBAP frame."""

    tid: int
    pid: int
    length: int
    unit: int
    pdu: bytes


def frame(tid: int, unit: int, pdu: bytes, pid: int = 0) -> bytes:
    """MBAP header + PDU."""
    return MBAP.pack(tid, pid, len(pdu) + 1, unit) + pdu


def read_pdu(function: int, address: int, count: int) -> bytes:
    """FC01/02/03 request."""
    return struct.pack(">BHH", function, address, count)


def write_coil_pdu(address: int, value: int) -> bytes:
    """FC05 request with a raw value (FF00 on, 0000 off)."""
    return struct.pack(">BHH", 5, address, value)


def write_registers_pdu(
    address: int, values: list[int], *, quantity: int | None = None, byte_count: int | None = None
) -> bytes:
    """FC16 request; quantity/byte count can be falsified."""
    qty = len(values) if quantity is None else quantity
    bc = 2 * len(values) if byte_count is None else byte_count
    return struct.pack(">BHHB", 16, address, qty, bc) + struct.pack(f">{len(values)}H", *values)


def check(pdu: bytes, function: int) -> bytes:
    """Raise on an exception PDU; return the PDU otherwise."""
    if pdu[0] == function | 0x80:
        raise ModbusExceptionReply(function, pdu[1])
    assert pdu[0] == function, f"reply function {pdu[0]:#04x} for request {function:#04x}"
    return pdu


def registers_from(pdu: bytes) -> list[int]:
    """Registers of an FC03 reply (byte count checked)."""
    assert pdu[1] == len(pdu) - 2
    return list(struct.unpack(f">{pdu[1] // 2}H", pdu[2:]))


def bits_from(pdu: bytes, count: int) -> list[bool]:
    """Bits of an FC01/02 reply, LSB of the first byte first."""
    assert pdu[1] == (count + 7) // 8 == len(pdu) - 2
    return [bool(pdu[2 + i // 8] >> (i % 8) & 1) for i in range(count)]


# ---------------------------------------------------------------- value decoding for tests


def f32(regs: list[int], index: int = 0) -> float:
    """IEEE float, high word first, at ``regs[index:index+2]``."""
    return struct.unpack(">f", struct.pack(">HH", regs[index], regs[index + 1]))[0]


def f32s(regs: list[int]) -> list[float]:
    """Every float of a register list."""
    return [f32(regs, i) for i in range(0, len(regs), 2)]


def u32(regs: list[int], index: int = 0) -> int:
    """uint32, high word first."""
    return regs[index] << 16 | regs[index + 1]


def ascii_of(regs: list[int]) -> str:
    """Two characters per register, high byte first, NUL padded."""
    return b"".join(struct.pack(">H", r) for r in regs).rstrip(b"\0").decode()


def time3(regs: list[int]) -> datetime | None:
    """Packed (yy<<8|mm), (dd<<8|hh), (mi<<8|ss); zeros = never."""
    if not any(regs[:3]):
        return None
    return datetime(
        2000 + (regs[0] >> 8),
        regs[0] & 0xFF,
        regs[1] >> 8,
        regs[1] & 0xFF,
        regs[2] >> 8,
        regs[2] & 0xFF,
    )


def time7(regs: list[int]) -> datetime | None:
    """year, month, day, hour, minute, second, millisecond."""
    if not any(regs[:7]):
        return None
    return datetime(*regs[:6], regs[6] * 1000)


def words_of_float(value: float) -> list[int]:
    """A float as two registers, high word first."""
    return list(struct.unpack(">HH", struct.pack(">f", value)))


# ---------------------------------------------------------------- clients


class RawClient:
    """asyncio client: one connection, strictly request/response unless told otherwise."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._tids = itertools.count(1)
        self.unit = 1

    @classmethod
    async def connect(cls, port: int, host: str = HOST) -> RawClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive(self, within: float = 2.0) -> Frame:
        """One frame, trusting its MBAP length."""
        header = await asyncio.wait_for(self.reader.readexactly(MBAP.size), within)
        tid, pid, length, unit = MBAP.unpack(header)
        pdu = await asyncio.wait_for(self.reader.readexactly(length - 1), within)
        return Frame(tid, pid, length, unit, pdu)

    async def receive_bytes(self, within: float = 0.3) -> bytes:
        """Whatever arrives until ``within`` seconds pass without more data."""
        data = b""
        while True:
            try:
                chunk = await asyncio.wait_for(self.reader.read(1024), within)
            except TimeoutError:
                return data
            if not chunk:
                return data
            data += chunk

    async def closed_by_peer(self, within: float = 2.0) -> bool:
        """True when the server closes the connection (EOF or reset)."""
        try:
            return await asyncio.wait_for(self.reader.read(1), within) == b""
        except ConnectionError:
            return True

    async def transact(self, pdu: bytes, *, unit: int | None = None) -> Frame:
        tid = next(self._tids) & 0xFFFF
        await self.send(frame(tid, self.unit if unit is None else unit, pdu))
        reply = await self.receive()
        assert reply.tid == tid, f"tid {reply.tid} for request {tid}"
        assert reply.pid == 0
        assert reply.length == len(reply.pdu) + 1
        return reply

    async def read_registers(self, address: int, count: int, **kw: object) -> list[int]:
        reply = await self.transact(read_pdu(3, address, count), **kw)  # type: ignore[arg-type]
        regs = registers_from(check(reply.pdu, 3))
        assert len(regs) == count
        return regs

    async def read_many(self, address: int, count: int) -> list[int]:
        """A long span in reads of at most 125 registers."""
        out: list[int] = []
        while count:
            n = min(count, 125)
            out += await self.read_registers(address, n)
            address += n
            count -= n
        return out

    async def read_bits(self, function: int, address: int, count: int) -> list[bool]:
        reply = await self.transact(read_pdu(function, address, count))
        return bits_from(check(reply.pdu, function), count)

    async def write_coil(self, address: int, on: bool) -> None:
        pdu = write_coil_pdu(address, 0xFF00 if on else 0)
        reply = await self.transact(pdu)
        assert check(reply.pdu, 5) == pdu

    async def write_registers(self, address: int, values: list[int]) -> None:
        reply = await self.transact(write_registers_pdu(address, values))
        assert check(reply.pdu, 16) == struct.pack(">BHH", 16, address, len(values))

    async def exception_of(self, pdu: bytes, **kw: object) -> int:
        """The exception code the server answers ``pdu`` with (fails if it succeeds)."""
        reply = await self.transact(pdu, **kw)  # type: ignore[arg-type]
        assert reply.pdu[0] == pdu[0] | 0x80, f"expected an exception, got {reply.pdu.hex()}"
        assert len(reply.pdu) == 2
        return reply.pdu[1]


class SyncRawClient:
    """Blocking-socket variant for a server in another process."""

    def __init__(self, port: int, host: str = HOST, unit: int = 1) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.unit = unit
        self._tids = itertools.count(1)

    def close(self) -> None:
        self.sock.close()

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _read_pdu(self, address: int, count: int) -> bytes:
        tid = next(self._tids)
        self.sock.sendall(frame(tid, self.unit, read_pdu(3, address, count)))
        rtid, pid, length, unit = MBAP.unpack(self._exactly(MBAP.size))
        pdu = self._exactly(length - 1)
        assert (rtid, pid, unit) == (tid, 0, self.unit)
        return pdu

    def read_registers(self, address: int, count: int) -> list[int]:
        return registers_from(check(self._read_pdu(address, count), 3))

    def read_exception(self, address: int, count: int) -> int:
        """The exception code an FC03 read is answered with (fails if it succeeds)."""
        pdu = self._read_pdu(address, count)
        assert pdu[0] == 0x83, f"expected an exception, got {pdu.hex()}"
        assert len(pdu) == 2
        return pdu[1]

"""Async Modbus TCP client for the AcuRev 2020, on pymodbus ``AsyncModbusTcpClient``.

Design (why, not what):

* One TCP connection and one ``asyncio.Lock``: meters accept few TCP clients
  and answer one request at a time; queuing here keeps a poll and a relay
  write from interleaving on the wire.
* Every request is bounded by ``asyncio.timeout`` and pymodbus's own retries
  are off, so "the meter did not answer within N s" is decided here, once.
* After any transport error, timeout or garbled answer the connection is
  closed and the next call reconnects: a late or partial answer left in the
  socket would otherwise be read as the answer to the next request.
* After every (re)connect the serial number is read: an IP address re-assigned
  to a different meter must be an error, not a jump in someone's energy data.
  The serial sits in a DESIGNED register, so a meter that answers it with an
  exception or with no plausible serial is still served (there is then nothing
  to compare; ``serial`` stays None) — never refused for our design.
* Reads are planned per provenance class (see ``registers.plan_segments``); when
  a request of a snapshot fails with a Modbus exception or a malformed answer,
  the snapshot falls back to group by group, so one refused block group makes
  only that group fail (``Snapshot.failed_groups``), not the whole poll.
* Each response frame is checked byte by byte against the request it answers
  (transaction id, protocol id, unit id, function code, byte count, echo)
  before pymodbus decodes it, because pymodbus versions differ in what they
  accept (3.8 does not compare transaction ids; neither looks at the byte
  count of a bit read). Anything but a well-formed answer raises
  ``AcuRevProtocolError`` and never reaches a decoder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar

from . import compat
from .codec import decode_ascii, encode_clock6
from .commands import ALL_DI_MASK, Command, command_value
from .decoders import decode_device_info, decode_snapshot, plausible_serial
from .errors import (
    AcuRevConnectionError,
    AcuRevError,
    AcuRevIdentityError,
    AcuRevProtocolError,
    AcuRevTimeoutError,
    AcuRevValueError,
    ModbusExceptionError,
)
from .groups import GROUP_BITS, GROUP_BLOCKS, NEEDS_DEVICE, ReadGroup, bit_range, group_spans
from .image import RegisterImage
from .models import DeviceInfo, Snapshot
from .planner import Span, plan_reads
from .registers import (
    CHANNEL_COUNT,
    MAX_READ_REGISTERS,
    MAX_WRITE_REGISTERS,
    REGISTER_MAP,
    RELAY_COUNT,
    Space,
    block,
)

__all__ = ["AcuRevClient", "ClientStats", "Command", "check_response"]

_T = TypeVar("_T")

FC_READ_COILS = 1
FC_READ_DISCRETE_INPUTS = 2
FC_READ_HOLDING = 3
FC_WRITE_COIL = 5
FC_WRITE_REGISTERS = 16
_MAX_BITS = 2000  # Modbus limit for FC01/FC02
_MBAP = 7  # transaction id, protocol id, length, unit id
_MAX_CONSECUTIVE_LINK_FAILURES = 3
# Modbus exceptions a TCP gateway sends for a unit id it cannot reach (path / target).
GATEWAY_EXCEPTIONS = frozenset({0x0A, 0x0B})
# Blocks whose values must not end up in diagnostics.
SECRET_BLOCKS: frozenset[str] = frozenset({"meter_password"})


# --------------------------------------------------------------------------- frame check


def check_response(request: bytes, data: bytes) -> str | None:
    """Judge the bytes received so far against the request ADU they should answer.

    Returns ``None`` while the answer is still incomplete, ``""`` when it is a
    well-formed answer (data or a Modbus exception), or a description of what
    is wrong. Checks only what a correct answer must satisfy, so it never
    rejects a good frame.
    """
    n = len(data)
    if n >= 2 and data[0:2] != request[0:2]:
        return (
            f"transaction id {int.from_bytes(data[0:2], 'big')} does not match "
            f"request {int.from_bytes(request[0:2], 'big')}"
        )
    if n >= 4 and data[2:4] != b"\x00\x00":
        return f"protocol id {int.from_bytes(data[2:4], 'big')} is not 0"
    if n < 6:
        return None
    length = int.from_bytes(data[4:6], "big")
    if not 2 <= length <= 254:
        return f"MBAP length {length} impossible"
    if n >= _MBAP and data[6] != request[6]:
        return f"unit id {data[6]} does not match request {request[6]}"
    fc = request[7]
    if n >= 8 and data[7] not in (fc, fc | 0x80):
        return f"function code {data[7]} does not answer function {fc}"
    total = 6 + length
    if n < total:
        return None
    if n > total:
        return f"{n - total} bytes after the frame"
    pdu = data[_MBAP:]
    if pdu[0] == fc | 0x80:
        return "" if len(pdu) == 2 else f"exception response of {len(pdu)} bytes"
    if fc in (FC_READ_COILS, FC_READ_DISCRETE_INPUTS, FC_READ_HOLDING):
        count = int.from_bytes(request[10:12], "big")
        expected = 2 * count if fc == FC_READ_HOLDING else (count + 7) // 8
        if len(pdu) < 2 or pdu[1] != expected:
            got = pdu[1] if len(pdu) > 1 else "no"
            return f"byte count {got}, expected {expected}"
        if len(pdu) != 2 + expected:
            return f"{len(pdu) - 2} data bytes, byte count says {expected}"
        return ""
    if fc in (FC_WRITE_COIL, FC_WRITE_REGISTERS):
        # FC05 echoes address+value, FC16 echoes address+quantity.
        if pdu[1:] != request[8:12]:
            return "write response does not echo the request"
        return ""
    return ""


# --------------------------------------------------------------------------- stats


@dataclass(slots=True)
class ClientStats:
    """Counters since the client was created (diagnostics, benchmarks, tests)."""

    transactions: int = 0
    registers_read: int = 0
    registers_written: int = 0
    bits_read: int = 0
    bits_written: int = 0
    connects: int = 0
    reconnects: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def count_error(self, exc: BaseException) -> None:
        """Count one error under its class name."""
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly copy."""
        return {
            "transactions": self.transactions,
            "registers_read": self.registers_read,
            "registers_written": self.registers_written,
            "bits_read": self.bits_read,
            "bits_written": self.bits_written,
            "connects": self.connects,
            "reconnects": self.reconnects,
            "errors": dict(self.errors),
        }


class _Exchange:
    """The one request in flight: the bytes sent and how it ended early, if it did."""

    __slots__ = ("done", "error", "request", "rx_seen")

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.request = b""
        self.rx_seen = False
        self.error: AcuRevError | None = None

    def fail(self, error: AcuRevError) -> None:
        if self.error is None:
            self.error = error
        if not self.done.done():
            self.done.set_result(None)


# --------------------------------------------------------------------------- client


class AcuRevClient:
    """One AcuRev 2020 meter over Modbus TCP."""

    def __init__(
        self,
        host: str,
        port: int = 502,
        unit_id: int = 1,
        *,
        timeout: float = 3.0,
        expected_serial: str | None = None,
    ) -> None:
        """Remember where the meter is; nothing is opened until first use."""
        if not 0 <= unit_id <= 255:
            raise AcuRevValueError(f"unit id {unit_id} outside 0..255")
        if timeout <= 0:
            raise AcuRevValueError("timeout must be positive")
        self._host = host
        self._port = port
        self._unit_id = unit_id
        self._timeout = timeout
        self._expected_serial = expected_serial
        self._lock = asyncio.Lock()
        self._mb: compat.AsyncModbusTcpClient | None = None
        self._exchange: _Exchange | None = None
        self._serial: str | None = None
        # Set when bytes arrive with no request outstanding: the stream is out of step.
        self._stale = False
        # True once this connection's serial number has been read (and matched).
        self._identified = False
        self.stats = ClientStats()
        # The latest answer of each holding-register read, by start address: what the meter
        # really sent, kept for bug reports without reading anything again (bounded by the
        # number of distinct reads: the plan's runs and discovery's per-block reads).
        self._answers: dict[int, list[int]] = {}
        # The latest refusal of a holding read, by start address: (count, "exception NN").
        self._refusals: dict[int, tuple[int, str]] = {}

    # ------------------------------------------------------------------ properties

    @property
    def host(self) -> str:
        """Meter host name or address."""
        return self._host

    @property
    def port(self) -> int:
        """Meter TCP port."""
        return self._port

    @property
    def unit_id(self) -> int:
        """Modbus unit id."""
        return self._unit_id

    @property
    def timeout(self) -> float:
        """Per-request timeout in seconds."""
        return self._timeout

    @property
    def connected(self) -> bool:
        """True while a TCP connection is open."""
        return self._mb is not None and self._mb.connected

    @property
    def serial(self) -> str | None:
        """Serial number read on the last connect (None before the first)."""
        return self._serial

    # ------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        """Open the connection and check identity now rather than on first use."""
        await self._run(self._ensure_connected)

    async def close(self) -> None:
        """Close the connection; the next call reconnects."""
        self._drop()

    async def __aenter__(self) -> Self:
        """Connect on entry."""
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close on exit."""
        await self.close()

    # ------------------------------------------------------------------ reads

    async def read_holding(self, address: int, count: int) -> list[int]:
        """One FC03 request."""
        _check_range(address, count, MAX_READ_REGISTERS)
        return await self._run(lambda: self._read_holding(address, count))

    async def read_coils(self, address: int, count: int) -> list[bool]:
        """One FC01 request (relays)."""
        _check_range(address, count, _MAX_BITS)
        return await self._run(lambda: self._read_bits(FC_READ_COILS, address, count))

    async def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        """One FC02 request (digital inputs)."""
        _check_range(address, count, _MAX_BITS)
        return await self._run(lambda: self._read_bits(FC_READ_DISCRETE_INPUTS, address, count))

    async def read_image(self, block_keys: Iterable[str | Span]) -> RegisterImage:
        """Read blocks (or spans) with the fewest requests the map allows.

        Holding-register blocks go through the planner; coil / discrete-input
        blocks are read with one FC01 / FC02 each.
        """
        holding: list[str | Span] = []
        bits: dict[Space, list[str]] = {Space.COIL: [], Space.DISCRETE_INPUT: []}
        for item in block_keys:
            if isinstance(item, str) and block(item).space is not Space.HOLDING:
                bits[block(item).space].append(item)
            else:
                holding.append(item)
        image = RegisterImage()
        for address, count in plan_reads(holding):
            image.add(address, await self.read_holding(address, count))
        for space, keys in bits.items():
            if keys:
                await self._read_bits_into(image, space, tuple(keys))
        return image

    async def read_device_info(self) -> DeviceInfo:
        """Identity, wiring, CT type and installed channels, from whatever answers.

        Each block of the DEVICE (designed) and BUILD (evidence) groups is read on
        its own terms; a block that answers an exception just leaves its fields
        at their fallback (see ``decoders.decode_device_info``).
        """
        await self.connect()  # no connection at all (or a gateway refusing the unit): raise
        keys = [*GROUP_BLOCKS[ReadGroup.DEVICE], *GROUP_BLOCKS[ReadGroup.BUILD]]
        image, failures = await self.read_blocks_tolerant(keys)
        for error in failures.values():
            if isinstance(error, AcuRevConnectionError):
                raise error
        return decode_device_info(image)

    async def read_snapshot(
        self, groups: Iterable[ReadGroup], device: DeviceInfo | None = None
    ) -> Snapshot:
        """Read the groups with one plan for all their holding registers, then decode.

        Groups that need the wiring / channel count get BUILD (and DEVICE) added
        to the same plan when ``device`` is not given. If a request fails with a
        Modbus exception or a malformed answer, the groups are read one by one and
        those that fail are left out of the decoding and named in
        ``failed_groups``; when every group fails the first error is raised.
        Link errors (timeouts, lost connections) are raised at once.
        """
        wanted = set(groups)
        if device is None and wanted & NEEDS_DEVICE:
            wanted |= {ReadGroup.DEVICE, ReadGroup.BUILD}
        image = RegisterImage()
        try:
            await self._read_groups_into(image, wanted, device)
        except (ModbusExceptionError, AcuRevProtocolError) as first_error:
            if len(wanted) == 1:
                raise
            image, failed = RegisterImage(), set[ReadGroup]()
            for group in sorted(wanted):
                part = RegisterImage()
                try:
                    await self._read_groups_into(part, {group}, device)
                except (ModbusExceptionError, AcuRevProtocolError):
                    failed.add(group)
                    continue
                image.merge(part)
            if failed >= wanted:
                raise first_error from None
            snap = decode_snapshot(image, wanted - failed, device)
            snap.failed_groups = frozenset(str(g) for g in failed)
            return snap
        return decode_snapshot(image, wanted, device)

    async def _read_groups_into(
        self, image: RegisterImage, groups: set[ReadGroup], device: DeviceInfo | None
    ) -> None:
        spans = [s for g in groups for s in group_spans(g, device)]
        for address, count in plan_reads(spans):
            image.add(address, await self.read_holding(address, count))
        for g in groups:
            keys = GROUP_BITS.get(g, ())
            for space in (Space.COIL, Space.DISCRETE_INPUT):
                if any(block(k).space is space for k in keys):
                    await self._read_bits_into(image, space, keys)

    def last_answers(self) -> dict[str, list[int] | str]:
        """Each block as the meter last answered it; no I/O (diagnostics).

        The words of the latest read that covered the block, else the exception the
        latest read of it drew ("exception 02"); blocks never read are left out, and so
        are secret blocks even when a read happened to cover them.
        """
        # Long blocks arrive in several reads (at most 125 registers each): join them.
        word: dict[int, int] = {}
        for start, words in self._answers.items():
            word.update(enumerate(words, start))
        out: dict[str, list[int] | str] = {}
        for blk in REGISTER_MAP:
            if blk.reserved or blk.key in SECRET_BLOCKS or blk.space is not Space.HOLDING:
                continue
            end = blk.address + blk.count
            if all(a in word for a in range(blk.address, end)):
                out[blk.key] = [word[a] for a in range(blk.address, end)]
            else:
                for start, (count, refusal) in self._refusals.items():
                    if start < end and blk.address < start + count:
                        out[blk.key] = refusal
                        break
        return out

    async def read_raw_dump(self) -> dict[str, list[int] | str]:
        """Every non-reserved block by key; a block that cannot be read maps to the error text.

        The dump is meant for bug reports, so secret blocks (the meter password)
        are not even read: their entry says so instead.
        """
        keys = [b.key for b in REGISTER_MAP if not b.reserved]
        image, failures = await self.read_blocks_tolerant(k for k in keys if k not in SECRET_BLOCKS)
        dump: dict[str, list[int] | str] = {}
        for key in keys:
            if key in SECRET_BLOCKS:
                dump[key] = "redacted (not read)"
                continue
            if key in failures:
                dump[key] = str(failures[key])
                continue
            blk = block(key)
            if blk.space is Space.HOLDING:
                dump[key] = image.block_words(key)
            else:
                dump[key] = [int(b) for b in image.bits(blk.space, blk.address, blk.count)]
        return dump

    async def read_blocks_tolerant(
        self, keys: Iterable[str]
    ) -> tuple[RegisterImage, dict[str, AcuRevError]]:
        """Read blocks by plan; where a planned request fails, retry its blocks one by one.

        One unsupported block must not hide the blocks that share its request.
        Returns the image and the error of every block that could not be read.
        Identity errors are raised (the data would belong to another meter); after
        three link failures in a row the rest is marked unread rather than waiting
        out a timeout per block on a meter that is gone.
        """
        key_list = list(dict.fromkeys(keys))
        image = RegisterImage()
        failures: dict[str, AcuRevError] = {}
        link_failures = 0
        link_error: AcuRevError | None = None

        async def attempt(op: Callable[[], Awaitable[None]]) -> AcuRevError | None:
            nonlocal link_failures, link_error
            if link_error is not None and link_failures >= _MAX_CONSECUTIVE_LINK_FAILURES:
                return link_error
            try:
                await op()
            except AcuRevIdentityError:
                raise
            except AcuRevConnectionError as exc:
                link_failures += 1
                link_error = exc
                return exc
            except AcuRevError as exc:
                link_failures = 0
                return exc
            link_failures = 0
            return None

        holding = [k for k in key_list if block(k).space is Space.HOLDING]
        for address, count in plan_reads(holding):

            async def planned(a: int = address, c: int = count) -> None:
                image.add(a, await self.read_holding(a, c))

            if await attempt(planned) is None:
                continue
            for key in holding:
                blk = block(key)
                if blk.end <= address or blk.address >= address + count or key in failures:
                    continue
                for sub_addr, sub_count in plan_reads([key]):
                    if image.has(sub_addr, sub_count):
                        continue

                    async def single(a: int = sub_addr, c: int = sub_count) -> None:
                        image.add(a, await self.read_holding(a, c))

                    if (err := await attempt(single)) is not None:
                        failures[key] = err
                        break

        for space in (Space.COIL, Space.DISCRETE_INPUT):
            bit_keys = tuple(k for k in key_list if block(k).space is space)
            if not bit_keys:
                continue

            async def bits(s: Space = space, ks: tuple[str, ...] = bit_keys) -> None:
                await self._read_bits_into(image, s, ks)

            if (err := await attempt(bits)) is not None:
                for key in bit_keys:
                    failures[key] = err
        return image, failures

    # ------------------------------------------------------------------ writes

    async def write_holding(self, address: int, values: Sequence[int]) -> None:
        """One FC16 request (the data-log window's pointers; settings have their own calls)."""
        regs = list(values)
        await self._run(lambda: self._write_registers(address, regs))

    async def set_relay(self, relay: int, on: bool) -> bool:
        """FC05 then an FC01 read-back; returns the state the meter reports."""
        if not 1 <= relay <= RELAY_COUNT:
            raise AcuRevValueError(f"relay {relay} outside 1..{RELAY_COUNT}")
        address = block(f"relay_{relay}").address
        await self._run(lambda: self._write_coil(address, on))
        return (await self.read_coils(address, 1))[0]

    async def set_ct_primary(self, channel: int, amps: int) -> None:
        """Write a channel's CT primary rating (FC16) and verify it by reading it back."""
        if not 1 <= channel <= CHANNEL_COUNT:
            raise AcuRevValueError(f"channel {channel} outside 1..{CHANNEL_COUNT}")
        if not 5 <= amps <= 50000:
            raise AcuRevValueError(f"CT primary {amps} A outside 5..50000")
        # One register per channel from 0x0889 (vendor map; the seed's CT1 address).
        address = block("ct_primary_ch1").address + (channel - 1)
        await self._run(lambda: self._write_registers(address, [amps]))
        back = (await self.read_holding(address, 1))[0]
        if back != amps:
            raise AcuRevProtocolError(
                f"CT primary of channel {channel} reads back {back} A after writing {amps} A"
            )

    async def set_clock(self, when: datetime) -> None:
        """Set the meter clock with one FC16 of the six clock registers.

        The wall-clock fields of ``when`` are written as given (tzinfo ignored):
        the meter keeps local time and the caller knows which zone that is.
        """
        if not 2000 <= when.year <= 2099:
            raise AcuRevValueError(f"year {when.year} outside 2000..2099")
        address = block("clock_year").address
        await self._run(lambda: self._write_registers(address, encode_clock6(when)))

    async def run_command(self, command: Command, di_mask: int = ALL_DI_MASK) -> None:
        """Trigger a one-shot command (FC16 of its command register).

        CLEAR_DI_COUNTERS writes ``di_mask`` (bit0 = DI1); every other command
        writes the magic value 0x000A. After REBOOT the connection is closed so
        the next call reconnects (and re-checks identity) once the meter is back.
        """
        if command is Command.CLEAR_DI_COUNTERS and not 1 <= di_mask <= ALL_DI_MASK:
            raise AcuRevValueError(f"DI mask 0x{di_mask:X} outside 0x01..0x{ALL_DI_MASK:02X}")
        value = command_value(command, di_mask)
        await self._run(lambda: self._write_registers(command.address, [value]))
        if command is Command.REBOOT:
            self._drop()

    # ------------------------------------------------------------------ internals

    async def _run(self, op: Callable[[], Awaitable[_T]]) -> _T:
        """Run one meter operation under the lock, counting its error if it fails."""
        async with self._lock:
            try:
                return await op()
            except AcuRevError as exc:
                self.stats.count_error(exc)
                raise

    async def _read_bits_into(
        self, image: RegisterImage, space: Space, keys: tuple[str, ...]
    ) -> None:
        address, count = bit_range(space, keys)
        if space is Space.COIL:
            values = await self.read_coils(address, count)
        else:
            values = await self.read_discrete_inputs(address, count)
        image.add_bits(space, address, values)

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        ex = self._exchange
        if ex is None:
            # Nothing is outstanding: bytes now are late or unsolicited. Hide them
            # from pymodbus; the stream is suspect, so drop it before the next request.
            if not sending and data:
                self._stale = True
                return b""
            return data
        if sending:
            ex.request = data
            return data
        ex.rx_seen = True
        verdict = check_response(ex.request, data)
        if verdict:
            ex.fail(AcuRevProtocolError(f"malformed response: {verdict}"))
            return b""
        return data

    def _trace_connect(self, connected: bool) -> None:
        if connected or self._exchange is None:
            return
        ex = self._exchange
        if ex.rx_seen:
            ex.fail(AcuRevProtocolError("connection closed after a partial or malformed answer"))
        else:
            ex.fail(AcuRevConnectionError(f"connection to {self._where} lost"))

    @property
    def _where(self) -> str:
        return f"{self._host}:{self._port}"

    def _drop(self) -> None:
        mb, self._mb = self._mb, None
        self._stale = False
        self._identified = False
        if mb is not None:
            mb.close()

    async def _ensure_connected(self) -> None:
        """Connect if needed; a connection is usable only once its serial has been checked."""
        mb = self._mb
        if mb is not None and mb.connected and self._identified and not self._stale:
            return
        self._drop()
        mb = compat.new_tcp_client(
            self._host,
            self._port,
            # pymodbus's own timeout is only a backstop; ours must fire first.
            timeout=self._timeout * 2 + 1,
            trace_packet=self._trace_packet,
            trace_connect=self._trace_connect,
        )
        try:
            async with asyncio.timeout(self._timeout):
                ok = await compat.connect(mb)
        except TimeoutError:
            mb.close()
            raise AcuRevTimeoutError(f"connect to {self._where} timed out") from None
        except OSError as exc:
            mb.close()
            raise AcuRevConnectionError(f"cannot connect to {self._where}: {exc}") from exc
        except BaseException:  # cancelled: do not leak a half-open transport
            mb.close()
            raise
        if not ok or not mb.connected:
            mb.close()
            raise AcuRevConnectionError(f"cannot connect to {self._where}")
        self._mb = mb
        if self.stats.connects:
            self.stats.reconnects += 1
        self.stats.connects += 1
        serial_block = block("serial_number")
        serial: str | None
        try:
            response = await self._transact(
                FC_READ_HOLDING,
                serial_block.address,
                _holding_call(serial_block.address, serial_block.count, self._unit_id),
            )
            serial = decode_ascii(self._registers(response, serial_block.count))
        except ModbusExceptionError as exc:
            if exc.exception_code in GATEWAY_EXCEPTIONS:
                # A gateway answering for a unit id it cannot reach: no meter there.
                self._drop()
                raise
            # The serial register is our design; a meter without it is still a meter.
            serial = None
        except BaseException:
            # A lost link or garbled answer: this connection has not proved which
            # meter it reaches.
            self._drop()
            raise
        if serial is not None and not plausible_serial(serial):
            serial = None
        self._serial = serial
        if (
            self._expected_serial is not None
            and serial is not None
            and serial != self._expected_serial
        ):
            self._drop()
            raise AcuRevIdentityError(self._expected_serial, serial)
        self._identified = True

    async def _execute(
        self,
        fc: int,
        address: int,
        call: Callable[[compat.AsyncModbusTcpClient], Awaitable[compat.ModbusPDU]],
    ) -> compat.ModbusPDU:
        """Connect (and identify) if needed, then send one request."""
        await self._ensure_connected()
        return await self._transact(fc, address, call)

    async def _transact(
        self,
        fc: int,
        address: int,
        call: Callable[[compat.AsyncModbusTcpClient], Awaitable[compat.ModbusPDU]],
    ) -> compat.ModbusPDU:
        """Send one request on the open connection; return its frame-checked response PDU."""
        mb = self._mb
        if mb is None:  # pragma: no cover - callers connect first
            raise AcuRevConnectionError(f"not connected to {self._where}")
        ex = _Exchange(asyncio.get_running_loop().create_future())
        self._exchange = ex
        self.stats.transactions += 1
        task = asyncio.ensure_future(call(mb))
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.wait((task, ex.done), return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            self._drop()
            what = f"function {fc} at 0x{address:04X}"
            if ex.rx_seen:
                raise AcuRevProtocolError(
                    f"incomplete response to {what} within {self._timeout:g} s"
                ) from None
            raise AcuRevTimeoutError(
                f"no response from {self._where} to {what} within {self._timeout:g} s"
            ) from None
        except asyncio.CancelledError:
            # The caller gave up with a request on the wire: its answer would be
            # read as the answer to the next request. Start afresh.
            self._drop()
            raise
        finally:
            self._exchange = None
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            elif not task.cancelled():
                # Mark its outcome as seen: when we leave early (timeout, cancellation)
                # a request that failed at the same moment must not surface later as
                # "Task exception was never retrieved".
                task.exception()
        if task.cancelled() or task.exception() is not None:
            # Prefer our diagnosis (malformed frame, lost link) over pymodbus's.
            if ex.error is not None:
                self._drop()
                raise ex.error
        elif ex.error is not None:
            # A complete, well-formed answer arrived before the link went down or
            # junk followed it (a rebooting meter answers, then closes): the answer
            # stands, the connection does not.
            self._drop()
        try:
            response = task.result()
        except compat.ConnectionException as exc:
            self._drop()
            raise AcuRevConnectionError(f"{self._where}: {exc}") from exc
        except compat.ModbusException as exc:  # ModbusIOException and frame errors
            self._drop()
            raise AcuRevProtocolError(f"{self._where}: {exc}") from exc
        except OSError as exc:
            self._drop()
            raise AcuRevConnectionError(f"{self._where}: {exc}") from exc
        if response is None:
            self._drop()
            raise AcuRevProtocolError(f"no response object for function {fc}")
        if response.isError():
            code = getattr(response, "exception_code", None)
            if isinstance(response, compat.ExceptionResponse) and isinstance(code, int) and code:
                raise ModbusExceptionError(fc, code, address)
            self._drop()
            raise AcuRevProtocolError(f"error response without exception code for function {fc}")
        if response.function_code != fc:
            self._drop()
            raise AcuRevProtocolError(f"response function {response.function_code}, sent {fc}")
        return response

    def _registers(self, response: compat.ModbusPDU, count: int) -> list[int]:
        registers = list(getattr(response, "registers", ()))
        if len(registers) != count:
            self._drop()
            raise AcuRevProtocolError(f"{len(registers)} registers in answer, asked for {count}")
        self.stats.registers_read += count
        return registers

    async def _read_holding(self, address: int, count: int) -> list[int]:
        try:
            response = await self._execute(
                FC_READ_HOLDING, address, _holding_call(address, count, self._unit_id)
            )
        except ModbusExceptionError as err:
            self._refusals[address] = (count, f"exception {err.exception_code:02d}")
            raise
        registers = self._registers(response, count)
        self._answers[address] = list(registers)
        self._refusals.pop(address, None)
        return registers

    async def _read_bits(self, fc: int, address: int, count: int) -> list[bool]:
        unit = self._unit_id
        reader = compat.read_coils if fc == FC_READ_COILS else compat.read_discrete_inputs
        response = await self._execute(fc, address, lambda mb: reader(mb, address, count, unit))
        bits = list(getattr(response, "bits", ()))
        # pymodbus pads to whole bytes; fewer bits than asked is a short answer.
        if len(bits) < count or len(bits) > (count + 7) // 8 * 8:
            self._drop()
            raise AcuRevProtocolError(f"{len(bits)} bits in answer, asked for {count}")
        self.stats.bits_read += count
        return [bool(b) for b in bits[:count]]

    async def _write_coil(self, address: int, on: bool) -> None:
        unit = self._unit_id
        await self._execute(
            FC_WRITE_COIL, address, lambda mb: compat.write_coil(mb, address, on, unit)
        )
        self.stats.bits_written += 1

    async def _write_registers(self, address: int, values: Sequence[int]) -> None:
        if not 1 <= len(values) <= MAX_WRITE_REGISTERS:
            raise AcuRevValueError(f"{len(values)} registers in one write")
        if any(not 0 <= v <= 0xFFFF for v in values):
            raise AcuRevValueError("register value outside 0..65535")
        unit = self._unit_id
        await self._execute(
            FC_WRITE_REGISTERS,
            address,
            lambda mb: compat.write_registers(mb, address, values, unit),
        )
        self.stats.registers_written += len(values)


def _holding_call(
    address: int, count: int, unit: int
) -> Callable[[compat.AsyncModbusTcpClient], Awaitable[compat.ModbusPDU]]:
    return lambda mb: compat.read_holding_registers(mb, address, count, unit)


def _check_range(address: int, count: int, limit: int) -> None:
    if not 1 <= count <= limit:
        raise AcuRevValueError(f"count {count} outside 1..{limit}")
    if not 0 <= address <= 0xFFFF or address + count > 0x10000:
        raise AcuRevValueError(f"addresses {address}..{address + count - 1} outside 0..65535")

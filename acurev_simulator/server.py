"""``Simulator``: a small asyncio Modbus TCP server in front of a ``MeterModel``.

Our own server rather than pymodbus's: the library's server/datastore API
changed in 3.10, 3.12 and 3.13, and fault injection (silence, garbled frames,
connection limits) needs control below it anyway.

MBAP framing: the transaction id and unit id are echoed, protocol id 0, length
= unit id + PDU. A frame with another protocol id is discarded (spec). A frame
longer than the spec's 254 is still read and answered (an FC16 of 124
registers gets exception 03, not a dropped connection); a length below 2 has
no function code to answer, so the connection is closed.
Requests of one connection are answered in order; connections are independent.

Unit id: only the meter's own unit id (register 0x0801, default 1) is served.
Any other unit id gets exception 0x0B (gateway target device failed to
respond). The AcuRev 2020's Ethernet/Wi-Fi module is a communication module
in front of the meter (``comm_module_type`` = 2 WEB), i.e. a gateway, and a
gateway answers 0x0B for a target that is not there. It also makes a wrong
unit id in a user's configuration a fast, unambiguous error instead of a
timeout that looks like a network fault; silence stays available as a fault
(``faults.silent``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Self

from pyacurev.registers import Space, block

from .errors import GATEWAY_TARGET_FAILED
from .faults import CorruptMode, Faults
from .meter import MeterModel
from .protocol import READ_FUNCTIONS, Reply, Request, exception_pdu, handle, parse

_LOGGER = logging.getLogger(__package__)
MBAP = struct.Struct(">HHHB")
MIN_LENGTH = 2


@dataclass
class Stats:
    """Request and connection counters."""

    requests: Counter[int] = field(default_factory=Counter)
    exceptions: Counter[int] = field(default_factory=Counter)
    registers_served: int = 0
    bits_served: int = 0
    connections_accepted: int = 0
    connections_refused: int = 0

    @property
    def total_requests(self) -> int:
        """All requests received (any function code)."""
        return sum(self.requests.values())

    def reset(self) -> None:
        """All counters to zero."""
        fresh = Stats()
        for name in (
            "requests",
            "exceptions",
            "registers_served",
            "bits_served",
            "connections_accepted",
            "connections_refused",
        ):
            setattr(self, name, getattr(fresh, name))


class Simulator:
    """An AcuRev 2020 on a loopback (or any) TCP port."""

    def __init__(
        self,
        meter: MeterModel | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        frozen: bool = False,
        tick_interval: float = 0.5,
        **meter_kwargs: Any,
    ) -> None:
        """Serve ``meter`` (or ``MeterModel(**meter_kwargs)``) on ``host:port`` (0: a free port).

        Not frozen: a ticker advances the meter by real elapsed time x ``speed``
        every ``tick_interval`` seconds and the meter's drift is on. Frozen: no
        ticker, no drift; only the test's ``meter.advance()`` moves time.
        """
        if meter is not None and meter_kwargs:
            raise TypeError("pass either a meter or MeterModel arguments, not both")
        self.meter = meter if meter is not None else MeterModel(**meter_kwargs)
        self.host = host
        self.port = port
        self.speed = speed
        self.tick_interval = tick_interval
        self.faults = Faults()
        self.stats = Stats()
        self._frozen = frozen
        self.meter.drift_enabled = not frozen
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self._handlers: set[asyncio.Task[Any]] = set()
        self._rng = random.Random(self.meter.seed)

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind and start serving (``port`` then holds the real port)."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if not self._frozen:
            self._start_ticker()

    async def stop(self) -> None:
        """Stop the ticker, close every connection and the listening socket."""
        await self._stop_ticker()
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._handlers)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> Self:
        """``async with Simulator(...) as sim``."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop on leaving the block."""
        await self.stop()

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._server is not None

    @property
    def frozen(self) -> bool:
        """True when only explicit ``meter.advance()`` calls move time."""
        return self._frozen

    @frozen.setter
    def frozen(self, value: bool) -> None:
        self._frozen = value
        self.meter.drift_enabled = not value
        if not self.running:
            return
        if value and self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        elif not value and self._ticker is None:
            self._start_ticker()

    @property
    def clients(self) -> int:
        """Connections open now."""
        return len(self._connections)

    def drop_connections(self) -> None:
        """Close every client connection (as a meter reboot does)."""
        for writer in self._connections.values():
            writer.close()

    # ---------------------------------------------------------------- ticker

    def _start_ticker(self) -> None:
        self._ticker = asyncio.create_task(self._tick(), name="acurev-simulator-ticker")

    async def _stop_ticker(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick_interval)
            now = loop.time()
            try:
                self.meter.advance((now - last) * self.speed)
            except Exception:
                _LOGGER.exception("meter advance failed")
            last = now

    # ---------------------------------------------------------------- connections

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always inside a task
            return
        self._handlers.add(task)
        try:
            limit = self.faults.max_clients
            if limit is not None and len(self._connections) >= limit:
                self.stats.connections_refused += 1
                return
            self.stats.connections_accepted += 1
            self._connections[task] = writer
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.pop(task, None)
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            tid, pid, length, unit = MBAP.unpack(await reader.readexactly(MBAP.size))
            if length < MIN_LENGTH:
                return
            pdu = await reader.readexactly(length - 1)
            if pid != 0:
                continue
            if not await self._request(tid, unit, pdu, writer):
                return

    async def _request(self, tid: int, unit: int, pdu: bytes, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False closes the connection."""
        request = parse(pdu)
        self.stats.requests[request.function] += 1
        faults = self.faults
        if faults.drop_next > 0:
            faults.drop_next -= 1
            return False
        if faults.silent and request.is_read:
            return True
        if unit != self.meter.unit_id:
            reply = Reply(
                exception_pdu(request.function, GATEWAY_TARGET_FAILED),
                exception=GATEWAY_TARGET_FAILED,
            )
        elif (code := self._injected(request)) is not None:
            reply = Reply(exception_pdu(request.function, code), exception=code)
        else:
            reply = handle(self.meter, pdu)
            if faults.fill and reply.exception is None and request.function == 3:
                reply = self._filled(request, reply)
        if reply.exception is not None:
            self.stats.exceptions[reply.exception] += 1
        else:
            self.stats.registers_served += reply.registers
            self.stats.bits_served += reply.bits
        if faults.delay > 0:
            await asyncio.sleep(faults.delay)
        writer.write(self._frame(tid, unit, reply.pdu, faults.take_corruption()))
        await writer.drain()
        if self.meter.take_reboot():
            self.drop_connections()
            return False
        return True

    def _injected(self, request: Request) -> int | None:
        if request.address is None or request.count is None:
            return None
        start, end = request.address, request.address + request.count
        for target, code in self.faults.exceptions.items():
            if isinstance(target, str):
                try:
                    blk = block(target)
                except KeyError:
                    _LOGGER.warning("faults.exceptions names unknown block %r", target)
                    continue
                if blk.space is request.space and blk.address < end and start < blk.end:
                    return code
            elif target[0] == request.function and start <= target[1] < end:
                return code
        return None

    def _filled(self, request: Request, reply: Reply) -> Reply:
        """Overwrite the words of filled blocks inside a read reply (see ``Faults.fill``)."""
        assert request.address is not None
        assert request.count is not None
        start, end = request.address, request.address + request.count
        hits = []
        for key, word in self.faults.fill.items():
            blk = block(key)
            if blk.space is Space.HOLDING and blk.address < end and start < blk.end:
                hits.append((blk, word))
        if not hits:
            return reply
        self.faults.take_fill()
        words = list(struct.unpack(f">{request.count}H", reply.pdu[2:]))
        for blk, fill in hits:
            pattern = (fill,) if isinstance(fill, int) else fill
            for addr in range(max(start, blk.address), min(end, blk.end)):
                words[addr - start] = pattern[(addr - blk.address) % len(pattern)] & 0xFFFF
        pdu = reply.pdu[:2] + struct.pack(f">{request.count}H", *words)
        return Reply(pdu, registers=reply.registers)

    def _frame(self, tid: int, unit: int, pdu: bytes, mode: CorruptMode | None) -> bytes:
        if mode == "short":
            pdu = pdu[: max(1, len(pdu) // 2)]
        elif mode == "function":
            pdu = bytes([(pdu[0] + 1) & 0xFF]) + pdu[1:]
        elif mode == "byte_count" and pdu[0] in READ_FUNCTIONS:
            pdu = pdu[:1] + bytes([(pdu[1] + 2) & 0xFF]) + pdu[2:]
        length = len(pdu) + 1 + (3 if mode == "length" else 0)
        if mode == "transaction_id":
            tid = (tid + 1) & 0xFFFF
        frame = MBAP.pack(tid, 0, length, unit) + pdu
        if mode == "garbage":
            frame = bytes(self._rng.randrange(256) for _ in frame)
        return frame

    def describe(self) -> str:
        """One line saying what is served where."""
        m = self.meter
        return (
            f"AcuRev {m.family} simulator: unit {m.unit_id}, {m.wiring}, "
            f"{m.installed_channels} channels, {m.model} model, serial {m.serial}, "
            f"map profile {m.map_profile}, "
            f"on {self.host}:{self.port}"
            f"{' (frozen)' if self.frozen else f' (speed x{self.speed:g})'}"
        )

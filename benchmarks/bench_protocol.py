"""Benchmark the protocol layer: a full snapshot of an 18-channel 3LN meter.

Run from the repository root::

    .venv/bin/python benchmarks/bench_protocol.py [--polls 200] [--baseline-polls 40]

Two strategies produce the same ``Snapshot`` (system, 18 channels, 6 users, the
five energy banks, relays, DIs, DI modes and counts) from the same simulator:

* planned: ``AcuRevClient.read_snapshot`` (fewest FC03 requests, one FC01, one FC02);
* baseline: one request per value, the way hand-written Modbus YAML polls a
  meter: one FC03 per float / uint32 / uint16, one FC01 or FC02 per relay or DI.

The simulator runs in-process but on its own thread and event loop, so the
client's CPU can be measured alone (``time.thread_time`` of the client thread);
``time.process_time`` (client + simulator) is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acurev_simulator import Simulator  # noqa: E402 - bootstraps the protocol import
from pyacurev import compat  # noqa: E402
from pyacurev.client import AcuRevClient  # noqa: E402
from pyacurev.decoders import decode_snapshot  # noqa: E402
from pyacurev.groups import (  # noqa: E402
    DI_KEYS,
    RELAY_KEYS,
    ReadGroup,
    group_spans,
)
from pyacurev.image import RegisterImage  # noqa: E402
from pyacurev.models import DeviceInfo, Snapshot  # noqa: E402
from pyacurev.registers import (  # noqa: E402
    REGISTER_MAP,
    DataType,
    Space,
    block,
)

GROUPS = frozenset(
    {ReadGroup.SYSTEM, ReadGroup.CHANNELS, ReadGroup.USERS, ReadGroup.ENERGY, ReadGroup.IO}
)
HOST = "127.0.0.1"


@dataclass
class Run:
    """Measurements of one strategy."""

    name: str
    latency: list[float] = field(default_factory=list)
    thread_cpu: list[float] = field(default_factory=list)
    process_cpu: list[float] = field(default_factory=list)
    transactions: list[int] = field(default_factory=list)
    registers: list[int] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        lat = sorted(self.latency)
        return {
            "transactions / poll": statistics.mean(self.transactions),
            "registers + bits moved / poll": statistics.mean(self.registers),
            "median latency (ms)": statistics.median(lat) * 1e3,
            "p95 latency (ms)": statistics.quantiles(lat, n=20)[18] * 1e3,
            "client CPU / poll (ms, thread_time)": statistics.mean(self.thread_cpu) * 1e3,
            "process CPU / poll (ms, client+sim)": statistics.mean(self.process_cpu) * 1e3,
        }


class SimulatorThread:
    """A frozen simulator on its own thread and event loop."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="simulator", daemon=True)
        self.sim: Simulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self.sim = Simulator(host=HOST, port=0, frozen=True, **self._kwargs)
        loop.run_until_complete(self.sim.start())
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self.sim.stop())
        loop.close()

    def __enter__(self) -> Simulator:
        self._thread.start()
        self._ready.wait(10)
        assert self.sim is not None
        return self.sim

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def per_value_reads(device: DeviceInfo) -> list[tuple[int, int]]:
    """(address, count) of every single value the snapshot decodes, one request each."""
    reads: list[tuple[int, int]] = []
    for group in GROUPS:
        for span in group_spans(group, device):
            blocks = [
                b
                for b in REGISTER_MAP
                if b.space is Space.HOLDING
                and not b.reserved
                and b.address < span.end
                and span.address < b.end
            ]
            for blk in blocks:
                # channel and user records hold only floats; 32-bit types are 2 registers
                size = 2 if blk.dtype in (DataType.FLOAT32, DataType.UINT32, DataType.RECORD) else 1
                start, end = max(blk.address, span.address), min(blk.end, span.end)
                reads += [(a, size) for a in range(start, end, size)]
    return sorted(set(reads))


async def baseline_poll(
    client: AcuRevClient, device: DeviceInfo, reads: list[tuple[int, int]]
) -> Snapshot:
    image = RegisterImage()
    for address, count in reads:
        image.add(address, await client.read_holding(address, count))
    for key in RELAY_KEYS:
        address = block(key).address
        image.add_bits(Space.COIL, address, await client.read_coils(address, 1))
    for key in DI_KEYS:
        address = block(key).address
        image.add_bits(Space.DISCRETE_INPUT, address, await client.read_discrete_inputs(address, 1))
    return decode_snapshot(image, GROUPS, device)


async def measure(
    name: str, client: AcuRevClient, polls: int, poll: Callable[[], Awaitable[Snapshot]]
) -> tuple[Run, Snapshot]:
    run = Run(name)
    snap = await poll()  # warm-up: connection, first allocations
    for _ in range(polls):
        tx, regs = client.stats.transactions, client.stats.registers_read + client.stats.bits_read
        t_cpu, p_cpu, t0 = time.thread_time(), time.process_time(), time.perf_counter()
        snap = await poll()
        run.latency.append(time.perf_counter() - t0)
        run.thread_cpu.append(time.thread_time() - t_cpu)
        run.process_cpu.append(time.process_time() - p_cpu)
        run.transactions.append(client.stats.transactions - tx)
        run.registers.append(client.stats.registers_read + client.stats.bits_read - regs)
    return run, snap


async def bench(args: argparse.Namespace, sim: Simulator) -> None:
    async with AcuRevClient(HOST, sim.port, timeout=5.0) as client:
        device = await client.read_device_info()
        planned, snap_a = await measure(
            "planned", client, args.polls, lambda: client.read_snapshot(GROUPS, device)
        )
        reads = per_value_reads(device)
        baseline, snap_b = await measure(
            "one request per value",
            client,
            args.baseline_polls,
            lambda: baseline_poll(client, device, reads),
        )
    # Same meter, frozen: both strategies must have decoded the same snapshot.
    if snap_a != snap_b:
        raise SystemExit("planned and baseline snapshots differ: not comparing like with like")

    print(f"AcuRev protocol benchmark: {sim.describe()}")
    print(
        f"Python {platform.python_version()}, pymodbus {compat.PYMODBUS_VERSION}; "
        f"{args.polls} planned polls, {args.baseline_polls} baseline polls "
        f"(after one warm-up each)"
    )
    a, b = planned.row(), baseline.row()
    print(f"{'':38} {'planned':>10} {'per value':>10} {'baseline/planned':>17}")
    for key in a:
        ratio = b[key] / a[key] if a[key] else float("nan")
        print(f"{key:38} {a[key]:>10.2f} {b[key]:>10.2f} {ratio:>16.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--baseline-polls", type=int, default=40)
    args = parser.parse_args()
    with SimulatorThread(wiring="3LN", channels=18) as sim:
        asyncio.run(bench(args, sim))


if __name__ == "__main__":
    main()

"""Benchmark the data-log reader: what a backfill costs on the wire.

Run from the repository root::

    .venv/bin/python benchmarks/bench_datalog.py [--hours 72]

A simulator with ``--hours`` of log history (factory list: 47-register records,
two per window read); the reader first reads every kept record (a first set-up),
then, after one simulated hour, only the new ones, then nothing (the count did
not move). Figures are counts from one run: Modbus transactions, registers read
and written, records; wall time only as a ratio per record.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acurev_simulator import Simulator  # noqa: E402
from pyacurev import datalog  # noqa: E402
from pyacurev.client import AcuRevClient  # noqa: E402


async def main(hours: float) -> None:
    clock = datetime(2026, 3, 10, 12, 7)
    sim = Simulator(port=0, frozen=True, clock=clock, log_history_hours=hours)
    async with sim, AcuRevClient("127.0.0.1", sim.port) as client:
        probe, layout = await datalog.probe_datalog(client)
        if layout is None or not probe.usable:
            raise SystemExit(f"the log is not usable: {probe}")
        reader = datalog.DataLogReader(layout)
        print(f"record: {layout.record_size} registers, {layout.per_window} per window read")
        for label, advance in (("first set-up", 0), ("one hour later", 3600), ("idle", 0)):
            sim.meter.advance(advance)
            stats = client.stats
            tx, rd, wr = stats.transactions, stats.registers_read, stats.registers_written
            started = time.perf_counter()
            records = await reader.read_new(client)
            spent = time.perf_counter() - started
            tx = stats.transactions - tx
            per = f", {tx / len(records):.2f} transactions/record" if records else ""
            print(
                f"{label}: {len(records)} records in {tx} transactions "
                f"({stats.registers_read - rd} registers read, "
                f"{stats.registers_written - wr} written){per}"
                + (f", {spent / len(records) * 1000:.2f} ms/record" if records else "")
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=72.0)
    asyncio.run(main(parser.parse_args().hours))

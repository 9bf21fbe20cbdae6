"""One Home Assistant, N live AcuRev meters, the default recorder on: what it costs.

Run from the repository root (a script, not part of the test suite: ``testpaths`` is
``tests`` and nothing here is a test)::

    .venv/bin/python -m benchmarks.bench_ha_many_meters                 # 50 meters
    .venv/bin/python -m benchmarks.bench_ha_many_meters --meters 2 --seconds 5 --warmup 5

The model (issue 14, item 8): a user with N meters runs one Home Assistant with the
default recorder. What that costs is set by how many entities each meter enables by
default and how often they change, so this measures exactly that and nothing else:

* **Home Assistant** is a real core in this process, set up the way bootstrap does it
  minus the default integrations (no frontend or http, so nothing listens): Home
  Assistant's own event-loop policy (no asyncio debug), the registries, the
  ``homeassistant`` integration, and ``recorder`` with its default configuration
  (SQLite ``home-assistant_v2.db`` in a temporary config directory, default commit
  interval, its 5-minute statistics and nightly purge left scheduled). Nothing is
  patched or mocked.
* **Meters**: N simulated AcuRev 2020s (3LN, 18 channels, live: values move with real
  time) served by ONE child process (``ha_bench_support.SimulatorProcess``), each on
  its own 127.0.0.1 port with its own serial. They are added through the integration's
  config flow, as a user adds them, and keep the integration's fixed default polling
  rates and its default enabled entities (whatever the catalogue in ``pyacurev``
  enables).
* **Warm-up** (``--warmup``, default 70 s: one slow-poll interval plus the registries'
  delayed save), then a wait (at most 300 s) until the recorder's queue is under 200
  events: set-up leaves it thousands of first states behind, and writing those is
  set-up's cost, not the steady state's. The queue length is printed at the start and
  end of the window so a backlog that did not drain shows.

Measured over the window (``--seconds``, default 120 s), from one run:

* **CPU per wall second** of this process only (``time.process_time``; the simulators
  are another process), and the event-loop thread's share (``time.thread_time``),
  as fractions of one core.
* **State writes per second**: ``state_changed`` events on the bus (all of them, and
  those of our entities).
* **Enabled entities per meter** (entity registry, not disabled).
* **Event-loop stalls**: a ticker sleeps 0.1 s in a loop; the longest gap between two
  of its wake-ups, and how many gaps were 0.2 s or more.
* **Garbage collection**: full (generation 2) collections and the longest and total
  gen-2 pause, timed by a ``gc.callbacks`` hook in wall time (what the event loop
  waits) and in the collecting thread's CPU time (the collection's own cost, which a
  busy machine does not inflate); all generations' total wall pause beside it.

Figures are printed, never asserted: speed depends on the machine and its other jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import platform
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from homeassistant import bootstrap, loader  # noqa: E402
from homeassistant.config_entries import SOURCE_USER, ConfigEntries  # noqa: E402
from homeassistant.const import (  # noqa: E402
    CONF_HOST,
    CONF_PORT,
    EVENT_STATE_CHANGED,
)
from homeassistant.const import __version__ as HA_VERSION  # noqa: E402
from homeassistant.core import Event, HomeAssistant, callback  # noqa: E402
from homeassistant.core_config import async_process_ha_core_config  # noqa: E402
from homeassistant.data_entry_flow import FlowResultType  # noqa: E402
from homeassistant.helpers import entity_registry as er  # noqa: E402
from homeassistant.helpers import recorder as recorder_helper  # noqa: E402
from homeassistant.runner import HassEventLoopPolicy  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402

from benchmarks.ha_bench_support import HOST, ServerStats, SimulatorProcess  # noqa: E402
from custom_components.acurev.const import CONF_UNIT_ID, DOMAIN  # noqa: E402

TICK = 0.1  # s, the stall ticker's period
LATE = 0.2  # s, a ticker gap at least this long counts as a stall
SETUP_CONCURRENCY = 8  # config flows at once while adding the meters
DRAINED = 200  # recorder queue items: below this after warm-up, set-up's backlog is gone
DRAIN_LIMIT = 300  # s, the longest wait for it after the warm-up

# --------------------------------------------------------------------------- probes


@dataclass(slots=True)
class GcWatch:
    """Times every collection through ``gc.callbacks`` while installed."""

    full: int = 0  # generation-2 collections
    full_longest: float = 0.0  # s
    full_total: float = 0.0  # s
    collections: Counter[int] = field(default_factory=Counter)  # generation -> count
    total: float = 0.0  # s, all generations
    # The same pauses in CPU time of the collecting thread: what the collection itself
    # costs, without the time other processes of a busy machine had the CPU.
    full_longest_cpu: float = 0.0
    full_total_cpu: float = 0.0
    _started: float = 0.0
    _started_cpu: float = 0.0

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started, self._started_cpu = time.perf_counter(), time.thread_time()
            return
        pause = time.perf_counter() - self._started
        pause_cpu = time.thread_time() - self._started_cpu
        generation = info["generation"]
        self.collections[generation] += 1
        self.total += pause
        if generation == 2:
            self.full += 1
            self.full_total += pause
            self.full_longest = max(self.full_longest, pause)
            self.full_total_cpu += pause_cpu
            self.full_longest_cpu = max(self.full_longest_cpu, pause_cpu)

    def install(self) -> None:
        """Start timing collections."""
        gc.callbacks.append(self._on_gc)

    def remove(self) -> None:
        """Stop timing collections."""
        gc.callbacks.remove(self._on_gc)


@dataclass(slots=True)
class LoopTicker:
    """Wakes every ``TICK`` s on the event loop; a long gap is a stall."""

    longest: float = 0.0  # s, longest gap between two wake-ups while measuring
    late: int = 0  # gaps of LATE s or more while measuring
    ticks: int = 0
    measuring: bool = False

    async def run(self) -> None:
        """Tick until cancelled."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            gap, last = now - last, now
            if self.measuring:
                self.ticks += 1
                self.longest = max(self.longest, gap)
                self.late += gap >= LATE


@dataclass(slots=True)
class StateWrites:
    """Counts ``state_changed`` events while measuring (all, and our entities')."""

    ours: set[str] = field(default_factory=set)  # entity ids of our entities
    total: int = 0
    of_ours: int = 0
    measuring: bool = False

    @callback
    def on_event(self, event: Event[Any]) -> None:
        """Count one state write (runs in the event loop, no task)."""
        if self.measuring:
            self.total += 1
            self.of_ours += event.data["entity_id"] in self.ours


# --------------------------------------------------------------------------- the core


async def start_core(config_dir: str) -> HomeAssistant:
    """A running Home Assistant with the default recorder and nothing else listening.

    The steps bootstrap's ``async_from_config_dict`` takes, for the core integrations
    and ``recorder`` only: its default integration set would start ``http`` on all
    interfaces.
    """
    hass = HomeAssistant(config_dir)
    loader.async_setup(hass)
    hass.config.skip_pip = True  # the venv has every requirement; install nothing
    hass.config_entries = ConfigEntries(hass, {})
    await bootstrap.async_load_base_functionality(hass)
    assert await async_setup_component(hass, "homeassistant", {})
    await async_process_ha_core_config(hass, {"time_zone": "UTC", "unit_system": "metric"})
    recorder_helper.async_initialize_recorder(hass)
    assert await async_setup_component(hass, "recorder", {"recorder": {}})
    await hass.async_start()
    await recorder_helper.get_instance(hass).async_db_ready
    return hass


async def add_meter(hass: HomeAssistant, port: int) -> str:
    """Add one meter through the config flow, as a user would; its entry id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_USER},
        data={CONF_HOST: HOST, CONF_PORT: port, CONF_UNIT_ID: 1},
    )
    if result["type"] is FlowResultType.FORM:  # "partial": some blocks did not answer
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    if result["type"] is not FlowResultType.CREATE_ENTRY:
        raise RuntimeError(f"meter on port {port} was not added: {result}")
    entry_id: str = result["result"].entry_id
    return entry_id


async def add_meters(hass: HomeAssistant, ports: list[int]) -> list[str]:
    """All meters, a few config flows at a time."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(port: int) -> str:
        async with gate:
            return await add_meter(hass, port)

    return list(await asyncio.gather(*(one(port) for port in ports)))


async def drain(hass: HomeAssistant) -> float:
    """Wait (at most ``DRAIN_LIMIT`` s) until the recorder's queue is short; seconds waited.

    Set-up leaves the recorder thousands of events behind (every entity's first state
    and attributes); measuring before they are written would bill set-up to the
    steady state. A queue of ``DRAINED`` items is less than a second of steady writes.
    """
    recorder = recorder_helper.get_instance(hass)
    t0 = time.perf_counter()
    for _ in range(DRAIN_LIMIT):  # polled once a second: the queue has no "drained" event
        if recorder.backlog <= DRAINED:
            break
        await asyncio.sleep(1)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True, slots=True)
class Figures:
    """What one run measured."""

    meters: int
    loaded: int
    polling_ok: int
    setup_s: float
    drain_s: float  # waited after the warm-up for the recorder's queue to drain
    load: tuple[float, float]  # 1-minute load average at window start, end
    wall: float
    cpu: float
    loop_cpu: float
    writes: StateWrites
    enabled: list[int]  # enabled entities, per meter
    disabled: list[int]
    ticker: LoopTicker
    gcw: GcWatch
    served: ServerStats
    backlog: tuple[int, int]  # recorder queue at window start, end
    stats_boundary: bool  # a 5-minute statistics run fell into the window
    max_rss_mb: float
    description: str  # the first meter, as the simulator describes it


def _crosses_statistics(start: float, end: float) -> bool:
    """Whether the recorder's 5-minute statistics (hh:m0/m5:10) ran in [start, end]."""
    first = (start - 10) // 300
    return (end - 10) // 300 > first


async def run(args: argparse.Namespace) -> Figures:
    """Set up, warm up, measure; stop everything."""
    with (
        tempfile.TemporaryDirectory(prefix="acurev-bench-ha-") as config_dir,
        SimulatorProcess(wiring="3LN", channels=18, meters=args.meters, frozen=False) as sim,
    ):
        hass = await start_core(config_dir)
        writes, ticker, gcw = StateWrites(), LoopTicker(), GcWatch()
        hass.bus.async_listen(EVENT_STATE_CHANGED, writes.on_event)
        ticker_task = hass.async_create_background_task(ticker.run(), "stall ticker")
        try:
            t0 = time.perf_counter()
            entry_ids = await add_meters(hass, sim.ports)
            setup_s = time.perf_counter() - t0
            print(f"{len(entry_ids)} meters added in {setup_s:.1f} s; warming up {args.warmup} s")
            await asyncio.sleep(args.warmup)
            drain_s = await drain(hass)

            registry = er.async_get(hass)
            per_entry = [er.async_entries_for_config_entry(registry, eid) for eid in entry_ids]
            enabled = [[e for e in entries if e.disabled_by is None] for entries in per_entry]
            writes.ours = {e.entity_id for entries in enabled for e in entries}
            recorder = recorder_helper.get_instance(hass)

            backlog_start = recorder.backlog
            load_start = os.getloadavg()[0]
            served0 = sim.stats()
            gcw.install()
            writes.measuring = ticker.measuring = True
            start_epoch = time.time()
            wall0, cpu0, loop0 = time.perf_counter(), time.process_time(), time.thread_time()
            await asyncio.sleep(args.seconds)
            wall = time.perf_counter() - wall0
            cpu, loop_cpu = time.process_time() - cpu0, time.thread_time() - loop0
            writes.measuring = ticker.measuring = False
            gcw.remove()
            served = sim.stats() - served0
            backlog_end = recorder.backlog

            entries = [hass.config_entries.async_get_entry(eid) for eid in entry_ids]
            loaded = [e for e in entries if e is not None and hasattr(e, "runtime_data")]
            polling_ok = sum(
                e.runtime_data.fast.last_update_success and e.runtime_data.slow.last_update_success
                for e in loaded
            )
            return Figures(
                meters=args.meters,
                loaded=len(loaded),
                polling_ok=polling_ok,
                setup_s=setup_s,
                drain_s=drain_s,
                load=(load_start, os.getloadavg()[0]),
                wall=wall,
                cpu=cpu,
                loop_cpu=loop_cpu,
                writes=writes,
                enabled=[len(e) for e in enabled],
                disabled=[len(a) - len(e) for a, e in zip(per_entry, enabled, strict=True)],
                ticker=ticker,
                gcw=gcw,
                served=served,
                backlog=(backlog_start, backlog_end),
                stats_boundary=_crosses_statistics(start_epoch, start_epoch + wall),
                max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                description=sim.description,
            )
        finally:
            ticker_task.cancel()
            for entry in hass.config_entries.async_entries(DOMAIN):
                await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_stop()


def report(f: Figures, args: argparse.Namespace) -> None:
    """Print the figures of one run."""
    w = f.wall
    enabled_total = sum(f.enabled)
    print()
    print(f"AcuRev: {f.meters} live simulated meters, one Home Assistant, default recorder")
    print(
        f"Home Assistant {HA_VERSION}, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"meters loaded {f.loaded}/{f.meters}, both polls succeeding {f.polling_ok}; "
        f"set-up {f.setup_s:.1f} s, warm-up {args.warmup:g} s + {f.drain_s:.0f} s for the "
        f"recorder's queue to drain, window {w:.1f} s"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, 1-minute load average {f.load[0]:.2f} at the "
        f"window's start, {f.load[1]:.2f} at its end (other jobs inflate wall-clock pauses)"
    )
    print(f"each meter like the first: {f.description}")
    print()
    rows = [
        ("HA process CPU per wall second (cores)", f"{f.cpu / w:.3f}"),
        ("  of it the event-loop thread (cores)", f"{f.loop_cpu / w:.3f}"),
        ("simulator process CPU per wall second", f"{f.served.cpu / w:.3f}"),
        ("state writes per second (all)", f"{f.writes.total / w:.1f}"),
        ("  of our entities", f"{f.writes.of_ours / w:.1f}"),
        ("  per meter", f"{f.writes.of_ours / w / max(f.meters, 1):.2f}"),
        (
            "enabled entities per meter (min/mean/max)",
            f"{min(f.enabled)}/{enabled_total / len(f.enabled):.1f}/{max(f.enabled)}",
        ),
        ("disabled-by-default entities per meter", f"{sum(f.disabled) / len(f.disabled):.1f}"),
        ("enabled entities in total", f"{enabled_total}"),
        ("Modbus transactions per second", f"{f.served.transactions / w:.1f}"),
        ("registers read per second", f"{f.served.registers / w:,.0f}"),
        (f"event-loop ticker ({TICK:g} s): longest gap (s)", f"{f.ticker.longest:.3f}"),
        (f"  gaps >= {LATE:g} s", f"{f.ticker.late} of {f.ticker.ticks}"),
        ("gc full (gen-2) collections", f"{f.gcw.full}"),
        (
            "  longest gen-2 pause, wall / CPU (s)",
            f"{f.gcw.full_longest:.3f} / {f.gcw.full_longest_cpu:.3f}",
        ),
        (
            "  gen-2 pauses in total, wall / CPU (s)",
            f"{f.gcw.full_total:.3f} / {f.gcw.full_total_cpu:.3f}",
        ),
        (
            "gc collections gen 0/1/2",
            "/".join(str(f.gcw.collections[g]) for g in range(3)),
        ),
        ("  all pauses in total (s)", f"{f.gcw.total:.3f}"),
        ("recorder queue at window start/end", f"{f.backlog[0]}/{f.backlog[1]}"),
        ("5-min statistics ran in the window", "yes" if f.stats_boundary else "no"),
        ("peak RSS of the HA process (MiB)", f"{f.max_rss_mb:.0f}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:{width}}  {value:>14}")


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run once, print."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_ha_many_meters", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--meters", type=int, default=50, help="simulated meters (50)")
    parser.add_argument("--seconds", type=float, default=120.0, help="measured window (120)")
    parser.add_argument(
        "--warmup", type=float, default=70.0, help="after set-up, before measuring (70)"
    )
    args = parser.parse_args(argv)
    if args.meters < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--meters >= 1, --seconds > 0, --warmup >= 0")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Home Assistant's own loop policy: its executor, no asyncio debug.
    asyncio.set_event_loop_policy(HassEventLoopPolicy(False))
    figures = asyncio.run(run(args))
    report(figures, args)


if __name__ == "__main__":
    main()

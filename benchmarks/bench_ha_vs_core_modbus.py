"""Our AcuRev integration vs Home Assistant's core ``modbus`` integration, per poll cycle.

Run from the repository root (a script, not part of the test suite: ``testpaths`` is
``tests``, so this file runs only when named)::

    .venv/bin/python -m pytest benchmarks/bench_ha_vs_core_modbus.py -s -p no:cacheprovider

``ACUREV_BENCH_CYCLES`` sets the number of measured cycles (default 50).

One real Home Assistant (phcc's ``hass`` fixture) polls one simulated AcuRev 2020
(3LN, 18 channels, frozen) three ways over loopback TCP, for the same values:

* **ours**: the ``acurev`` config entry with default options. One poll cycle =
  ``fast.async_refresh()`` (system, channels, users, IO, alarm/SOE ring pointers) +
  ``slow.async_refresh()`` (energy banks, device info and clock). In the field the fast
  coordinator runs every 10 s and the slow one every 60 s, so the slow part runs 6x less
  often: the "per 60 s of operation" table counts 6 fast polls + 1 slow poll.
* **core**: core ``modbus``, set up with the dict that ``modbus:`` YAML parses to
  (``benchmarks/ha_bench_support.py`` builds it; ``python -m benchmarks.ha_bench_support
  yaml`` prints the YAML), one entity per enabled-by-default point of ours, at the
  point's register and scaled to our units: float32 sensors (big-endian, high word
  first, core's default, so no ``swap``), uint32 energy counters x0.1, relays as
  ``switches`` (``write_type: coil`` + ``verify``), DIs as ``binary_sensors``
  (``input_type: discrete_input``). What core cannot compute gets a raw read with the
  same traffic: the meter clock (ours publishes its drift) and the active-alarm bitmap
  (ours publishes one binary sensor per bit). One poll cycle = every core entity updated
  once: each runs its scan-interval callback (what its ``async_track_time_interval``
  timer calls), all started together as their timers would be. The printed YAML gives
  fast points ``scan_interval: 10`` and slow points 60, the same schedule as ours.
* **core+vc**: the same, except that consecutive values of one type, scale and quantity
  are one entity plus ``virtual_count`` virtual entities, i.e. one read per run (a whole
  28-entry energy bank, all 8 DIs, ...): the fewest requests a hand-written core modbus
  YAML can make.

Both core variants live in one hub (one TCP connection); a cycle updates one variant's
entities only. Every automatic poll timer (ours and core's) is set a day out, so the
benchmark's own polls are the only traffic. The three run interleaved, cycle by cycle,
after one warm-up cycle each; every figure is a mean over the measured cycles.

Measured identically for all three:

* **Modbus transactions, registers, bits**: counted by the simulator, which runs in its
  own process (``SimulatorProcess``) and reports its request counters over a pipe
  before and after each measured poll. Nothing in Home Assistant is wrapped, patched or
  proxied. For ours, the client's own transaction counter must agree (asserted).
* **wall time**: ``time.perf_counter`` around the poll and the
  ``async_block_till_done`` after it; includes the simulator's answer time on loopback.
* **HA CPU**: ``time.process_time`` of the pytest process, i.e. Home Assistant alone
  (the simulator is another process); the event-loop thread's share
  (``time.thread_time``) is shown beside it. Simulator CPU: its process's
  ``process_time`` over the same poll.
* phcc runs the event loop in asyncio debug mode (a stack capture per callback);
  production Home Assistant does not, so this module turns it off.

After measuring, every value core modbus shows (both variants) is compared with our
entity for the same point, within the YAML's ``precision``; a difference fails the run.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import platform
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import async_get_platforms
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from packaging.requirements import Requirement
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from benchmarks.ha_bench_support import (
    HOST,
    PRECISION,
    CoreEntity,
    ServerStats,
    SimulatorProcess,
    modbus_entities,
    modbus_hub,
    register_of,
)
from custom_components.acurev.const import (
    CONF_UNIT_ID,
    DOMAIN,
)
from pyacurev import compat
from pyacurev.points import Kind, Point, Poll

CYCLES = int(os.environ.get("ACUREV_BENCH_CYCLES", "50"))
FAST_PER_MINUTE = 6  # fast every 10 s, slow every 60 s (our defaults, and the YAML's)
FAR = 86_400  # s: every automatic poll timer is set a day out
MODBUS = "modbus"
HUB = "acurev"
SIDES = ("ours", "core", "core+vc")
POLLS = (Poll.FAST, Poll.SLOW)

type Poller = Callable[[], Awaitable[Any]]


@pytest.fixture
def enable_event_loop_debug() -> None:
    """Override phcc's fixture: production Home Assistant runs without asyncio debug."""


@pytest.fixture
def simulator() -> Iterator[SimulatorProcess]:
    """The meter, in a process of its own."""
    with SimulatorProcess(wiring="3LN", channels=18) as sim:
        yield sim


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured poll: what the simulator served, and the time it took."""

    served: ServerStats
    wall: float
    cpu: float
    loop_cpu: float

    def __add__(self, other: Sample) -> Sample:
        return Sample(
            self.served + other.served,
            self.wall + other.wall,
            self.cpu + other.cpu,
            self.loop_cpu + other.loop_cpu,
        )


async def _measure(hass: HomeAssistant, sim: SimulatorProcess, poll: Poller) -> Sample:
    before = sim.stats()
    cpu, loop_cpu, t0 = time.process_time(), time.thread_time(), time.perf_counter()
    await poll()
    await hass.async_block_till_done()
    wall = time.perf_counter() - t0
    cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
    return Sample(sim.stats() - before, wall, cpu, loop_cpu)


ROWS = {  # key -> label; counts first, then milliseconds
    "transactions": "Modbus transactions",
    "fc01": "  FC01 read coils",
    "fc02": "  FC02 read discrete inputs",
    "fc03": "  FC03 read holding registers",
    "registers": "registers moved (FC03)",
    "bits": "bits moved (FC01 + FC02)",
    "wall": "wall time (ms)",
    "cpu": "HA CPU, process_time (ms)",
    "loop_cpu": "  of it in the event-loop thread (ms)",
    "sim_cpu": "simulator CPU, own process (ms)",
}
MS_ROWS = {"wall", "cpu", "loop_cpu", "sim_cpu"}


def _row(samples: Sequence[Sample]) -> dict[str, float]:
    def mean(pick: Callable[[Sample], float]) -> float:
        return statistics.fmean(pick(s) for s in samples)

    return {
        "transactions": mean(lambda s: s.served.transactions),
        "fc01": mean(lambda s: s.served.requests.get(1, 0)),
        "fc02": mean(lambda s: s.served.requests.get(2, 0)),
        "fc03": mean(lambda s: s.served.requests.get(3, 0)),
        "registers": mean(lambda s: s.served.registers),
        "bits": mean(lambda s: s.served.bits),
        "wall": mean(lambda s: s.wall) * 1e3,
        "cpu": mean(lambda s: s.cpu) * 1e3,
        "loop_cpu": mean(lambda s: s.loop_cpu) * 1e3,
        "sim_cpu": mean(lambda s: s.served.cpu) * 1e3,
    }


@dataclass(slots=True)
class Side:
    """One way of polling the meter, and its samples."""

    polls: dict[Poll, Poller]
    samples: dict[Poll, list[Sample]] = field(default_factory=lambda: {poll: [] for poll in POLLS})

    def mean(self, poll: Poll) -> dict[str, float]:
        """Means of the fast or of the slow polls."""
        return _row(self.samples[poll])

    def cycle(self) -> dict[str, float]:
        """Means of fast + slow, cycle by cycle."""
        fast, slow = self.samples[Poll.FAST], self.samples[Poll.SLOW]
        return _row([f + s for f, s in zip(fast, slow, strict=True)])

    def minute(self) -> dict[str, float]:
        """60 s of operation: 6 fast polls and 1 slow poll."""
        fast, slow = self.mean(Poll.FAST), self.mean(Poll.SLOW)
        return {key: FAST_PER_MINUTE * fast[key] + slow[key] for key in fast}


# --------------------------------------------------------------------------- core modbus


def _core_poller(entities: Sequence[Any]) -> Poller:
    """All ``entities`` run their scan-interval callback at once, as their timers would."""

    def job(entity: Any) -> Awaitable[None]:
        # What the entity's timer runs: update, then write the state.
        for name in (
            "_async_update_if_not_in_progress",  # 2025.4
            "async_local_update",
        ):  # 2026.x
            if (timer_job := getattr(entity, name, None)) is not None:
                return timer_job()  # type: ignore[no-any-return]
        return entity.async_update_ha_state(force_refresh=True)  # type: ignore[no-any-return]

    async def poll() -> None:
        await asyncio.gather(*(job(e) for e in entities))

    return poll


def _core_side(hass: HomeAssistant, configured: Sequence[CoreEntity]) -> Side:
    """Pollers over the entity objects of ``configured``, fast and slow apart."""
    objects = {
        eid: entity
        for plat in async_get_platforms(hass, MODBUS)
        for eid, entity in plat.entities.items()
    }
    registry = er.async_get(hass)
    by_poll: dict[Poll, list[Any]] = {poll: [] for poll in POLLS}
    for ce in configured:
        eid = registry.async_get_entity_id(ce.platform, MODBUS, ce.unique_id)
        assert eid in objects, f"core modbus entity {ce.unique_id} missing"
        by_poll[ce.poll].append(objects[eid])
    return Side({poll: _core_poller(entities) for poll, entities in by_poll.items()})


async def _missing_requirements(hass: HomeAssistant, domain: str) -> list[str]:
    """Requirements of an integration that are not installed (phcc installs none)."""
    integration = await async_get_integration(hass, domain)
    missing = []
    for requirement in integration.requirements:
        try:
            importlib.metadata.version(Requirement(requirement).name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
    return missing


def _same_value(point: Point, ours: str, core: str) -> bool:
    if point.kind in (Kind.BINARY, Kind.RELAY):
        return ours == core
    try:
        a, b = float(ours), float(core)
    except ValueError:
        return False
    return abs(a - b) <= 0.5 * 10 ** -PRECISION[point.quantity] + 1e-9 * abs(a)


def _check_values(
    hass: HomeAssistant, serial: str, configured: Sequence[CoreEntity]
) -> tuple[int, list[str]]:
    """(values compared, differences) between core modbus entities and ours."""
    registry = er.async_get(hass)

    def state(platform: str, integration: str, unique_id: str) -> str | None:
        eid = registry.async_get_entity_id(platform, integration, unique_id)
        st = hass.states.get(eid) if eid else None
        return None if st is None else st.state

    compared, bad = 0, []
    for ce in configured:
        if ce.standin:  # a raw value with nothing of ours to compare; it must be read
            raw = state(ce.platform, MODBUS, ce.unique_id)
            if raw in (None, STATE_UNAVAILABLE, STATE_UNKNOWN):
                bad.append(f"{ce.unique_id}: {raw}")
            continue
        for uid, point in ce.unique_ids():
            core = state(ce.platform, MODBUS, uid)
            ours = state(ce.platform, DOMAIN, f"{serial}_{point.key}")
            if core is None or ours is None:
                bad.append(f"{point.key}: no state (core {core}, ours {ours})")
                continue
            compared += 1
            if not _same_value(point, ours, core):
                bad.append(f"{point.key}: ours {ours}, core {core} ({uid})")
    return compared, bad


# --------------------------------------------------------------------------- report


def _platforms(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {domain}" for domain, n in sorted(counts.items()))


def _core_count(configured: Sequence[CoreEntity]) -> str:
    shown = Counter[str]()
    for ce in configured:
        shown[ce.platform] += ce.shown
    standins = sum(ce.standin for ce in configured)
    return (
        f"{shown.total()} entities ({_platforms(shown)}) from {len(configured)} "
        f"configured = polled entities ({standins} of them raw stand-ins)"
    )


def _fmt(key: str, value: float) -> str:
    if key in MS_ROWS:
        return f"{value:.2f}"
    return f"{value:,.0f}" if value == round(value) else f"{value:,.1f}"


def _print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    ours = rows["ours"]
    head = f"{title:40}" + "".join(f"{side:>10}" for side in SIDES)
    head += "".join(f"{side + '/ours':>14}" for side in SIDES[1:])
    print(head)
    print("-" * len(head))
    for key, label in ROWS.items():
        line = f"{label:40}" + "".join(f"{_fmt(key, rows[s][key]):>10}" for s in SIDES)
        for side in SIDES[1:]:
            line += f"{f'{rows[side][key] / ours[key]:.1f}x' if ours[key] else '-':>14}"
        print(line)
    print()


# --------------------------------------------------------------------------- the run


@pytest.mark.timeout(900)
async def test_bench_ha_vs_core_modbus(
    simulator: SimulatorProcess,
    hass: HomeAssistant,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> None:
    """Measure and print; fail only if the three do not show the same values."""
    if missing := await _missing_requirements(hass, MODBUS):
        pytest.skip(f"core modbus needs {', '.join(missing)}, not installed here")
    sim = simulator
    # --- ours: a config entry with default options and polling off (the system option), so
    # only the benchmark's own refreshes read the meter
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"AcuRev {sim.serial}",
        unique_id=sim.serial,
        data={CONF_HOST: HOST, CONF_PORT: sim.port, CONF_UNIT_ID: 1},
        pref_disable_polling=True,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = entry.runtime_data
    enabled = [p for p in runtime.points if p.enabled_default]
    skipped = [p.key for p in enabled if register_of(p) is None]
    enabled = [p for p in enabled if register_of(p) is not None]

    # --- core modbus: both variants in one hub, for the same enabled points
    plain = modbus_entities(enabled, prefix="core", fast_interval=FAR, slow_interval=FAR)
    grouped = modbus_entities(
        enabled, prefix="corevc", fast_interval=FAR, slow_interval=FAR, grouped=True
    )
    hub = modbus_hub(HUB, HOST, sim.port, [*plain, *grouped])
    assert await async_setup_component(hass, MODBUS, {MODBUS: [hub]})
    await hass.async_block_till_done(wait_background_tasks=True)  # platforms, connection
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))  # first reads
    await hass.async_block_till_done()

    sides = {
        "ours": Side(
            {Poll.FAST: runtime.fast.async_refresh, Poll.SLOW: runtime.slow.async_refresh}
        ),
        "core": _core_side(hass, plain),
        "core+vc": _core_side(hass, grouped),
    }
    for side in sides.values():  # warm-up
        for poll in POLLS:
            await side.polls[poll]()
        await hass.async_block_till_done()
    client_tx = runtime.client.stats.transactions
    for _ in range(CYCLES):
        for side in sides.values():
            for poll in POLLS:
                side.samples[poll].append(await _measure(hass, sim, side.polls[poll]))
    assert runtime.fast.last_update_success
    assert runtime.slow.last_update_success
    ours_served = sum(s.served.transactions for p in POLLS for s in sides["ours"].samples[p])
    assert runtime.client.stats.transactions - client_tx == ours_served, "counts disagree"

    compared, bad = _check_values(hass, sim.serial, plain)
    compared_vc, bad_vc = _check_values(hass, sim.serial, grouped)

    registry = er.async_get(hass)
    ours_registered = er.async_entries_for_config_entry(registry, entry.entry_id)
    ours_on = [e for e in ours_registered if e.disabled_by is None]
    print()
    print(f"AcuRev integration vs core modbus: {sim.description}")
    print(
        f"Home Assistant {HA_VERSION}, Python {platform.python_version()}, pymodbus "
        f"{compat.PYMODBUS_VERSION}; {CYCLES} measured cycles each, interleaved, after "
        "one warm-up; means"
    )
    print(
        f"ours:    {len(ours_on)} enabled entities "
        f"({_platforms(Counter(e.domain for e in ours_on))}; "
        f"{len(ours_registered) - len(ours_on)} more disabled by default), 2 coordinators"
    )
    print(f"core:    {_core_count(plain)}")
    print(f"core+vc: {_core_count(grouped)}")
    print(
        f"values:  {compared} core and {compared_vc} core+vc values equal ours (within the "
        "YAML's precision); the raw stand-ins are not compared"
    )
    if skipped:
        print(f"enabled points core modbus has no way to show: {', '.join(skipped)}")
    print()
    _print_table("one poll cycle (fast + slow)", {n: s.cycle() for n, s in sides.items()})
    _print_table("fast poll", {n: s.mean(Poll.FAST) for n, s in sides.items()})
    _print_table("slow poll", {n: s.mean(Poll.SLOW) for n, s in sides.items()})
    _print_table(
        "per 60 s of operation (6 fast + 1 slow)", {n: s.minute() for n, s in sides.items()}
    )

    # Stop everything that polls (phcc fails a test that leaves timers behind).
    await hass.services.async_call(MODBUS, "stop", {"hub": HUB}, blocking=True)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert not bad, "core modbus and ours differ:\n" + "\n".join(bad)
    assert not bad_vc, "core+vc and ours differ:\n" + "\n".join(bad_vc)

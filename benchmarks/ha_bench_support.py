"""Support for ``bench_ha_vs_core_modbus.py``: a simulator process and core ``modbus`` YAML.

Two independent parts:

* ``SimulatorProcess`` runs ``acurev_simulator.Simulator`` (frozen) in a child Python
  process, ``python -m benchmarks.ha_bench_support serve``, and answers ``stats`` on a
  pipe with the simulator's own counters (requests by function code, registers and
  bits served) and the child's CPU time. ``meters=N`` serves N meters (own port,
  serial and seed each) from that one process, their counters summed; ``frozen=False``
  lets their values move with real time, as a live meter's do
  (``bench_ha_many_meters.py``). Counting where the requests arrive treats both
  integrations alike (nothing in the Home Assistant process is wrapped, patched or
  proxied) and keeps the simulator's CPU out of Home Assistant's ``process_time``.
* ``modbus_entities`` / ``modbus_hub`` turn points of our catalogue
  (``custom_components/acurev/points.py``) into the configuration a user would write for
  Home Assistant's core ``modbus`` integration: one entity per point, at the point's
  register, with the same scaling (kW -> W, 0.1 kWh counts -> kWh). With ``grouped=True``
  runs of consecutive, identically typed and scaled values become one entity plus
  ``virtual_count`` virtual entities, i.e. one read per run: the best a hand-written YAML
  can do with the options core ``modbus`` has.

``python -m benchmarks.ha_bench_support yaml [--grouped]`` prints that YAML for an
18-channel 3LN meter (points read from a simulator, intervals 10 s / 60 s like ours).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from acurev_simulator import Simulator  # noqa: E402 - bootstraps the protocol import
from pyacurev.layouts import (  # noqa: E402
    CHANNEL_FIELDS,
    USER_FIELDS,
    Phase,
)
from pyacurev.points import Kind, Point, Poll, Quantity  # noqa: E402
from pyacurev.registers import (  # noqa: E402
    ENTRY_SYSTEM,
    MAX_READ_REGISTERS,
    bank_entry_channel,
    bank_entry_user,
    block,
)

HOST = "127.0.0.1"

# --------------------------------------------------------------------------- simulator process


@dataclass(frozen=True, slots=True)
class ServerStats:
    """What the simulator counted, and the CPU its process used, at one moment."""

    requests: dict[int, int] = field(default_factory=dict)  # function code -> requests
    registers: int = 0
    bits: int = 0
    cpu: float = 0.0  # seconds, time.process_time() of the simulator's process

    @property
    def transactions(self) -> int:
        """Requests of any function code (each one Modbus transaction)."""
        return sum(self.requests.values())

    def __add__(self, other: ServerStats) -> ServerStats:
        return self._combine(other, 1)

    def __sub__(self, other: ServerStats) -> ServerStats:
        return self._combine(other, -1)

    def _combine(self, other: ServerStats, sign: int) -> ServerStats:
        codes = sorted(set(self.requests) | set(other.requests))
        return ServerStats(
            {fc: self.requests.get(fc, 0) + sign * other.requests.get(fc, 0) for fc in codes},
            self.registers + sign * other.registers,
            self.bits + sign * other.bits,
            self.cpu + sign * other.cpu,
        )


class SimulatorProcess:
    """A frozen simulator in a child process; ``stats()`` asks it what it served."""

    def __init__(
        self, *, wiring: str = "3LN", channels: int = 18, meters: int = 1, frozen: bool = True
    ) -> None:
        self._argv = [
            sys.executable,
            "-m",
            "benchmarks.ha_bench_support",
            "serve",
            "--wiring",
            wiring,
            "--channels",
            str(channels),
            "--meters",
            str(meters),
        ]
        if not frozen:
            self._argv.append("--live")
        self._proc: subprocess.Popen[str] | None = None
        self.port = 0  # the first meter's
        self.serial = ""
        self.description = ""
        self.ports: list[int] = []  # every meter's, in order
        self.serials: list[str] = []

    def __enter__(self) -> SimulatorProcess:
        self._proc = subprocess.Popen(
            self._argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        hello = self._receive()
        self.ports, self.serials = hello["ports"], hello["serials"]
        self.port, self.serial, self.description = self.ports[0], self.serials[0], hello["describe"]
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            assert proc.stdin is not None
            proc.stdin.write("quit\n")
            proc.stdin.close()
            proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()

    def stats(self) -> ServerStats:
        """The simulator's counters now (one round trip over the pipe, a few 10 us)."""
        assert self._proc is not None
        assert self._proc.stdin is not None
        self._proc.stdin.write("stats\n")
        self._proc.stdin.flush()
        raw = self._receive()
        return ServerStats(
            {int(fc): n for fc, n in raw["requests"].items()},
            raw["registers"],
            raw["bits"],
            raw["cpu"],
        )

    def _receive(self) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"simulator process exited ({self._proc.poll()})")
        reply: dict[str, Any] = json.loads(line)
        return reply


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _serial(index: int, meters: int) -> str:
    """The first meter keeps the simulator's default serial; the others get their own."""
    return "AR2020-00001234" if meters == 1 else f"AR2020-{index + 1:08d}"


async def _serve(wiring: str, channels: int, meters: int = 1, frozen: bool = True) -> None:
    """Child side: serve the meters; answer ``stats`` lines on stdin until ``quit`` / EOF."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with contextlib.AsyncExitStack() as stack:
        sims = [
            await stack.enter_async_context(
                Simulator(
                    host=HOST,
                    port=0,
                    frozen=frozen,
                    wiring=wiring,
                    channels=channels,
                    serial=_serial(i, meters),
                    seed=i,
                )
            )
            for i in range(meters)
        ]
        _emit(
            {
                "ports": [sim.port for sim in sims],
                "serials": [sim.meter.serial for sim in sims],
                "describe": sims[0].describe(),
            }
        )
        while line := await reader.readline():
            command = line.decode().strip()
            if command == "quit":
                break
            if command == "stats":
                requests: Counter[int] = Counter()
                for sim in sims:
                    requests.update(sim.stats.requests)
                _emit(
                    {
                        "requests": {str(fc): n for fc, n in requests.items()},
                        "registers": sum(sim.stats.registers_served for sim in sims),
                        "bits": sum(sim.stats.bits_served for sim in sims),
                        "cpu": time.process_time(),
                    }
                )


# --------------------------------------------------------------------------- core modbus YAML

# Where each point lives. Values the map stores in kW/kvar/kVA are published in W/var/VA
# by our integration, so the YAML scales them by 1000, like a user matching our units would.
_SYSTEM_FLOATS = {
    "frequency": "f",
    "voltage_avg": "uavg",
    "current_avg": "ilavg",
    "active_power": "psum",
    "reactive_power": "qsum",
    "apparent_power": "ssum",
    "power_factor": "pfsum",
    "voltage_ab": "u12",
    "voltage_bc": "u23",
    "voltage_ca": "u31",
}
_PHASE_FLOATS = {
    "voltage": ("u1", "u2", "u3"),
    "current": ("il1", "il2", "il3"),
    "active_power": ("pa", "pb", "pc"),
    "reactive_power": ("qa", "qb", "qc"),
    "apparent_power": ("sa", "sb", "sc"),
    "power_factor": ("pfa", "pfb", "pfc"),
}
_BANKS = {
    "import_energy": "import_active_energy_phases",  # first row of the 0x2500 bank
    "export_energy": "export_active_energy_bank",
    "import_reactive_energy": "import_reactive_energy_bank",
    "export_reactive_energy": "export_reactive_energy_bank",
    "apparent_energy": "apparent_energy_bank",
}
_KILO = {Quantity.ACTIVE_POWER, Quantity.REACTIVE_POWER, Quantity.APPARENT_POWER}
# Decimals in the state core modbus writes (it formats every value with `precision`).
PRECISION: dict[Quantity, int] = {
    Quantity.VOLTAGE: 2,
    Quantity.CURRENT: 3,
    Quantity.ACTIVE_POWER: 1,
    Quantity.REACTIVE_POWER: 1,
    Quantity.APPARENT_POWER: 1,
    Quantity.POWER_FACTOR: 3,
    Quantity.FREQUENCY: 3,
    Quantity.PERCENT: 2,
    Quantity.ENERGY: 1,
    Quantity.REACTIVE_ENERGY: 1,
    Quantity.APPARENT_ENERGY: 1,
    Quantity.COUNT: 0,
    Quantity.DURATION_H: 2,
}
# Sensor classes as our integration sets them (custom_components/acurev/sensor.py).
_DEVICE_CLASS: dict[Quantity, str] = {
    Quantity.VOLTAGE: "voltage",
    Quantity.CURRENT: "current",
    Quantity.ACTIVE_POWER: "power",
    Quantity.REACTIVE_POWER: "reactive_power",
    Quantity.APPARENT_POWER: "apparent_power",
    Quantity.POWER_FACTOR: "power_factor",
    Quantity.FREQUENCY: "frequency",
    Quantity.ENERGY: "energy",
    Quantity.DURATION_H: "duration",
}
_TOTALS = {
    Quantity.ENERGY,
    Quantity.REACTIVE_ENERGY,
    Quantity.APPARENT_ENERGY,
    Quantity.COUNT,
    Quantity.DURATION_H,
}


@dataclass(frozen=True, slots=True)
class Register:
    """Where and how core modbus reads one point.

    ``standin`` names a raw read that stands in for points core modbus cannot compute
    (same traffic, no comparable value); all points with the same stand-in share it.
    """

    conf_key: str  # the hub's list: sensors, binary_sensors or switches
    address: int
    data_type: str | None = None  # float32, uint32, uint16 or custom (sensors only)
    scale: float = 1.0
    count: int = 2  # registers (bits for binary sensors / switches)
    structure: str | None = None  # custom only
    standin: str | None = None


def _float(address: int, quantity: Quantity) -> Register:
    return Register("sensors", address, "float32", 1000.0 if quantity in _KILO else 1.0)


def _bank(bank: str, entry: int) -> Register:
    blk = block(_BANKS[bank])
    return Register("sensors", blk.address + 2 * entry, "uint32", blk.scale)


_NUMBERED = re.compile(r"(relay|di|alarm)_(\d+)(_count)?")


def register_of(point: Point) -> Register | None:
    """The register core modbus reads for ``point``; None if it has no way to show it.

    None: load natures (the meter stores an ASCII code as a float; our integration
    publishes an enum) and any point this table does not know yet. Stand-ins (a raw
    read, same traffic): the clock drift, which our integration computes from the
    meter's clock registers, and the alarm states, bits of one bitmap register (a core
    modbus binary sensor only looks at bit 0 of a register).
    """
    key, q = point.key, point.quantity
    if q is Quantity.LOAD_NATURE:
        return None
    if m := _NUMBERED.fullmatch(key):
        kind, n, count = m.group(1), int(m.group(2)), m.group(3)
        if kind == "relay" and point.kind is Kind.RELAY:
            return Register("switches", block(key).address, count=1)
        if kind == "di" and point.kind is Kind.BINARY and not count:
            return Register("binary_sensors", block(key).address, count=1)
        if kind == "di" and count:
            return Register("sensors", block("di_pulse_count").address + 2 * (n - 1), "uint32")
        if kind == "alarm" and point.kind is Kind.BINARY:
            return Register(
                "sensors",
                block("active_alarm_bitmap").address,
                "uint16",
                count=1,
                standin="active_alarm_bitmap",
            )
        return None
    if key == "clock_drift":
        return Register(
            "sensors",
            block("clock_year").address,
            "custom",
            count=6,
            structure=">6H",
            standin="meter_clock",
        )
    if key == "run_time":
        blk = block("meter_run_time")
        return Register("sensors", blk.address, "uint32", blk.scale)
    if point.channel is not None:
        field_name = key.split("_", 1)[1]
        if field_name in _BANKS:
            return _bank(field_name, bank_entry_channel(point.channel))
        if field_name not in CHANNEL_FIELDS:
            return None
        rec = block("channel_record")
        return _float(
            rec.address + rec.record * (point.channel - 1) + 2 * CHANNEL_FIELDS.index(field_name), q
        )
    if point.user is not None:
        field_name = key.split("_", 1)[1]
        if field_name in _BANKS:
            return _bank(field_name, bank_entry_user(point.user))
        if field_name not in USER_FIELDS:
            return None
        rec = block("user_record")
        return _float(
            rec.address + rec.record * (point.user - 1) + 2 * USER_FIELDS.index(field_name), q
        )
    if point.phase is not None:
        name = key.removesuffix(f"_{point.phase}")
        index = (Phase.A, Phase.B, Phase.C).index(point.phase)
        if name in _BANKS:
            return _bank(name, index)
        if name in _PHASE_FLOATS:
            return _float(block(_PHASE_FLOATS[name][index]).address, q)
        return None
    if key in _BANKS:
        return _bank(key, ENTRY_SYSTEM)
    if key in _SYSTEM_FLOATS:
        return _float(block(_SYSTEM_FLOATS[key]).address, q)
    return None


@dataclass(frozen=True, slots=True)
class CoreEntity:
    """One configured core modbus entity and the point(s) it shows.

    ``points[0]`` is the entity itself; ``points[i]`` (i >= 1) is its i-th virtual
    entity (``virtual_count``), whose unique id core modbus makes ``<unique_id>_<i>``.
    A stand-in entity (``standin``) instead covers all its points with one raw value.
    """

    platform: str  # sensor, binary_sensor or switch
    conf_key: str
    unique_id: str
    poll: Poll
    points: tuple[Point, ...]
    config: dict[str, Any]
    standin: bool = False

    @property
    def shown(self) -> int:
        """Entities Home Assistant gets from this configured one (itself + virtual)."""
        return 1 + int(self.config.get("virtual_count", 0))

    def unique_ids(self) -> list[tuple[str, Point]]:
        """(unique id, point) of the entity and of each virtual entity (not stand-ins)."""
        if self.standin:
            return []
        return [
            (self.unique_id if i == 0 else f"{self.unique_id}_{i}", p)
            for i, p in enumerate(self.points)
        ]


_PLATFORM = {"sensors": "sensor", "binary_sensors": "binary_sensor", "switches": "switch"}


def _unit_key() -> str:
    """``device_address`` where this Home Assistant knows it (2024.x+), else ``slave``."""
    try:
        from homeassistant.components.modbus import const
    except ImportError:  # printing YAML without Home Assistant
        return "device_address"
    return "device_address" if hasattr(const, "CONF_DEVICE_ADDRESS") else "slave"


def _entity_config(
    point: Point, reg: Register, name: str, unique_id: str, unit_id: int, interval: int
) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "name": name,
        "unique_id": unique_id,
        _unit_key(): unit_id,
        "address": reg.address,
        "scan_interval": interval,
    }
    if reg.conf_key == "switches":
        # Read back with FC01 each scan, like our relays show the coil's real state.
        return conf | {"write_type": "coil", "verify": {}}
    if reg.conf_key == "binary_sensors":
        return conf | {"input_type": "discrete_input"}
    conf |= {"input_type": "holding", "data_type": reg.data_type}
    if reg.data_type == "custom":
        return conf | {"count": reg.count, "structure": reg.structure}
    if reg.standin:
        return conf
    # No `swap`: big-endian, high word first is core modbus's default (and what the meter
    # sends); HA 2025.4 no longer accepts `swap: none`.
    conf |= {"scale": reg.scale, "precision": PRECISION[point.quantity]}
    if point.unit:
        conf["unit_of_measurement"] = point.unit
    if point.quantity in _DEVICE_CLASS:
        conf["device_class"] = _DEVICE_CLASS[point.quantity]
    conf["state_class"] = "total_increasing" if point.quantity in _TOTALS else "measurement"
    return conf


def _same_kind(a: tuple[Point, Register], b: tuple[Point, Register]) -> bool:
    """Values core modbus can read as one entity plus virtual ones (same everything)."""
    (pa, ra), (pb, rb) = a, b
    return (ra.conf_key, ra.data_type, ra.scale, pa.poll, pa.quantity, pa.kind) == (
        rb.conf_key,
        rb.data_type,
        rb.scale,
        pb.poll,
        pb.quantity,
        pb.kind,
    )


def _runs(mapped: list[tuple[Point, Register]]) -> list[list[tuple[Point, Register]]]:
    """Consecutive same-kind values, at most one maximal read each."""
    runs: list[list[tuple[Point, Register]]] = []
    for item in sorted(mapped, key=lambda pr: (pr[1].conf_key, pr[1].address)):
        reg = item[1]
        if runs:
            last_reg = runs[-1][-1][1]
            size = (reg.address + reg.count) - runs[-1][0][1].address
            if (
                reg.conf_key in ("sensors", "binary_sensors")
                and reg.data_type != "custom"
                and _same_kind(runs[-1][-1], item)
                and reg.address == last_reg.address + last_reg.count
                and size <= MAX_READ_REGISTERS
            ):
                runs[-1].append(item)
                continue
        runs.append([item])
    return runs


def modbus_entities(
    points: Iterable[Point],
    *,
    prefix: str,
    unit_id: int = 1,
    fast_interval: int = 10,
    slow_interval: int = 60,
    grouped: bool = False,
) -> list[CoreEntity]:
    """Core modbus entities for ``points`` (the caller picks which, e.g. enabled ones).

    Raises ValueError for a point core modbus cannot show (``register_of`` is None).
    """
    mapped: list[tuple[Point, Register]] = []
    standins: dict[str, list[tuple[Point, Register]]] = {}
    for point in points:
        reg = register_of(point)
        if reg is None:
            raise ValueError(f"core modbus cannot show point {point.key}")
        if reg.standin:
            standins.setdefault(reg.standin, []).append((point, reg))
        else:
            mapped.append((point, reg))
    runs = _runs(mapped) if grouped else [[item] for item in mapped]

    def entity(run: list[tuple[Point, Register]], label: str, standin: bool) -> CoreEntity:
        point, reg = run[0]
        uid = f"{prefix}_{label}"
        interval = slow_interval if point.poll is Poll.SLOW else fast_interval
        conf = _entity_config(point, reg, f"{prefix} {label}", uid, unit_id, interval)
        if len(run) > 1 and not standin:
            conf["virtual_count"] = len(run) - 1
        return CoreEntity(
            _PLATFORM[reg.conf_key],
            reg.conf_key,
            uid,
            point.poll,
            tuple(p for p, _ in run),
            conf,
            standin,
        )

    return [entity(run, run[0][0].key, False) for run in runs] + [
        entity(run, label, True) for label, run in standins.items()
    ]


def modbus_hub(name: str, host: str, port: int, entities: Sequence[CoreEntity]) -> dict[str, Any]:
    """One ``modbus:`` list item (a TCP hub) holding ``entities``."""
    hub: dict[str, Any] = {"name": name, "type": "tcp", "host": host, "port": port}
    for entity in entities:
        hub.setdefault(entity.conf_key, []).append(dict(entity.config))
    return hub


# --------------------------------------------------------------------------- command line


async def _print_yaml(wiring: str, channels: int, grouped: bool) -> None:
    import yaml

    from custom_components.acurev.options import point_options
    from pyacurev.client import AcuRevClient
    from pyacurev.groups import ReadGroup
    from pyacurev.points import build_points

    async with (
        Simulator(host=HOST, port=0, frozen=True, wiring=wiring, channels=channels) as sim,
        AcuRevClient(HOST, sim.port) as client,
    ):
        device = await client.read_device_info()
        snap = await client.read_snapshot({ReadGroup.IO, ReadGroup.ALARM_SETTINGS}, device)
    # The points the integration builds for this meter (as in its async_setup_entry).
    io, alarms = snap.io, snap.alarm_settings
    alarm_channels = (
        tuple(ch.channel for ch in alarms.channels if ch.enabled)
        if (alarms is not None and alarms.enabled)
        else ()
    )
    points = build_points(
        device, point_options({}), io.di_counter_mode if io else (), alarm_channels
    )
    enabled = [p for p in points if p.enabled_default and register_of(p) is not None]
    entities = modbus_entities(enabled, prefix="acurev", grouped=grouped)
    hub = modbus_hub("acurev", "192.0.2.10", 502, entities)
    print(
        f"# core modbus YAML for the {len(enabled)} enabled-by-default points of an AcuRev "
        f"2020 ({wiring}, {channels} channels) that it can show: "
        f"{len(entities)} configured entities"
    )
    print(yaml.safe_dump({"modbus": [hub]}, sort_keys=False, width=100), end="")


def main(argv: Sequence[str] | None = None) -> None:
    """``serve`` (the benchmark's simulator process) or ``yaml`` (print the configuration)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ha_bench_support")
    parser.add_argument("command", choices=("serve", "yaml"))
    parser.add_argument("--wiring", choices=("2LN", "3LN"), default="3LN")
    parser.add_argument("--channels", type=int, choices=(9, 18), default=18)
    parser.add_argument("--grouped", action="store_true", help="yaml: use virtual_count")
    parser.add_argument("--meters", type=int, default=1, help="serve: how many meters")
    parser.add_argument("--live", action="store_true", help="serve: values move (not frozen)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(_serve(args.wiring, args.channels, args.meters, not args.live))
    else:
        asyncio.run(_print_yaml(args.wiring, args.channels, args.grouped))


if __name__ == "__main__":
    main()

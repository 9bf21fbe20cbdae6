"""Command line: ``acurev snapshot|probe --host H [--port P]`` (or ``python -m pyacurev``).

For people checking a meter before (or instead of) setting up Home Assistant,
and for bug reports: ``snapshot`` prints one JSON document, ``probe`` the
block-by-block report. Failures print one line on stderr and exit non-zero,
so the commands compose in shell scripts. ``probe`` exits 0 whenever the meter
answered at all — blocks that answer exceptions or implausible data are what
it is for, not a failure; it exits 1 when nothing answered (no connection, or
silence at that unit id, which the report names).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import fields
from enum import Enum
from typing import Any

from .client import AcuRevClient
from .errors import AcuRevError
from .groups import ReadGroup
from .models import EnergyBank, Snapshot, SystemValues, UserValues
from .probe import run_probe

EXIT_OK = 0
EXIT_METER_ERROR = 1

SNAPSHOT_GROUPS = frozenset(
    {
        ReadGroup.DEVICE,
        ReadGroup.BUILD,
        ReadGroup.SYSTEM,
        ReadGroup.CHANNELS,
        ReadGroup.USERS,
        ReadGroup.ENERGY,
        ReadGroup.EXPORT_ENERGY,
        ReadGroup.IO,
    }
)


def _plain(value: Any) -> Any:
    """Enums to their values, dict keys to strings, tuples to lists."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _system_json(system: SystemValues) -> dict[str, Any]:
    return {f.name: _plain(getattr(system, f.name)) for f in fields(system)}


def _user_json(user: UserValues, imp: EnergyBank | None, exp: EnergyBank | None) -> dict[str, Any]:
    out = {f.name: _plain(getattr(user, f.name)) for f in fields(user)}
    out["import_energy"] = imp.user(user.user) if imp else None
    out["export_energy"] = exp.user(user.user) if exp else None
    return out


def snapshot_json(snap: Snapshot) -> dict[str, Any]:
    """The document ``snapshot`` prints (units: A, kW, kvar, kVA, kWh)."""
    if snap.device is None:
        raise ValueError("snapshot without device info")
    dev = snap.device
    imp = snap.energy.import_active if snap.energy else None
    exp = snap.energy.export_active if snap.energy else None
    return {
        "device": {
            "serial": dev.serial,
            "model": dev.model,
            "model_name": dev.model_name,
            "firmware": dev.firmware_version,
            "hardware": dev.hardware_version,
            "map_version": dev.map_version,
            "ct_input_type": dev.ct_input_type,
            "installed_channels": dev.installed_channels,
            "run_time_h": dev.run_time_h,
        },
        "wiring": dev.wiring.value,
        "system": _system_json(snap.system) if snap.system else None,
        "channels": [
            {
                "channel": ch.channel,
                "current": ch.current,
                "active_power": ch.active_power,
                "reactive_power": ch.reactive_power,
                "apparent_power": ch.apparent_power,
                "power_factor": ch.power_factor,
                "load_nature": _plain(ch.load_nature),
                "import_energy": imp.channel(ch.channel) if imp else None,
                "export_energy": exp.channel(ch.channel) if exp else None,
            }
            for ch in snap.channels
        ],
        "users": [_user_json(u, imp, exp) for u in snap.users],
        "relays": list(snap.io.relays) if snap.io else None,
        "digital_inputs": list(snap.io.digital_inputs) if snap.io else None,
        "failed_groups": sorted(snap.failed_groups),
    }


# Without these there is no snapshot worth printing; other groups may fail (and are named).
CORE_GROUPS = frozenset({ReadGroup.SYSTEM, ReadGroup.CHANNELS, ReadGroup.ENERGY})


async def _snapshot(args: argparse.Namespace) -> int:
    async with AcuRevClient(args.host, args.port, args.unit, timeout=args.timeout) as client:
        snap = await client.read_snapshot(SNAPSHOT_GROUPS)
    core_failed = sorted(g for g in snap.failed_groups if g in CORE_GROUPS)
    if core_failed:
        raise AcuRevError(f"{', '.join(core_failed)} did not answer (a Modbus exception)")
    print(json.dumps(snapshot_json(snap), indent=2))
    return EXIT_OK


async def _probe(args: argparse.Namespace) -> int:
    # Not ``async with``: entering connects, and the probe must see (and report)
    # a refused identity or a wrong unit id itself.
    client = AcuRevClient(args.host, args.port, args.unit, timeout=args.timeout)
    try:
        report = await run_probe(client, interval=args.interval)
    finally:
        await client.close()
    print(report.to_json() if args.json else report.format_table())
    return EXIT_OK if report.talked else EXIT_METER_ERROR


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and shell completion)."""
    parser = argparse.ArgumentParser(
        prog="acurev",
        description="Read an Accuenergy AcuRev 2020 over Modbus TCP.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", required=True, help="meter IP address or host name")
        p.add_argument("--port", type=int, default=502, help="Modbus TCP port (default 502)")
        p.add_argument("--unit", type=int, default=1, help="Modbus unit id (default 1)")
        p.add_argument("--timeout", type=float, default=3.0, help="seconds per request (default 3)")

    common(sub.add_parser("snapshot", help="print one JSON snapshot of the meter"))
    probe = sub.add_parser(
        "probe",
        help="check which blocks answer and whether values are plausible (read only); "
        "exit 0 whenever the meter answered",
    )
    common(probe)
    probe.add_argument("--json", action="store_true", help="JSON instead of a table")
    probe.add_argument(
        "--interval",
        type=float,
        default=3.0,
        help="seconds between the two energy reads (default 3)",
    )
    return parser


async def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command in the running event loop; returns the exit code."""
    args = build_parser().parse_args(argv)
    runner = _snapshot if args.command == "snapshot" else _probe
    try:
        return await runner(args)
    except AcuRevError as exc:
        print(f"error: {args.host}:{args.port} unit {args.unit}: {exc}", file=sys.stderr)
        return EXIT_METER_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``acurev`` (and ``python -m pyacurev``); returns the exit code."""
    # pymodbus logs every refused connect and exception response; the one-line
    # error below already says it, and scripts parse stderr.
    logging.getLogger("pymodbus").addHandler(logging.NullHandler())
    logging.getLogger("pymodbus").propagate = False
    try:
        return asyncio.run(run(argv))
    except KeyboardInterrupt:
        return 130

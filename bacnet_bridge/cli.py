"""Command line: ``run`` the bridge, export the ``ede`` files, ``check`` a configuration.

    python -m bacnet_bridge run --config FILE [--log-level LEVEL]
    python -m bacnet_bridge ede --config FILE --out DIR [--project NAME]
    python -m bacnet_bridge check --config FILE
    acurev-bridge ...            (the same, as a console script)

Exit codes: 0 success, 1 runtime failure, 2 configuration error. Configuration errors
name the offending key and never print a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import ConfigError, load_config

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the tests)."""
    parser = argparse.ArgumentParser(
        prog="acurev-bridge",
        description="Republish AcuRev meters from Home Assistant over BACnet/IP and SNMP.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bridge until SIGINT/SIGTERM")
    run.add_argument("--config", required=True, type=Path, help="YAML configuration file")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    ede = sub.add_parser("ede", help="write the EDE file set of the BACnet device")
    ede.add_argument("--config", required=True, type=Path, help="YAML configuration file")
    ede.add_argument("--out", required=True, type=Path, help="output directory")
    ede.add_argument("--project", help="project name (file prefix); default: the device name")
    check = sub.add_parser("check", help="validate a configuration and print it (redacted)")
    check.add_argument("--config", required=True, type=Path, help="YAML configuration file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bacnet_bridge`` and the ``acurev-bridge`` script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(args, "log_level", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "check":
        print(json.dumps(config.redacted(), indent=2))
        return EXIT_OK
    if args.command == "ede":
        from .ede import ExportError, export

        try:
            paths = asyncio.run(export(config, args.out, args.project))
        except (ExportError, OSError) as err:
            print(f"ede: {err}", file=sys.stderr)
            return EXIT_FAILURE
        for path in paths:
            print(path)
        return EXIT_OK
    from .app import run

    try:
        asyncio.run(run(config))
    except OSError as err:  # e.g. a port that cannot be bound
        logging.getLogger("bacnet_bridge").error("cannot start: %s", err)
        return EXIT_FAILURE
    return EXIT_OK

"""``python -m acurev_simulator``: run a simulated AcuRev 2020 or 2100 until SIGINT/SIGTERM.

``--meter 2020|2100`` picks the meter family and ``--model ct|333mv`` its CT build:
the two are separate options because they are separate axes (both families come
with current-output and 333 mV inputs, 0x080D = 120 / 333), and ``--model`` keeps
the meaning existing scripts rely on.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence

from pyacurev.layouts import Wiring
from pyacurev.profiles import PROFILES, MeterModel

from .faults import DEFAULT_MAX_CLIENTS
from .server import Simulator

_LOGGER = logging.getLogger(__package__)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m acurev_simulator",
        description="Simulated Accuenergy AcuRev 2020 / 2100 sub-meter (Modbus TCP).",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it)",
    )
    parser.add_argument("--port", type=int, default=5020, help="TCP port (0: any free port)")
    parser.add_argument(
        "--meter",
        choices=tuple(PROFILES),
        default="2020",
        help="meter family: 2020 (six users) or 2100 (nine users, more wiring types)",
    )
    parser.add_argument(
        "--wiring",
        choices=tuple(w.value for w in Wiring),
        default="3LN",
        help="1LN, 2LN, 3LN; the 2100 also HLD (high-leg delta), 2LL, 2LN-NET (2LN network)",
    )
    parser.add_argument("--channels", type=int, choices=(9, 18), default=18)
    parser.add_argument("--unit", type=int, default=1, help="Modbus unit id (1-247)")
    parser.add_argument(
        "--model", choices=("ct", "333mv"), default="ct", help="CT build (either meter)"
    )
    parser.add_argument(
        "--map-profile",
        choices=("full", "evidence", "divergent"),
        default="full",
        help="register layout the firmware answers: full (our whole map, default), "
        "evidence (only evidence-backed addresses; the rest exception 02), "
        "divergent (evidence layout; designed blocks answer zeros/garbage)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--frozen", action="store_true", help="measurements and time stand still")
    parser.add_argument("--serial", default=None, help="default AR<meter>-00001234")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--log-history-hours",
        type=float,
        default=72.0,
        help="data-log records kept from before start (default 72; 0: empty log)",
    )
    parser.add_argument(
        "--max-clients",
        type=int,
        default=DEFAULT_MAX_CLIENTS,
        help="TCP clients served at once (0: no limit)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if not 1 <= args.unit <= 247:
        parser.error("--unit must be 1-247")
    if Wiring(args.wiring) not in PROFILES[MeterModel(args.meter)].wirings:
        parser.error(f"the AcuRev {args.meter} has no {args.wiring} wiring")
    if args.serial is None:
        args.serial = f"AR{args.meter}-00001234"
    if not (args.serial.isascii() and args.serial.isprintable() and 0 < len(args.serial) <= 16):
        parser.error("--serial must be 1-16 printable ASCII characters")
    return args


async def serve(args: argparse.Namespace) -> None:
    """Run the simulator until a termination signal."""
    sim = Simulator(
        host=args.host,
        port=args.port,
        speed=args.speed,
        frozen=args.frozen,
        wiring=args.wiring,
        channels=args.channels,
        model=args.model,
        family=args.meter,
        map_profile=args.map_profile,
        serial=args.serial,
        unit_id=args.unit,
        seed=args.seed,
        log_history_hours=args.log_history_hours,
    )
    sim.faults.max_clients = args.max_clients or None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with sim:
        _LOGGER.info("%s", sim.describe())
        await stop.wait()
    _LOGGER.info("AcuRev %s simulator stopped", args.meter)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        asyncio.run(serve(args))
    except OSError as err:
        _LOGGER.error("cannot serve on %s:%s: %s", args.host, args.port, err)
        return 1
    return 0

"""BACnet/IP server throughput of the bridge's device, with clients in other processes.

    .venv/bin/python benchmarks/bench_bacnet_server.py [--meters 1] [--rp 5000] [--rpm 500]

The device (``bacnet_bridge.bacnet.device.BacnetDevice``) runs in this process's event loop
over a point table shaped like the real one (per meter: 18 channels x 7 analog points, the
system points, 8 relays, 8 DIs: about 200 objects for one meter, as in issue #12's EPICS).
Clients are separate processes speaking raw BACnet/IP from pre-encoded requests (new invoke
ids, one request in flight per client, answers checked for their type but not decoded), so
the figures are the server's and not a Python client's sharing its loop (bench_bacnet.py
measures the whole chain with bac-py in the same loop).

* ReadProperty/s of Present_Value, cycling over every analog input: 1 client and 4 clients;
* ReadPropertyMultiple properties/s: 20 analog inputs x 4 properties (Present_Value,
  Status_Flags, Reliability, Units) = 80 properties per request: 1 client and 4 clients.

The goals of issue #12 (loopback): ReadProperty >= 3,000/s, ReadPropertyMultiple >= 10,000
properties/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bacnet_bridge.bacnet.device import BacnetDevice
from bacnet_bridge.config import BacnetConfig, Config, HomeAssistantConfig
from bacnet_bridge.model import Meter, Point, PointKind, PointTable

HOST = "127.0.0.1"
PROPS = (85, 111, 103, 117)  # present-value, status-flags, reliability, units


def build_table(meters: int) -> PointTable:
    table = PointTable()
    points: dict[str, Point] = {}
    all_meters: dict[str, Meter] = {}

    def add(serial: str, key: str, kind: PointKind, value: object, unit: str | None) -> None:
        uid = f"{serial}_{key}"
        points[uid] = Point(uid, f"sensor.b_{uid}", serial, key, kind, key, unit, value=value,
                            available=True)  # fmt: skip

    m, c = PointKind.MEASUREMENT, PointKind.COUNTER
    for i in range(meters):
        serial = f"BENCH{i:04d}"
        all_meters[serial] = Meter(serial, f"Bench {i}", "AcuRev 2020", "2.05", available=True)
        for key, unit, value in (
            ("frequency", "Hz", 50.0),
            ("voltage_a", "V", 230.1),
            ("voltage_b", "V", 229.9),
            ("voltage_c", "V", 230.4),
            ("active_power", "W", 12345.0),
            ("power_factor", None, 0.97),
        ):
            add(serial, key, m, value, unit)
        add(serial, "import_energy", c, 123456.7, "kWh")
        add(serial, "export_energy", c, 12.3, "kWh")
        for ch in range(1, 19):
            add(serial, f"ch{ch:02d}_current", m, 1.5, "A")
            add(serial, f"ch{ch:02d}_active_power", m, 330.0, "W")
            add(serial, f"ch{ch:02d}_reactive_power", m, 30.0, "var")
            add(serial, f"ch{ch:02d}_apparent_power", m, 331.0, "VA")
            add(serial, f"ch{ch:02d}_power_factor", m, 0.95, None)
            add(serial, f"ch{ch:02d}_import_energy", c, 1000.0 + ch, "kWh")
            add(serial, f"ch{ch:02d}_export_energy", c, 0.0, "kWh")
        for n in range(1, 9):
            add(serial, f"relay_{n}", PointKind.RELAY, n % 2 == 0, None)
            add(serial, f"di_{n}", PointKind.BINARY, n % 3 == 0, None)
    table.ha_connected = True
    table.replace_points(all_meters, points)
    return table


# --- the raw client (runs in a child process) ----------------------------------------------


def _frame(invoke: int, service: int, body: bytes) -> bytes:
    npdu = b"\x01\x04" + bytes([0x00, 0x05, invoke, service]) + body
    return b"\x81\x0a" + struct.pack(">H", 4 + len(npdu)) + npdu


def _oid(instance: int) -> bytes:
    return b"\x0c" + struct.pack(">I", instance)  # analog-input (type 0)


def _client(port: int, mode: str, count: int, instances: list[int]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5.0)
    sock.connect((HOST, port))
    if mode == "rp":
        bodies = [_oid(i) + b"\x19\x55" for i in instances]
        service, expect = 12, 0x30
    else:
        refs = b"\x1e" + b"".join(b"\x09" + bytes([p]) for p in PROPS) + b"\x1f"
        groups = [instances[i : i + 20] for i in range(0, len(instances) - 19, 20)]
        bodies = [b"".join(_oid(i) + refs for i in group) for group in groups]
        service, expect = 14, 0x30
    requests = [[_frame(inv, service, body) for body in bodies] for inv in range(256)]
    for body_index in range(min(len(bodies), 5)):  # warm-up
        sock.send(requests[0][body_index])
        sock.recv(2048)
    bad = 0
    start = time.perf_counter()
    for n in range(count):
        sock.send(requests[n % 256][n % len(bodies)])
        answer = sock.recv(2048)
        if answer[6] & 0xF0 != expect:
            bad += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"requests": count, "seconds": elapsed, "bad": bad}))


async def run_clients(
    port: int, mode: str, count: int, instances: list[int], clients: int
) -> dict[str, float]:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--client",
            mode,
            "--port",
            str(port),
            "--count",
            str(count),
            "--instances",
            ",".join(map(str, instances)),
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(clients)
    ]
    start = time.perf_counter()
    outs = [json.loads((await p.communicate())[0]) for p in procs]
    wall = time.perf_counter() - start
    slowest = max(o["seconds"] for o in outs)
    return {
        "requests": sum(o["requests"] for o in outs),
        "seconds": slowest,
        "wall": wall,
        "bad": sum(o["bad"] for o in outs),
    }


async def main(args: argparse.Namespace) -> None:
    table = build_table(args.meters)
    with tempfile.TemporaryDirectory() as state:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
        sock.close()
        config = Config(
            HomeAssistantConfig(token="unused"),
            state_dir=Path(state),
            bacnet=BacnetConfig(port=port),
        )
        device = BacnetDevice(config, table)
        await device.start()
        try:
            analog = sorted(
                int(o.objectIdentifier[1])
                for o in device.objects.values()
                if str(o.objectIdentifier[0]) == "analog-input"
            )
            print(
                f"BACnet server benchmark - Python {platform.python_version()}, "
                f"{os.cpu_count()} CPU, {len(device.objects) + 2} objects ({len(analog)} AI)"
            )
            for clients in (1, 4):
                r = await run_clients(port, "rp", args.rp, analog, clients)
                print(
                    f"ReadProperty Present_Value, {clients} client(s) x {args.rp}: "
                    f"{r['requests'] / r['seconds']:,.0f} req/s (bad answers: {r['bad']:.0f})"
                )
            for clients in (1, 4):
                r = await run_clients(port, "rpm", args.rpm, analog, clients)
                props = r["requests"] * 80
                print(
                    f"ReadPropertyMultiple 20 AI x 4 props, {clients} client(s) x {args.rpm}: "
                    f"{r['requests'] / r['seconds']:,.0f} req/s = "
                    f"{props / r['seconds']:,.0f} properties/s (bad answers: {r['bad']:.0f})"
                )
        finally:
            await device.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=1)
    parser.add_argument("--rp", type=int, default=5000)
    parser.add_argument("--rpm", type=int, default=500)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--instances", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.client:
        _client(ns.port, ns.client, ns.count, [int(x) for x in ns.instances.split(",")])
    else:
        asyncio.run(main(ns))

"""SNMP agent benchmark: bulk-walk objects/s, GET/s, and change-to-visible latency, in one run.

    .venv/bin/python benchmarks/bench_snmp.py [--meters 4] [--gets 3000] [--walks 20]

The agent runs in this process's event loop over a point table shaped like the real one
(per meter: the system row, 18 channels, 8 relays, 8 DIs). Clients are separate processes,
so the numbers are the agent's, not a client's sharing its loop:

* ``snmpbulkwalk`` (net-snmp, -Cr50) of the whole enterprise subtree, SNMPv2c and SNMPv3
  authPriv (SHA/AES-128): objects counted and checked against the agent's instance count;
  objects/s includes the tool's own start-up (fork/exec, ~10 ms);
* a raw-UDP client (pre-encoded SNMPv2c messages, one in flight) for GET/s and GETBULK
  (max-repetitions 50) varbinds/s, plus GETBULK requests that start past the end of the
  subtree (pitfall S7: these cost ~40 ms each with pysnmp's MIB-tree instrumentation);
* latency from ``PointTable.update_point`` to the new value in a GET response (this loop),
  i.e. the point-table-to-SNMP part of "simulator change -> SNMP value"; the Home
  Assistant part in front of it is the bridge's websocket path, measured by the bridge.

Needs net-snmp's snmpbulkwalk (scripts/install-snmp-tools.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bacnet_bridge.config import Config, HomeAssistantConfig, SnmpConfig, SnmpUser
from bacnet_bridge.model import Meter, Point, PointKind, PointTable
from bacnet_bridge.snmp import SnmpAgent, oids, start_snmp

COMMUNITY, USER, AUTH, PRIV = "bench", "bench", "bench-auth-key", "bench-priv-key"
HOST = "127.0.0.1"
V3 = ["-v3", "-l", "authPriv", "-u", USER, "-a", "SHA", "-A", AUTH, "-x", "AES", "-X", PRIV]


# --- the table -----------------------------------------------------------------------------


def build_table(meters: int) -> PointTable:
    """A table like the integration's default entity set, ``meters`` times."""
    table = PointTable()
    all_meters: dict[str, Meter] = {}
    points: dict[str, Point] = {}

    def add(
        serial: str,
        key: str,
        kind: PointKind,
        value: Any,
        unit: str | None = None,
    ) -> None:
        uid = f"{serial}_{key}"
        points[uid] = Point(
            uid,
            f"sensor.b_{uid}",
            serial,
            key,
            kind,
            key,
            unit,
            value=value,
            available=True,
        )

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
            add(serial, f"ch{ch:02d}_power_factor", m, 0.95, None)
            add(serial, f"ch{ch:02d}_import_energy", c, 1000.0 + ch, "kWh")
            add(serial, f"ch{ch:02d}_export_energy", c, 0.0, "kWh")
        for n in range(1, 9):
            add(serial, f"relay_{n}", PointKind.RELAY, n % 2 == 0)
            add(serial, f"di_{n}", PointKind.BINARY, n % 3 == 0)
    table.ha_connected = True
    table.replace_points(all_meters, points)
    return table


# --- the raw client (runs in a child process) ----------------------------------------------


def _client(port: int, mode: str, count: int, oid_text: str) -> None:
    import socket

    from pyasn1.codec.ber import decoder, encoder
    from pysnmp.proto.api import v2c

    oid: tuple[int, ...] = ()
    if mode != "replay":
        oid = tuple(int(x) for x in oid_text.split(",", maxsplit=1)[0].strip(".").split("."))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2.0)
    sock.connect((HOST, port))

    def message(pdu: Any, name: tuple[int, ...], repetitions: int = 0) -> bytes:
        v2c.apiPDU.set_defaults(pdu)
        if repetitions:  # after set_defaults, which zeroes these two fields
            v2c.apiBulkPDU.set_non_repeaters(pdu, 0)
            v2c.apiBulkPDU.set_max_repetitions(pdu, repetitions)
        v2c.apiPDU.set_varbinds(pdu, [(name, v2c.null)])
        msg = v2c.Message()
        v2c.apiMessage.set_defaults(msg)
        v2c.apiMessage.set_community(msg, COMMUNITY)
        v2c.apiMessage.set_pdu(msg, pdu)
        return bytes(encoder.encode(msg))

    def varbinds(data: bytes) -> list[Any]:
        msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
        return list(v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(msg)))

    def bulk(name: tuple[int, ...], repetitions: int = 50) -> bytes:
        return message(v2c.GetBulkRequestPDU(), name, repetitions=repetitions)

    done = items = 0
    start = time.perf_counter()
    if mode == "get":
        request = message(v2c.GetRequestPDU(), oid)
        for _ in range(count):
            sock.send(request)
            sock.recv(65535)
            done += 1
            items += 1
    elif mode == "bulk-walk":
        # Start points every 50 instances through the subtree (from the parent): the requests
        # are encoded once and the answers not decoded in the timed loop, so the client's
        # pyasn1 decoding (slower than the agent) does not set the pace.
        starts = [tuple(int(x) for x in s.strip(".").split(".")) for s in oid_text.split(",")]
        requests = [bulk(s) for s in starts]
        sizes = []
        for request in requests:
            sock.send(request)
            sizes.append(len(varbinds(sock.recv(65535))))
        start = time.perf_counter()
        while done < count:
            i = done % len(requests)
            sock.send(requests[i])
            sock.recv(65535)
            done += 1
            items += sizes[i]
    elif mode == "replay":
        # A captured SNMPv3 authPriv request (snmpbulkget -d), sent again and again: USM
        # accepts a message again within its 150 s time window, so every copy is
        # authenticated, decrypted, answered, encrypted and signed by the agent.
        request = bytes.fromhex(oid_text)
        sock.send(request)
        sock.recv(65535)
        start = time.perf_counter()
        for _ in range(count):
            sock.send(request)
            sock.recv(65535)
            done += 1
    elif mode == "bulk-past-end":
        request = bulk(oid, repetitions=10)
        for _ in range(count):
            sock.send(request)
            sock.recv(65535)
            done += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"requests": done, "items": items, "seconds": elapsed}))


async def captured_v3_bulk(port: int, repetitions: int) -> tuple[str, int]:
    """An SNMPv3 authPriv GETBULK as net-snmp sends it (hex), and how many bindings it gets."""
    proc = await asyncio.create_subprocess_exec(
        "snmpbulkget",
        *V3,
        f"-Cr{repetitions}",
        "-d",
        "-On",
        f"{HOST}:{port}",
        oids.text(oids.ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out = (await proc.communicate())[0].decode()
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in out.splitlines():
        if line.startswith("Sending "):
            current = []
            blocks.append(current)
        elif line.startswith("Received "):
            current = None
        elif current is not None and line[:4].isdigit() and line[4:5] == ":":
            current.append(line[6:56])  # the hex columns, not the ASCII beside them
    request = "".join("".join(x.split()) for x in blocks[-1])
    bindings = sum(1 for line in out.splitlines() if line.startswith(".1.3.6"))
    return request, bindings


async def raw(port: int, mode: str, count: int, oid: str) -> dict[str, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--client",
        mode,
        "--port",
        str(port),
        "--count",
        str(count),
        "--oid",
        oid,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    result: dict[str, float] = json.loads(out)
    return result


# --- measurements --------------------------------------------------------------------------


async def bulkwalk(port: int, security: list[str], runs: int, expected: int) -> dict[str, float]:
    times, objects = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            "snmpbulkwalk",
            *security,
            "-Cr50",
            "-On",
            "-m",
            "",
            "-t",
            "2",
            "-r",
            "0",
            f"udp:{HOST}:{port}",
            oids.text(oids.ROOT),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "MIBS": "", "SNMPCONFPATH": "/nonexistent"},
        )
        out, err = await proc.communicate()
        times.append(time.perf_counter() - start)
        objects = sum(1 for line in out.decode().splitlines() if line.startswith(".1.3.6"))
        if proc.returncode or objects != expected:
            raise SystemExit(
                f"snmpbulkwalk: rc {proc.returncode}, {objects}/{expected} objects; {err.decode()}"
            )
    median = statistics.median(times)
    return {"objects": objects, "median_s": median, "objects_per_s": objects / median}


async def latency(agent: SnmpAgent, table: PointTable, samples: int) -> list[float]:
    """update_point -> the new value in a GET answer, through a UDP client in this loop."""
    from pyasn1.codec.ber import decoder, encoder
    from pysnmp.proto.api import v2c

    loop = asyncio.get_running_loop()
    serial = next(iter(table.meters))
    uid = f"{serial}_ch01_active_power"
    oid = (*oids.CHANNEL_ENTRY, oids.ChannelCol.POWER, agent.view.meter_index[serial], 1)  # type: ignore[union-attr]
    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_varbinds(pdu, [(oid, v2c.null)])
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, COMMUNITY)
    v2c.apiMessage.set_pdu(msg, pdu)
    request = bytes(encoder.encode(msg))
    answers: asyncio.Queue[bytes] = asyncio.Queue()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            answers.put_nowait(data)

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=agent.address)
    results = []
    try:
        for i in range(samples):
            watts = 1000 + i
            start = time.perf_counter()
            table.update_point(uid, float(watts), True)
            while True:
                transport.sendto(request)
                data = await asyncio.wait_for(answers.get(), 2)
                got, _ = decoder.decode(data, asn1Spec=v2c.Message())
                value = v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(got))[0][1]
                if int(value) == watts:
                    break
            results.append(time.perf_counter() - start)
    finally:
        transport.close()
    return results


async def main(args: argparse.Namespace) -> None:
    if shutil.which("snmpbulkwalk") is None:
        raise SystemExit("snmpbulkwalk not found: run scripts/install-snmp-tools.sh")
    table = build_table(args.meters)
    with tempfile.TemporaryDirectory() as state:
        config = Config(
            HomeAssistantConfig(token="unused"),
            state_dir=Path(state),
            snmp=SnmpConfig(
                address=HOST, port=0, community=COMMUNITY, users=[SnmpUser(USER, AUTH, PRIV)]
            ),
        )
        agent = await start_snmp(config, table)
        try:
            await run_all(agent, table, args)
        finally:
            await agent.close()


async def run_all(agent: SnmpAgent, table: PointTable, args: argparse.Namespace) -> None:
    port = agent.address[1]
    assert agent.view is not None
    subtree = [o for o in agent.view.store.instances() if o[: len(oids.ROOT)] == oids.ROOT]
    print(
        f"agent: {args.meters} meter(s), {len(table.points)} points, "
        f"{agent.view.instance_count()} instances ({len(subtree)} in the enterprise subtree)"
    )
    v2 = ["-v2c", "-c", COMMUNITY]
    for label, security in (("v2c", v2), ("v3 authPriv SHA/AES-128", V3)):
        r = await bulkwalk(port, security, args.walks, len(subtree))
        print(
            f"snmpbulkwalk -Cr50 {label}: {r['objects']:.0f} objects in "
            f"{r['median_s'] * 1000:.1f} ms (median of {args.walks}) = "
            f"{r['objects_per_s']:,.0f} objects/s"
        )
    first = oids.text((*oids.CHANNEL_ENTRY, oids.ChannelCol.POWER, 1, 1))
    get = await raw(port, "get", args.gets, first)
    print(
        f"raw GET, 1 varbind, sequential: {get['requests']:.0f} in {get['seconds']:.2f} s = "
        f"{get['requests'] / get['seconds']:,.0f} GET/s "
        f"({get['seconds'] / get['requests'] * 1e3:.2f} ms each)"
    )
    starts = ",".join(oids.text(o) for o in subtree[:-50:50])
    bulk = await raw(port, "bulk-walk", args.bulks, starts)
    print(
        f"raw GETBULK max-rep 50, sequential: {bulk['requests']:.0f} requests, "
        f"{bulk['items']:.0f} varbinds in {bulk['seconds']:.2f} s = "
        f"{bulk['requests'] / bulk['seconds']:,.0f} req/s = "
        f"{bulk['items'] / bulk['seconds']:,.0f} varbinds/s"
    )
    request, bindings = await captured_v3_bulk(port, 50)
    v3 = await raw(port, "replay", args.bulks, request)
    print(
        f"raw GETBULK max-rep 50 SNMPv3 authPriv SHA/AES-128 (replayed), sequential: "
        f"{v3['requests']:.0f} requests x {bindings} varbinds in {v3['seconds']:.2f} s = "
        f"{v3['requests'] / v3['seconds']:,.0f} req/s = "
        f"{v3['requests'] * bindings / v3['seconds']:,.0f} varbinds/s"
    )
    past = await raw(port, "bulk-past-end", 200, oids.text(oids.SNMP_ENGINE_MAX_MSG))
    print(
        f"raw GETBULK max-rep 10 starting past the end of the view: "
        f"{past['seconds'] / past['requests'] * 1e3:.2f} ms/request "
        "(pitfall S7: 39-43 ms with pysnmp's MIB-tree instrumentation)"
    )
    lat = await latency(agent, table, args.samples)
    lat_ms = sorted(x * 1e3 for x in lat)
    print(
        f"latency point table change -> value in a GET answer ({len(lat_ms)} samples): "
        f"median {statistics.median(lat_ms):.2f} ms, p95 {lat_ms[int(len(lat_ms) * 0.95)]:.2f} "
        f"ms, max {lat_ms[-1]:.2f} ms; first GET already showed it in "
        f"{sum(1 for x in lat_ms if x < 50) / len(lat_ms):.0%} (updates are synchronous)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=4)
    parser.add_argument("--walks", type=int, default=20)
    parser.add_argument("--gets", type=int, default=3000)
    parser.add_argument("--bulks", type=int, default=500)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--oid", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.client:
        _client(ns.port, ns.client, ns.count, ns.oid)
    else:
        asyncio.run(main(ns))

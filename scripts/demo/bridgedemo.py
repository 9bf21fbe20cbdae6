"""Waits for and checks the demo's bridge (API, SNMP, BACnet) and Node-RED.

scripts/demo.sh starts the bridge (``python -m bacnet_bridge run --config .demo/bridge.yaml``)
and Node-RED inside the loopback-only namespace, then runs this helper with .venv's Python:

    bridgedemo.py wait                 (in the namespace) until the bridge's API reports Home
                                       Assistant connected and the meter mirrored
    bridgedemo.py check                (in the namespace) the API, SNMP v2c and v3, BACnet
                                       ReadProperty (and a relay command when allowed), Node-RED's
                                       deployed flows and its http-in endpoint, a screenshot
    bridgedemo.py check-host --tcp PORT ... --udp PORT
                                       (on the host) the same servers through the forwards
    bridgedemo.py bacnet [OBJECT [PROPERTY]]
                                       (in the namespace) for people: list the BACnet objects, or
                                       ReadProperty (default present-value) of one, by name
                                       (ch01_active_power) or id (analog-input,7)

Every port, secret and instance number comes from the bridge's configuration file, read with the
bridge's own loader, so the checks test what the bridge was told, not a second copy of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the bridge's package, for its configuration loader

from bacnet_bridge.config import Config, load_config  # noqa: E402

HOST = "127.0.0.1"
NODE_RED_PORT = 1880
ENTERPRISE = "1.3.6.1.4.1.32473"  # the MIB's placeholder PEN (docs/SNMP.md)
METER_SERIAL_COL = f"{ENTERPRISE}.1.2.1.2"  # acurevMeterSerial.<meter>
CHANNEL_POWER_COL = f"{ENTERPRISE}.1.3.1.4"  # acurevChannelActivePower.<meter>.<channel>, W
CHANNEL = 1
BACNET_RELAY = 3  # relay 1 is the HA check's, relay 2 the Node-RED DI 4 example's
FLOW_TABS = ("DI 4 -> relay 2 -> webhook", "AcuRev over HTTP")  # tabs the check expects


class DemoError(Exception):
    """A step failed; the message says which and why."""


class Checks:  # prints like hademo.py's, so the two checks read as one list
    def __init__(self) -> None:
        self.failed = 0

    def result(self, ok: bool, what: str) -> bool:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}", flush=True)
        self.failed += not ok
        return ok


def say(msg: str) -> None:
    print(f"demo: {msg}", flush=True)


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    raise DemoError("chromium is not installed (scripts/demo.sh --check installs it)")


# --------------------------------------------------------------------------------------------
# The bridge's API
# --------------------------------------------------------------------------------------------


class Api:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: Config,
        port: int | None = None,
    ) -> None:
        self.session = session
        self.base = f"http://{HOST}:{port or config.api.port}/api/v1"
        self.headers = {"Authorization": f"Bearer {config.api.token}"}

    async def get(self, path: str) -> Any:
        async with self.session.get(self.base + path, headers=self.headers) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise DemoError(f"GET {self.base}{path} -> HTTP {resp.status}: {text[:300]}")
            return json.loads(text)

    async def point(self, serial: str, key: str) -> float | None:
        value = (await self.get(f"/meters/{serial}/points/{key}")).get("value")
        return float(value) if isinstance(value, int | float) else None


def alive(pid: int) -> bool:
    """Running (a zombie, exited but not yet reaped by demo.sh, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def synced(status: dict[str, Any]) -> bool:
    return bool(status.get("ha_connected") and status.get("ready") and status.get("meters"))


async def cmd_wait(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    deadline = time.monotonic() + args.timeout
    last: Any = "no answer"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        api = Api(session, config)
        while time.monotonic() < deadline:
            if args.pid and not alive(args.pid):
                raise DemoError(f"the bridge (pid {args.pid}) exited")
            try:
                last = await api.get("/status")
                if synced(last):
                    say(f"bridge synced with Home Assistant: meters {last['meters']}")
                    return 0
            except (aiohttp.ClientError, TimeoutError, DemoError) as err:
                last = str(err) or type(err).__name__
            await asyncio.sleep(0.3)
    raise DemoError(
        f"the bridge's API did not report a synced meter within {args.timeout:.0f} s (last: {last})"
    )


# --------------------------------------------------------------------------------------------
# SNMP through net-snmp's own tools: an independent client, and what the summary tells people
# to type
# --------------------------------------------------------------------------------------------


def snmp_auth(config: Config, version: str) -> list[str]:
    if version == "v2c":
        return ["-v2c", "-c", str(config.snmp.community)]
    user = config.snmp.users[0]
    return [
        "-v3",
        "-l",
        "authPriv",
        "-u",
        user.name,
        "-a",
        "SHA",
        "-A",
        user.auth_key,
        "-x",
        "AES",
        "-X",
        user.priv_key,
    ]


async def run_tool(*cmd: str, timeout: float = 30) -> str:  # noqa: ASYNC109
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        raise DemoError(f"{cmd[0]} did not finish in {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise DemoError(
            f"{cmd[0]} failed ({proc.returncode}): "
            f"{(err or out).decode(errors='replace').strip()[-300:]}"
        )
    return out.decode(errors="replace")


async def snmp(config: Config, port: int, version: str, tool: str, *oids: str) -> str:
    # -On numeric OIDs, -Oq "OID value", -t/-r: a lost datagram is an error within seconds
    return await run_tool(
        tool,
        *snmp_auth(config, version),
        "-On",
        "-Oq",
        "-t",
        "2",
        "-r",
        "1",
        f"udp:{HOST}:{port}",
        *oids,
    )


async def snmp_meter_index(config: Config, port: int, serial: str) -> int:
    """acurevMeterIndex of the serial: persisted by the agent, so looked up, not assumed 1."""
    for line in (await snmp(config, port, "v2c", "snmpwalk", METER_SERIAL_COL)).splitlines():
        oid, _, value = line.partition(" ")
        if value.strip().strip('"') == serial:
            return int(oid.rsplit(".", 1)[1])
    raise DemoError(f"no row with serial {serial} in acurevMeterTable")


async def snmp_channel_power(config: Config, port: int, version: str, meter: int) -> int:
    out = await snmp(config, port, version, "snmpget", f"{CHANNEL_POWER_COL}.{meter}.{CHANNEL}")
    value = out.strip().partition(" ")[2]
    if not re.fullmatch(r"-?\d+", value):
        raise DemoError(f"snmpget {version}: not a number: {out.strip()!r}")
    return int(value)


# --------------------------------------------------------------------------------------------
# BACnet with bac-py (as tests/bridge/conftest.py's bacnet_peer): its own port, unicast
# --------------------------------------------------------------------------------------------


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Bacnet:
    def __init__(self, config: Config) -> None:
        from bac_py import Client

        self.address = f"{HOST}:{config.bacnet.port}"
        self.device = f"device,{config.bacnet.device_instance}"
        self.client = Client(
            instance_number=3999001,
            interface=HOST,
            port=free_udp_port(),
            broadcast_address="127.0.0.255",
        )

    async def __aenter__(self) -> Bacnet:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.__aexit__(None, None, None)

    async def read(self, obj: str, prop: str = "present-value") -> Any:
        return await self.client.read(self.address, obj, prop)

    async def write(self, obj: str, value: Any, priority: int) -> None:
        await self.client.write(self.address, obj, "present-value", value, priority=priority)

    async def names(self) -> dict[str, str]:
        """Object_Name -> "<type>,<instance>" (Object_List, then ReadPropertyMultiple)."""
        ids = [
            f"{o.object_type.name.lower().replace('_', '-')},{o.instance_number}"
            for o in await self.read(self.device, "object-list")
        ]
        found: dict[str, str] = {}
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            result = await self.client.read_multiple(
                self.address, {oid: ["object-name"] for oid in chunk}
            )
            found.update({str(result[oid]["object-name"]): oid for oid in chunk})
        return found


def object_id(names: dict[str, str], wanted: str) -> str:
    """An object by id ("analog-input,7"), full name or point key ("ch01_active_power")."""
    if wanted in names.values():
        return wanted
    hits = [oid for name, oid in names.items() if name == wanted or name.endswith(f"_{wanted}")]
    if len(hits) != 1:
        raise DemoError(f"no single BACnet object named {wanted!r} ({len(hits)} matches)")
    return hits[0]


async def cmd_bacnet(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    async with Bacnet(config) as bac:
        names = await bac.names()
        if not args.object:

            def by_id(item: tuple[str, str]) -> tuple[str, int]:
                kind, _, instance = item[1].partition(",")
                return kind, int(instance)

            for name, oid in sorted(names.items(), key=by_id):
                print(f"{oid:24} {name}")
            return 0
        oid = object_id(names, args.object)
        value = await bac.read(oid, args.property)
        print(f"{oid} {args.property}: {value}")
    return 0


# --------------------------------------------------------------------------------------------
# check (in the namespace)
# --------------------------------------------------------------------------------------------


def close(a: float | None, b: float | None, tolerance: float) -> bool:
    return a is not None and b is not None and math.isclose(a, b, abs_tol=tolerance, rel_tol=1e-6)


async def readings_agree(
    api: Api,
    serial: str,
    config: Config,
    meter: int,
    bac: Bacnet,
    ai: str,
    session: aiohttp.ClientSession | None,
) -> tuple[bool, str]:
    """Channel 1 power through every face at (nearly) one moment: the same number, in the
    precision of each (SNMP rounds to whole watts, BACnet REAL is a 32-bit float).

    Home Assistant may poll between two reads; a few tries in a row find a quiet moment."""
    text = ""
    for _ in range(6):
        api_w = await api.point(serial, f"ch{CHANNEL:02d}_active_power")
        snmp_w = await snmp_channel_power(config, config.snmp.port, "v2c", meter)
        bac_w = float(await bac.read(ai))
        red_w = (
            None
            if session is None
            else (await node_red_channel(session, NODE_RED_PORT)).get("active_power")
        )
        text = f"API {api_w} W, SNMP {snmp_w} W, BACnet {bac_w} W" + (
            "" if session is None else f", Node-RED {red_w} W"
        )
        if (
            close(api_w, snmp_w, 0.5)
            and close(api_w, bac_w, abs(api_w or 0) * 1e-6 + 0.01)
            and (session is None or red_w == api_w)
        ):
            return True, text
        await asyncio.sleep(0.4)
    return False, text


async def node_red_channel(session: aiohttp.ClientSession, port: int) -> dict[str, Any]:
    """GET /acurev/channel/1: the http-endpoints example (http in -> acurev read)."""
    url = f"http://{HOST}:{port}/acurev/channel/{CHANNEL}"
    async with session.get(url) as resp:
        text = await resp.text()
        if resp.status != 200:
            raise DemoError(f"GET {url} -> HTTP {resp.status}: {text[:300]}")
        data: dict[str, Any] = json.loads(text)
        return data


async def check_api(api: Api, chk: Checks) -> str | None:
    status = await api.get("/status")
    chk.result(
        synced(status) and len(status["meters"]) == 1,
        f"bridge API {api.base}/status: ha_connected={status['ha_connected']}, "
        f"ready={status['ready']}, meters={status['meters']}, seq={status['seq']}",
    )
    if not status["meters"]:
        return None
    serial = str(status["meters"][0])
    body = await api.get(f"/meters/{serial}/channels/{CHANNEL}")
    values = {p["field"] or p["key"]: (p["value"], p["unit"]) for p in body["points"]}
    power = values.get("active_power", (None, None))
    chk.result(
        isinstance(power[0], int | float) and body["available"],
        f"bridge API channel {CHANNEL}: "
        + ", ".join(f"{k}={v} {u or ''}".rstrip() for k, (v, u) in values.items()),
    )
    return serial


async def check_snmp(config: Config, chk: Checks, serial: str) -> int | None:
    try:
        meter = await snmp_meter_index(config, config.snmp.port, serial)
    except DemoError as err:
        chk.result(False, f"SNMP v2c walk of acurevMeterSerial: {err}")
        return None
    oid = f"{CHANNEL_POWER_COL}.{meter}.{CHANNEL}"
    for version in ("v2c", "v3"):
        try:
            watts = await snmp_channel_power(config, config.snmp.port, version, meter)
        except DemoError as err:
            chk.result(False, f"SNMP {version} snmpget {oid}: {err}")
        else:
            who = (
                "community"
                if version == "v2c"
                else f"user {config.snmp.users[0].name}, authPriv SHA/AES-128"
            )
            chk.result(
                True,
                f"SNMP {version} ({who}) snmpget {oid} "
                f"(acurevChannelActivePower.{meter}.{CHANNEL}) = {watts} W",
            )
    return meter


async def check_bacnet(
    config: Config, chk: Checks, bac: Bacnet, api: Api, serial: str
) -> str | None:
    names = await bac.names()
    device_name = await bac.read(bac.device, "object-name")
    chk.result(
        bool(names),
        f"BACnet device {config.bacnet.device_instance} "
        f"({device_name!s}) at {bac.address}: {len(names)} objects",
    )
    from bac_py.types.enums import EngineeringUnits

    ai = names.get(f"{serial}_ch{CHANNEL:02d}_active_power")
    if (
        not chk.result(
            ai is not None and ai.startswith("analog-input,"),
            f"BACnet object {serial}_ch{CHANNEL:02d}_active_power: {ai}",
        )
        or not ai
    ):
        return None
    value = await bac.read(ai)
    units = await bac.read(ai, "units")
    flags = await bac.read(ai, "status-flags")
    chk.result(
        isinstance(value, float) and units == EngineeringUnits.WATTS and not any(flags),
        f"BACnet ReadProperty {ai} present-value = {value}, units = "
        f"{EngineeringUnits(units).name.lower()}, status-flags = {list(flags)}",
    )
    if config.bacnet.allow_relay_commands:
        await check_bacnet_relay(chk, bac, api, names, serial)
    return ai


async def check_bacnet_relay(
    chk: Checks, bac: Bacnet, api: Api, names: dict[str, str], serial: str
) -> None:
    """allow_relay_commands is on in the demo: command a relay at priority 8, then give it
    back (relinquished, the relay returns to Relinquish_Default, inactive)."""
    key = f"relay_{BACNET_RELAY}"
    bo = names.get(f"{serial}_{key}")
    if not chk.result(bo is not None, f"BACnet object {serial}_{key}: {bo}") or not bo:
        return
    for value, label, want in ((1, "active @8", 1.0), (None, "relinquish @8", 0.0)):
        try:
            await bac.write(bo, value, priority=8)
        except Exception as err:  # bac-py raises its own error classes: report any
            chk.result(False, f"BACnet WriteProperty {bo} {label}: {err}")
            return
        deadline = time.monotonic() + 10
        state = await api.point(serial, key)
        while state != want and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            state = await api.point(serial, key)
        pv = await bac.read(bo)
        chk.result(
            state == want and pv == int(want),
            f"BACnet WriteProperty {bo} {label}: relay {BACNET_RELAY} "
            f"{'on' if state else 'off'} in Home Assistant (bridge API), "
            f"present-value {pv}",
        )


async def check_node_red(chk: Checks, session: aiohttp.ClientSession, config: Config) -> None:
    url = f"http://{HOST}:{NODE_RED_PORT}"
    async with session.get(f"{url}/flows", headers={"Node-RED-API-Version": "v2"}) as resp:
        deployed = (await resp.json())["flows"] if resp.status == 200 else []
    tabs = [n["label"] for n in deployed if n["type"] == "tab"]
    acurev = [n for n in deployed if n["type"].startswith("acurev-")]
    bridges = {n.get("url") for n in acurev if n["type"] == "acurev-config"}
    want_bridge = f"http://{HOST}:{config.api.port}"
    chk.result(
        all(t in tabs for t in FLOW_TABS) and bridges == {want_bridge},
        f"Node-RED {url}: flows deployed, tabs {tabs}, {len(acurev)} acurev nodes, "
        f"bridge {sorted(b or '' for b in bridges)}",
    )
    try:
        data = await node_red_channel(session, NODE_RED_PORT)
    except DemoError as err:
        chk.result(False, str(err))
    else:
        chk.result(
            isinstance(data.get("active_power"), int | float),
            f"Node-RED GET {url}/acurev/channel/{CHANNEL} (http in -> acurev read): "
            + json.dumps(data),
        )


async def screenshot_node_red(chk: Checks, out: Path) -> None:
    """The editor with the deployed flows, in headless Chromium (loopback, no login)."""
    with tempfile.TemporaryDirectory(prefix="acurev-demo-chromium-") as profile:
        cmd = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            "--window-size=1600,900",
            "--virtual-time-budget=15000",
            f"--screenshot={out}",
            f"http://{HOST}:{NODE_RED_PORT}/",
        ]
        with contextlib.suppress(FileNotFoundError):
            out.unlink()  # noqa: ASYNC240 - a stale PNG must not pass for a new one
        try:
            await run_tool(*cmd, timeout=120)
        except DemoError as err:
            chk.result(False, f"screenshot of the Node-RED editor: {err}")
            return
    size = out.stat().st_size if out.exists() else 0  # noqa: ASYNC240
    chk.result(size > 10_000, f"screenshot {out} ({size // 1024} KiB)")


def check_logs(chk: Checks, logs: Path, node_red: bool) -> None:
    """No ERROR record or traceback in the bridge's log, no [error] in Node-RED's."""
    wanted = [("bridge.log", (" ERROR ", "Traceback"))]
    if node_red:
        wanted.append(("node-red.log", ("[error]", "node-red-demo: error")))
    for name, bad in wanted:
        path = logs / name
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        found = [line for line in lines if any(b in line for b in bad)]
        for line in found[:5]:
            print(f"    {line[:300]}", flush=True)
        chk.result(path.exists() and not found, f"no errors in {name} ({len(found)} found)")


async def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    chk = Checks()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        api = Api(session, config)
        serial = await check_api(api, chk)
        if serial is None:
            return 1
        meter = await check_snmp(config, chk, serial)
        async with Bacnet(config) as bac:
            ai = await check_bacnet(config, chk, bac, api, serial)
            if not args.no_node_red:
                await check_node_red(chk, session, config)
            if meter is not None and ai is not None:
                ok, text = await readings_agree(
                    api, serial, config, meter, bac, ai, None if args.no_node_red else session
                )
                chk.result(ok, f"channel {CHANNEL} power agrees: {text}")
    if not args.no_screenshots and not args.no_node_red:
        await screenshot_node_red(chk, Path(args.state) / "node-red.png")
    check_logs(chk, Path(args.state) / "logs", not args.no_node_red)
    print(
        f"bridge check: {'PASSED' if not chk.failed else f'FAILED ({chk.failed} checks)'}",
        flush=True,
    )
    return 0 if not chk.failed else 1


# --------------------------------------------------------------------------------------------
# check-host: the forwards, from the host's side, with the commands the summary prints
# --------------------------------------------------------------------------------------------


async def cmd_check_host(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    chk = Checks()
    tcp = set(args.tcp or [])
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for port in sorted(tcp):
            try:
                if port == NODE_RED_PORT:
                    data = await node_red_channel(session, port)
                    what = (
                        f"Node-RED /acurev/channel/{CHANNEL}: active_power "
                        f"{data.get('active_power')}"
                    )
                    ok = isinstance(data.get("active_power"), int | float)
                elif port == config.api.port:
                    status = await Api(session, config, port).get("/status")
                    ok, what = (
                        synced(status),
                        f"bridge API /status: ha_connected {status['ha_connected']}",
                    )
                else:
                    async with session.get(f"http://{HOST}:{port}/manifest.json") as resp:
                        ok, what = resp.status == 200, f"Home Assistant: HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError, DemoError) as err:
                ok, what = False, str(err) or type(err).__name__
            chk.result(ok, f"host 127.0.0.1:{port} (tcp forward): {what}")
        for port in args.udp or []:
            try:
                # The summary's command: the whole enterprise subtree over v2c ...
                walk = await snmp(config, port, "v2c", "snmpwalk", ENTERPRISE)
                rows = walk.splitlines()
                power = [r for r in rows if r.startswith(f".{CHANNEL_POWER_COL}.")]
                chk.result(
                    len(power) > 0,
                    f"host 127.0.0.1:{port} (udp relay): snmpwalk v2c "
                    f"{ENTERPRISE}: {len(rows)} values, {len(power)} channel powers "
                    f"({power[0] if power else '-'})",
                )
                # ... and one v3 get of the same first channel power.
                if power:
                    oid = power[0].split(" ")[0]
                    v3 = (await snmp(config, port, "v3", "snmpget", oid)).strip()
                    chk.result(
                        bool(re.fullmatch(r"\S+ -?\d+", v3)),
                        f"host 127.0.0.1:{port} (udp relay): snmpget v3 {v3}",
                    )
            except DemoError as err:
                chk.result(False, f"host 127.0.0.1:{port} (udp relay): {err}")
    print(
        f"host check: {'PASSED' if not chk.failed else f'FAILED ({chk.failed} checks)'}", flush=True
    )
    return 0 if not chk.failed else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--state", default=str(REPO / ".demo"), help="the demo's state directory")
    p.add_argument("--config", help="bridge configuration (default: STATE/bridge.yaml)")
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait")
    w.add_argument("--timeout", type=float, default=60)
    w.add_argument("--pid", type=int, help="the bridge's process: stop waiting when it exits")
    c = sub.add_parser("check")
    c.add_argument("--no-screenshots", action="store_true")
    c.add_argument("--no-node-red", action="store_true", help="the demo runs no Node-RED")
    h = sub.add_parser("check-host")
    h.add_argument("--tcp", type=int, action="append", help="a forwarded TCP port")
    h.add_argument("--udp", type=int, action="append", help="a relayed UDP (SNMP) port")
    b = sub.add_parser("bacnet")
    b.add_argument("object", nargs="?", help="object id or name; none: list the objects")
    b.add_argument("property", nargs="?", default="present-value")
    args = p.parse_args()
    args.config = Path(args.config or Path(args.state) / "bridge.yaml")
    handler = {
        "wait": cmd_wait,
        "check": cmd_check,
        "check-host": cmd_check_host,
        "bacnet": cmd_bacnet,
    }[args.cmd]
    try:
        return asyncio.run(handler(args))
    except DemoError as err:
        print(f"demo: ERROR: {err}", file=sys.stderr, flush=True)
        return 1
    except BrokenPipeError:  # `bridgedemo.py bacnet | head`: quiet, also at interpreter exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())

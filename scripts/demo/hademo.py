"""Drives the demo's Home Assistant through its public APIs, so the demo needs no clicks.

scripts/demo.sh starts Home Assistant and the simulator in a loopback-only network namespace and
runs this helper there (with .venv's Python, which has aiohttp):

    hademo.py wait                  until the HTTP API answers
    hademo.py provision             owner account, tokens, the AcuRev entry, its options, the
                                    Energy dashboard; writes .demo/token, .demo/credentials.json
    hademo.py check                 end-to-end checks and screenshots (scripts/demo.sh --check)
    hademo.py screenshot PATH OUT   one logged-in Chromium screenshot of a frontend page

Everything it learns (entity ids, the serial, the device id) comes from Home Assistant's registries:
entity ids are looked up by unique id (``<serial>_ch01_import_energy``), never guessed, so a
renamed entity or a different naming scheme does not break the demo.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

BASE = "http://127.0.0.1:8123"
# The frontend compares these two strings exactly: hassUrl without, clientId with the slash.
CLIENT_ID = f"{BASE}/"
DOMAIN = "acurev"
USERNAME = "demo"
LLT_NAME = "acurev-demo"  # long-lived token name; Home Assistant wants it unique per user
ENERGY_INTERVAL_S = 10  # counters every 10 s instead of the default minute: visible growth

REPO = Path(__file__).resolve().parents[2]


class DemoError(Exception):
    """A step failed; the message says which and why."""


def say(msg: str) -> None:
    print(f"demo: {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# A thin client: REST with a bearer token, and one websocket connection for the rest.
# --------------------------------------------------------------------------------------------


class HA:
    def __init__(self, session: aiohttp.ClientSession, token: str | None = None) -> None:
        self.session = session
        self.token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._id = 0

    async def rest(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: bool = True,
        form: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        async with self.session.request(
            method, BASE + path, json=body, data=form, headers=headers
        ) as resp:
            text = await resp.text()
            if resp.status not in ok:
                raise DemoError(f"{method} {path} -> HTTP {resp.status}: {text[:500]}")
            return json.loads(text) if text else None

    async def ws(self, type_: str, **payload: Any) -> Any:
        if self._ws is None:
            self._ws = await self.session.ws_connect(f"{BASE}/api/websocket", max_msg_size=0)
            hello = await self._ws.receive_json()
            if hello["type"] != "auth_required":
                raise DemoError(f"websocket: unexpected greeting {hello}")
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            reply = await self._ws.receive_json()
            if reply["type"] != "auth_ok":
                raise DemoError(f"websocket auth failed: {reply}")
        self._id += 1
        await self._ws.send_json({"id": self._id, "type": type_, **payload})
        while True:  # skip anything that is not our answer (there are no subscriptions here)
            msg = await self._ws.receive_json()
            if msg.get("id") == self._id and msg.get("type") == "result":
                break
        if not msg["success"]:
            raise DemoError(f"websocket {type_} failed: {msg['error']}")
        return msg["result"]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None


# --------------------------------------------------------------------------------------------
# Accounts and tokens
# --------------------------------------------------------------------------------------------


async def wait_api(session: aiohttp.ClientSession, limit_s: float) -> None:
    """Home Assistant's HTTP server starts last in its bootstrap: once it answers, it is up."""
    deadline = time.monotonic() + limit_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{BASE}/manifest.json") as resp:
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except aiohttp.ClientError as err:
            last = str(err) or type(err).__name__
        await asyncio.sleep(0.3)
    raise DemoError(f"Home Assistant did not answer on {BASE} within {limit_s:.0f} s ({last})")


async def tokens_from_code(ha: HA, code: str) -> dict[str, Any]:
    tokens: dict[str, Any] = await ha.rest(
        "POST",
        "/auth/token",
        auth=False,
        form={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
    )
    return tokens


async def login_code(ha: HA, password: str) -> str:
    """A single-use authorization code, the way the login page gets one."""
    flow = await ha.rest(
        "POST",
        "/auth/login_flow",
        auth=False,
        body={
            "client_id": CLIENT_ID,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{CLIENT_ID}?auth_callback=1",
        },
    )
    step = await ha.rest(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        auth=False,
        body={"client_id": CLIENT_ID, "username": USERNAME, "password": password},
    )
    if step.get("type") != "create_entry":
        raise DemoError(f"login as {USERNAME!r} failed: {step.get('errors') or step}")
    return str(step["result"])


async def onboard_or_login(ha: HA, password: str) -> None:
    """Create the owner (first start) or log in (config kept from an earlier run)."""
    steps = await ha.rest("GET", "/api/onboarding", auth=False)
    user_done = any(s["step"] == "user" and s["done"] for s in steps)
    if not user_done:
        # demo.sh pre-wrote .storage/onboarding with the other steps done, so this is the
        # only step left; doing core_config through the API would start flows that go online.
        res = await ha.rest(
            "POST",
            "/api/onboarding/users",
            auth=False,
            body={
                "client_id": CLIENT_ID,
                "name": "Demo",
                "username": USERNAME,
                "password": password,
                "language": "en",
            },
        )
        code = res["auth_code"]
        say(f"onboarded owner account {USERNAME!r}")
    else:
        code = await login_code(ha, password)
    ha.token = (await tokens_from_code(ha, code))["access_token"]


async def long_lived_token(ha: HA, state: Path) -> str:
    """A new long-lived token in .demo/token (for the bridges and curl).

    Not "reuse the old one if it still works": trying a stale token is a failed login, which
    Home Assistant reports as a "Login attempt failed" notification."""
    path = state / "token"
    # The name must be unique per user; a second one (kept config) gets a suffix.
    existing = {t.get("client_name") for t in await ha.ws("auth/refresh_tokens")}
    name = LLT_NAME if LLT_NAME not in existing else f"{LLT_NAME}-{int(time.time())}"
    token = str(await ha.ws("auth/long_lived_access_token", client_name=name, lifespan=3650))
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


# --------------------------------------------------------------------------------------------
# The AcuRev config entry
# --------------------------------------------------------------------------------------------


async def acurev_entries(ha: HA) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await ha.rest(
        "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
    )
    return entries


async def wait_entry_loaded(ha: HA, entry_id: str, limit_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    entry: dict[str, Any] = {}
    while time.monotonic() < deadline:
        entry = next((e for e in await acurev_entries(ha) if e["entry_id"] == entry_id), {})
        if entry.get("state") == "loaded":
            return entry
        if entry.get("state") in ("setup_error", "migration_error", "failed_unload"):
            break
        await asyncio.sleep(0.5)
    raise DemoError(
        f"the AcuRev entry is not loaded: state {entry.get('state')!r}, "
        f"reason {entry.get('reason')!r} (see .demo/hass.log)"
    )


async def ensure_entry(ha: HA, host: str, port: int, unit: int) -> str:
    """Create the entry through the config flow, as the UI would; reuse an existing one."""
    entries = await acurev_entries(ha)
    if entries:
        return str(entries[0]["entry_id"])
    flow = await ha.rest(
        "POST",
        "/api/config/config_entries/flow",
        body={"handler": DOMAIN, "show_advanced_options": False},
    )
    if flow.get("type") != "form":
        raise DemoError(f"config flow did not show its form: {flow}")
    fields = {f["name"] for f in flow.get("data_schema", [])}
    data = {"host": host, "port": port, "unit_id": unit}
    if not set(data) <= fields:
        raise DemoError(f"config flow form has fields {sorted(fields)}, expected {sorted(data)}")
    result = await ha.rest("POST", f"/api/config/config_entries/flow/{flow['flow_id']}", body=data)
    if result.get("type") != "create_entry":
        raise DemoError(f"config flow did not create the entry: {result}")
    entry_id = str(result["result"]["entry_id"])
    say(f"created config entry {result['title']!r}")
    return entry_id


async def faster_counters(ha: HA, meter: Meter) -> None:
    """Energy counters every ENERGY_INTERVAL_S, the way Home Assistant core wants it.

    The integration's polling rates are fixed; another rate is an automation that calls
    ``homeassistant.update_entity`` (the counters poller refreshes for any of its entities).
    Written through the automation config API, so it shows in the UI like one a user made."""
    target = meter.entity_id("import_energy")
    if target is None:
        raise DemoError("no import_energy entity to refresh")
    config = {
        "id": "acurev_demo_counters",
        "alias": f"AcuRev demo: read the counters every {ENERGY_INTERVAL_S} s",
        "description": "The integration polls counters once a minute; the demo wants faster.",
        "mode": "single",
        "triggers": [{"trigger": "time_pattern", "seconds": f"/{ENERGY_INTERVAL_S}"}],
        "conditions": [],
        "actions": [{"action": "homeassistant.update_entity", "target": {"entity_id": [target]}}],
    }
    await ha.rest("POST", "/api/config/automation/config/acurev_demo_counters", body=config)
    say(f"automation: counters refreshed every {ENERGY_INTERVAL_S} s through update_entity")


# --------------------------------------------------------------------------------------------
# Registries: the meter's device and its entities by unique id
# --------------------------------------------------------------------------------------------


class Meter:
    """The AcuRev device of the entry and its entities, indexed by point key."""

    def __init__(self, device: dict[str, Any], entities: list[dict[str, Any]]) -> None:
        self.device = device
        self.serial = next(i[1] for i in device["identifiers"] if i[0] == DOMAIN)
        prefix = f"{self.serial}_"
        self.by_key = {
            e["unique_id"][len(prefix) :]: e for e in entities if e["unique_id"].startswith(prefix)
        }

    def entity_id(self, key: str) -> str | None:
        """The entity id for a point key, None when absent or disabled."""
        e = self.by_key.get(key)
        return str(e["entity_id"]) if e and not e.get("disabled_by") else None

    def entity_ids(self, keys: list[str]) -> list[str]:
        """Entity ids for those keys that exist and are enabled."""
        return [i for k in keys if (i := self.entity_id(k))]


async def find_meter(ha: HA, entry_id: str) -> tuple[list[dict[str, Any]], Meter]:
    devices = [
        d
        for d in await ha.ws("config/device_registry/list")
        if entry_id in d.get("config_entries", [])
        and any(i[0] == DOMAIN for i in d.get("identifiers", []))
    ]
    if not devices:
        raise DemoError("the AcuRev entry has no device in the device registry")
    entities = [
        e
        for e in await ha.ws("config/entity_registry/list")
        if e.get("config_entry_id") == entry_id and e.get("platform") == DOMAIN
    ]
    return devices, Meter(devices[0], entities)


async def wait_for_entities(
    ha: HA, entry_id: str, keys: list[str], limit_s: float = 60
) -> tuple[list[dict[str, Any]], Meter]:
    """After a (re)load the platforms add their entities a moment later."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            devices, meter = await find_meter(ha, entry_id)
            missing = [k for k in keys if meter.entity_id(k) is None]
        except DemoError as err:
            missing, last = keys, str(err)
        else:
            if not missing:
                return devices, meter
            last = (
                f"no enabled entity for unique id {meter.serial}_{missing[0]}"
                f" (+{len(missing) - 1} more)"
            )
        if time.monotonic() > deadline:
            raise DemoError(last)
        await asyncio.sleep(0.5)


def channel_count(meter: Meter) -> int:
    n = 0
    while f"ch{n + 1:02d}_import_energy" in meter.by_key:
        n += 1
    return n


def user_count(meter: Meter) -> int:
    n = 0
    while f"user{n + 1}_import_energy" in meter.by_key:
        n += 1
    return n


# --------------------------------------------------------------------------------------------
# Energy dashboard
# --------------------------------------------------------------------------------------------


def user_members(users: int) -> dict[int, tuple[int, ...]]:
    """Which input channels make up each 3LN user circuit, from the protocol layer's own
    wiring table (not re-typed here). Empty when it cannot be imported."""
    sys.path.insert(0, str(REPO))
    try:
        from pyacurev.layouts import Wiring, user_inputs
    except Exception as err:  # the demo works without the nesting
        say(f"channels not nested under their circuits (cannot import the wiring table: {err})")
        return {}
    return {u: user_inputs(u, Wiring.THREE_LN) for u in range(1, users + 1)}


def nesting_supported() -> bool:
    """included_in_stat ("upstream device") exists only in newer energy schemas."""
    try:
        from homeassistant.components.energy.data import DEVICE_CONSUMPTION_SCHEMA
    except ImportError:
        return False
    return any(str(k) == "included_in_stat" for k in DEVICE_CONSUMPTION_SCHEMA.schema)


def energy_prefs(meter: Meter) -> dict[str, Any]:
    grid_in, grid_out = meter.entity_id("import_energy"), meter.entity_id("export_energy")
    if not grid_in or not grid_out:
        raise DemoError("no system import_energy/export_energy sensors to use as the grid")
    channels, users = channel_count(meter), user_count(meter)
    members = user_members(users) if users and nesting_supported() else {}
    upstream_of = {ch: u for u, chs in members.items() for ch in chs}
    devices: list[dict[str, Any]] = []
    # Circuits first: the dashboard lists a device's upstream before the devices inside it.
    for u in range(1, users + 1) if members else ():
        devices.append(
            {
                "stat_consumption": meter.entity_id(f"user{u}_import_energy"),
                "name": f"Circuit {u} (3-phase)",
            }
        )
    for ch in range(1, channels + 1):
        dev = {
            "stat_consumption": meter.entity_id(f"ch{ch:02d}_import_energy"),
            "name": f"Channel {ch}",
        }
        if ch in upstream_of:
            dev["name"] = f"Channel {ch} (circuit {upstream_of[ch]})"
            dev["included_in_stat"] = meter.entity_id(f"user{upstream_of[ch]}_import_energy")
        devices.append(dev)
    if any(d["stat_consumption"] is None for d in devices):
        raise DemoError("some channel/circuit import-energy sensors are missing or disabled")
    return {
        "energy_sources": [
            {
                "type": "grid",
                "flow_from": [
                    {
                        "stat_energy_from": grid_in,
                        "stat_cost": None,
                        "entity_energy_price": None,
                        "number_energy_price": None,
                    }
                ],
                "flow_to": [
                    {
                        "stat_energy_to": grid_out,
                        "stat_compensation": None,
                        "entity_energy_price": None,
                        "number_energy_price": None,
                    }
                ],
                "cost_adjustment_day": 0,
            }
        ],
        "device_consumption": devices,
    }


# energy/validate reports this for every statistic until the recorder's first 5-minute
# statistics run has created its metadata: expected right after the set-up, gone within 5 min.
NOT_YET = "statistics_not_defined"


async def validate_energy(ha: HA) -> tuple[list[str], int]:
    """energy/validate as readable lines, and the number of NOT_YET issues apart."""
    res = await ha.ws("energy/validate")
    prefs = await ha.ws("energy/get_prefs")
    lines = []
    not_yet = 0
    for kind, items in (("grid", res["energy_sources"]), ("device", res["device_consumption"])):
        for n, issues in enumerate(items):
            for issue in issues:
                if issue["type"] == NOT_YET:
                    not_yet += len(issue.get("affected_entities", [])) or 1
                    continue
                what = prefs["device_consumption"][n].get("name", "") if kind == "device" else ""
                ents = ", ".join(f"{e} ({v})" for e, v in issue.get("affected_entities", []))
                lines.append(f"{kind} {n + 1} {what}: {issue['type']} {ents}".replace("  ", " "))
    return lines, not_yet


def report_validation(lines: list[str], not_yet: int) -> None:
    for line in lines:
        say(f"energy/validate: {line}")
    if not_yet:
        say(
            f"energy/validate: {NOT_YET} for {not_yet} statistics (expected until the "
            "recorder's first 5-minute statistics run)"
        )
    if not lines and not not_yet:
        say("energy/validate: no issues")


# --------------------------------------------------------------------------------------------
# provision
# --------------------------------------------------------------------------------------------


def read_credentials(state: Path) -> dict[str, str]:
    creds: dict[str, str] = json.loads((state / "credentials.json").read_text())
    return creds


async def cmd_provision(args: argparse.Namespace) -> int:
    state = Path(args.state)
    creds = read_credentials(state)
    async with aiohttp.ClientSession() as session:
        ha = HA(session)
        await wait_api(session, args.timeout)
        await onboard_or_login(ha, creds["password"])
        ha.token = await long_lived_token(ha, state)
        if args.no_entry:
            await ha.close()
            return 0
        entry_id = await ensure_entry(ha, args.host, args.port, args.unit)
        await wait_entry_loaded(ha, entry_id)
        _, meter = await wait_for_entities(
            ha, entry_id, ["import_energy", "export_energy", "ch01_import_energy"]
        )
        await faster_counters(ha, meter)
        prefs = energy_prefs(meter)
        await ha.ws("energy/save_prefs", **prefs)
        nested = sum(1 for d in prefs["device_consumption"] if d.get("included_in_stat"))
        grid = prefs["energy_sources"][0]
        say(
            f"energy dashboard: grid = {grid['flow_from'][0]['stat_energy_from']}"
            f" / {grid['flow_to'][0]['stat_energy_to']}, "
            f"{len(prefs['device_consumption'])} individual devices"
            + (f" ({nested} channels nested under their circuits)" if nested else "")
        )
        report_validation(*await validate_energy(ha))
        (state / "demo.json").write_text(
            json.dumps(
                {
                    "entry_id": entry_id,
                    "device_id": meter.device["id"],
                    "serial": meter.serial,
                },
                indent=2,
            )
            + "\n"
        )
        await ha.close()
    return 0


# --------------------------------------------------------------------------------------------
# Screenshots: Debian's chromium, logged in through the frontend's own auth callback
# --------------------------------------------------------------------------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    raise DemoError("chromium is not installed (scripts/demo.sh --check installs it)")


async def screenshot(ha: HA, password: str, page: str, out: Path, size: str = "1400,1000") -> None:
    """Open PAGE as the demo user and save a PNG.

    The frontend, on ?auth_callback=1&code=..&state=.., exchanges the code for tokens itself,
    exactly as after the login page; state carries hassUrl/clientId as the frontend sent them."""
    code = await login_code(ha, password)
    st = base64.urlsafe_b64encode(
        json.dumps({"hassUrl": BASE, "clientId": CLIENT_ID}).encode()
    ).decode()
    sep = "&" if "?" in page else "?"
    url = f"{BASE}{page}{sep}auth_callback=1&code={code}&state={st}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="acurev-demo-chromium-") as profile:
        cmd = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            # Virtual time lets the page finish its websocket round-trips and render
            # without waiting 20 real seconds.
            "--virtual-time-budget=20000",
            f"--screenshot={out}",
            url,
        ]
        with contextlib.suppress(FileNotFoundError):
            out.unlink()  # noqa: ASYNC240 - a stale PNG must not pass for a new one
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), 120)
        except TimeoutError:
            proc.kill()
            raise DemoError(f"chromium did not finish a screenshot of {page} in 120 s") from None
    if not out.exists() or out.stat().st_size < 10_000:  # noqa: ASYNC240
        raise DemoError(f"no screenshot of {page}: {err.decode(errors='replace')[-800:]}")


async def frontend_logins(ha: HA) -> int:
    """How many times the frontend has turned a code into tokens (one refresh token each)."""
    return sum(
        1
        for t in await ha.ws("auth/refresh_tokens")
        if t.get("client_id") == CLIENT_ID and t.get("type") == "normal"
    )


async def cmd_screenshot(args: argparse.Namespace) -> int:
    state = Path(args.state)
    creds = read_credentials(state)
    async with aiohttp.ClientSession() as session:
        ha = HA(session, (state / "token").read_text().strip())
        await screenshot(ha, creds["password"], args.page, Path(args.out))
        await ha.close()
    say(f"screenshot {args.out}")
    return 0


# --------------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------------


def _num(state: dict[str, Any] | None) -> float | None:
    try:
        return float(state["state"]) if state else None
    except (TypeError, ValueError):
        return None


async def states_of(ha: HA, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
    wanted = set(entity_ids)
    return {
        s["entity_id"]: s for s in await ha.rest("GET", "/api/states") if s["entity_id"] in wanted
    }


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def result(self, ok: bool, what: str) -> bool:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}", flush=True)
        self.failed += not ok
        return ok


def snapshot_cli_available() -> bool:
    return (REPO / "pyacurev" / "__main__.py").exists()


async def simulator_relay(args: argparse.Namespace, relay: int) -> bool | None:
    """Relay state as the simulator has it, read over Modbus by the library's own CLI."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pyacurev",
        "snapshot",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--unit",
        str(args.unit),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    if proc.returncode != 0:
        raise DemoError(f"snapshot CLI failed: {err.decode(errors='replace')[-800:]}")
    data = json.loads(out)
    relays = data.get("relays")
    return None if relays is None else bool(relays[relay - 1])


async def cmd_check(args: argparse.Namespace) -> int:
    state = Path(args.state)
    creds = read_credentials(state)
    info = json.loads((state / "demo.json").read_text())
    chk = Checks()
    async with aiohttp.ClientSession() as session:
        ha = HA(session, (state / "token").read_text().strip())
        entries = await acurev_entries(ha)
        chk.result(
            len(entries) == 1 and entries[0]["state"] == "loaded",
            f"one AcuRev config entry, loaded: {[(e['title'], e['state']) for e in entries]}",
        )
        devices, meter = await find_meter(ha, info["entry_id"])
        chk.result(
            len(devices) == 1,
            f"one AcuRev device: {[d['name'] for d in devices]} (serial {meter.serial})",
        )
        n_ch = channel_count(meter)
        chk.result(
            n_ch == args.channels,
            f"{n_ch} channels (expected {args.channels}), "
            f"{user_count(meter)} user circuits, {len(meter.by_key)} entities",
        )

        power_ids = meter.entity_ids([f"ch{c:02d}_active_power" for c in range(1, n_ch + 1)])
        states = await states_of(ha, power_ids)
        numeric = [p for p in power_ids if _num(states.get(p)) is not None]
        sample = ", ".join(
            f"{p}={states[p]['state']} {states[p]['attributes'].get('unit_of_measurement', '')}"
            for p in numeric[:2]
        )
        chk.result(
            len(numeric) == n_ch and n_ch > 0,
            f"{len(numeric)}/{n_ch} channel power sensors numeric ({sample} ...)",
        )

        # The counters have 0.1 kWh steps; at --speed 60, 20 s are 20 simulated minutes: the
        # system total and every channel with a few hundred watts of import move in that time
        # (export-only and near-idle channels need not).
        sys_id = meter.entity_id("import_energy") or "?"
        energy_ids = meter.entity_ids(
            ["import_energy"] + [f"ch{c:02d}_import_energy" for c in range(1, n_ch + 1)]
        )
        before = {k: _num(v) for k, v in (await states_of(ha, energy_ids)).items()}
        say(f"waiting {args.wait:.0f} s for the energy counters to move ...")
        await asyncio.sleep(args.wait)
        after = {k: _num(v) for k, v in (await states_of(ha, energy_ids)).items()}
        moves = {
            e: (b, a)
            for e in energy_ids
            if (b := before.get(e)) is not None and (a := after.get(e)) is not None
        }
        grew = [e for e, (b, a) in moves.items() if a > b and e != sys_id]
        dropped = [e for e, (b, a) in moves.items() if a < b]
        b0, a0 = moves.get(sys_id, (0.0, 0.0))
        chk.result(
            a0 > b0,
            f"system import energy grew in {args.wait:.0f} s: "
            f"{before.get(sys_id)} -> {after.get(sys_id)} kWh",
        )
        chk.result(
            len(grew) >= n_ch // 2, f"{len(grew)}/{n_ch} channel import-energy counters grew"
        )
        chk.result(not dropped, f"no counter went backwards {dropped or ''}".rstrip())

        relay_id = meter.entity_id("relay_1")
        if chk.result(relay_id is not None, f"relay 1 switch: {relay_id}") and relay_id:
            await check_relay(ha, args, chk, relay_id)

        issues, not_yet = await validate_energy(ha)
        report_validation(issues, not_yet)
        chk.result(
            not issues,
            f"energy/validate: {len(issues)} issues"
            + (
                f" (besides {not_yet} x {NOT_YET}, expected before the first statistics run)"
                if not_yet
                else ""
            ),
        )
        prefs = await ha.ws("energy/get_prefs")
        chk.result(
            len(prefs["device_consumption"]) >= n_ch and bool(prefs["energy_sources"]),
            f"energy prefs: {len(prefs['energy_sources'])} source, "
            f"{len(prefs['device_consumption'])} devices",
        )

        if not args.no_screenshots:
            # Tall enough for the individual-devices chart and a good part of the sensor list.
            for page, out, size in (
                ("/energy", state / "energy.png", "1400,1500"),
                (f"/config/devices/device/{info['device_id']}", state / "device.png", "1400,1500"),
            ):
                logins = await frontend_logins(ha)
                try:
                    await screenshot(ha, creds["password"], page, out, size)
                except DemoError as err:
                    chk.result(False, f"screenshot {page}: {err}")
                    continue
                # The frontend redeems the code itself; a new refresh token proves it got
                # past the login (a login page would leave the count unchanged).
                logged_in = await frontend_logins(ha) > logins
                chk.result(
                    logged_in,
                    f"screenshot {out} ({out.stat().st_size // 1024} KiB), "
                    f"frontend {'logged in' if logged_in else 'did NOT log in'}",
                )
        await ha.close()
    check_log(chk, state / "logs" / "hass.log")
    print(f"check: {'PASSED' if not chk.failed else f'FAILED ({chk.failed} checks)'}", flush=True)
    return 0 if not chk.failed else 1


def check_log(chk: Checks, log: Path) -> None:
    """No ERROR records (and no tracebacks) from the integration in Home Assistant's log."""
    if not log.exists():
        chk.result(False, f"{log} is missing")
        return
    records: list[str] = []  # one entry per log record, continuation lines appended
    for line in log.read_text(errors="replace").splitlines():
        if line[:4].isdigit() and line[4:5] == "-":
            records.append(line)
        elif records:
            records[-1] += "\n" + line

    def about_us(record: str) -> bool:
        # Our loggers, an entry set-up error naming the domain, or a traceback through our code;
        # not merely any line with "acurev" in a path (the checkout may be called acurev-...).
        head, _, body = record.partition("\n")
        logger, _, message = head.partition("] ")
        return (
            "custom_components.acurev" in logger
            or "pyacurev" in logger
            or "pymodbus" in logger
            or "acurev" in message.split(" /")[0]
            or "/custom_components/acurev/" in body
            or "/pyacurev/" in body
        )

    ours = [r for r in records if " ERROR " in r.split("\n")[0] and about_us(r)]
    warnings = [
        r.split("\n")[0]
        for r in records
        if " WARNING " in r.split("\n")[0]
        and ("custom_components.acurev" in r or "[pyacurev" in r)
        and "has not been tested by Home Assistant" not in r
    ]
    for r in ours[:5]:
        print("    " + r.replace("\n", "\n    "), flush=True)
    for w in warnings[:5]:
        print(f"    (warning) {w}", flush=True)
    chk.result(
        not ours,
        f"no ERROR from the integration in {log.name} "
        f"({len(ours)} found, {len(warnings)} warnings)",
    )


async def wait_state(ha: HA, entity_id: str, want: str, limit_s: float) -> str | None:
    deadline = time.monotonic() + limit_s
    cur = None
    while time.monotonic() < deadline:
        cur = (await states_of(ha, [entity_id])).get(entity_id, {}).get("state")
        if cur == want:
            break
        await asyncio.sleep(0.5)
    return cur


async def check_relay(ha: HA, args: argparse.Namespace, chk: Checks, relay_id: str) -> None:
    """Switch relay 1 to the other state and back, through Home Assistant's REST API."""
    start = (await states_of(ha, [relay_id]))[relay_id]["state"]
    plan = (
        [("on", "turn_on"), ("off", "turn_off")]
        if start != "on"
        else [("off", "turn_off"), ("on", "turn_on")]
    )
    cli = snapshot_cli_available()
    for want, service in plan:
        await ha.rest("POST", f"/api/services/switch/{service}", body={"entity_id": relay_id})
        got = await wait_state(ha, relay_id, want, 15)
        chk.result(got == want, f"switch.{service} {relay_id}: HA state {got!r}")
        if cli:
            try:
                sim = await simulator_relay(args, 1)
            except (DemoError, json.JSONDecodeError, TimeoutError, KeyError, TypeError) as err:
                chk.result(False, f"simulator relay 1 via snapshot CLI: {err}")
            else:
                chk.result(sim == (want == "on"), f"simulator relay 1 (Modbus read-back): {sim}")
    if not cli:
        print(
            "  [--] simulator side not read: pyacurev has no snapshot CLI",
            flush=True,
        )


# --------------------------------------------------------------------------------------------


async def cmd_wait(args: argparse.Namespace) -> int:
    async with aiohttp.ClientSession() as session:
        await wait_api(session, args.timeout)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--state", default=str(REPO / ".demo"), help="the demo's state directory")
    p.add_argument("--host", default="127.0.0.1", help="simulator host")
    p.add_argument("--port", type=int, default=5020, help="simulator port")
    p.add_argument("--unit", type=int, default=1, help="Modbus unit id")
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait")
    w.add_argument("--timeout", type=float, default=180)
    pr = sub.add_parser("provision")
    pr.add_argument("--timeout", type=float, default=180)
    pr.add_argument("--no-entry", action="store_true", help="accounts and token only")
    c = sub.add_parser("check")
    c.add_argument("--channels", type=int, default=18)
    c.add_argument("--wait", type=float, default=20, help="seconds between the energy reads")
    c.add_argument("--no-screenshots", action="store_true")
    s = sub.add_parser("screenshot")
    s.add_argument("page", help="frontend path, e.g. /energy")
    s.add_argument("out", help="PNG file to write")
    args = p.parse_args()
    handler = {
        "wait": cmd_wait,
        "provision": cmd_provision,
        "check": cmd_check,
        "screenshot": cmd_screenshot,
    }[args.cmd]
    try:
        return asyncio.run(handler(args))
    except DemoError as err:
        print(f"demo: ERROR: {err}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())

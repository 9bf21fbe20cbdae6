"""End to end: the packed palette in a real Node-RED against the real bridge.

``nodered/tools/demo.js`` (also the demo's way to start Node-RED) packs the palette with
``npm pack``, installs the tarball into a fresh Node-RED user directory, starts Node-RED (the
``node-red`` 4 dev dependency of ``nodered/``) on 127.0.0.1 and a free port and deploys the
example flows through the admin API; the test then checks through their ``http in`` endpoints
that readings, a relay switch and a DI event work against the bridge running here on a real
Home Assistant with the simulator. Loopback only: Node-RED listens on 127.0.0.1, has no palette
catalogue, no telemetry/update check and no projects. The one network use is npm installing the
palette's own dependency (``ws``) from the npm registry (normally from npm's cache).

Skips only when node or npm is not installed (the Python 3.14 chroot has neither).
"""

# The fixtures ``api_config`` and ``stack`` come from api_support (shared with the other API
# test module); test arguments named like them are not redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from .api_support import Stack, api_config, stack  # noqa: F401  (fixtures)
from .conftest import free_tcp_port, wait_for

REPO = Path(__file__).resolve().parents[2]
PALETTE = REPO / "nodered"
NODE = shutil.which("node")
NPM = shutil.which("npm")
EXAMPLES = ("di4-relay2-webhook", "http-endpoints")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node/npm are not installed here (e.g. the Python 3.14 chroot); the Node-RED "
    "end-to-end check runs on the host (scripts/test-nodered.sh)",
)


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> str:
    env = {
        **os.environ,
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


RELAY_HTTP_TOKEN = "example-relay-token-0123456789"


@pytest.fixture(scope="session")
def palette_dev_deps() -> Path:
    """The palette's dev dependencies (Node-RED 4 among them), installed from package-lock."""
    assert NPM is not None
    red_js = PALETTE / "node_modules" / "node-red" / "red.js"
    if not red_js.exists():  # a fresh clone
        _run([NPM, "ci"], PALETTE)
    return red_js


@dataclass
class NodeRed:
    url: str
    user_dir: Path
    process: asyncio.subprocess.Process
    log: Path
    session: aiohttp.ClientSession

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.url + path) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None

    async def post(
        self, path: str, body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        if headers is None and path.startswith("/acurev/relay/"):
            headers = {"Authorization": f"Bearer {RELAY_HTTP_TOKEN}"}
        async with self.session.post(self.url + path, json=body, headers=headers) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None


@pytest.fixture
async def node_red(palette_dev_deps: Path, stack: Stack, tmp_path: Path) -> AsyncIterator[NodeRed]:
    """nodered/tools/demo.js: npm pack, install into a fresh user dir, start Node-RED on
    127.0.0.1 and a free port, deploy the examples against this test's bridge."""
    assert NODE is not None
    port = free_tcp_port()
    user_dir = tmp_path / "node-red"
    log = tmp_path / "node-red.log"
    token_file = tmp_path / "api-token"  # written by the api_config fixture
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            NODE,
            str(PALETTE / "tools" / "demo.js"),
            "--bridge-url",
            stack.api.url,
            "--token-file",
            str(token_file),
            "--user-dir",
            str(user_dir),
            "--port",
            str(port),
            "--examples",
            ",".join(EXAMPLES),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "ACUREV_RELAY_HTTP_TOKEN": RELAY_HTTP_TOKEN},
        )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        red = NodeRed(url, user_dir, process, log, session)
        try:

            def ready() -> bool:
                if process.returncode is not None:
                    raise AssertionError(f"tools/demo.js exited:\n{red.log_text()}")
                return f"node-red-demo: ready {url}" in red.log_text()

            await wait_for(ready, timeout=90, interval=0.1, message="Node-RED with the examples")
            yield red
        finally:
            if process.returncode is None:
                process.terminate()  # the tool passes it on to Node-RED
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)  # the group this test started
                    await process.wait()


async def test_example_flows_work_against_the_real_bridge(stack: Stack, node_red: NodeRed) -> None:
    sim = stack.meter.sim.meter
    log = node_red.log_text()
    assert f"Server now running at {node_red.url}/" in log, log  # loopback only

    # The palette came from the tarball: its files, no tests, all five nodes registered.
    installed = node_red.user_dir / "node_modules" / "@acurev" / "node-red-acurev"
    assert (installed / "examples" / "di4-relay2-webhook.json").exists()
    assert not (installed / "test").exists()
    assert not (installed / "tools").exists()
    async with node_red.session.get(
        f"{node_red.url}/nodes", headers={"Accept": "application/json"}
    ) as resp:
        node_sets = await resp.json()
    ours = [s for s in node_sets if s["module"] == "@acurev/node-red-acurev"]
    assert {t for s in ours for t in s["types"]} == {
        "acurev-config",
        "acurev-read",
        "acurev-watch",
        "acurev-relay",
        "acurev-event",
    }
    assert all(s["enabled"] and not s.get("err") for s in ours), ours

    # The examples were deployed through the admin API; the token stays a credential.
    status, flows_back = await node_red.get("/flows")
    assert status == 200
    assert {n["type"] for n in flows_back} >= {
        "acurev-config",
        "acurev-event",
        "acurev-relay",
        "acurev-read",
        "http in",
    }
    assert stack.api.config.token not in json.dumps(flows_back)
    # The event node subscribed to the bridge's stream (the config node's shared websocket).
    await wait_for(
        lambda: len(stack.api.log.subscribers) == 1,
        timeout=15,
        message="Node-RED subscribed to the bridge",
    )

    # --- readings equal the simulator's ---------------------------------------------------
    sim.set_channel_load(7, 1.875, 0.25)
    await stack.meter.poll()
    truth_w = sim.channel(7).active_power * 1000
    await wait_for(
        lambda: (
            stack.bridge.table.points[f"{stack.serial}_ch07_active_power"].value
            == pytest.approx(truth_w, rel=1e-5)
        )
    )
    status, channel = await node_red.get("/acurev/channel/7")
    assert status == 200, channel
    assert channel["active_power"] == pytest.approx(truth_w, rel=1e-5)
    assert channel["current"] == pytest.approx(sim.channel(7).current, rel=1e-5)
    status, point = await node_red.get("/acurev/point/frequency")
    assert status == 200, point
    assert (point["unit"], point["available"]) == ("Hz", True)
    assert point["value"] == pytest.approx(sim.frequency, rel=1e-5)

    # --- a relay switch reaches the meter; errors come back with the bridge's status -------
    status, relay = await node_red.post("/acurev/relay/3", {"state": "on"})
    assert (status, relay) == (200, {"meter": stack.serial, "relay": 3, "state": True})
    assert sim.relays[2] is True
    status, relay = await node_red.post("/acurev/relay/3", {"state": "toggle"})
    assert (status, relay["state"]) == (200, False)
    assert sim.relays[2] is False
    # The example's relay endpoint answers only with the token (it says so on its tab).
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        status, error = await node_red.post("/acurev/relay/3", {"state": "on"}, headers)
        assert (status, error["error"]) == (401, "unauthorized"), error
    assert sim.relays[2] is False
    # Which relays the meter has is the bridge's answer, not the palette's.
    status, error = await node_red.post("/acurev/relay/9", {"state": "on"})
    assert (status, error["error"]) == (404, "unknown_relay"), error
    status, error = await node_red.post("/acurev/relay/0", {"state": "on"})
    assert (status, error["error"]) == (400, "bad_request"), error  # checked by the node
    sim.relay_mode |= 1 << 4  # relay 5 follows alarms: Home Assistant refuses it
    status, error = await node_red.post("/acurev/relay/5", {"state": "on"})
    assert (status, error["error"]) == (409, "relay_refused"), error
    assert sim.relays[4] is False
    status, error = await node_red.get("/acurev/point/no_such_point")
    assert (status, error["error"]) == (404, "unknown_point"), error

    # --- DI 4 turns on: relay 2 on, channel 7 power posted to the webhook ---------------------
    assert sim.digital_inputs[3] is False
    assert sim.relays[1] is False
    sim.set_di(4, True)
    await stack.meter.poll()

    async def webhook_post() -> Any:
        status, body = await node_red.get("/acurev/webhook-demo/last")
        return body if status == 200 and isinstance(body, dict) else None

    posted = await wait_for(
        webhook_post, timeout=15, interval=0.1, message="the DI 4 flow posted to the webhook"
    )
    assert sim.relays[1] is True
    assert posted["meter"] == stack.serial
    assert (posted["di"], posted["relay"], posted["relay_on"]) == (4, 2, True)
    assert (posted["channel"], posted["unit"]) == (7, "W")
    assert posted["power_w"] == pytest.approx(sim.channel(7).active_power * 1000, rel=1e-5)
    assert "error" not in node_red.log_text().lower().split("server now running")[-1], (
        node_red.log_text()
    )


async def test_editor_gets_the_shared_form_and_the_locales(node_red: NodeRed) -> None:
    """What the editor loads from the installed package, through Node-RED's admin API."""
    base = node_red.url
    async with node_red.session.get(
        f"{base}/resources/@acurev/node-red-acurev/acurev-editor.js"
    ) as resp:
        assert resp.status == 200
        assert "AcurevEditor" in await resp.text()
    texts = {}
    for lang in ("en-US", "de"):
        async with node_red.session.get(
            f"{base}/nodes/@acurev/node-red-acurev/acurev-config/messages", params={"lng": lang}
        ) as resp:
            assert resp.status == 200
            texts[lang] = await resp.json()
    assert texts["en-US"]["acurev-config"]["form"]["label"]["meter"] == "Meter"
    assert texts["de"]["acurev-config"]["form"]["label"]["meter"] == "Zähler"
    async with node_red.session.get(
        f"{base}/nodes", headers={"Accept": "text/html", "Accept-Language": "de"}
    ) as resp:
        html = await resp.text()
    assert 'data-help-name="acurev-relay"' in html
    assert "Schaltet ein Relais" in html  # the German help, from the locales
    # The shared form's numbers come from the real bridge through the config node.
    async with node_red.session.get(f"{base}/acurev-config/a1d4c0de000000cf/meters") as resp:
        assert resp.status == 200
        [meter] = (await resp.json())["meters"]
    assert meter["numbers"]["relays"] == list(range(1, 9))
    assert meter["numbers"]["channels"] == list(range(1, 19))


async def test_nodes_resume_after_home_assistant_and_bridge_restarts(
    stack: Stack,
    node_red: NodeRed,
    ha_server: Any,
    start_bridge: Any,
    api_config: Any,
) -> None:
    """Issue #12: after a Home Assistant restart and a bridge restart the deployed example
    flows work again by themselves, without a redeploy (the palette reconnects and
    resubscribes)."""
    sim = stack.meter.sim.meter
    await ha_server.restart(downtime=0.5)  # every websocket to Home Assistant is cut
    await stack.bridge.wait_synced(timeout=15)
    await stack.bridge.close()  # the bridge process stops ...
    await asyncio.sleep(0.5)
    bridge = await start_bridge(api_config)  # ... and a new one starts on the same port

    async def meter_read() -> Any:
        status, body = await node_red.get("/acurev/meter")
        return body if status == 200 else None

    values = await wait_for(meter_read, timeout=40, interval=0.25, message="read after restarts")
    assert values["frequency"] == pytest.approx(sim.frequency, rel=1e-5)
    # The event node is subscribed again: DI 4 on switches relay 2 and posts to the webhook.
    assert sim.relays[1] is False
    sim.set_di(4, True)
    await stack.meter.poll()
    await wait_for(lambda: sim.relays[1] is True, timeout=40, interval=0.1, message="relay 2 on")
    assert len(bridge.views["api"].log.subscribers) == 1  # the palette's one shared websocket

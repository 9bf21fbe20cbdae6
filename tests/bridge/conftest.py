"""Shared harness for the bridge tests: a real Home Assistant, a real bridge, loopback only.

What you get (all function-scoped, all torn down cleanly so phcc's ``verify_cleanup`` passes):

``ha_server`` -> :class:`HAServer`
    A real Home Assistant (phcc ``hass``) with ``http``, ``websocket_api`` and ``config`` set
    up, its HTTP/websocket API served on a REAL TCP port on 127.0.0.1 (``ha_server.url``), and a
    long-lived access token (``ha_server.token``). ``await ha_server.stop()`` drops every
    connection and stops listening (what a client sees when Home Assistant restarts);
    ``await ha_server.start()`` listens again on the same port; ``await ha_server.restart()``
    does both. ``ha_server.hass`` is the ``HomeAssistant`` object.

``make_meter`` -> ``async (**options) -> HAMeter``; ``meter`` -> :class:`HAMeter`
    The AcuRev simulator (18-channel 3LN, measurements frozen) set up in that Home Assistant
    through the acurev integration; ``options`` are the entry's options (e.g. ``demand=True``).
    ``await meter.poll()`` refreshes both coordinators and waits until Home Assistant settled,
    so the new values are in the state machine (and on their way to the bridge).
    ``meter.sim`` is the simulator (ground truth: ``meter.sim.meter``), ``meter.entry`` the
    config entry, ``meter.serial`` its serial, ``meter.entity_id(platform, key)`` an entity id.

``make_config`` -> ``(**sections) -> Config``
    A validated bridge :class:`~bacnet_bridge.config.Config` pointing at ``ha_server`` with
    free loopback ports and ``state_dir`` in ``tmp_path``. Keyword arguments are raw YAML
    sections merged over the defaults, e.g. ``make_config(bacnet={"allow_relay_commands":
    True})`` or ``make_config(snmp={"enabled": True, "community": "public"})``. Defaults:
    BACnet on (127.0.0.1, a free UDP port), SNMP off, API off. Call it twice and you get the
    same ports and state directory (a bridge restart sees the same world).

``start_bridge`` -> ``async (config=None, *, wait=True) -> Bridge``
    Starts :class:`bacnet_bridge.app.Bridge` in this event loop (same loop as Home Assistant).
    With ``wait`` it returns once the bridge mirrored Home Assistant (``bridge.table`` is
    filled). Every bridge started is closed at teardown; closing one yourself is fine.

Helpers (import them: ``from tests.bridge.conftest import wait_for, free_udp_port``):
``wait_for(predicate, timeout=...)`` polls a condition in real time; ``free_udp_port()`` /
``free_tcp_port()`` give loopback ports nothing listens on.

Everything binds 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from aiohttp import web
from homeassistant.auth.models import TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from acurev_simulator import Simulator
from bacnet_bridge.app import Bridge
from bacnet_bridge.config import Config, parse_config
from custom_components.acurev.const import DOMAIN
from tests.ha.conftest import (  # noqa: F401  (fixtures re-exported for the bridge tests)
    HOST,
    SimFactory,
    auto_enable_custom_integrations,
    entry_for,
    fast_timeouts,
    setup_entry,
)

TOKEN_ENV = "ACUREV_TEST_HA_TOKEN"


# --- helpers ---------------------------------------------------------------------------------


def free_tcp_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def free_udp_port() -> int:
    """A loopback UDP port nothing is bound to (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


async def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 5.0,  # noqa: ASYNC109
    interval: float = 0.01,
    message: str = "",
) -> Any:
    """Poll ``predicate`` (sync or async) until it returns something truthy; return that.

    Real time: phcc's ``hass`` does not freeze the loop clock, so sleeping works.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {message or predicate}")
        await asyncio.sleep(interval)


# --- Home Assistant on a real port --------------------------------------------------------------


class HAServer:
    """Home Assistant's HTTP and websocket API on a real, restartable loopback port."""

    def __init__(self, hass: HomeAssistant, token: str, port: int) -> None:
        self.hass = hass
        self.token = token
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the port is listening."""
        return self._runner is not None

    async def start(self) -> None:
        """Listen on ``self.port`` (again)."""
        assert self._runner is None, "already running"
        app = self.hass.http.app
        # Components may register views after the first start (HA does the same).
        app._router.freeze = lambda: None  # type: ignore[method-assign]
        # A short shutdown timeout: open websockets are cut at once, as when HA restarts,
        # instead of aiohttp waiting for their handlers to finish by themselves.
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.05)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.port, reuse_address=True)
        await site.start()
        self._runner = runner

    async def stop(self) -> None:
        """Drop every connection and stop listening: Home Assistant is "down"."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.shutdown()
            await runner.cleanup()

    async def restart(self, downtime: float = 0.0) -> None:
        """Stop, stay down for ``downtime`` seconds, listen again on the same port."""
        await self.stop()
        if downtime:
            await asyncio.sleep(downtime)
        await self.start()


@pytest.fixture
async def ha_server(hass: HomeAssistant, hass_admin_user: MockUser) -> AsyncIterator[HAServer]:
    """A real Home Assistant API on a loopback port with a long-lived access token."""
    assert await async_setup_component(hass, "websocket_api", {})
    # config/device_registry/list and config/entity_registry/list live in "config".
    assert await async_setup_component(hass, "config", {})
    refresh = await hass.auth.async_create_refresh_token(
        hass_admin_user,
        client_name="acurev bridge tests",
        token_type=TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN,
    )
    server = HAServer(hass, hass.auth.async_create_access_token(refresh), free_tcp_port())
    await server.start()
    yield server
    await server.stop()
    _cancel_stray_ws_heartbeats()


def _cancel_stray_ws_heartbeats() -> None:
    """Cancel heartbeat timers of server-side websockets that are already closed.

    aiohttp 3.14 (Home Assistant 2026.x) re-arms a WebSocketResponse's heartbeat when the
    peer's close frame arrives after the server closed first (Home Assistant does so after
    ``auth_invalid``); nothing cancels that timer, and phcc's cleanup check would blame the
    test. Only timers of closed websockets are touched.
    """
    loop = asyncio.get_running_loop()
    for handle in list(getattr(loop, "_scheduled", [])):
        callback = getattr(handle, "_callback", None)
        owner = getattr(callback, "__self__", None)
        if (
            getattr(callback, "__name__", "") == "_send_heartbeat"
            and isinstance(owner, web.WebSocketResponse)
            and owner.closed
        ):
            handle.cancel()


# --- the meter in Home Assistant ------------------------------------------------------------------


@dataclass(slots=True)
class HAMeter:
    """The simulator, set up in Home Assistant through the acurev integration."""

    hass: HomeAssistant
    sim: Simulator
    entry: MockConfigEntry

    @property
    def serial(self) -> str:
        """The meter's serial number (device identifier, unique-id prefix)."""
        return str(self.sim.meter.serial)

    async def poll(self) -> None:
        """Refresh both coordinators now; return when HA has written the new states."""
        runtime = self.entry.runtime_data
        await runtime.fast.async_refresh()
        await runtime.slow.async_refresh()
        await self.hass.async_block_till_done()

    def entity_id(self, platform: str, key: str) -> str:
        """The entity id of point ``key`` (``platform``: sensor, switch, binary_sensor)."""
        eid = er.async_get(self.hass).async_get_entity_id(platform, DOMAIN, f"{self.serial}_{key}")
        assert eid is not None, f"no {platform} entity for {key}"
        return eid


type MeterFactory = Callable[..., Awaitable[HAMeter]]


@pytest.fixture
async def make_meter(ha_server: HAServer, make_simulator: SimFactory) -> MeterFactory:
    """Set up a simulator in Home Assistant; keyword arguments are the entry's options."""

    async def factory(
        *, sim_kwargs: dict[str, Any] | None = None, enable_all: bool = True, **options: Any
    ) -> HAMeter:
        sim = await make_simulator(**{"wiring": "3LN", "channels": 18, **(sim_kwargs or {})})
        # enable_all: every entity enabled (power factors and per-phase details start
        # disabled); the bridge exports whatever Home Assistant has enabled.
        enabled = patch(
            "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
            return_value=True,
            new_callable=PropertyMock,
        )
        with enabled if enable_all else contextlib.nullcontext():
            entry = await setup_entry(ha_server.hass, entry_for(sim, **options))
        return HAMeter(ha_server.hass, sim, entry)

    return factory


@pytest.fixture
async def meter(make_meter: MeterFactory) -> HAMeter:
    """The default meter (18-channel 3LN, frozen measurements) in Home Assistant."""
    return await make_meter()


# --- the bridge --------------------------------------------------------------------------------


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


type ConfigFactory = Callable[..., Config]


@pytest.fixture
def make_config(ha_server: HAServer, tmp_path: Path) -> ConfigFactory:
    """Build a validated bridge ``Config`` for this test (see the module docstring)."""
    ports = {"bacnet": free_udp_port(), "snmp": free_udp_port(), "api": free_tcp_port()}
    env = {TOKEN_ENV: ha_server.token}

    def factory(**sections: Any) -> Config:
        raw: dict[str, Any] = {
            "home_assistant": {"url": ha_server.url, "token_env": TOKEN_ENV},
            "state_dir": str(tmp_path / "bridge-state"),
            "bacnet": {
                "enabled": True,
                "address": HOST,
                "port": ports["bacnet"],
                "device_instance": 2020001,
            },
            "snmp": {"enabled": False, "address": HOST, "port": ports["snmp"]},
            "api": {"enabled": False, "address": HOST, "port": ports["api"]},
        }
        return parse_config(_merge(raw, sections), base=tmp_path, environ=env)

    return factory


type BridgeStarter = Callable[..., Awaitable[Bridge]]


@pytest.fixture
async def start_bridge(make_config: ConfigFactory) -> AsyncIterator[BridgeStarter]:
    """Start bridges in this loop; all of them are closed at teardown."""
    started: list[Bridge] = []

    async def starter(config: Config | None = None, *, wait: bool = True) -> Bridge:
        bridge = Bridge(config or make_config())
        started.append(bridge)
        await bridge.start()
        if wait:
            await bridge.wait_synced(timeout=10)
        return bridge

    yield starter
    for bridge in reversed(started):
        await bridge.close()


# --- an independent BACnet client (bac-py) ------------------------------------------------------


class BacnetPeer:
    """A bac-py client on its own loopback port, talking unicast to one bridge."""

    def __init__(self, client: Any, address: str, device_instance: int) -> None:
        self.client = client
        self.address = address
        self.device = f"device,{device_instance}"

    async def read(self, obj: str, prop: str, index: int | None = None) -> Any:
        """ReadProperty."""
        return await self.client.read(self.address, obj, prop, index)

    async def write(self, obj: str, prop: str, value: Any, priority: int | None = None) -> None:
        """WriteProperty (``None`` writes NULL, i.e. relinquishes at ``priority``)."""
        await self.client.write(self.address, obj, prop, value, priority=priority)

    async def names(self) -> dict[str, str]:
        """Object_Name -> ``"<type>,<instance>"`` for every object (Object_List, then RPM)."""
        object_list = await self.read(self.device, "object-list")
        ids = [
            f"{oid.object_type.name.lower().replace('_', '-')},{oid.instance_number}"
            for oid in object_list
        ]
        found: dict[str, str] = {}
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            result = await self.client.read_multiple(
                self.address, {oid: ["object-name"] for oid in chunk}
            )
            for oid in chunk:
                found[str(result[oid]["object-name"])] = oid
        return found


type PeerFactory = Callable[[Config], Awaitable[BacnetPeer]]


@pytest.fixture
async def bacnet_peer() -> AsyncIterator[PeerFactory]:
    """``await bacnet_peer(config)``: a bac-py client (own port) aimed at that bridge."""
    from bac_py import Client

    clients: list[Any] = []

    async def factory(config: Config) -> BacnetPeer:
        client = Client(
            instance_number=3999000 + len(clients),
            interface=HOST,
            port=free_udp_port(),
            broadcast_address="127.0.0.255",
        )
        await client.__aenter__()
        clients.append(client)
        return BacnetPeer(client, f"{HOST}:{config.bacnet.port}", config.bacnet.device_instance)

    yield factory
    for client in clients:
        # bac-py 1.5 keeps the cleanup timer of each answered confirmed request (e.g. a
        # confirmed COV notification) after stop(); phcc would flag it as lingering.
        server_tsm = getattr(client.app, "_server_tsm", None)
        for txn in list(getattr(server_tsm, "_transactions", {}).values()):
            if txn.timeout_handle is not None:
                txn.timeout_handle.cancel()
        await client.__aexit__(None, None, None)

"""Home Assistant websocket client: mirrors the AcuRev entities into the PointTable.

One websocket connection, one reader task. On every (re)connect the client
subscribes first and reads second (state events, registry events, the acurev_*
events; then the device and entity registries and all states), so nothing that
changes meanwhile is lost; every state carries Home Assistant's ``last_updated``
and an older one never overwrites a newer one, so the order in which the
snapshot and the events are applied does not matter.

While Home Assistant is away every point is unavailable (the views show a
communication failure and keep the last value); the client reconnects with an
exponential back-off from 1 s to 30 s and resynchronises everything, because
the registries may have changed meanwhile.

The access token is only ever put into the auth message: it is never logged,
and errors are reported without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from .config import Config
from .logsafe import escape
from .model import Meter, MeterEvent, Point, PointKind, PointTable, RelayCommandError

_LOGGER = logging.getLogger(__name__)

DOMAIN = "acurev"
METER_EVENTS = ("acurev_alarm", "acurev_soe")
REGISTRY_EVENTS = ("entity_registry_updated", "device_registry_updated")
POINT_DOMAINS = frozenset({"sensor", "binary_sensor", "switch"})
UNAVAILABLE_STATES = frozenset({"unavailable", "unknown", ""})


class HomeAssistantError(Exception):
    """Home Assistant answered a command with an error."""


class AuthError(Exception):
    """Home Assistant refused the token."""


@dataclass(slots=True)
class _EntityInfo:
    """What the entity registry says about one exported entity."""

    entity_id: str
    unique_id: str
    serial: str
    key: str
    name: str


def _parse_time(value: object) -> datetime:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def classify(entity_id: str, state: dict[str, Any] | None) -> PointKind:
    """The point kind of an entity, from its domain and its state's attributes."""
    domain = entity_id.split(".", 1)[0]
    if domain == "switch":
        return PointKind.RELAY
    if domain == "binary_sensor":
        return PointKind.BINARY
    attrs: dict[str, Any] = (state or {}).get("attributes") or {}
    if attrs.get("device_class") in ("timestamp", "enum", "date"):
        return PointKind.TEXT
    if attrs.get("state_class") in ("total_increasing", "total"):
        return PointKind.COUNTER
    if "unit_of_measurement" not in attrs and "state_class" not in attrs and state:
        raw = str(state.get("state", ""))
        if raw not in UNAVAILABLE_STATES and _to_float(raw) is None:
            return PointKind.TEXT
    return PointKind.MEASUREMENT


def _to_float(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def convert(kind: PointKind, raw: str) -> tuple[float | bool | str | None, bool]:
    """A Home Assistant state string as (value, available)."""
    if raw in UNAVAILABLE_STATES:
        return None, False
    if kind in (PointKind.RELAY, PointKind.BINARY):
        if raw in ("on", "off"):
            return raw == "on", True
        return None, False
    if kind is PointKind.TEXT:
        return raw, True
    number = _to_float(raw)
    if number is None:
        return None, False
    return number, True


class HomeAssistantClient:
    """Keeps ``table`` in step with Home Assistant for as long as it runs."""

    def __init__(
        self,
        config: Config,
        table: PointTable,
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 30.0,
        relay_timeout: float = 10.0,
        resync_delay: float = 0.5,
        command_timeout: float = 30.0,
        ping_interval: float = 20.0,
    ) -> None:
        """Prepare; nothing connects before ``start()``."""
        self._config = config
        self._table = table
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._relay_timeout = relay_timeout
        self._resync_delay = resync_delay
        self._command_timeout = command_timeout
        self._ping_interval = ping_interval
        self._pings = 0
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._subscriptions: dict[int, Callable[[dict[str, Any]], None]] = {}
        self._entities: dict[str, _EntityInfo] = {}  # entity_id -> info
        self._devices: dict[str, str] = {}  # device_id -> serial
        self._updated: dict[str, datetime] = {}  # entity_id -> last_updated applied
        self._unclassified: set[str] = set()  # entity ids seen without a state yet
        self._relay_waiters: dict[str, list[asyncio.Future[bool]]] = {}
        self.synced = asyncio.Event()
        self.connections = 0  # successful (re)syncs, for tests/logs

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect in the background (and keep reconnecting)."""
        self._session = aiohttp.ClientSession()
        self._table.set_commander(self._command_relay)
        self._task = asyncio.create_task(self._run(), name="acurev-bridge-ha-client")

    async def close(self) -> None:
        """Disconnect and stop reconnecting."""
        self._table.set_commander(None)
        for task in (self._resync_task, self._task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._resync_task = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._fail_pending(ConnectionError("closed"))

    async def wait_synced(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the table mirrors Home Assistant."""
        await asyncio.wait_for(self.synced.wait(), timeout)

    # --- connection loop ---------------------------------------------------------------------
    async def _run(self) -> None:
        delay = self._min_backoff
        url = self._config.home_assistant.url + "/api/websocket"
        last_error = ""
        while True:
            before = self.connections
            try:
                await self._session_once(url)
            except asyncio.CancelledError:
                raise
            except AuthError as err:
                # Logged every time: a wrong token is a configuration error to fix.
                _LOGGER.error(
                    "Home Assistant at %s refused the access token: %s",
                    self._config.home_assistant.url,
                    escape(err),
                )
            except (
                aiohttp.ClientError,
                OSError,
                ConnectionError,
                TimeoutError,
                HomeAssistantError,
                ValueError,
            ) as err:
                message = f"{type(err).__name__}: {err}"
                if message != last_error:
                    _LOGGER.warning("Home Assistant connection: %s", escape(message))
                last_error = message
            finally:
                await self._disconnected()
            if self.connections > before:  # it worked for a while: start over at 1 s
                delay = self._min_backoff
                last_error = ""
            _LOGGER.info("reconnecting to Home Assistant in %.0f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _session_once(self, url: str) -> bool:
        """One connection's life; True when it got as far as a full sync."""
        assert self._session is not None
        self._next_id = 1
        synced = False
        # No aiohttp heartbeat: Home Assistant's own ping (below) also notices a Home
        # Assistant whose event loop hangs, and aiohttp 3.14 re-arms a closed websocket's
        # heartbeat timer when the server closed first (e.g. after auth_invalid).
        async with self._session.ws_connect(url, max_msg_size=0) as ws:
            self._ws = ws
            await self._authenticate(ws)
            reader = asyncio.create_task(self._read(ws), name="acurev-bridge-ha-reader")
            pinger: asyncio.Task[None] | None = None
            try:
                await self._subscribe_all()
                await self._sync()
                synced = True
                self.connections += 1
                _LOGGER.info(
                    "mirroring %d entities of %d meter(s) from Home Assistant",
                    len(self._table.points),
                    len(self._table.meters),
                )
                pinger = asyncio.create_task(self._keepalive(ws), name="acurev-bridge-ha-keepalive")
                await reader
            finally:
                for task in (pinger, reader):
                    if task is not None:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
        return synced

    async def _keepalive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Ping Home Assistant; a missing pong closes the connection (and reconnects)."""
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await self._command({"type": "ping"}, wait=self._ping_interval)
                self._pings += 1
            except (TimeoutError, ConnectionError, HomeAssistantError):
                _LOGGER.warning("Home Assistant did not answer a ping; reconnecting")
                await ws.close()
                return

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        hello = await ws.receive_json(timeout=self._command_timeout)
        if hello.get("type") != "auth_required":
            raise HomeAssistantError(f"unexpected greeting {hello.get('type')!r}")
        await ws.send_json({"type": "auth", "access_token": self._config.home_assistant.token})
        answer = await ws.receive_json(timeout=self._command_timeout)
        if answer.get("type") == "auth_invalid":
            raise AuthError(str(answer.get("message", "auth_invalid")))
        if answer.get("type") != "auth_ok":
            raise HomeAssistantError(f"unexpected auth answer {answer.get('type')!r}")
        _LOGGER.info("connected to Home Assistant %s", escape(answer.get("ha_version", "?")))

    async def _disconnected(self) -> None:
        self._ws = None
        self.synced.clear()
        self._fail_pending(ConnectionError("Home Assistant connection lost"))
        self._subscriptions.clear()
        if self._resync_task is not None and not self._resync_task.done():
            self._resync_task.cancel()
        self._table.set_all_unavailable()

    def _fail_pending(self, err: Exception) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(err)
        self._pending.clear()
        for waiters in self._relay_waiters.values():
            for fut in waiters:
                if not fut.done():
                    fut.set_exception(RelayCommandError(str(err)))
        self._relay_waiters.clear()

    # --- messages ----------------------------------------------------------------------------
    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            data = msg.json()
            for item in data if isinstance(data, list) else [data]:
                self._dispatch(item)
        _LOGGER.warning("Home Assistant closed the connection")

    def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        ident = msg.get("id")
        if kind == "event" and isinstance(ident, int):
            handler = self._subscriptions.get(ident)
            if handler is not None:
                try:
                    handler(msg.get("event") or {})
                except Exception:
                    _LOGGER.exception("handling a Home Assistant event failed")
        elif kind == "pong" and isinstance(ident, int):
            fut = self._pending.pop(ident, None)
            if fut is not None and not fut.done():
                fut.set_result(None)
        elif kind == "result" and isinstance(ident, int):
            fut = self._pending.pop(ident, None)
            if fut is None or fut.done():
                return
            if msg.get("success"):
                fut.set_result(msg.get("result"))
            else:
                error = msg.get("error") or {}
                fut.set_exception(
                    HomeAssistantError(f"{error.get('code', 'error')}: {error.get('message', '')}")
                )

    async def _command(
        self,
        payload: dict[str, Any],
        on_event: Callable[[dict[str, Any]], None] | None = None,
        wait: float | None = None,
    ) -> Any:
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionError("not connected to Home Assistant")
        ident = self._next_id
        self._next_id += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = fut
        if on_event is not None:
            self._subscriptions[ident] = on_event
        await ws.send_json({"id": ident, **payload})
        try:
            return await asyncio.wait_for(fut, wait or self._command_timeout)
        finally:
            self._pending.pop(ident, None)

    async def _subscribe_all(self) -> None:
        await self._command(
            {"type": "subscribe_events", "event_type": "state_changed"}, self._on_state_changed
        )
        for event_type in REGISTRY_EVENTS:
            await self._command(
                {"type": "subscribe_events", "event_type": event_type}, self._on_registry_changed
            )
        for event_type in METER_EVENTS:
            await self._command(
                {"type": "subscribe_events", "event_type": event_type}, self._on_meter_event
            )

    # --- synchronisation ---------------------------------------------------------------------
    async def _sync(self) -> None:
        """Read registries and states, then replace the whole table."""
        devices = await self._command({"type": "config/device_registry/list"})
        entities = await self._command({"type": "config/entity_registry/list"})
        states = await self._command({"type": "get_states"})
        meters = self._meters_from(devices)
        self._devices = {device_id: meter.serial for device_id, meter in meters.items()}
        self._entities = self._entities_from(entities, self._devices)
        by_id = {s["entity_id"]: s for s in states if s.get("entity_id") in self._entities}
        points: dict[str, Point] = {}
        self._unclassified.clear()
        for entity_id, info in self._entities.items():
            state = by_id.get(entity_id)
            point = self._point_from(info, state)
            current = self._table.points.get(info.unique_id)
            if state is None:
                self._unclassified.add(entity_id)
                if current is not None:
                    # No state yet (Home Assistant still starting): keep the description
                    # we had rather than flip units and kinds until the state arrives.
                    for attr in ("kind", "name", "unit", "device_class", "state_class"):
                        setattr(point, attr, getattr(current, attr))
            else:
                when = _parse_time(state.get("last_updated"))
                seen = self._updated.get(entity_id)
                if seen is not None and seen > when and current is not None:
                    # An event newer than this snapshot was applied while it was on its way.
                    point.value, point.available = current.value, current.available
                else:
                    self._updated[entity_id] = when
            points[info.unique_id] = point
        self._table.replace_points({m.serial: m for m in meters.values()}, points)
        self._table.ha_connected = True
        self.synced.set()

    def _meters_from(self, devices: list[dict[str, Any]]) -> dict[str, Meter]:
        wanted = set(self._config.meters)
        meters: dict[str, Meter] = {}
        for device in devices:
            if device.get("disabled_by"):
                continue
            serial = next(
                (
                    str(ident[1])
                    for ident in device.get("identifiers") or []
                    if len(ident) == 2 and ident[0] == DOMAIN
                ),
                None,
            )
            if serial is None or (wanted and serial not in wanted):
                continue
            meters[str(device["id"])] = Meter(
                serial=serial,
                name=str(device.get("name_by_user") or device.get("name") or serial),
                model=str(device.get("model") or ""),
                firmware=str(device.get("sw_version") or ""),
                device_id=str(device["id"]),
            )
        missing = wanted - {m.serial for m in meters.values()}
        if missing:
            _LOGGER.warning(
                "configured meters not found in Home Assistant: %s", ", ".join(sorted(missing))
            )
        return meters

    @staticmethod
    def _entities_from(
        entities: list[dict[str, Any]], devices: dict[str, str]
    ) -> dict[str, _EntityInfo]:
        out: dict[str, _EntityInfo] = {}
        for entity in entities:
            if entity.get("platform") != DOMAIN or entity.get("disabled_by"):
                continue
            # Buttons (meter commands) and event entities (alarm/SOE logs) are not points;
            # the alarm/SOE bus events are forwarded as MeterEvents instead.
            if str(entity.get("entity_id", "")).split(".", 1)[0] not in POINT_DOMAINS:
                continue
            serial = devices.get(str(entity.get("device_id")))
            unique_id = str(entity.get("unique_id") or "")
            if serial is None or not unique_id.startswith(serial + "_"):
                continue
            entity_id = str(entity["entity_id"])
            out[entity_id] = _EntityInfo(
                entity_id=entity_id,
                unique_id=unique_id,
                serial=serial,
                key=unique_id[len(serial) + 1 :],
                name=str(entity.get("name") or entity.get("original_name") or ""),
            )
        return out

    @staticmethod
    def _point_from(info: _EntityInfo, state: dict[str, Any] | None) -> Point:
        attrs: dict[str, Any] = (state or {}).get("attributes") or {}
        kind = classify(info.entity_id, state)
        value, available = convert(kind, str(state["state"])) if state else (None, False)
        return Point(
            unique_id=info.unique_id,
            entity_id=info.entity_id,
            serial=info.serial,
            key=info.key,
            kind=kind,
            name=str(attrs.get("friendly_name") or info.name or info.entity_id),
            unit=attrs.get("unit_of_measurement"),
            device_class=attrs.get("device_class"),
            state_class=attrs.get("state_class"),
            value=value,
            available=available,
            changed_at=_parse_time((state or {}).get("last_updated")),
        )

    # --- events ------------------------------------------------------------------------------
    def _on_state_changed(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        entity_id = data.get("entity_id")
        info = self._entities.get(entity_id) if isinstance(entity_id, str) else None
        if info is None:
            return
        new = data.get("new_state")
        if new is None:  # removed; the registry event that follows resynchronises
            self._table.update_point(info.unique_id, None, False)
            return
        when = _parse_time(new.get("last_updated"))
        seen = self._updated.get(info.entity_id)
        if seen is not None and when < seen:
            return
        self._updated[info.entity_id] = when
        if entity_id in self._unclassified:
            # First state of an entity that had none at the last sync (enabled, or HA still
            # starting): only now are its unit and class known, so describe it again.
            self._unclassified.discard(entity_id)
            self._schedule_resync()
        point = self._table.points.get(info.unique_id)
        if point is None:
            return
        value, available = convert(point.kind, str(new.get("state")))
        self._table.update_point(info.unique_id, value, available, when)
        if available and isinstance(value, bool):
            for fut in self._relay_waiters.pop(info.entity_id, []):
                if not fut.done():
                    fut.set_result(value)

    def _on_registry_changed(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        if event.get("event_type") == "entity_registry_updated" and data.get("action") == "update":
            # Updates of other integrations' entities are frequent and irrelevant; ours, and
            # any enabling/disabling (a disabled entity is not in the table yet), matter.
            ours = {data.get("entity_id"), data.get("old_entity_id")} & set(self._entities)
            if not ours and "disabled_by" not in (data.get("changes") or {}):
                return
        self._schedule_resync()

    def _schedule_resync(self) -> None:
        # Debounced: setting up a meter fires one registry event per entity.
        if self._resync_task is not None and not self._resync_task.done():
            self._resync_task.cancel()
        self._resync_task = asyncio.create_task(
            self._resync_later(), name="acurev-bridge-ha-resync"
        )

    async def _resync_later(self) -> None:
        await asyncio.sleep(self._resync_delay)
        try:
            await self._sync()
        except (ConnectionError, HomeAssistantError, TimeoutError) as err:
            _LOGGER.warning("re-reading the Home Assistant registries failed: %s", escape(err))

    def _on_meter_event(self, event: dict[str, Any]) -> None:
        data: dict[str, Any] = dict(event.get("data") or {})
        serial = str(data.get("serial") or self._devices.get(str(data.get("device_id")), ""))
        if not serial or (self._config.meters and serial not in self._config.meters):
            return
        self._table.emit_event(
            MeterEvent(
                event_type=str(event.get("event_type", "")),
                serial=serial,
                data=data,
                time=_parse_time(event.get("time_fired")),
            )
        )

    # --- relay commands ----------------------------------------------------------------------
    async def _command_relay(self, point: Point, on: bool) -> bool:
        """``switch.turn_on/off`` through Home Assistant; the state it then reports."""
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._relay_waiters.setdefault(point.entity_id, []).append(waiter)
        try:
            try:
                await self._command(
                    {
                        "type": "call_service",
                        "domain": "switch",
                        "service": "turn_on" if on else "turn_off",
                        "target": {"entity_id": point.entity_id},
                    }
                )
            except (HomeAssistantError, ConnectionError, TimeoutError) as err:
                raise RelayCommandError(f"{point.entity_id}: {err}") from err
            current = self._table.points.get(point.unique_id)
            # Already in the commanded state: HA writes the same state again and sends no
            # state_changed, so the table is the confirmation.
            if waiter.done():
                return waiter.result()
            if current is not None and current.available and current.value is on:
                return on
            try:
                return await asyncio.wait_for(asyncio.shield(waiter), self._relay_timeout)
            except TimeoutError as err:
                raise RelayCommandError(
                    f"{point.entity_id}: no state confirmed within {self._relay_timeout} s"
                ) from err
        finally:
            waiters = self._relay_waiters.get(point.entity_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiter.done():
                waiter.cancel()

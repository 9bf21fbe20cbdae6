"""The bridge's local HTTP + websocket API (what the Node-RED nodes talk to).

Every request carries the API token (``Authorization: Bearer <token>``); the websocket may send it
in its first message instead. Answers are JSON; every error is a JSON object
``{"error": <code>, "message": <text>}`` with a fitting status. The API never talks to Home
Assistant itself: it reads the shared ``PointTable`` and asks it to switch relays. See
docs/NODE-RED.md for the reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from pyacurev.keys import ROLE_LIMITS, Role

from ..config import ApiConfig, Config
from ..logsafe import escape
from ..model import Meter, Point, PointKind, PointTable, RelayCommandError
from .stream import EventLog, Message, Subscriber, iso, point_info, point_value

_LOGGER = logging.getLogger(__name__)

PREFIX = "/api/v1"
STREAM_PATH = f"{PREFIX}/stream"
API_VERSION = 1
RELAY_TIMEOUT = 15.0  # s: a relay command that takes longer is answered with 504
SUBSCRIBE_TIMEOUT = 10.0  # s: a websocket must say who it is within this time
HEARTBEAT = 20.0  # s: websocket ping interval (a silent peer is dropped after 2.5x)
QUEUE_SIZE = 4096  # live messages a websocket client may lag behind before it is cut off
MAX_BODY = 64 * 1024
# One spelling per number in a path or query: "+3", " 3", "03" and Arabic-Indic or fullwidth
# digits are not 3 (Python's int() takes them all), so a request names a relay or channel exactly
# as the API lists it.
_CANONICAL_NUMBER = re.compile(r"0|[1-9][0-9]{0,8}")
# What the meter listing counts, by role: the numbers present on this meter.
COUNTED_ROLES: dict[str, Role] = {
    "channels": Role.CHANNEL,
    "users": Role.USER,
    "relays": Role.RELAY,
    "digital_inputs": Role.DI,
    "alarm_channels": Role.ALARM,
}

# Close codes of the websocket (4000-4999 are for applications).
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_TIMEOUT = 4408
CLOSE_TOO_SLOW = 4429

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error answer: HTTP status, a stable machine code and a sentence for people."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        """Describe the error."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> Message:
        """The JSON body."""
        return {"error": self.code, "message": self.message, **self.extra}

    def response(self) -> web.Response:
        """As an HTTP response."""
        headers: dict[str, str] = {}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="acurev-bridge"'
        if self.status == 503:
            headers["Retry-After"] = "5"
        return web.json_response(self.body(), status=self.status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def classify_relay_error(err: RelayCommandError, ha_connected: bool) -> ApiError:
    """Map a failed relay command to an answer.

    503 when Home Assistant is not there, 409 when Home Assistant or the meter refused the
    command (e.g. the relay is driven by an alarm, not by remote control), 502 when the write
    failed or was not confirmed.
    """
    text = str(err)
    code = getattr(err, "code", None) or getattr(err, "translation_key", None)
    lowered = f"{code or ''} {text}".lower()
    if not ha_connected or "not connected" in lowered or "connection lost" in lowered:
        return ApiError(503, "ha_unavailable", f"Home Assistant is not connected: {text}")
    # The integration's refusals: relay_not_remote ("... cannot be switched remotely"), a
    # Modbus exception reply ("The meter refused a request"), HA's service validation.
    if any(
        word in lowered
        for word in ("not_remote", "remote", "refused", "not allowed", "validation", "unavailable")
    ):
        return ApiError(409, "relay_refused", f"the relay command was refused: {text}")
    return ApiError(502, "relay_failed", f"the relay command failed: {text}")


class ApiServer:
    """The running API: an aiohttp application bound to the configured address."""

    def __init__(
        self,
        config: ApiConfig,
        table: PointTable,
        *,
        recent_size: int | None = None,
        events_size: int | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        """Prepare (``start`` binds)."""
        if len(config.token) < 16:
            raise ValueError("the API needs a token of at least 16 characters")
        self.config = config
        self.table = table
        sizes: dict[str, int] = {}
        if recent_size is not None:
            sizes["recent_size"] = recent_size
        if events_size is not None:
            sizes["events_size"] = events_size
        self.log = EventLog(table, **sizes)
        self.queue_size = queue_size
        self._token = config.token.encode()
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port = config.port
        self.app = self._make_app()

    # --- lifecycle ---------------------------------------------------------------------------
    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_BODY)
        app.router.add_get(f"{PREFIX}/status", self.status)
        app.router.add_get(f"{PREFIX}/meters", self.meters)
        app.router.add_get(f"{PREFIX}/meters/{{serial}}", self.meter)
        app.router.add_get(f"{PREFIX}/meters/{{serial}}/values", self.values)
        app.router.add_get(f"{PREFIX}/meters/{{serial}}/channels/{{channel}}", self.channel)
        app.router.add_get(f"{PREFIX}/meters/{{serial}}/points/{{key}}", self.point)
        app.router.add_get(f"{PREFIX}/meters/{{serial}}/relays", self.relays)
        app.router.add_post(f"{PREFIX}/meters/{{serial}}/relays/{{relay}}", self.switch_relay)
        app.router.add_get(STREAM_PATH, self.stream)
        return app

    async def start(self) -> None:
        """Bind and serve."""
        self.log.start()
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await self._runner.setup()
        self._site = web.TCPSite(
            self._runner, self.config.address, self.config.port, reuse_address=True
        )
        try:
            await self._site.start()
        except OSError:
            await self._runner.cleanup()
            await self.log.close()
            raise
        addresses = self._runner.addresses  # the real port when 0 was configured
        if addresses:
            self.port = int(addresses[0][1])
        _LOGGER.info(
            "Node-RED API listening on http://%s:%d%s", self.config.address, self.port, PREFIX
        )

    @property
    def url(self) -> str:
        """Base URL of the API (what the Node-RED config node is given)."""
        host = self.config.address
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        """Close every websocket, stop serving, stop listening to the table."""
        await self._close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.log.close()

    async def _close_sockets(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"bridge stopping")

    # --- authentication and errors -----------------------------------------------------------
    def _token_ok(self, presented: str) -> bool:
        # A header with bytes that are not UTF-8 arrives with surrogates: a wrong token, not a
        # server error.
        return hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), self._token)

    def _header_token(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            presented = self._header_token(request)
            websocket_first_message = presented is None and request.path == STREAM_PATH
            if not websocket_first_message and (presented is None or not self._token_ok(presented)):
                _LOGGER.warning(
                    "API: refused %s %s from %s (%s token)",
                    escape(request.method),
                    escape(request.path),
                    escape(request.remote),
                    "no" if presented is None else "wrong",
                )
                raise ApiError(
                    401,
                    "unauthorized",
                    "missing or wrong token (send 'Authorization: Bearer <token>')",
                )
            return await handler(request)
        except ApiError as err:
            return err.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = _HTTP_CODES.get(exc.status, "http_error")
            return ApiError(exc.status, code, exc.reason or code).response()

    # --- helpers -----------------------------------------------------------------------------
    def _require_ha(self) -> None:
        if not self.table.ha_connected:
            raise ApiError(
                503,
                "ha_unavailable",
                "Home Assistant is not connected to the bridge; values would be stale",
            )

    def _meter(self, request: web.Request) -> Meter:
        self._require_ha()
        serial = request.match_info["serial"]
        meter = self.table.meters.get(serial)
        if meter is None:
            raise ApiError(
                404,
                "unknown_meter",
                f"no meter with serial {serial!r}",
                meters=sorted(self.table.meters),
            )
        return meter

    def _points(self, serial: str) -> list[Point]:
        points = [p for p in self.table.points.values() if p.serial == serial]
        points.sort(key=lambda p: (-1 if p.channel is None else p.channel, p.key))
        return points

    def _meter_info(self, meter: Meter) -> Message:
        numbers: dict[str, list[int]] = {}
        points = self._points(meter.serial)
        for name, role in COUNTED_ROLES.items():
            numbers[name] = sorted(
                {p.number for p in points if p.role is role and p.number is not None}
            )
        return {
            "serial": meter.serial,
            "name": meter.name,
            "model": meter.model,
            "firmware": meter.firmware,
            "available": meter.available,
            # What this meter has (a 2020 with fewer CTs wired lists fewer channels), and the
            # most any supported meter can have: clients validate against these, never against
            # numbers of their own.
            "counts": {name: len(found) for name, found in numbers.items()},
            "numbers": numbers,
            "limits": {name: ROLE_LIMITS[role] for name, role in COUNTED_ROLES.items()},
        }

    def _values_body(self, meter: Meter, points: list[Point], channel: int | None) -> Message:
        return {
            **self._meter_info(meter),
            "ha_connected": self.table.ha_connected,
            "channel": channel,
            "time": iso(datetime.now(UTC)),
            "points": [point_value(p) for p in points],
        }

    @staticmethod
    def _int(value: str, what: str) -> int:
        if not _CANONICAL_NUMBER.fullmatch(value):
            raise ApiError(
                400,
                "bad_request",
                f"{what} must be a whole number in plain ASCII digits without sign, spaces or "
                f"leading zeros, not {value!r}",
            )
        return int(value)

    # --- HTTP handlers -----------------------------------------------------------------------
    async def status(self, _request: web.Request) -> web.Response:
        """``GET /status``: is Home Assistant connected, which meters, where the stream is."""
        return web.json_response(
            {
                "api_version": API_VERSION,
                "ha_connected": self.table.ha_connected,
                "ready": self.table.ready.is_set(),
                "meters": sorted(self.table.meters),
                "stream": self.log.stream_id,
                "seq": self.log.seq,
            }
        )

    async def meters(self, _request: web.Request) -> web.Response:
        """``GET /meters``: every meter with its points (what they are, with units)."""
        self._require_ha()
        return web.json_response(
            {
                "meters": [
                    {
                        **self._meter_info(m),
                        "points": [point_info(p) for p in self._points(m.serial)],
                    }
                    for m in sorted(self.table.meters.values(), key=lambda m: m.serial)
                ]
            }
        )

    async def meter(self, request: web.Request) -> web.Response:
        """``GET /meters/{serial}``: one meter with its points."""
        meter = self._meter(request)
        return web.json_response(
            {
                **self._meter_info(meter),
                "points": [point_info(p) for p in self._points(meter.serial)],
            }
        )

    async def values(self, request: web.Request) -> web.Response:
        """``GET /meters/{serial}/values[?channel=n][&key=k,...][&kind=...]``: current values."""
        meter = self._meter(request)
        points = self._points(meter.serial)
        query = request.query
        unknown = sorted(set(query) - {"channel", "key", "kind"})
        if unknown:
            raise ApiError(
                400,
                "bad_request",
                f"unknown query parameter {unknown[0]!r} (allowed: channel, key, kind)",
            )
        channel: int | None = None
        if "channel" in query:
            channel = self._int(query["channel"], "channel")
            points = self._channel_points(meter, points, channel)
        if "kind" in query:
            kinds = {k.strip() for v in query.getall("kind") for k in v.split(",") if k.strip()}
            bad = sorted(kinds - {str(k) for k in PointKind})
            if bad:
                raise ApiError(
                    400,
                    "bad_request",
                    f"unknown kind {bad[0]!r} (allowed: "
                    + ", ".join(str(k) for k in PointKind)
                    + ")",
                )
            points = [p for p in points if str(p.kind) in kinds]
        if "key" in query:
            keys = [k.strip() for v in query.getall("key") for k in v.split(",") if k.strip()]
            by_key = {p.key: p for p in points}
            missing = [k for k in keys if k not in by_key]
            if missing:
                raise ApiError(
                    404,
                    "unknown_point",
                    f"meter {meter.serial} has no point {missing[0]!r}"
                    + (f" on channel {channel}" if channel is not None else ""),
                )
            points = [by_key[k] for k in keys]
        return web.json_response(self._values_body(meter, points, channel))

    def _channel_points(self, meter: Meter, points: list[Point], channel: int) -> list[Point]:
        selected = [p for p in points if p.channel == channel]
        if not selected:
            channels = sorted({p.channel for p in points if p.channel is not None})
            raise ApiError(
                404,
                "unknown_channel",
                f"meter {meter.serial} has no channel {channel}",
                channels=channels,
            )
        return selected

    async def channel(self, request: web.Request) -> web.Response:
        """``GET /meters/{serial}/channels/{n}``: current values of one channel."""
        meter = self._meter(request)
        number = self._int(request.match_info["channel"], "channel")
        points = self._channel_points(meter, self._points(meter.serial), number)
        return web.json_response(self._values_body(meter, points, number))

    async def point(self, request: web.Request) -> web.Response:
        """``GET /meters/{serial}/points/{key}``: one point with its value."""
        meter = self._meter(request)
        key = request.match_info["key"]
        point = self.table.points.get(f"{meter.serial}_{key}")
        if point is None:
            raise ApiError(404, "unknown_point", f"meter {meter.serial} has no point {key!r}")
        return web.json_response(
            {"serial": meter.serial, "ha_connected": True, **point_value(point)}
        )

    async def relays(self, request: web.Request) -> web.Response:
        """``GET /meters/{serial}/relays``: the relays and their states."""
        meter = self._meter(request)
        points = [p for p in self._points(meter.serial) if p.kind is PointKind.RELAY]
        return web.json_response(self._values_body(meter, points, None))

    async def switch_relay(self, request: web.Request) -> web.Response:
        """``POST /meters/{serial}/relays/{n}`` ``{"state": "on"|"off"|"toggle"}``.

        Answers with the state Home Assistant read back from the meter.
        """
        number = self._int(request.match_info["relay"], "relay")
        on = await self._requested_state(request)  # None: toggle
        meter = self._meter(request)
        relays = {
            p.number: p
            for p in self._points(meter.serial)
            if p.kind is PointKind.RELAY and p.role is Role.RELAY and p.number is not None
        }
        point = relays.get(number)
        if point is None:
            raise ApiError(
                404,
                "unknown_relay",
                f"meter {meter.serial} has no relay {number}",
                relays=sorted(relays),
            )
        key = point.key
        if not point.available:
            raise ApiError(
                503,
                "meter_unavailable",
                f"relay {number} of meter {meter.serial} is unavailable (meter not "
                "answering Home Assistant)",
            )
        if on is None:
            if not isinstance(point.value, bool):
                raise ApiError(409, "state_unknown", f"relay {number} has no known state to toggle")
            on = not point.value
        try:
            async with asyncio.timeout(RELAY_TIMEOUT):
                state = await self.table.command_relay(point.unique_id, on)
        except RelayCommandError as err:
            raise classify_relay_error(err, self.table.ha_connected) from None
        except TimeoutError:
            raise ApiError(
                504,
                "relay_timeout",
                f"no confirmation from Home Assistant within {RELAY_TIMEOUT:g} s",
            ) from None
        body = {
            "serial": meter.serial,
            "relay": number,
            "key": key,
            "entity_id": point.entity_id,
            "requested": on,
            "state": state,
        }
        if state != on:
            raise ApiError(
                502,
                "relay_not_confirmed",
                f"relay {number} reads back {'on' if state else 'off'} after the "
                f"command to switch it {'on' if on else 'off'}",
                **body,
            )
        return web.json_response(body)

    @staticmethod
    async def _requested_state(request: web.Request) -> bool | None:
        if not request.can_read_body:
            raise ApiError(400, "bad_request", 'send a JSON body: {"state": "on"|"off"|"toggle"}')
        try:
            body = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "bad_request", "the body is not valid JSON") from None
        except RecursionError:
            # "[[[[...]]]]" nested deeper than the parser's stack: refused, not a server error.
            raise ApiError(400, "bad_request", "the body is nested too deeply") from None
        if not isinstance(body, dict) or "state" not in body:
            raise ApiError(400, "bad_request", 'send a JSON object: {"state": "on"|"off"|"toggle"}')
        state = body["state"]
        if isinstance(state, bool):
            return state
        if isinstance(state, str) and state.lower() in ("on", "off", "toggle"):
            return {"on": True, "off": False}.get(state.lower())
        raise ApiError(
            400,
            "bad_request",
            f'"state" must be "on", "off", "toggle", true or false, not {state!r}',
        )

    # --- websocket ---------------------------------------------------------------------------
    async def stream(self, request: web.Request) -> web.StreamResponse:
        """``GET /stream`` (websocket): subscribe, get the gap/replay, then live messages."""
        header_auth = self._header_token(request) is not None  # checked by the middleware
        # Pings are ours (``_heartbeat``), not aiohttp's: its heartbeat timer outlives a closed
        # socket in some versions, and this way pongs tell us the client is alive.
        ws = web.WebSocketResponse(autoping=False, max_msg_size=MAX_BODY)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            subscription = await self._handshake(ws, header_auth, request.remote)
            if subscription is not None:
                await self._serve(ws, *subscription)
        except ConnectionResetError:
            pass
        finally:
            self._sockets.discard(ws)
            if not ws.closed:
                await ws.close()
        return ws

    async def _refuse(self, ws: web.WebSocketResponse, err: ApiError, close_code: int) -> None:
        await ws.send_json({"type": "error", "status": err.status, **err.body()})
        await ws.close(code=close_code, message=err.code.encode())

    async def _handshake(
        self, ws: web.WebSocketResponse, header_auth: bool, remote: str | None
    ) -> tuple[Subscriber, list[Message]] | None:
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                first = await ws.receive()
                while first.type in (WSMsgType.PING, WSMsgType.PONG):
                    if first.type == WSMsgType.PING:
                        await ws.pong(first.data)
                    first = await ws.receive()
        except TimeoutError:
            await self._refuse(
                ws,
                ApiError(408, "timeout", f'no "subscribe" message within {SUBSCRIBE_TIMEOUT:g} s'),
                CLOSE_TIMEOUT,
            )
            return None
        if first.type != WSMsgType.TEXT:
            if first.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return None
            await self._refuse(
                ws, ApiError(400, "bad_request", "send JSON text messages"), CLOSE_BAD_REQUEST
            )
            return None
        try:
            hello = json.loads(first.data)
        except (json.JSONDecodeError, RecursionError):
            hello = None
        if not isinstance(hello, dict) or hello.get("type") != "subscribe":
            if not header_auth:  # say nothing else to a client that has not authenticated
                await self._refuse(
                    ws, ApiError(401, "unauthorized", "missing or wrong token"), CLOSE_UNAUTHORIZED
                )
                return None
            await self._refuse(
                ws,
                ApiError(
                    400,
                    "bad_request",
                    'the first message must be {"type": "subscribe", "since": <seq or null>}',
                ),
                CLOSE_BAD_REQUEST,
            )
            return None
        if not header_auth:
            token = hello.get("token")
            if not isinstance(token, str) or not self._token_ok(token):
                _LOGGER.warning(
                    "API: refused websocket from %s (%s token)",
                    escape(remote),
                    "no" if token is None else "wrong",
                )
                await self._refuse(
                    ws, ApiError(401, "unauthorized", "missing or wrong token"), CLOSE_UNAUTHORIZED
                )
                return None
        since = hello.get("since")
        stream = hello.get("stream")
        if since is not None and (
            isinstance(since, bool) or not isinstance(since, int) or since < 0
        ):
            await self._refuse(
                ws,
                ApiError(400, "bad_request", '"since" must be a sequence number >= 0 or null'),
                CLOSE_BAD_REQUEST,
            )
            return None
        if stream is not None and not isinstance(stream, str):
            await self._refuse(
                ws, ApiError(400, "bad_request", '"stream" must be a string'), CLOSE_BAD_REQUEST
            )
            return None
        subscriber, replay = self.log.subscribe(since, stream, self.queue_size)
        first_messages: list[Message] = [
            {
                "type": "subscribed",
                "stream": self.log.stream_id,
                "seq": self.log.seq,
                "ha_connected": self.table.ha_connected,
                "meters": {s: m.available for s, m in sorted(self.table.meters.items())},
                "replay": len(replay.messages),
            }
        ]
        if replay.gap is not None:
            first_messages.append(replay.gap)
        return subscriber, first_messages + replay.messages

    async def _serve(
        self, ws: web.WebSocketResponse, subscriber: Subscriber, first: list[Message]
    ) -> None:
        loop = asyncio.get_running_loop()
        last_seen = [loop.time()]  # when the client last sent anything (a pong included)
        reader = asyncio.create_task(self._read_client(ws, subscriber, last_seen))
        beat = asyncio.create_task(self._heartbeat(ws, last_seen))
        getter: asyncio.Task[Message] | None = None
        try:
            for message in first:
                await ws.send_json(message)
            while not ws.closed:
                if subscriber.overflowed.is_set():
                    await self._refuse(
                        ws,
                        ApiError(
                            429,
                            "too_slow",
                            "this client fell too far behind; reconnect with the last seq",
                        ),
                        CLOSE_TOO_SLOW,
                    )
                    return
                if getter is None:
                    getter = asyncio.create_task(subscriber.queue.get())
                done, _ = await asyncio.wait(
                    {getter, reader, beat}, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    message = getter.result()
                    getter = None
                    if not subscriber.overflowed.is_set():
                        await ws.send_json(message)
                if reader in done or beat in done:
                    return
        finally:
            self.log.unsubscribe(subscriber)
            for task in (getter, reader, beat):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    @staticmethod
    async def _heartbeat(ws: web.WebSocketResponse, last_seen: list[float]) -> None:
        """Ping every HEARTBEAT s; give up on a client silent for 2.5 intervals."""
        loop = asyncio.get_running_loop()
        while not ws.closed:
            await asyncio.sleep(HEARTBEAT)
            if loop.time() - last_seen[0] > 2.5 * HEARTBEAT:
                _LOGGER.info("API: dropping a websocket client that stopped answering pings")
                return
            try:
                await ws.ping()
            except ConnectionResetError:
                return  # the client went away between two beats: the serve loop ends

    async def _read_client(
        self, ws: web.WebSocketResponse, subscriber: Subscriber, last_seen: list[float]
    ) -> None:
        loop = asyncio.get_running_loop()
        async for msg in ws:
            last_seen[0] = loop.time()
            if msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
                continue
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
            except (json.JSONDecodeError, RecursionError):
                data = None
            kind = data.get("type") if isinstance(data, dict) else None
            if kind == "ping":
                subscriber.put({"type": "pong", "seq_now": self.log.seq})
            else:
                subscriber.put(
                    {
                        "type": "error",
                        "status": 400,
                        "error": "bad_request",
                        "message": 'after "subscribe" only {"type": "ping"} is understood',
                    }
                )


async def start_api(config: Config, table: PointTable, **options: Any) -> ApiServer:
    """Start the API on ``config.api.address:config.api.port``; the caller closes it."""
    server = ApiServer(config.api, table, **options)
    await server.start()
    return server

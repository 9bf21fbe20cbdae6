"""The Node-RED API at unit level: an in-process API over a point table filled by the test.

What Home Assistant would put into the table is set directly here, so every error path
(Home Assistant down, relay refused, no confirmation, slow client, history overflow) can be
forced. ``test_api_ha.py`` runs the same API on the real bridge, Home Assistant and simulator.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bacnet_bridge.api import ApiServer, start_api
from bacnet_bridge.api import server as api_server
from bacnet_bridge.api.server import ApiError
from bacnet_bridge.api.stream import EventLog
from bacnet_bridge.config import ApiConfig, Config, HomeAssistantConfig
from bacnet_bridge.model import (
    Meter,
    MeterEvent,
    Point,
    PointKind,
    PointTable,
    RelayCommandError,
)

from .api_support import TOKEN, StreamClient, auth

SERIAL = "A2020T0001"


def _point(key: str, kind: PointKind, value: Any, unit: str | None = None) -> Point:
    return Point(
        unique_id=f"{SERIAL}_{key}",
        entity_id=f"sensor.acurev_{key}",
        serial=SERIAL,
        key=key,
        kind=kind,
        name=key.replace("_", " "),
        unit=unit,
        value=value,
        available=True,
    )


@dataclass
class Commander:
    """Stands in for the Home Assistant client's relay service call."""

    table: PointTable
    calls: list[tuple[str, bool]] = field(default_factory=list)
    error: RelayCommandError | None = None
    follow: bool = True
    delay: float = 0.0

    async def __call__(self, point: Point, on: bool) -> bool:
        self.calls.append((point.key, on))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        state = on if self.follow else not on
        self.table.update_point(point.unique_id, state, True)
        return state


def make_table() -> tuple[PointTable, Commander]:
    table = PointTable()
    points = [
        _point("frequency", PointKind.MEASUREMENT, 60.0, "Hz"),
        _point("ch07_active_power", PointKind.MEASUREMENT, 1234.5, "W"),
        _point("ch07_current", PointKind.MEASUREMENT, 10.25, "A"),
        _point("ch07_import_energy", PointKind.COUNTER, 42.0, "kWh"),
        _point("ch08_active_power", PointKind.MEASUREMENT, 99.0, "W"),
        _point("di_4", PointKind.BINARY, False),
        _point("relay_2", PointKind.RELAY, False),
        _point("relay_3", PointKind.RELAY, True),
        _point("clock_drift", PointKind.MEASUREMENT, float("nan"), "s"),
    ]
    table.ha_connected = True
    table.replace_points(
        {SERIAL: Meter(SERIAL, "Panel A", "AcuRev 2020", "1.0", "dev1", True)},
        {p.unique_id: p for p in points},
    )
    commander = Commander(table)
    table.set_commander(commander)
    return table, commander


@dataclass
class Api:
    server: ApiServer
    table: PointTable
    commander: Commander
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.server.url

    async def get(self, path: str, token: str | None = TOKEN) -> tuple[int, Any]:
        headers = auth(token) if token is not None else {}
        async with self.session.get(f"{self.url}/api/v1{path}", headers=headers) as resp:
            assert resp.content_type == "application/json"
            return resp.status, await resp.json()

    async def post(
        self, path: str, body: Any, token: str | None = TOKEN, raw: bytes | None = None
    ) -> tuple[int, Any]:
        headers = auth(token) if token is not None else {}
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.session.post(
            f"{self.url}/api/v1{path}", data=data, headers=headers
        ) as resp:
            return resp.status, await resp.json()

    def stream(self) -> StreamClient:
        return StreamClient(self.session, self.url)


def api_config(port: int = 0) -> Config:
    return Config(
        home_assistant=HomeAssistantConfig(token="x"),
        api=ApiConfig(enabled=True, address="127.0.0.1", port=port, token=TOKEN),
    )


@pytest.fixture
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    options = getattr(request, "param", {})
    table, commander = make_table()
    server = await start_api(api_config(), table, **options)
    async with aiohttp.ClientSession() as session:
        yield Api(server, table, commander, session)
    await server.close()


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer"},
    ],
)
@pytest.mark.parametrize(
    "path", ["/status", "/meters", f"/meters/{SERIAL}/values", "/no/such/path"]
)
async def test_requests_without_the_right_token_are_refused(api: Api, headers, path) -> None:
    async with api.session.get(f"{api.url}/api/v1{path}", headers=headers) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        body = await resp.json()
    assert body["error"] == "unauthorized"
    assert SERIAL not in json.dumps(body)


async def test_relay_command_without_token_switches_nothing(api: Api) -> None:
    status, _ = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "on"}, token=None)
    assert status == 401
    status, _ = await api.post(
        f"/meters/{SERIAL}/relays/2", {"state": "on"}, token="0123456789abcdef-wrong"
    )
    assert status == 401
    assert api.commander.calls == []


async def test_websocket_refuses_wrong_header_token(api: Api) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await api.session.ws_connect(
            f"{api.url}/api/v1/stream", headers=auth("wrong-token-0123456789")
        )
    assert err.value.status == 401


@pytest.mark.parametrize(
    "hello",
    [
        {"type": "subscribe"},
        {"type": "subscribe", "token": "wrong-token-0123456789"},
        {"type": "subscribe", "token": 12345},
        {"type": "hello", "token": TOKEN},
        "not json",
    ],
)
async def test_websocket_refuses_first_message_without_the_token(api: Api, hello) -> None:
    ws = await api.session.ws_connect(f"{api.url}/api/v1/stream")
    await ws.send_str(hello if isinstance(hello, str) else json.dumps(hello))
    error = await ws.receive_json(timeout=5)
    assert error["type"] == "error"
    assert error["status"] == 401
    msg = await ws.receive(timeout=5)
    assert msg.type == aiohttp.WSMsgType.CLOSE
    assert ws.close_code == 4401
    api.table.update_point(f"{SERIAL}_di_4", True, True)
    await ws.close()


async def test_websocket_that_never_subscribes_is_closed(api: Api, monkeypatch) -> None:
    monkeypatch.setattr(api_server, "SUBSCRIBE_TIMEOUT", 0.2)
    ws = await api.session.ws_connect(f"{api.url}/api/v1/stream")
    error = await ws.receive_json(timeout=5)
    assert error["error"] == "timeout"
    await ws.receive(timeout=5)
    assert ws.close_code == 4408
    await ws.close()


async def test_websocket_accepts_token_in_header_or_first_message(api: Api) -> None:
    for header in (True, False):
        client = api.stream()
        first = await client.connect(header=header, since=None)
        assert first["type"] == "subscribed"
        assert first["ha_connected"] is True
        assert first["meters"] == {SERIAL: True}
        await client.drop()


# --- reads ----------------------------------------------------------------------------------


async def test_status(api: Api) -> None:
    status, body = await api.get("/status")
    assert status == 200
    assert body["ha_connected"] is True
    assert body["meters"] == [SERIAL]
    assert body["stream"] == api.server.log.stream_id
    assert body["api_version"] == 1


async def test_meters_lists_points_with_units(api: Api) -> None:
    status, body = await api.get("/meters")
    assert status == 200
    [meter] = body["meters"]
    assert meter["serial"] == SERIAL
    assert meter["name"] == "Panel A"
    assert meter["available"] is True
    points = {p["key"]: p for p in meter["points"]}
    assert points["ch07_active_power"]["unit"] == "W"
    assert points["ch07_active_power"]["channel"] == 7
    assert points["ch07_active_power"]["field"] == "active_power"
    assert points["ch07_import_energy"]["unit"] == "kWh"
    assert points["relay_2"]["kind"] == "relay"
    assert "value" not in points["relay_2"]
    status, one = await api.get(f"/meters/{SERIAL}")
    assert status == 200
    assert one["points"] == meter["points"]


async def test_values_of_meter_channel_and_point(api: Api) -> None:
    status, body = await api.get(f"/meters/{SERIAL}/values")
    assert status == 200
    values = {p["key"]: p["value"] for p in body["points"]}
    assert values["ch07_active_power"] == 1234.5
    assert values["di_4"] is False
    assert values["clock_drift"] is None  # NaN is not JSON
    status, ch = await api.get(f"/meters/{SERIAL}/channels/7")
    assert status == 200
    assert ch["channel"] == 7
    assert {p["field"]: p["value"] for p in ch["points"]} == {
        "active_power": 1234.5,
        "current": 10.25,
        "import_energy": 42.0,
    }
    status, same = await api.get(f"/meters/{SERIAL}/values?channel=7")
    assert [p["key"] for p in same["points"]] == [p["key"] for p in ch["points"]]
    status, pt = await api.get(f"/meters/{SERIAL}/points/ch07_current")
    assert status == 200
    assert (pt["value"], pt["unit"], pt["available"]) == (10.25, "A", True)
    status, some = await api.get(f"/meters/{SERIAL}/values?key=di_4,relay_3&kind=binary,relay")
    assert [(p["key"], p["value"]) for p in some["points"]] == [("di_4", False), ("relay_3", True)]
    status, relays = await api.get(f"/meters/{SERIAL}/relays")
    assert [p["key"] for p in relays["points"]] == ["relay_2", "relay_3"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/meters/NOPE/values", 404, "unknown_meter"),
        ("/meters/NOPE", 404, "unknown_meter"),
        (f"/meters/{SERIAL}/channels/19", 404, "unknown_channel"),
        (f"/meters/{SERIAL}/channels/seven", 400, "bad_request"),
        (f"/meters/{SERIAL}/values?channel=x", 400, "bad_request"),
        (f"/meters/{SERIAL}/values?kind=banana", 400, "bad_request"),
        (f"/meters/{SERIAL}/values?colour=red", 400, "bad_request"),
        (f"/meters/{SERIAL}/values?key=nope", 404, "unknown_point"),
        (f"/meters/{SERIAL}/points/nope", 404, "unknown_point"),
        ("/nothing/here", 404, "not_found"),
    ],
)
async def test_bad_reads_get_clear_errors(api: Api, path, status, code) -> None:
    got, body = await api.get(path)
    assert (got, body["error"]) == (status, code)
    assert body["message"]


async def test_wrong_method_is_a_json_405(api: Api) -> None:
    status, body = await api.post("/meters", {})
    assert (status, body["error"]) == (405, "method_not_allowed")


async def test_home_assistant_down_is_503(api: Api) -> None:
    api.table.set_all_unavailable()
    for path in ("/meters", f"/meters/{SERIAL}/values", f"/meters/{SERIAL}/channels/7"):
        async with api.session.get(f"{api.url}/api/v1{path}", headers=auth()) as resp:
            assert resp.status == 503
            assert resp.headers["Retry-After"]
            assert (await resp.json())["error"] == "ha_unavailable"
    status, body = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "on"})
    assert (status, body["error"]) == (503, "ha_unavailable")
    status, body = await api.get("/status")
    assert (status, body["ha_connected"]) == (200, False)
    assert api.commander.calls == []


# --- relays ---------------------------------------------------------------------------------


async def test_relay_on_off_toggle_answer_the_state_read_back(api: Api) -> None:
    status, body = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "on"})
    assert status == 200
    assert body == {
        "serial": SERIAL,
        "relay": 2,
        "key": "relay_2",
        "entity_id": "sensor.acurev_relay_2",
        "requested": True,
        "state": True,
    }
    status, body = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "toggle"})
    assert (status, body["state"]) == (200, False)
    status, body = await api.post(f"/meters/{SERIAL}/relays/3", {"state": False})
    assert (status, body["state"]) == (200, False)
    status, body = await api.post(f"/meters/{SERIAL}/relays/3", {"state": "ON"})
    assert (status, body["state"]) == (200, True)
    assert api.commander.calls == [
        ("relay_2", True),
        ("relay_2", False),
        ("relay_3", False),
        ("relay_3", True),
    ]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        (f"/meters/{SERIAL}/relays/9", {"state": "on"}, 404, "unknown_relay"),
        (f"/meters/{SERIAL}/relays/1", {"state": "on"}, 404, "unknown_relay"),
        (f"/meters/{SERIAL}/relays/two", {"state": "on"}, 400, "bad_request"),
        ("/meters/NOPE/relays/2", {"state": "on"}, 404, "unknown_meter"),
        (f"/meters/{SERIAL}/relays/2", {"state": "maybe"}, 400, "bad_request"),
        (f"/meters/{SERIAL}/relays/2", {"state": 1}, 400, "bad_request"),
        (f"/meters/{SERIAL}/relays/2", {"on": True}, 400, "bad_request"),
        (f"/meters/{SERIAL}/relays/2", ["on"], 400, "bad_request"),
    ],
)
async def test_bad_relay_commands_get_clear_errors(api: Api, path, body, status, code) -> None:
    got, answer = await api.post(path, body)
    assert (got, answer["error"]) == (status, code)
    assert api.commander.calls == []


async def test_relay_body_that_is_not_json(api: Api) -> None:
    status, body = await api.post(f"/meters/{SERIAL}/relays/2", None, raw=b"on please")
    assert (status, body["error"]) == (400, "bad_request")
    status, body = await api.post(f"/meters/{SERIAL}/relays/2", None, raw=b"")
    assert (status, body["error"]) == (400, "bad_request")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (
            RelayCommandError("relay_not_remote: relay 2 is driven by an alarm"),
            409,
            "relay_refused",
        ),
        (RelayCommandError("write_failed: the meter did not answer"), 502, "relay_failed"),
        (RelayCommandError("Home Assistant is not connected"), 503, "ha_unavailable"),
    ],
)
async def test_relay_failures_are_mapped(api: Api, error, status, code) -> None:
    api.commander.error = error
    got, body = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "on"})
    assert (got, body["error"]) == (status, code)
    assert str(error) in body["message"]


async def test_relay_that_does_not_follow_is_502_with_the_state(api: Api) -> None:
    api.commander.follow = False
    status, body = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "on"})
    assert (status, body["error"], body["state"]) == (502, "relay_not_confirmed", False)


async def test_relay_without_confirmation_times_out_504(api: Api, monkeypatch) -> None:
    monkeypatch.setattr(api_server, "RELAY_TIMEOUT", 0.1)
    api.commander.delay = 1.0
    status, body = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "on"})
    assert (status, body["error"]) == (504, "relay_timeout")


async def test_relay_of_unavailable_meter_or_unknown_state(api: Api) -> None:
    api.table.update_point(f"{SERIAL}_relay_3", None, False)
    status, body = await api.post(f"/meters/{SERIAL}/relays/3", {"state": "on"})
    assert (status, body["error"]) == (503, "meter_unavailable")
    api.table.points[f"{SERIAL}_relay_2"].value = None
    status, body = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "toggle"})
    assert (status, body["error"]) == (409, "state_unknown")
    assert api.commander.calls == []


# --- the event stream -------------------------------------------------------------------------


async def test_stream_carries_points_di_relay_alarm_availability(api: Api) -> None:
    client = api.stream()
    await client.connect(since=None)
    table = api.table
    table.update_point(f"{SERIAL}_ch07_active_power", 2000.0, True)
    table.update_point(f"{SERIAL}_di_4", True, True)
    status, _ = await api.post(f"/meters/{SERIAL}/relays/2", {"state": "on"})
    assert status == 200
    when = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    table.emit_event(
        MeterEvent(
            "acurev_alarm",
            SERIAL,
            {
                "serial": SERIAL,
                "channel": 1,
                "parameter": "frequency",
                "value": 61.5,
                "state": "occurred",
                "record": 3,
            },
            when,
        )
    )
    table.emit_event(MeterEvent("acurev_alarm", SERIAL, {"state": "recovered"}, when))

    power = await client.next_raw()
    assert power["type"] == "point"
    assert (power["key"], power["value"], power["previous"], power["unit"], power["event"]) == (
        "ch07_active_power",
        2000.0,
        1234.5,
        "W",
        None,
    )
    di = await client.next_raw()
    assert (di["key"], di["event"], di["value"], di["previous"]) == ("di_4", "di", True, False)
    relay = await client.next_raw()
    assert (relay["key"], relay["event"], relay["value"]) == ("relay_2", "relay", True)
    alarm = await client.next_raw()
    assert (alarm["type"], alarm["event"], alarm["state"]) == ("event", "alarm", "occurred")
    assert alarm["data"]["parameter"] == "frequency"
    assert alarm["time"] == when.isoformat()
    recovered = await client.next_raw()
    assert recovered["state"] == "recovered"
    # The meter goes away: Home Assistant marks all its entities unavailable.
    for uid, p in list(table.points.items()):
        table.update_point(uid, p.value, False)
    rest = await client.drain()
    assert [m["type"] for m in rest] == ["point"] * len(table.points) + ["meter"]
    assert all(m["available"] is False and m["previous_available"] for m in rest[:-1])
    assert (rest[-1]["serial"], rest[-1]["available"]) == (SERIAL, False)
    seqs = [m["seq"] for m in client.received]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    await client.drop()


async def test_stream_reports_home_assistant_connection(api: Api) -> None:
    client = api.stream()
    await client.connect(since=None)
    api.table.ha_connected = False  # the watcher notices within WATCH_INTERVAL
    msg = await client.wait_for(lambda m: m["type"] == "connection")
    assert msg["ha_connected"] is False
    api.table.ha_connected = True
    msg = await client.wait_for(lambda m: m["type"] == "connection")
    assert msg["ha_connected"] is True
    await client.drop()


async def test_ping_and_unknown_messages_after_subscribe(api: Api) -> None:
    client = api.stream()
    await client.connect(since=None)
    assert client.ws is not None
    await client.ws.send_json({"type": "ping"})
    assert (await client.next_raw())["type"] == "pong"
    await client.ws.send_str("{")
    error = await client.next_raw()
    assert (error["type"], error["status"]) == ("error", 400)
    await client.drop()


async def test_heartbeat_keeps_live_clients_and_drops_silent_ones(api: Api, monkeypatch) -> None:
    monkeypatch.setattr(api_server, "HEARTBEAT", 0.05)
    hello = {"type": "subscribe", "token": TOKEN, "since": None}
    # A client that answers pings (aiohttp does while it reads) is served across many
    # heartbeats, and may ping the bridge too.
    live = await api.session.ws_connect(f"{api.url}/api/v1/stream")
    await live.send_json(hello)
    assert (await live.receive_json(timeout=5))["type"] == "subscribed"
    await live.ping(b"hi")
    with pytest.raises(TimeoutError):  # (aiohttp's own receive timeout restarts per ping)
        async with asyncio.timeout(0.5):
            await live.receive()
    assert not live.closed
    api.table.update_point(f"{SERIAL}_di_4", True, True)
    assert (await live.receive_json(timeout=5))["key"] == "di_4"
    await live.close()
    # One that never answers is dropped after a few pings.
    silent = await api.session.ws_connect(f"{api.url}/api/v1/stream", autoping=False)
    await silent.send_json(hello)
    assert (await silent.receive_json(timeout=5))["type"] == "subscribed"
    pings = 0
    while (msg := await silent.receive(timeout=5)).type == aiohttp.WSMsgType.PING:
        pings += 1
    assert pings >= 1
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await silent.close()


@pytest.mark.parametrize(
    "hello",
    [
        {"type": "subscribe", "since": -1},
        {"type": "subscribe", "since": "5"},
        {"type": "subscribe", "since": True},
        {"type": "subscribe", "since": 0, "stream": 7},
        {"type": "bogus"},
    ],
)
async def test_bad_subscribe_is_refused_with_4400(api: Api, hello) -> None:
    ws = await api.session.ws_connect(f"{api.url}/api/v1/stream", headers=auth())
    await ws.send_json(hello)
    error = await ws.receive_json(timeout=5)
    assert (error["type"], error["status"]) == ("error", 400)
    await ws.receive(timeout=5)
    assert ws.close_code == 4400
    await ws.close()


async def test_resume_after_drop_loses_nothing(api: Api) -> None:
    client = api.stream()
    await client.connect(since=None)
    table = api.table
    table.update_point(f"{SERIAL}_di_4", True, True)
    assert (await client.next_raw())["key"] == "di_4"
    await client.drop()
    # While the client is away: readings, a DI edge pair, a relay, an alarm.
    for i in range(20):
        table.update_point(f"{SERIAL}_ch07_active_power", 1000.0 + i, True)
    table.update_point(f"{SERIAL}_di_4", False, True)
    table.update_point(f"{SERIAL}_di_4", True, True)
    table.update_point(f"{SERIAL}_relay_3", False, True)
    table.emit_event(MeterEvent("acurev_alarm", SERIAL, {"state": "occurred"}, datetime.now(UTC)))
    expected_last = api.server.log.seq
    first = await client.connect()  # since = last seq seen
    assert first["replay"] == 24
    replayed = [await client.next_raw() for _ in range(24)]
    assert [m["seq"] for m in replayed] == list(range(expected_last - 23, expected_last + 1))
    assert [m["value"] for m in replayed[:20]] == [1000.0 + i for i in range(20)]
    assert [m.get("value") for m in replayed[20:23]] == [False, True, False]
    assert replayed[23]["event"] == "alarm"
    # ... and live messages continue after the replay, numbered on.
    table.update_point(f"{SERIAL}_di_4", False, True)
    live = await client.next_raw()
    assert live["seq"] == expected_last + 1
    seqs = [m["seq"] for m in client.received]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    await client.drop()


@pytest.mark.parametrize("api", [{"recent_size": 8, "events_size": 4}], indirect=True)
async def test_resume_older_than_history_says_gap_but_replays_events(api: Api) -> None:
    client = api.stream()
    await client.connect(since=None)
    table = api.table
    table.update_point(f"{SERIAL}_ch07_active_power", 1.0, True)
    await client.next_raw()
    since = client.last_seq
    await client.drop()
    table.update_point(f"{SERIAL}_di_4", True, True)  # an event ...
    for i in range(20):  # ... pushed out of "recent"
        table.update_point(f"{SERIAL}_ch07_active_power", 100.0 + i, True)
    table.update_point(f"{SERIAL}_relay_3", False, True)
    first = await client.connect()
    assert first["replay"] == 1 + 8
    gap = await client.next_raw()
    assert gap["type"] == "gap"
    assert (gap["reason"], gap["since"], gap["events_lost"]) == ("overflow", since, False)
    di = await client.next_raw()
    assert (di["key"], di["value"]) == ("di_4", True)
    rest = [await client.next_raw() for _ in range(8)]
    assert rest[-1]["key"] == "relay_3"
    assert [m["value"] for m in rest[:-1]] == [100.0 + i for i in range(13, 20)]
    await client.drop()
    # Now so many events that the event history overflows too.
    since = client.last_seq
    for i in range(10):
        table.update_point(f"{SERIAL}_di_4", i % 2 == 0, True)
    await client.connect()
    gap = await client.next_raw()
    assert (gap["type"], gap["since"], gap["events_lost"]) == ("gap", since, True)
    await client.drop()


async def test_since_beyond_the_stream_without_stream_id_is_a_restart(api: Api) -> None:
    api.table.update_point(f"{SERIAL}_di_4", True, True)
    client = api.stream()
    client.last_seq = 10_000  # from an earlier bridge process; the client kept no stream id
    first = await client.connect()
    assert first["type"] == "subscribed"
    gap = await client.next_raw()
    assert (gap["type"], gap["reason"], gap["events_lost"]) == ("gap", "restart", True)
    assert (await client.next_raw())["key"] == "di_4"
    await client.drop()


async def test_resume_into_a_restarted_bridge_says_gap(api: Api) -> None:
    client = api.stream()
    await client.connect(since=None)
    client.stream = "0123456789abcdef"  # the id of a previous bridge process
    client.last_seq = 5000
    await client.drop()
    api.table.update_point(f"{SERIAL}_di_4", True, True)
    await client.connect()
    gap = await client.next_raw()
    assert (gap["type"], gap["reason"], gap["events_lost"]) == ("gap", "restart", True)
    assert gap["stream"] == api.server.log.stream_id
    di = await client.next_raw()
    assert di["key"] == "di_4"
    await client.drop()


@pytest.mark.parametrize("api", [{"queue_size": 4}], indirect=True)
async def test_client_that_cannot_keep_up_is_cut_off_and_can_resume(api: Api) -> None:
    client = api.stream()
    await client.connect(since=None)
    for i in range(50):  # in one go: the bridge does not wait for the client
        api.table.update_point(f"{SERIAL}_ch08_active_power", float(i), True)
    messages = []
    while True:
        try:
            messages.append(await client.next_raw())
        except ConnectionError:
            break
    assert messages[-1]["error"] == "too_slow"
    assert client.ws is not None
    assert client.ws.close_code == 4429
    await client.drop()
    await client.connect()
    values = [(await client.next_raw())["value"] for _ in range(50 - len(messages) + 1)]
    assert values[-1] == 49.0
    await client.drop()


async def test_structure_change_is_announced(api: Api) -> None:
    client = api.stream()
    await client.connect(since=None)
    table = api.table
    points = dict(table.points)
    extra = _point("ch09_active_power", PointKind.MEASUREMENT, 5.0, "W")
    points[extra.unique_id] = extra
    table.replace_points(dict(table.meters), points)
    msgs = [await client.next_raw(), await client.next_raw()]
    assert {m["type"] for m in msgs} == {"point", "structure"}
    await client.drop()


async def test_close_ends_open_websockets_and_listeners() -> None:
    table, _ = make_table()
    server = await start_api(api_config(), table)
    async with aiohttp.ClientSession() as session:
        client = StreamClient(session, server.url)
        await client.connect(since=None)
        await server.close()
        with pytest.raises(ConnectionError):
            await client.next_raw()
    table.update_point(f"{SERIAL}_di_4", True, True)  # no listener left to fail
    assert server.log.subscribers == set()


async def test_binds_the_configured_address_and_port() -> None:
    table, _ = make_table()
    first = await start_api(api_config(), table)
    try:
        assert first.port > 0
        assert first.url == f"http://127.0.0.1:{first.port}"
        with pytest.raises(OSError, match="address already in use"):
            await start_api(api_config(first.port), table)
    finally:
        await first.close()


def test_token_must_be_long_enough() -> None:
    table = PointTable()
    with pytest.raises(ValueError, match="16"):
        ApiServer(ApiConfig(enabled=True, token="short"), table)
    with pytest.raises(ValueError, match="at least 1"):
        EventLog(table, recent_size=0)


# --- malformed input on the wire (issue #12): raw HTTP, the standard refusal, nothing changed ---


async def raw_http(api: Api, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` as bytes on a fresh TCP connection; the status and body of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", api.server.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5.0)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


def raw_post(path: str, body: bytes, authorization: bytes | None = None) -> bytes:
    auth_line = b"Authorization: " + (authorization or f"Bearer {TOKEN}".encode()) + b"\r\n"
    return (
        b"POST /api/v1"
        + path.encode("ascii")
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + auth_line
        + b"Content-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def relay_states(api: Api) -> dict[str, object]:
    return {p.key: p.value for p in api.table.points.values() if p.kind is PointKind.RELAY}


@pytest.mark.parametrize(
    "relay",
    ["+3", "%203", "3%20", "03", "%D9%A3", "%EF%BC%93", "3.0", "0x3", "-3", "%2B3", "3_"],
    ids=[
        "plus",
        "space-before",
        "space-after",
        "zero",
        "arabic",
        "fullwidth",
        "dot",
        "hex",
        "minus",
        "plus-escaped",
        "underscore",
    ],
)
async def test_non_canonical_relay_ids_are_refused_on_the_wire(api: Api, relay: str) -> None:
    before = relay_states(api)
    status, body = await raw_http(
        api, raw_post(f"/meters/{SERIAL}/relays/{relay}", b'{"state": "off"}')
    )
    assert status == 400, body
    assert json.loads(body)["error"] == "bad_request"
    assert api.commander.calls == []
    assert relay_states(api) == before
    # The canonical spelling of the same relay does switch it.
    status, body = await raw_http(api, raw_post(f"/meters/{SERIAL}/relays/3", b'{"state": "off"}'))
    assert status == 200, body
    assert api.commander.calls == [("relay_3", False)]


async def test_relay_beyond_the_meter_is_unknown(api: Api) -> None:
    before = relay_states(api)
    for number in ("4", "9", "999999999"):
        status, body = await raw_http(
            api, raw_post(f"/meters/{SERIAL}/relays/{number}", b'{"state": "on"}')
        )
        assert status == 404, (number, body)
        assert json.loads(body)["relays"] == [2, 3]
    assert api.commander.calls == []
    assert relay_states(api) == before


async def test_non_utf8_authorization_is_401_not_500(api: Api) -> None:
    before = relay_states(api)
    status, body = await raw_http(
        api,
        raw_post(
            f"/meters/{SERIAL}/relays/3", b'{"state": "off"}', authorization=b"Bearer \xff\xfe\x80"
        ),
    )
    assert status == 401, body
    assert json.loads(body)["error"] == "unauthorized"
    assert api.commander.calls == []
    assert relay_states(api) == before


async def test_deeply_nested_json_is_400_not_500(api: Api) -> None:
    before = relay_states(api)
    depth = 20_000  # within MAX_BODY, far beyond the JSON parser's recursion limit
    body = b'{"state": ' + b"[" * depth + b"]" * depth + b"}"
    status, answer = await raw_http(api, raw_post(f"/meters/{SERIAL}/relays/3", body))
    assert status == 400, answer
    assert json.loads(answer)["error"] == "bad_request"
    assert api.commander.calls == []
    assert relay_states(api) == before


async def test_nested_json_on_the_websocket_is_refused(api: Api) -> None:
    ws = await api.session.ws_connect(f"{api.url}/api/v1/stream", headers=auth())
    await ws.send_str("[" * 20_000 + "]" * 20_000)
    answer = await ws.receive_json(timeout=5.0)
    assert (answer["type"], answer["status"], answer["error"]) == ("error", 400, "bad_request")
    await ws.close()


async def test_a_forged_log_line_is_escaped(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bacnet_bridge")
    request = (
        b"GET /api/v1/x%0A2026-01-01%2000:00:00%20CRITICAL%20forged%1B[2J HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    status, _ = await raw_http(api, request)
    assert status == 401
    [record] = [r for r in caplog.records if "refused" in r.getMessage()]
    text = record.getMessage()
    assert "\n" not in text
    assert "\x1b" not in text
    assert "\\n2026-01-01 00:00:00 CRITICAL forged\\x1b[2J" in text


async def test_meter_listing_has_structured_fields_and_counts(api: Api) -> None:
    status, body = await api.get(f"/meters/{SERIAL}")
    assert status == 200
    # Counted from the fixture's points, independently of the bridge: channels 7 and 8, relays
    # 2 and 3, input 4; no users or alarms.
    assert body["numbers"] == {
        "channels": [7, 8],
        "users": [],
        "relays": [2, 3],
        "digital_inputs": [4],
        "alarm_channels": [],
    }
    assert body["counts"] == {
        "channels": 2,
        "users": 0,
        "relays": 2,
        "digital_inputs": 1,
        "alarm_channels": 0,
    }
    assert body["limits"]["relays"] == 8
    assert body["limits"]["channels"] == 18
    points = {p["key"]: p for p in body["points"]}
    assert {k: points["relay_3"][k] for k in ("role", "number", "channel", "field", "phase")} == {
        "role": "relay",
        "number": 3,
        "channel": None,
        "field": None,
        "phase": None,
    }
    assert (points["di_4"]["role"], points["di_4"]["number"]) == ("di", 4)
    assert {k: points["ch08_active_power"][k] for k in ("role", "number", "channel", "field")} == {
        "role": "channel",
        "number": 8,
        "channel": 8,
        "field": "active_power",
    }
    assert (points["frequency"]["role"], points["frequency"]["field"]) == ("system", "frequency")


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789+- \t\u0663\uff13", max_size=12),  # Arabic-Indic, fullwidth 3
        st.integers(0, 10**12).map(str),
        st.text(max_size=6),
    )
)
def test_only_canonical_numbers_are_numbers(text: str) -> None:
    """The API's number rule, against its definition: ASCII digits, no sign, no padding, no
    leading zero, at most nine digits (what int() accepts is much wider)."""
    canonical = text.isascii() and text.isdigit() and str(int(text)) == text and len(text) <= 9
    if canonical:
        assert ApiServer._int(text, "relay") == int(text)
    else:
        with pytest.raises(ApiError) as err:
            ApiServer._int(text, "relay")
        assert (err.value.status, err.value.code) == (400, "bad_request")

"""The Node-RED API on the real bridge: a real Home Assistant with the acurev integration on the
simulator, the bridge in this event loop (tests/bridge/conftest.py), loopback only.

Expected values come from the simulator's state (the ground truth), never from an earlier
answer of the API.
"""

# The fixtures ``api_config`` and ``stack`` come from api_support (shared with the other API
# test module); test arguments named like them are not redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import json
from typing import Any

import pytest

from bacnet_bridge.config import Config
from bacnet_bridge.model import MeterEvent

from .api_support import TOKEN, Stack, api_config, stack  # noqa: F401  (fixtures)
from .conftest import HAServer, wait_for

try:  # the integration fires acurev_alarm from the meter's alarm log
    from custom_components.acurev.const import EVENT_ALARM
except ImportError:  # pragma: no cover - integrations without alarm events
    EVENT_ALARM = None

OVER_VOLTAGE = 140.0  # the simulator's default alarm 1 trips above 132 V after 5 s


def _values(body: dict[str, Any], name: str = "key") -> dict[str, Any]:
    return {p[name]: p["value"] for p in body["points"]}


async def test_api_binds_the_configured_loopback_port(stack: Stack, api_config: Config) -> None:
    assert (stack.api.config.address, stack.api.port) == ("127.0.0.1", api_config.api.port)


async def test_missing_or_wrong_token_is_refused(stack: Stack) -> None:
    sim = stack.meter.sim.meter
    for token in (None, "wrong-token-0123456789", TOKEN[:-1]):
        status, body = await stack.get("/meters", token=token)
        assert (status, body["error"]) == (401, "unauthorized")
        status, _ = await stack.post(
            f"/meters/{stack.serial}/relays/2", {"state": "on"}, token=token
        )
        assert status == 401
    assert sim.relays[1] is False
    ws = await stack.session.ws_connect(f"{stack.api.url}/api/v1/stream")
    await ws.send_str(json.dumps({"type": "subscribe", "token": "wrong-token-0123456789"}))
    assert (await ws.receive_json(timeout=5))["status"] == 401
    await ws.receive(timeout=5)
    assert ws.close_code == 4401
    await ws.close()


async def test_meters_list_points_with_units(stack: Stack) -> None:
    status, body = await stack.get("/meters")
    assert status == 200
    [meter] = body["meters"]
    assert meter["serial"] == stack.serial
    assert meter["available"] is True
    points = {p["key"]: p for p in meter["points"]}
    assert points["ch07_active_power"]["unit"] == "W"
    assert points["ch07_current"]["unit"] == "A"
    assert points["import_energy"]["unit"] == "kWh"
    assert points["frequency"]["unit"] == "Hz"
    assert points["relay_2"]["kind"] == "relay"
    assert points["di_4"]["kind"] == "binary"
    assert points["ch07_active_power"]["entity_id"] == stack.meter.entity_id(
        "sensor", "ch07_active_power"
    )


async def test_reads_equal_the_simulator(stack: Stack) -> None:
    sim = stack.meter.sim.meter
    # A load the test chooses, so the comparison cannot pass by accident.
    sim.set_channel_load(7, 2.345, 0.5)
    await stack.meter.poll()
    truth = sim.channel(7)
    await wait_for(
        lambda: (
            stack.bridge.table.points[f"{stack.serial}_ch07_active_power"].value
            == pytest.approx(truth.active_power * 1000, rel=1e-5)
        )
    )
    status, ch7 = await stack.get(f"/meters/{stack.serial}/channels/7")
    assert status == 200
    values = _values(ch7, "field")
    assert values["active_power"] == pytest.approx(truth.active_power * 1000, rel=1e-5)
    assert values["active_power"] == pytest.approx(2345.0, rel=1e-4)
    assert values["current"] == pytest.approx(truth.current, rel=1e-5)
    assert values["power_factor"] == pytest.approx(truth.power_factor, rel=1e-4)
    status, meter = await stack.get(f"/meters/{stack.serial}/values")
    assert status == 200
    everything = _values(meter)
    assert everything["frequency"] == pytest.approx(sim.frequency, rel=1e-5)
    for n in range(1, 9):
        assert everything[f"di_{n}"] is sim.digital_inputs[n - 1]
        assert everything[f"relay_{n}"] is sim.relays[n - 1]
    status, point = await stack.get(f"/meters/{stack.serial}/points/ch07_current")
    assert (status, point["unit"]) == (200, "A")
    assert point["value"] == pytest.approx(truth.current, rel=1e-5)


async def test_relay_switching_reaches_the_simulator(stack: Stack) -> None:
    sim = stack.meter.sim.meter
    path = f"/meters/{stack.serial}/relays/2"
    status, body = await stack.post(path, {"state": "on"})
    assert (status, body["state"]) == (200, True)
    assert sim.relays[1] is True
    status, body = await stack.post(path, {"state": "toggle"})
    assert (status, body["state"]) == (200, False)
    assert sim.relays[1] is False
    status, body = await stack.post(path, {"state": True})
    assert (status, body["state"]) == (200, True)
    assert sim.relays[1] is True
    status, body = await stack.post(path, {"state": "off"})
    assert (status, body["state"]) == (200, False)
    assert sim.relays[1] is False


async def test_relay_errors(stack: Stack) -> None:
    sim = stack.meter.sim.meter
    status, body = await stack.post(f"/meters/{stack.serial}/relays/9", {"state": "on"})
    assert (status, body["error"]) == (404, "unknown_relay")
    status, body = await stack.post("/meters/NOPE/relays/2", {"state": "on"})
    assert (status, body["error"]) == (404, "unknown_meter")
    # Relay 5 follows the meter's alarms: Home Assistant refuses a remote command.
    sim.relay_mode |= 1 << 4
    status, body = await stack.post(f"/meters/{stack.serial}/relays/5", {"state": "on"})
    assert (status, body["error"]) == (409, "relay_refused"), body
    assert sim.relays[4] is False


async def test_stream_delivers_a_di_change(stack: Stack) -> None:
    sim = stack.meter.sim.meter
    client = stack.stream()
    await client.connect(since=None)
    new = not sim.digital_inputs[3]
    sim.set_di(4, new)
    await stack.meter.poll()
    msg = await client.wait_for(lambda m: m.get("key") == "di_4")
    assert (msg["type"], msg["event"], msg["serial"]) == ("point", "di", stack.serial)
    assert msg["value"] is new
    assert msg["previous"] is (not new)
    await client.drop()


async def test_stream_delivers_a_relay_change_made_at_the_meter(stack: Stack) -> None:
    sim = stack.meter.sim.meter
    client = stack.stream()
    await client.connect(since=None)
    sim.set_relay(6, True)
    await stack.meter.poll()
    msg = await client.wait_for(lambda m: m.get("key") == "relay_6")
    assert (msg["event"], msg["value"]) == ("relay", True)
    await client.drop()


async def test_stream_delivers_alarm_occurred_and_recovered(stack: Stack) -> None:
    sim = stack.meter.sim.meter
    client = stack.stream()
    await client.connect(since=None)
    if EVENT_ALARM is None:  # pragma: no cover - the integration has no alarm events yet
        stack.bridge.table.emit_event(
            MeterEvent("acurev_alarm", stack.serial, {"state": "occurred"}, sim.clock)
        )
    else:
        # The meter's alarm 1 trips; Home Assistant reads its alarm log and fires acurev_alarm.
        sim.set_voltage("a", OVER_VOLTAGE)
        sim.advance(6)
        await stack.meter.poll()
    occurred = await client.wait_for(lambda m: m.get("event") == "alarm")
    assert (occurred["type"], occurred["state"], occurred["serial"]) == (
        "event",
        "occurred",
        stack.serial,
    )
    if EVENT_ALARM is not None:
        assert occurred["data"]["parameter"] == "u1"
        assert occurred["data"]["value"] == pytest.approx(OVER_VOLTAGE, rel=1e-5)
        sim.set_voltage("a", 120.0)
        sim.advance(6)
        await stack.meter.poll()
        recovered = await client.wait_for(lambda m: m.get("event") == "alarm")
        assert recovered["state"] == "recovered"
        assert recovered["seq"] > occurred["seq"]
    await client.drop()


async def test_resume_after_a_dropped_websocket_loses_nothing(stack: Stack) -> None:
    sim = stack.meter.sim.meter
    client = stack.stream()
    await client.connect(since=None)
    sim.set_di(4, not sim.digital_inputs[3])
    await stack.meter.poll()
    await client.wait_for(lambda m: m.get("key") == "di_4")
    await client.drop()
    # While nobody listens: DI 4 back, relay 3 switched at the meter, a new load on channel 7.
    sim.set_di(4, not sim.digital_inputs[3])
    sim.set_relay(3, not sim.relays[2])
    sim.set_channel_load(7, 3.21, 0.1)
    await stack.meter.poll()
    since = client.last_seq
    assert since is not None
    await wait_for(
        lambda: (
            {"di_4", "relay_3", "ch07_active_power"}
            <= {m.get("key") for m in stack.api.log.recent if m["seq"] > since}
        )
    )

    first = await client.connect()  # resumes from the last seq it saw
    held = first["seq"] - since  # everything the bridge numbered meanwhile, all still held
    assert first["replay"] == held
    replayed = [await client.next_raw() for _ in range(held)]
    assert [m["seq"] for m in replayed] == list(range(since + 1, first["seq"] + 1))
    assert all(m["type"] != "gap" for m in replayed)
    by_key = {m.get("key"): m for m in replayed}
    assert by_key["di_4"]["value"] is sim.digital_inputs[3]
    assert by_key["relay_3"]["value"] is sim.relays[2]
    assert by_key["ch07_active_power"]["value"] == pytest.approx(
        sim.channel(7).active_power * 1000, rel=1e-5
    )
    # Live messages follow on, numbered on.
    sim.set_di(4, not sim.digital_inputs[3])
    await stack.meter.poll()
    live = await client.wait_for(lambda m: m.get("key") == "di_4")
    assert live["value"] is sim.digital_inputs[3]
    seqs = [m["seq"] for m in client.received]
    assert seqs == sorted(set(seqs))
    await client.drop()


async def test_home_assistant_down_is_503_and_announced(stack: Stack, ha_server: HAServer) -> None:
    client = stack.stream()
    await client.connect(since=None)
    await ha_server.stop()
    await wait_for(lambda: not stack.bridge.table.ha_connected, message="bridge sees HA down")
    status, body = await stack.get(f"/meters/{stack.serial}/values")
    assert (status, body["error"]) == (503, "ha_unavailable")
    status, body = await stack.post(f"/meters/{stack.serial}/relays/2", {"state": "on"})
    assert (status, body["error"]) == (503, "ha_unavailable")
    assert stack.meter.sim.meter.relays[1] is False
    down = await client.wait_for(lambda m: m["type"] == "connection")
    assert down["ha_connected"] is False
    await ha_server.start()
    await stack.bridge.wait_synced(timeout=10)
    up = await client.wait_for(lambda m: m["type"] == "connection", wait=10)
    assert up["ha_connected"] is True
    status, _ = await stack.get(f"/meters/{stack.serial}/values")
    assert status == 200
    await client.drop()

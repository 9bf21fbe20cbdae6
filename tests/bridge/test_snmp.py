"""The SNMP agent against a point table filled here, read with net-snmp's real tools.

These tests cover the agent's own logic (layout, scaling, availability, access control,
persistence, notifications) without Home Assistant; test_snmp_e2e.py checks the values
against the simulator's ground truth through a real Home Assistant and bridge.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bacnet_bridge.config import Config, HomeAssistantConfig, SnmpConfig, SnmpUser, TrapReceiver
from bacnet_bridge.model import Meter, MeterEvent, Point, PointKind, PointTable
from bacnet_bridge.snmp import SnmpAgent, SnmpStartError, oids, start_snmp
from bacnet_bridge.snmp import agent as snmp_agent
from bacnet_bridge.snmp.mapping import CHANNEL_COLUMNS, encode
from tests.bridge import snmp_support as ns
from tests.bridge.snmp_support import AUTH_KEY, COMMUNITY, PRIV_KEY, USER

ENT = ".1.3.6.1.4.1.32473"
METER_A, METER_B = "20200001", "20200002"


@pytest.fixture(autouse=True)
def _tools(socket_enabled: Any) -> None:
    ns.require_tools()


def point(
    serial: str,
    key: str,
    kind: PointKind,
    value: Any,
    unit: str | None = None,
    name: str | None = None,
) -> Point:
    return Point(
        unique_id=f"{serial}_{key}",
        entity_id=f"sensor.acurev_{serial}_{key}",
        serial=serial,
        key=key,
        kind=kind,
        name=name or key,
        unit=unit,
        value=value,
        available=True,
    )


def meter_points(serial: str, channels: int = 3) -> dict[str, Point]:
    m, c = PointKind.MEASUREMENT, PointKind.COUNTER
    pts = [
        point(serial, "frequency", m, 50.01, "Hz"),
        point(serial, "voltage_a", m, 230.12, "V"),
        point(serial, "voltage_b", m, 229.96, "V"),
        point(serial, "voltage_c", m, 231.04, "V"),
        point(serial, "active_power", m, 5432.6, "W"),
        point(serial, "power_factor", m, 0.9876, None),
        point(serial, "import_energy", c, 123456.789, "kWh"),
        point(serial, "export_energy", c, 12.3456, "kWh"),
        point(serial, "current_avg", m, 7.0, "A"),  # not in the MIB: ignored
    ]
    for ch in range(1, channels + 1):
        pts += [
            point(serial, f"ch{ch:02d}_current", m, 1.234 * ch, "A"),
            point(serial, f"ch{ch:02d}_active_power", m, 100.4 * ch - 150, "W"),
            point(serial, f"ch{ch:02d}_power_factor", m, 0.95, None),
            point(serial, f"ch{ch:02d}_import_energy", c, 1000.0004 * ch, "kWh"),
            point(serial, f"ch{ch:02d}_export_energy", c, 0.5 * ch, "kWh"),
        ]
    for n in (1, 2):
        pts.append(point(serial, f"relay_{n}", PointKind.RELAY, n == 1, name=f"Pump {n}"))
        pts.append(point(serial, f"di_{n}", PointKind.BINARY, n == 2, name=f"Door {n}"))
    pts.append(point(serial, "di_2_count", c, 4242, None))
    return {p.unique_id: p for p in pts}


def fill(table: PointTable, serials: tuple[str, ...] = (METER_A,)) -> None:
    meters = {s: Meter(s, f"AcuRev {s}", "AcuRev 2020", "2.05", available=True) for s in serials}
    points: dict[str, Point] = {}
    for s in serials:
        points.update(meter_points(s))
    table.ha_connected = True
    table.replace_points(meters, points)


def make_config(state_dir: Path, **snmp: Any) -> Config:
    base = SnmpConfig(
        address=ns.HOST, port=0, community=COMMUNITY, users=[SnmpUser(USER, AUTH_KEY, PRIV_KEY)]
    )
    return Config(
        HomeAssistantConfig(token="unused"), state_dir=state_dir, snmp=replace(base, **snmp)
    )


type Starter = Callable[..., Awaitable[SnmpAgent]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Starter]:
    """Start agents (state in tmp_path/state unless given); all are closed at teardown."""
    agents: list[SnmpAgent] = []

    async def starter(table: PointTable, state_dir: Path | None = None, **snmp: Any) -> SnmpAgent:
        agent = await start_snmp(make_config(state_dir or tmp_path / "state", **snmp), table)
        agents.append(agent)
        return agent

    yield starter
    for agent in agents:
        await agent.close()


@pytest.fixture
def table() -> PointTable:
    t = PointTable()
    fill(t)
    return t


# --- reads ------------------------------------------------------------------------------------

EXPECTED_METER_1 = {
    # independent arithmetic from the values in meter_points(): the MIB's scales
    f"{ENT}.1.2.1.7.1": 5001,  # 50.01 Hz in 0.01 Hz
    f"{ENT}.1.2.1.8.1": 2301,  # 230.12 V in 0.1 V
    f"{ENT}.1.2.1.9.1": 2300,  # 229.96 V
    f"{ENT}.1.2.1.10.1": 2310,  # 231.04 V
    f"{ENT}.1.2.1.11.1": 5433,  # 5432.6 W
    f"{ENT}.1.2.1.12.1": 988,  # PF 0.9876 x 1000
    f"{ENT}.1.2.1.13.1": 123456789,  # 123456.789 kWh in Wh
    f"{ENT}.1.2.1.14.1": 12346,  # 12.3456 kWh in Wh
    f"{ENT}.1.3.1.3.1.2": 2468,  # ch02 current 2.468 A in mA
    f"{ENT}.1.3.1.4.1.1": -50,  # ch01 power 100.4 - 150 W
    f"{ENT}.1.3.1.4.1.3": 151,  # ch03 power 301.2 - 150 = 151.2 W
    f"{ENT}.1.3.1.5.1.1": 950,  # PF 0.95
    f"{ENT}.1.3.1.6.1.3": 3000001,  # 3000.0012 kWh in Wh
    f"{ENT}.1.3.1.7.1.2": 1000,  # 1.0 kWh in Wh
    f"{ENT}.1.3.1.8.1.1": 1,  # channel available: true(1)
    f"{ENT}.1.4.1.3.1.1": 1,  # relay 1 on(1)
    f"{ENT}.1.4.1.3.1.2": 2,  # relay 2 off(2)
    f"{ENT}.1.5.1.3.1.2": 1,  # DI 2 on(1)
    f"{ENT}.1.5.1.4.1.2": 4242,  # DI 2 pulse count
}


async def test_v2c_walk_has_the_scaled_values(table: PointTable, start: Starter) -> None:
    agent = await start(table)
    res = await ns.tool("snmpwalk", ns.v2c(), agent.address[1], ENT)
    assert res.rc == 0, res.err
    assert "No more variables" not in res.out  # the view goes on after our subtree (S6)
    got = ns.numbers(res.out)
    assert {oid: got.get(oid) for oid in EXPECTED_METER_1} == EXPECTED_METER_1
    rows = ns.parse(res.out)
    assert rows[f"{ENT}.1.2.1.2.1"] == ("STRING", METER_A)
    assert rows[f"{ENT}.1.2.1.4.1"] == ("STRING", "AcuRev 2020")
    assert rows[f"{ENT}.1.2.1.5.1"] == ("STRING", "2.05")
    assert rows[f"{ENT}.1.3.1.2.1.3"] == ("STRING", f"AcuRev {METER_A} CH03")
    assert rows[f"{ENT}.1.4.1.2.1.1"] == ("STRING", "Pump 1")
    assert rows[f"{ENT}.1.5.1.2.1.2"] == ("STRING", "Door 2")
    assert rows[f"{ENT}.1.2.1.13.1"][0] == "Counter64"
    assert rows[f"{ENT}.1.5.1.4.1.2"][0] == "Counter32"
    # DI 1 is not in counter mode: no count instance; no column for points outside the MIB
    assert f"{ENT}.1.5.1.4.1.1" not in rows
    assert len([o for o in rows if o.startswith(f"{ENT}.1.3.1.")]) == 3 * 7


async def test_v3_authpriv_bulkwalk_equals_v2c_walk(table: PointTable, start: Starter) -> None:
    agent = await start(table)
    port = agent.address[1]
    walk = await ns.tool("snmpwalk", ns.v2c(), port, ENT)
    bulk = await ns.tool("snmpbulkwalk", ns.v3(), port, ENT, extra=("-Cr25",))
    assert bulk.rc == 0, bulk.err
    assert "No more variables" not in bulk.out
    assert ns.parse(bulk.out) == ns.parse(walk.out)
    assert len(ns.parse(bulk.out)) == 51  # 4 scalars + 13 meter + 21 channel + 6 relay + 7 DI


async def test_system_group_and_missing_instances(table: PointTable, start: Starter) -> None:
    agent = await start(table)
    res = await ns.tool(
        "snmpget",
        ns.v3(),
        agent.address[1],
        ".1.3.6.1.2.1.1.2.0",
        ".1.3.6.1.2.1.1.1.0",
        ".1.3.6.1.2.1.1.3.0",
        f"{ENT}.1.3.1.4.1.9",  # channel 9 does not exist
        f"{ENT}.1.9.0",  # no such object
        f"{ENT}.1.1.3.0",
    )
    assert res.rc == 0, res.err
    rows = ns.parse(res.out)
    assert rows[".1.3.6.1.2.1.1.2.0"] == ("OID", f"{ENT}.3.1")  # sysObjectID in our subtree
    assert "AcuRev bridge" in rows[".1.3.6.1.2.1.1.1.0"][1]
    assert rows[".1.3.6.1.2.1.1.3.0"][0] == "Timeticks"
    assert "No Such Instance" in res.out.splitlines()[3]
    assert "No Such Object" in res.out.splitlines()[4]
    assert rows[f"{ENT}.1.1.3.0"] == ("Gauge32", "1")


async def test_value_and_availability_follow_the_table(table: PointTable, start: Starter) -> None:
    agent = await start(table)
    port = agent.address[1]
    power, avail = f"{ENT}.1.3.1.4.1.2", f"{ENT}.1.3.1.8.1.2"
    table.update_point(f"{METER_A}_ch02_active_power", 777.7, True)
    got = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, power, avail)).out)
    assert got == {power: 778, avail: 1}
    # unavailable: the last value stays, the row says false(2)
    table.update_point(f"{METER_A}_ch02_active_power", None, False)
    got = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, power, avail)).out)
    assert got == {power: 778, avail: 2}
    # the other rows are untouched; the meter row follows its own points
    table.update_point(f"{METER_A}_voltage_b", None, False)
    meter_avail, ch1_avail = f"{ENT}.1.2.1.6.1", f"{ENT}.1.3.1.8.1.1"
    got = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, meter_avail, ch1_avail)).out)
    assert got == {meter_avail: 2, ch1_avail: 1}
    # back: a new value and true(1)
    table.update_point(f"{METER_A}_ch02_active_power", -12.2, True)
    got = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, power, avail)).out)
    assert got == {power: -12, avail: 1}


async def test_point_without_value_has_no_instance(start: Starter) -> None:
    table = PointTable()
    fill(table)
    table.points[f"{METER_A}_ch01_current"].value = None
    table.replace_points(dict(table.meters), dict(table.points))
    agent = await start(table)
    res = await ns.tool("snmpget", ns.v2c(), agent.address[1], f"{ENT}.1.3.1.3.1.1")
    assert "No Such Instance" in res.out
    table.update_point(f"{METER_A}_ch01_current", 0.5, True)
    res = await ns.tool("snmpget", ns.v2c(), agent.address[1], f"{ENT}.1.3.1.3.1.1")
    assert ns.numbers(res.out) == {f"{ENT}.1.3.1.3.1.1": 500}


async def test_ha_connection_scalar(table: PointTable, start: Starter) -> None:
    agent = await start(table)
    oid = f"{ENT}.1.1.2.0"
    assert ns.numbers((await ns.tool("snmpget", ns.v2c(), agent.address[1], oid)).out) == {oid: 1}
    table.set_all_unavailable()
    got = ns.numbers(
        (
            await ns.tool(
                "snmpget",
                ns.v2c(),
                agent.address[1],
                oid,
                f"{ENT}.1.3.1.8.1.1",
                f"{ENT}.1.3.1.4.1.1",
            )
        ).out
    )
    assert got == {oid: 2, f"{ENT}.1.3.1.8.1.1": 2, f"{ENT}.1.3.1.4.1.1": -50}


# --- access control ---------------------------------------------------------------------------


async def test_wrong_community_gets_no_answer(table: PointTable, start: Starter) -> None:
    agent = await start(table)
    res = await ns.tool(
        "snmpget", ns.v2c("public"), agent.address[1], ".1.3.6.1.2.1.1.2.0", seconds=0.5
    )
    assert res.rc != 0
    assert "Timeout" in res.err


async def test_no_community_configured_means_no_v2c(table: PointTable, start: Starter) -> None:
    agent = await start(table, community=None)
    res = await ns.tool("snmpget", ns.v2c(), agent.address[1], ".1.3.6.1.2.1.1.2.0", seconds=0.5)
    assert "Timeout" in res.err
    ok = await ns.tool("snmpget", ns.v3(), agent.address[1], ".1.3.6.1.2.1.1.2.0")
    assert ok.rc == 0, ok.err


@pytest.mark.parametrize(
    ("security", "message"),
    [
        (ns.v3(auth="wrong-auth-key"), "Authentication failure"),
        (ns.v3(priv="wrong-priv-key"), "Decryption error"),
        (ns.v3(user="intruder"), "Unknown user name"),
        (ns.v3(level="authNoPriv"), "Unsupported security level"),
    ],
)
async def test_v3_wrong_credentials_are_refused(
    table: PointTable, start: Starter, security: list[str], message: str
) -> None:
    agent = await start(table)
    res = await ns.tool("snmpget", security, agent.address[1], ".1.3.6.1.2.1.1.2.0")
    assert res.rc != 0
    assert message in res.err, res.err
    assert res.out == ""


@pytest.mark.parametrize("version", ["v2c", "v3"])
async def test_snmpset_is_refused_not_writable(
    table: PointTable, start: Starter, version: str
) -> None:
    agent = await start(table)
    security = ns.v2c() if version == "v2c" else ns.v3()
    for oid, kind, value in (
        (f"{ENT}.1.4.1.3.1.2", "i", "1"),  # a relay: stays read-only
        (".1.3.6.1.2.1.1.5.0", "s", "pwned"),  # sysName
        (f"{ENT}.1.3.1.4.1.77", "i", "1"),
    ):  # a row that does not exist
        res = await ns.run(
            "snmpset",
            *security,
            "-t",
            "1",
            "-r",
            "0",
            "-On",
            ns.target(agent.address[1]),
            oid,
            kind,
            value,
        )
        assert res.rc != 0
        assert "notWritable" in res.err, res.err
    relay = await ns.tool("snmpget", security, agent.address[1], f"{ENT}.1.4.1.3.1.2")
    assert ns.numbers(relay.out) == {f"{ENT}.1.4.1.3.1.2": 2}


async def test_outside_the_view_is_no_such_object(table: PointTable, start: Starter) -> None:
    agent = await start(table)
    # pysnmp's own tables (USM users, VACM, community secrets) are not served at all
    res = await ns.tool("snmpwalk", ns.v3(), agent.address[1], ".1.3.6.1.6.3.15")
    assert "No Such Object" in res.out or res.out.strip() == "" or "No more" in res.out
    res = await ns.tool("snmpget", ns.v2c(), agent.address[1], ".1.3.6.1.6.3.18.1.1.1.2")
    assert "No Such Object" in res.out


# --- stable identity ----------------------------------------------------------------------------


async def test_engine_id_persists_and_boots_increment(
    table: PointTable, start: Starter, tmp_path: Path
) -> None:
    engine = ".1.3.6.1.6.3.10.2.1"
    seen = []
    for _ in range(3):
        agent = await start(table)
        res = await ns.tool("snmpget", ns.v3(), agent.address[1], f"{engine}.1.0", f"{engine}.2.0")
        assert res.rc == 0, res.err
        rows = ns.parse(res.out)
        seen.append((rows[f"{engine}.1.0"][1], int(rows[f"{engine}.2.0"][1])))
        await agent.close()
    ids = {engine_id for engine_id, _ in seen}
    assert len(ids) == 1
    engine_id = ids.pop().replace(" ", "").lower()
    assert engine_id.startswith("80007ed905")  # RFC 3411: PEN 32473 | 0x80000000, format 5
    assert [boots for _, boots in seen] == [1, 2, 3]
    state = json.loads((tmp_path / "state" / "snmp-engine.json").read_text())
    assert state == {"engine_id": engine_id, "boots": 3}


async def test_v3_client_with_the_engine_id_and_boots(table: PointTable, start: Starter) -> None:
    """A v3 client that knows the engine ID (as an NMS does) works across restarts."""
    agent = await start(table)
    assert agent.engine_state is not None
    engine_id = agent.engine_state.engine_id.hex()
    await agent.close()
    agent = await start(table)
    res = await ns.tool(
        "snmpget", ns.v3(), agent.address[1], ".1.3.6.1.2.1.1.2.0", extra=("-e", f"0x{engine_id}")
    )
    assert res.rc == 0, res.err


async def test_meter_indexes_are_stable(start: Starter, tmp_path: Path) -> None:
    serial = f"{ENT}.1.2.1.2"
    table = PointTable()
    fill(table, (METER_B,))
    agent = await start(table)
    assert ns.parse((await ns.tool("snmpwalk", ns.v2c(), agent.address[1], serial)).out) == {
        f"{serial}.1": ("STRING", METER_B)
    }
    # a meter appears while running: it gets the next index, the first keeps its own
    fill(table, (METER_A, METER_B))
    assert ns.parse((await ns.tool("snmpwalk", ns.v2c(), agent.address[1], serial)).out) == {
        f"{serial}.1": ("STRING", METER_B),
        f"{serial}.2": ("STRING", METER_A),
    }
    await agent.close()
    # restart with only the second meter: its index did not move
    table = PointTable()
    fill(table, (METER_A,))
    agent = await start(table)
    walk = await ns.tool("snmpwalk", ns.v2c(), agent.address[1], f"{ENT}.1.3.1.2")
    assert ns.parse(walk.out)[f"{ENT}.1.3.1.2.2.1"] == ("STRING", f"AcuRev {METER_A} CH01")
    assert json.loads((tmp_path / "state" / "snmp-meter-index.json").read_text()) == {
        METER_B: 1,
        METER_A: 2,
    }


async def test_new_points_appear_without_restart(start: Starter) -> None:
    table = PointTable()
    fill(table)
    points = dict(table.points)
    del points[f"{METER_A}_ch03_export_energy"]
    table.replace_points(dict(table.meters), points)
    agent = await start(table)
    oid = f"{ENT}.1.3.1.7.1.3"
    assert "No Such Instance" in (await ns.tool("snmpget", ns.v2c(), agent.address[1], oid)).out
    fill(table)
    assert ns.numbers((await ns.tool("snmpget", ns.v2c(), agent.address[1], oid)).out) == {
        oid: 1500
    }


# --- notifications ------------------------------------------------------------------------------


def alarm(serial: str = METER_A, state: str = "occurred") -> MeterEvent:
    return MeterEvent(
        "acurev_alarm",
        serial,
        {
            "serial": serial,
            "channel": 7,
            "parameter": "u1",
            "value": 141.25,
            "state": state,
            "time": "2026-11-26T06:00:00+00:00",
            "record": 12,
        },
        datetime.now(UTC),
    )


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((ns.HOST, 0))
        port: int = sock.getsockname()[1]
    return port


async def test_alarm_trap_and_inform_v2c_and_v3(
    table: PointTable, start: Starter, tmp_path: Path
) -> None:
    ports = [free_udp_port() for _ in range(4)]
    receivers = [
        TrapReceiver(ns.HOST, ports[0], "v2c", False, "traps"),
        TrapReceiver(ns.HOST, ports[1], "v2c", True, "traps"),
        TrapReceiver(ns.HOST, ports[2], "v3", False, user=USER),
        TrapReceiver(ns.HOST, ports[3], "v3", True, user=USER),
    ]
    agent = await start(table, trap_receivers=receivers)
    assert agent.engine_state is not None
    daemons = [
        ns.TrapDaemon(p, tmp_path / f"trapd{i}", engine_id=agent.engine_state.engine_id)
        for i, p in enumerate(ports)
    ]
    try:
        await asyncio.gather(*(d.start() for d in daemons))
        table.emit_event(alarm())
        table.emit_event(
            MeterEvent("acurev_soe", METER_A, {"serial": METER_A}, datetime.now(UTC))
        )  # not an alarm: no notification
        table.emit_event(alarm(state="recovered"))
        for d in daemons:
            await wait_until(lambda d=d: len(d.notifications()) >= 2, within=10)
        await asyncio.sleep(0.2)
        for d in daemons:
            got = d.notifications()
            assert len(got) == 2, d.output
            first = got[0]
            assert first[".1.3.6.1.6.3.1.1.4.1.0"] == ("OID", f"{ENT}.0.1")
            assert first[f"{ENT}.1.2.1.2.1"] == ("STRING", METER_A)  # serial, meter index 1
            assert first[f"{ENT}.1.6.1.0"] == ("Gauge32", "7")
            assert first[f"{ENT}.1.6.2.0"] == ("STRING", "u1")
            assert first[f"{ENT}.1.6.3.0"] == ("STRING", "141.25")
            assert first[f"{ENT}.1.6.4.0"] == ("INTEGER", "1")
            assert got[1][f"{ENT}.1.6.4.0"] == ("INTEGER", "2")
            assert list(first)[:2] == [".1.3.6.1.2.1.1.3.0", ".1.3.6.1.6.3.1.1.4.1.0"]
        await wait_until(lambda: agent.informs_confirmed == 4)
        assert agent.alarms_sent == 2
        assert agent.notifications_failed == 0
        sent = await ns.tool("snmpget", ns.v2c(), agent.address[1], f"{ENT}.1.1.4.0")
        assert ns.numbers(sent.out) == {f"{ENT}.1.1.4.0": 2}
    finally:
        for d in daemons:
            await d.stop()


async def test_unanswered_inform_is_reported(
    table: PointTable, start: Starter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snmp_agent, "INFORM_TIMEOUT_CS", 20)
    monkeypatch.setattr(snmp_agent, "INFORM_RETRIES", 0)
    port = free_udp_port()  # nobody listens
    agent = await start(table, trap_receivers=[TrapReceiver(ns.HOST, port, "v2c", True, "traps")])
    table.emit_event(alarm())
    await wait_until(lambda: agent.notifications_failed == 1, within=10)
    assert agent.informs_confirmed == 0


async def wait_until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# --- start and stop ------------------------------------------------------------------------------


async def test_port_in_use_is_a_clear_error(table: PointTable, start: Starter) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind((ns.HOST, 0))
        with pytest.raises(SnmpStartError, match="cannot bind UDP"):
            await start(table, port=busy.getsockname()[1])


async def test_close_releases_the_port(table: PointTable, start: Starter) -> None:
    agent = await start(table)
    port = agent.address[1]
    await agent.close()
    await agent.close()  # idempotent
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((ns.HOST, port))
    table.emit_event(alarm())  # no listener left: nothing happens
    table.update_point(f"{METER_A}_ch01_current", 3.0, True)


# --- scaling (no network) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "value", "expected"),
    [
        ("kWh", 1.2346, 1235),
        ("Wh", 1234.4, 1234),
        ("MWh", 0.001, 1000),
        ("kWh", -5.0, 0),
    ],
)
def test_energy_is_watt_hours_whatever_the_display_unit(
    unit: str, value: float, expected: int
) -> None:
    p = point(METER_A, "ch01_import_energy", PointKind.COUNTER, value, unit)
    assert int(encode(CHANNEL_COLUMNS["import_energy"], p)) == expected


@pytest.mark.parametrize(
    ("unit", "value", "expected"),
    [
        ("W", 1499.5, 1500),
        ("kW", 1.5, 1500),
        ("kW", -0.25, -250),
        ("W", 1e12, 2**31 - 1),
    ],
)
def test_power_is_watts_whatever_the_display_unit(unit: str, value: float, expected: int) -> None:
    p = point(METER_A, "ch01_active_power", PointKind.MEASUREMENT, value, unit)
    assert int(encode(CHANNEL_COLUMNS["active_power"], p)) == expected


def test_power_factor_in_percent_and_clamped() -> None:
    column = CHANNEL_COLUMNS["power_factor"]
    assert (
        int(encode(column, point(METER_A, "ch01_power_factor", PointKind.MEASUREMENT, 98.5, "%")))
        == 985
    )
    assert (
        int(
            encode(
                column, point(METER_A, "ch01_power_factor", PointKind.MEASUREMENT, 1.02, None, 1)
            )
        )
        == 1000
    )
    assert (
        encode(
            column, point(METER_A, "ch01_power_factor", PointKind.MEASUREMENT, "unknown", None, 1)
        )
        is None
    )


def test_oids_match_the_documented_layout() -> None:
    assert oids.text(oids.ROOT) == ENT
    assert oids.text(oids.PRODUCT) == f"{ENT}.3.1"
    assert oids.text(oids.ALARM_NOTIFICATION) == f"{ENT}.0.1"


async def test_empty_getbulk_gets_an_empty_answer(table: PointTable, start: Starter) -> None:
    """max-repetitions 0 and no non-repeaters: an empty answer (pysnmp alone gives none)."""
    agent = await start(table)
    res = await ns.run(
        "snmpbulkget",
        *ns.v2c(),
        "-Cn0",
        "-Cr0",
        "-t",
        "1",
        "-r",
        "0",
        "-On",
        ns.target(agent.address[1]),
        f"{ENT}.1",
    )
    assert "Timeout" not in res.err
    assert res.rc == 0, res.err

"""End to end: simulator -> Home Assistant (acurev) -> bridge -> SNMP agent -> net-snmp tools.

Expected values come from the simulator's ground truth (``meter.sim.meter``), put through
what the meter's registers can carry (float32 readings, energy in 0.1 kWh counts) and the
MIB's scales, never from what the agent answered.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from homeassistant.setup import async_setup_component

from bacnet_bridge.snmp import oids
from pyacurev.layouts import Phase
from pyacurev.registers import ENTRY_SYSTEM, bank_entry_channel
from tests.bridge import snmp_support as ns
from tests.bridge.conftest import (
    BridgeStarter,
    ConfigFactory,
    HAMeter,
    HAServer,
    free_udp_port,
    wait_for,
)
from tests.bridge.snmp_support import AUTH_KEY, COMMUNITY, PRIV_KEY, USER

ENT = oids.text(oids.ROOT)


@pytest.fixture(autouse=True)
async def _tools(ha_server: HAServer) -> None:
    ns.require_tools()
    # The bridge reads the device and entity registries (config/*_registry/list), which the
    # ``config`` component registers; a no-op when the shared harness already set it up.
    assert await async_setup_component(ha_server.hass, "config", {})


def f32(value: float) -> float:
    """What a float32 register carries."""
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


def snmp_section(**extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "community": COMMUNITY,
        "users": [{"name": USER, "auth_key": AUTH_KEY, "priv_key": PRIV_KEY}],
        **extra,
    }


async def start(
    start_bridge: BridgeStarter, make_config: ConfigFactory, **snmp: Any
) -> tuple[Any, int]:
    config = make_config(bacnet={"enabled": False}, snmp=snmp_section(**snmp))
    bridge = await start_bridge(config)
    assert "snmp" in bridge.views, "the bridge did not start its SNMP view"
    return bridge, config.snmp.port


def expected_channels(meter: HAMeter) -> dict[str, int]:
    sim = meter.sim.meter
    out: dict[str, int] = {}
    for n in range(1, 19):
        ch = sim.channel(n)
        entry = bank_entry_channel(n)
        out[f"{ENT}.1.3.1.3.1.{n}"] = round(f32(ch.current) * 1000)  # mA
        out[f"{ENT}.1.3.1.4.1.{n}"] = round(f32(ch.active_power) * 1000)  # kW -> W
        out[f"{ENT}.1.3.1.5.1.{n}"] = round(f32(ch.power_factor) * 1000)  # PF x1000
        out[f"{ENT}.1.3.1.6.1.{n}"] = sim.energy_counts("import_active", entry) * 100  # Wh
        out[f"{ENT}.1.3.1.7.1.{n}"] = sim.energy_counts("export_active", entry) * 100
        out[f"{ENT}.1.3.1.8.1.{n}"] = oids.TRUE
    return out


async def test_walks_equal_the_simulator(
    meter: HAMeter, start_bridge: BridgeStarter, make_config: ConfigFactory
) -> None:
    bridge, port = await start(start_bridge, make_config)
    sim = meter.sim.meter
    walk = await ns.tool("snmpwalk", ns.v2c(), port, ENT)
    bulk = await ns.tool("snmpbulkwalk", ns.v3(), port, ENT, extra=("-Cr30",))
    assert walk.rc == 0, walk.err
    assert bulk.rc == 0, bulk.err
    assert ns.parse(bulk.out) == ns.parse(walk.out)
    got = ns.numbers(bulk.out)
    expected = expected_channels(meter)
    assert {oid: got.get(oid) for oid in expected} == expected
    system = sim.system()
    meter_row = {
        f"{ENT}.1.2.1.6.1": oids.TRUE,
        f"{ENT}.1.2.1.7.1": round(f32(system.frequency) * 100),
        f"{ENT}.1.2.1.8.1": round(f32(system.voltage[Phase.A]) * 10),
        f"{ENT}.1.2.1.10.1": round(f32(system.voltage[Phase.C]) * 10),
        f"{ENT}.1.2.1.11.1": round(f32(system.totals.active) * 1000),
        f"{ENT}.1.2.1.13.1": sim.energy_counts("import_active", ENTRY_SYSTEM) * 100,
    }
    assert {oid: got.get(oid) for oid in meter_row} == meter_row
    for n in range(1, 9):
        assert got[f"{ENT}.1.4.1.3.1.{n}"] == (oids.ON if sim.relays[n - 1] else oids.OFF)
        assert got[f"{ENT}.1.5.1.3.1.{n}"] == (oids.ON if sim.digital_inputs[n - 1] else oids.OFF)
    rows = ns.parse(bulk.out)
    assert rows[f"{ENT}.1.2.1.2.1"] == ("STRING", meter.serial)
    assert rows[f"{ENT}.1.3.1.2.1.18"][1].endswith("CH18")
    names = {rows[f"{ENT}.1.4.1.2.1.{n}"][1] for n in range(1, 9)}
    assert len(names) == 8  # readable, distinct relay names from Home Assistant
    assert ns.numbers(walk.out)[f"{ENT}.1.1.2.0"] == oids.TRUE  # connected to HA
    assert bridge.table.ha_connected


async def test_simulator_change_reaches_snmp(
    meter: HAMeter, start_bridge: BridgeStarter, make_config: ConfigFactory
) -> None:
    _bridge, port = await start(start_bridge, make_config)
    sim = meter.sim.meter
    power, relay = f"{ENT}.1.3.1.4.1.5", f"{ENT}.1.4.1.3.1.3"
    sim.set_channel_load(5, 2.345, 0.1)
    sim.set_relay(3, not sim.relays[2])
    await meter.poll()
    want = {
        power: round(f32(sim.channel(5).active_power) * 1000),
        relay: oids.ON if sim.relays[2] else oids.OFF,
    }

    async def seen() -> bool:
        res = await ns.tool("snmpget", ns.v3(), port, power, relay)
        return ns.numbers(res.out) == want

    await wait_for(seen, timeout=10, message=f"SNMP shows {want}")


async def test_meter_offline_keeps_values_and_clears_available(
    meter: HAMeter, start_bridge: BridgeStarter, make_config: ConfigFactory
) -> None:
    _bridge, port = await start(start_bridge, make_config)
    power, avail = f"{ENT}.1.3.1.4.1.1", f"{ENT}.1.3.1.8.1.1"
    before = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, power, avail)).out)
    assert before[avail] == oids.TRUE
    await meter.sim.stop()  # the meter drops off the network
    await meter.poll()

    async def offline() -> dict[str, int] | None:
        got = ns.numbers(
            (await ns.tool("snmpget", ns.v2c(), port, power, avail, f"{ENT}.1.2.1.6.1")).out
        )
        return got if got.get(avail) == oids.FALSE else None

    got = await wait_for(offline, timeout=10, message="channel row unavailable")
    assert got[power] == before[power]  # the last value stays
    assert got[f"{ENT}.1.2.1.6.1"] == oids.FALSE


async def test_refusals(
    meter: HAMeter, start_bridge: BridgeStarter, make_config: ConfigFactory
) -> None:
    _bridge, port = await start(start_bridge, make_config)
    wrong_community = await ns.tool(
        "snmpget", ns.v2c("public"), port, ".1.3.6.1.2.1.1.2.0", seconds=0.5
    )
    assert "Timeout" in wrong_community.err
    wrong_key = await ns.tool("snmpget", ns.v3(auth="not-the-key"), port, ".1.3.6.1.2.1.1.2.0")
    assert "Authentication failure" in wrong_key.err
    relay = f"{ENT}.1.4.1.3.1.1"
    relays_before = meter.sim.meter.relays
    for security in (ns.v2c(), ns.v3()):
        res = await ns.run(
            "snmpset", *security, "-t", "1", "-r", "0", ns.target(port), relay, "i", "1"
        )
        assert "notWritable" in res.err, res.err
    await meter.poll()
    assert meter.sim.meter.relays == relays_before  # nothing switched


async def test_alarm_in_the_meter_becomes_a_trap(
    meter: HAMeter, start_bridge: BridgeStarter, make_config: ConfigFactory, tmp_path: Any
) -> None:
    trap_port, inform_port = free_udp_port(), free_udp_port()
    bridge, _port = await start(
        start_bridge,
        make_config,
        trap_receivers=[
            {"host": ns.HOST, "port": trap_port, "version": "v2c", "community": "traps"},
            {"host": ns.HOST, "port": inform_port, "version": "v3", "user": USER, "inform": True},
        ],
    )
    agent = bridge.views["snmp"]
    daemons = [
        ns.TrapDaemon(trap_port, tmp_path / "trapd-v2c"),
        ns.TrapDaemon(inform_port, tmp_path / "trapd-v3"),
    ]
    try:
        for d in daemons:
            await d.start()
        sim = meter.sim.meter
        sim.set_voltage("a", 140.0)  # alarm 1 of the simulator: U1 > 132 V for 5 s
        sim.advance(6)
        await meter.poll()
        for d in daemons:
            await wait_for(
                lambda d=d: d.notifications(), timeout=10, message="snmptrapd received the alarm"
            )
        record = sim.alarm_records()[-1]
        for d in daemons:
            got = d.notifications()[0]
            assert got[".1.3.6.1.6.3.1.1.4.1.0"] == ("OID", f"{ENT}.0.1")
            assert got[f"{ENT}.1.2.1.2.1"] == ("STRING", meter.serial)
            assert got[f"{ENT}.1.6.1.0"] == ("Gauge32", str(record.channel))
            assert got[f"{ENT}.1.6.2.0"] == ("STRING", "u1")
            assert float(got[f"{ENT}.1.6.3.0"][1]) == pytest.approx(140.0, rel=1e-5)
            assert got[f"{ENT}.1.6.4.0"] == ("INTEGER", "1")  # occurred(1)
        await wait_for(lambda: agent.informs_confirmed == 1, timeout=10)
    finally:
        for d in daemons:
            await d.stop()

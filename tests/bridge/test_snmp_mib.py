"""mibs/ACUREV-BRIDGE-MIB.txt: smilint-clean, and the agent serves exactly what it declares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bacnet_bridge.config import Config, HomeAssistantConfig, SnmpConfig
from bacnet_bridge.model import PointTable
from bacnet_bridge.snmp import oids, start_snmp
from tests.bridge import snmp_support as ns
from tests.bridge.test_snmp import fill

MIB = ns.REPO / "mibs" / "ACUREV-BRIDGE-MIB.txt"


@pytest.fixture(autouse=True)
def _tools(socket_enabled: Any) -> None:
    ns.require_tools()


async def smilint(path: Path) -> ns.Result:
    return await ns.run(
        "env", f"SMIPATH={ns.MIB_DIRS}:{path.parent}", "smilint", "-l", "6", "-s", str(path)
    )


async def test_mib_passes_smilint_level_6() -> None:
    res = await smilint(MIB)
    assert res.rc == 0, res.err
    assert res.out == "", res.out
    assert res.err == "", res.err


async def test_smilint_would_catch_a_mistake(tmp_path: Path) -> None:
    """The check above is not vacuous: a column missing from every group is reported."""
    broken = tmp_path / "ACUREV-BRIDGE-MIB.txt"
    broken.write_text(MIB.read_text().replace("        acurevChannelPowerFactor,\n", "", 1))
    res = await smilint(broken)
    assert "acurevChannelPowerFactor" in res.out + res.err


NAMES = {
    oids.ROOT: "acurevBridgeMIB",
    oids.PRODUCT: "acurevBridge",
    oids.BRIDGE_VERSION[:-1]: "acurevBridgeVersion",
    oids.BRIDGE_HA_CONNECTED[:-1]: "acurevBridgeHaConnected",
    oids.BRIDGE_METER_COUNT[:-1]: "acurevBridgeMeterCount",
    oids.BRIDGE_ALARMS_SENT[:-1]: "acurevBridgeAlarmsSent",
    (*oids.METER_ENTRY, oids.MeterCol.SERIAL): "acurevMeterSerial",
    (*oids.METER_ENTRY, oids.MeterCol.AVAILABLE): "acurevMeterAvailable",
    (*oids.METER_ENTRY, oids.MeterCol.VOLTAGE_C): "acurevMeterVoltageC",
    (*oids.METER_ENTRY, oids.MeterCol.EXPORT_ENERGY): "acurevMeterExportEnergy",
    (*oids.CHANNEL_ENTRY, oids.ChannelCol.NAME): "acurevChannelName",
    (*oids.CHANNEL_ENTRY, oids.ChannelCol.POWER): "acurevChannelPower",
    (*oids.CHANNEL_ENTRY, oids.ChannelCol.IMPORT_ENERGY): "acurevChannelImportEnergy",
    (*oids.CHANNEL_ENTRY, oids.ChannelCol.AVAILABLE): "acurevChannelAvailable",
    (*oids.RELAY_ENTRY, oids.RelayCol.STATE): "acurevRelayState",
    (*oids.DI_ENTRY, oids.DiCol.COUNT): "acurevDigitalInputCount",
    oids.ALARM_NOTIFICATION: "acurevAlarmNotification",
    oids.ALARM_CHANNEL: "acurevAlarmChannel",
    oids.ALARM_PARAMETER: "acurevAlarmParameter",
    oids.ALARM_VALUE: "acurevAlarmValue",
    oids.ALARM_STATE: "acurevAlarmState",
}


async def test_the_code_uses_the_mibs_oids() -> None:
    res = await ns.run(
        "snmptranslate",
        "-M",
        ns.MIB_DIRS,
        "-m",
        "ACUREV-BRIDGE-MIB",
        *(oids.text(oid) for oid in NAMES),
    )
    assert res.rc == 0, res.err
    assert res.out.split() == [f"ACUREV-BRIDGE-MIB::{name}" for name in NAMES.values()]


async def test_every_served_instance_matches_its_mib_type(tmp_path: Path) -> None:
    """Walked with the MIB loaded, net-snmp names every object and finds no type mismatch."""
    table = PointTable()
    fill(table)
    config = Config(
        HomeAssistantConfig(token="unused"),
        state_dir=tmp_path,
        snmp=SnmpConfig(address=ns.HOST, port=0, community=ns.COMMUNITY),
    )
    agent = await start_snmp(config, table)
    try:
        res = await ns.run(
            "snmpwalk",
            *ns.v2c(),
            "-M",
            ns.MIB_DIRS,
            "-m",
            "ACUREV-BRIDGE-MIB",
            "-t",
            "1",
            "-r",
            "0",
            ns.target(agent.address[1]),
            oids.text(oids.ROOT),
        )
    finally:
        await agent.close()
    assert res.rc == 0, res.err
    lines = res.out.splitlines()
    assert len(lines) == 51
    assert all(line.startswith("ACUREV-BRIDGE-MIB::acurev") for line in lines), res.out
    assert "Wrong Type" not in res.out
    text = "\n".join(lines)
    assert "acurevChannelPower.1.1 = INTEGER: -50 W" in text
    assert "acurevChannelImportEnergy.1.2 = Counter64: 2000001 Wh" in text
    assert "acurevRelayState.1.1 = INTEGER: on(1)" in text
    assert "acurevChannelAvailable.1.3 = INTEGER: true(1)" in text
    assert "acurevChannelName.1.3 = STRING: AcuRev 20200001 CH03" in text  # DISPLAY-HINT 255a

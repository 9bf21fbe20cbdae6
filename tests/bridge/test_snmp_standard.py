"""The standard MIBs beside ours: ENTITY-MIB (RFC 6933), ENTITY-SENSOR-MIB (RFC 3433) and
ENERGY-OBJECT-MIB (RFC 7460) eoPowerTable.

Walked with net-snmp and no MIB files at all (``-m ""``, numeric OIDs): what a generic NMS
sees with only the standard MIBs it ships. The expected numbers are the RFCs' (written out
here, not taken from the bridge) and the values are computed independently from the test's
point values.
"""

from __future__ import annotations

import pytest

from bacnet_bridge.model import Meter, PointTable

from . import snmp_support as ns
from .test_snmp import METER_A, Starter, meter_points, start  # noqa: F401  (fixture)

PHYS = "1.3.6.1.2.1.47.1.1.1.1"  # entPhysicalEntry
SENS = "1.3.6.1.2.1.99.1.1.1"  # entPhySensorEntry
EO_POWER = "1.3.6.1.2.1.229.1.2.1"  # eoPowerEntry (ENERGY-OBJECT-MIB, RFC 7460)
ACTUAL, CALIBER_UNAVAILABLE = 3, 1  # eoPowerMeasurementCaliber
CHASSIS, SENSOR, MODULE = 3, 8, 9  # PhysicalClass
OTHER, VOLTS_AC, AMPERES, WATTS, HERTZ = 1, 3, 5, 6, 7  # EntitySensorDataType
UNITS = 9  # EntitySensorDataScale
OK, UNAVAILABLE = 1, 2  # EntitySensorStatus
CHANNELS = 18


@pytest.fixture
def table18() -> PointTable:
    table = PointTable()
    table.ha_connected = True
    table.replace_points(
        {METER_A: Meter(METER_A, "Panel A", "AcuRev 2020", "2.05", available=True)},
        meter_points(METER_A, channels=CHANNELS),
    )
    return table


def _rows(walk: dict[str, tuple[str, str]], entry: str) -> dict[int, dict[int, str]]:
    """{index: {column: value}} of one table in a numeric walk."""
    rows: dict[int, dict[int, str]] = {}
    for oid, (_kind, value) in walk.items():
        if oid.startswith(f".{entry}."):
            column, index = oid[len(entry) + 2 :].split(".")
            rows.setdefault(int(index), {})[int(column)] = value
    return rows


def _number(text: str) -> int:
    return int(text.rsplit("(", maxsplit=1)[-1].rstrip(")")) if "(" in text else int(text)


@pytest.mark.parametrize("security", ["v2c", "v3"])
async def test_walk_with_no_mib_shows_every_channel_with_units(
    table18: PointTable,
    start: Starter,  # noqa: F811
    security: str,
) -> None:
    ns.require_tools()
    agent = await start(table18)
    port = agent.address[1]
    args = ns.v2c() if security == "v2c" else ns.v3()
    phys = await ns.tool("snmpbulkwalk", args, port, "1.3.6.1.2.1.47.1.1.1", extra=("-Cr50",))
    sens = await ns.tool("snmpbulkwalk", args, port, "1.3.6.1.2.1.99.1.1.1", extra=("-Cr50",))
    power = await ns.tool("snmpbulkwalk", args, port, "1.3.6.1.2.1.229.1.2", extra=("-Cr50",))
    assert phys.rc == 0, phys
    assert sens.rc == 0, sens
    assert power.rc == 0, power
    entities = _rows(ns.parse(phys.out), PHYS)
    sensors = _rows(ns.parse(sens.out), SENS)
    energy_objects = _rows(ns.parse(power.out), EO_POWER)

    [chassis] = [i for i, r in entities.items() if _number(r[5]) == CHASSIS]
    assert entities[chassis][11] == METER_A  # entPhysicalSerialNum
    assert entities[chassis][12] == "Accuenergy"  # entPhysicalMfgName
    assert entities[chassis][13] == "AcuRev 2020"  # entPhysicalModelName
    assert entities[chassis][9] == "2.05"  # entPhysicalFirmwareRev
    modules = {
        _number(r[6]): i
        for i, r in entities.items()
        if _number(r[5]) == MODULE and _number(r[4]) == chassis
    }
    assert sorted(modules) == list(range(1, CHANNELS + 1))  # ParentRelPos = channel

    for ch, module in modules.items():
        inside = [i for i in entities if _number(entities[i][4]) == module]
        assert len(inside) == 4, ch
        for i in inside:
            assert _number(entities[i][5]) == SENSOR
            assert entities[i][7].startswith(f"{METER_A} CH{ch:02d} ")
        by_type = {_number(sensors[i][1]): i for i in inside if _number(sensors[i][1]) != OTHER}
        assert set(by_type) == {AMPERES, WATTS}, ch
        amps, watts = sensors[by_type[AMPERES]], sensors[by_type[WATTS]]
        for row in (amps, watts):
            assert _number(row[2]) == UNITS
            assert _number(row[5]) == OK
        # Values from meter_points(): 1.234 x ch A at precision 3, 100.4 x ch - 150 W at 0.
        assert (_number(amps[3]), _number(amps[4]), amps[6]) == (3, round(1234 * ch), "A")
        assert (_number(watts[3]), _number(watts[4]), watts[6]) == (0, round(100.4 * ch - 150), "W")
        # The channel is an Energy Object: eoPower in watts (multiplier units), caliber actual.
        eo = energy_objects[module]
        assert (_number(eo[1]), _number(eo[3]), _number(eo[5])) == (
            round(100.4 * ch - 150),
            0,
            ACTUAL,
        )
        energy = [sensors[i] for i in inside if _number(sensors[i][1]) == OTHER]
        units = sorted(r[6] for r in energy)
        assert units == ["Wh", "Wh"]
        values = sorted(_number(r[4]) for r in energy)
        assert values == sorted([round(1000.0004 * ch * 1000), round(0.5 * ch * 1000)])

    meter_sensors = {
        _number(sensors[i][1]): sensors[i]
        for i, r in entities.items()
        if _number(r[4]) == chassis and _number(r[5]) == SENSOR
    }
    # 230.12 V (precision 1), 50.01 Hz (precision 2), 5432.6 W (precision 0).
    assert _number(meter_sensors[HERTZ][4]) == 5001
    assert _number(meter_sensors[WATTS][4]) == 5433
    volts = sorted(
        _number(sensors[i][4])
        for i, r in entities.items()
        if _number(r[4]) == chassis and i in sensors and _number(sensors[i][1]) == VOLTS_AC
    )
    assert volts == [2300, 2301, 2310]


async def test_sensor_follows_value_and_availability(
    table18: PointTable,
    start: Starter,  # noqa: F811
) -> None:
    ns.require_tools()
    agent = await start(table18)
    port = agent.address[1]
    assert agent.view is not None
    uid = f"{METER_A}_ch07_active_power"
    index = agent.view.entity.cells[uid].index
    value_oid, status_oid = f"{SENS}.4.{index}", f"{SENS}.5.{index}"
    table18.update_point(uid, 2500.4, True)
    got = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, value_oid, status_oid)).out)
    assert (got[f".{value_oid}"], got[f".{status_oid}"]) == (2500, OK)
    table18.update_point(uid, None, False)
    got = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, value_oid, status_oid)).out)
    assert (got[f".{value_oid}"], got[f".{status_oid}"]) == (2500, UNAVAILABLE)  # kept, stale
    module = index - index % 100
    eo_power, caliber = f"{EO_POWER}.1.{module}", f"{EO_POWER}.5.{module}"
    got = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, eo_power, caliber)).out)
    assert (got[f".{eo_power}"], got[f".{caliber}"]) == (0, CALIBER_UNAVAILABLE)  # RFC 7460
    table18.update_point(uid, 2600.0, True)
    got = ns.numbers((await ns.tool("snmpget", ns.v2c(), port, eo_power, caliber)).out)
    assert (got[f".{eo_power}"], got[f".{caliber}"]) == (2600, ACTUAL)

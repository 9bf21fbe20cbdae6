"""The standard MIBs a generic NMS already knows: ENTITY-MIB, ENTITY-SENSOR-MIB, ENERGY-OBJECT-MIB.

Beside ACUREV-BRIDGE-MIB (which needs our MIB file and a registered enterprise number), every
meter is also described with two IETF MIBs that NMS products ship and have templates for:

* ENTITY-MIB (RFC 6933) ``entPhysicalTable`` (1.3.6.1.2.1.47.1.1.1): one ``chassis`` per
  meter (serial, model, firmware, manufacturer), one ``module`` per CT channel inside it, and
  one ``sensor`` per measured quantity inside the meter or the channel.
* ENTITY-SENSOR-MIB (RFC 3433) ``entPhySensorTable`` (1.3.6.1.2.1.99.1.1.1), indexed like the
  sensors' ``entPhysicalIndex``: type (voltsAC, amperes, watts, hertz, other), scale
  (units), precision (decimal places), the value as an integer, oper status (ok, or
  unavailable while Home Assistant cannot read the meter), units text, time stamp.

* ENERGY-OBJECT-MIB (RFC 7460): every meter and every channel with an active-power point is an
  Energy Object: ``eoMeterCapability`` powermetering, and in ``eoPowerTable`` (1.3.6.1.2.1.229.1.2)
  ``eoPower`` in watts (``eoPowerUnitMultiplier`` units), ``eoPowerAccuracy`` 0 (unknown) and
  ``eoPowerMeasurementCaliber`` actual, or unavailable with ``eoPower`` 0 while Home Assistant
  cannot read the meter. The power-state columns and the energy tables (which need intervals
  an NMS configures) are not served: energy per channel is an ENTITY-SENSOR sensor.

Energy has no ENTITY-SENSOR data type: it is a sensor of type ``other`` with units display
``Wh`` (precision 0, so the value is the counter in Wh; at most 10^9 Wh = 1 GWh, the
largest value the MIB allows, after which the sensor shows ``nonoperational``).

``entPhysicalIndex`` is stable across restarts and does not depend on which points exist:
meter index m (persisted by :class:`~bacnet_bridge.snmp.state.MeterIndexMap`) times 10000,
plus 100 x channel for a channel's module, plus the quantity's number (see ``SENSORS``).
The keys are read through pyacurev's grammar (``Point.role``/``number``/``field_name``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from pysnmp.proto.api import v2c

from pyacurev.keys import Role

from ..model import Meter, Point
from .instrum import Dynamic, OidStore, Value
from .oids import Oid

MIB_2: Oid = (1, 3, 6, 1, 2, 1)
ENT_PHYSICAL_ENTRY: Oid = (*MIB_2, 47, 1, 1, 1, 1)
ENT_LAST_CHANGE_TIME: Oid = (*MIB_2, 47, 1, 4, 1, 0)
ENT_SENSOR_ENTRY: Oid = (*MIB_2, 99, 1, 1, 1)
# ENERGY-OBJECT-MIB (RFC 7460): eoMeterCapabilitiesEntry and eoPowerEntry, by entPhysicalIndex.
EO_METER_CAPABILITY: Oid = (*MIB_2, 229, 1, 1, 1, 1)
EO_POWER_ENTRY: Oid = (*MIB_2, 229, 1, 2, 1)
SUBTREES: tuple[Oid, ...] = ((*MIB_2, 47), (*MIB_2, 99), (*MIB_2, 229))


class PhysCol:
    """entPhysicalEntry columns (RFC 6933)."""

    DESCR = 2
    VENDOR_TYPE = 3
    CONTAINED_IN = 4
    CLASS = 5
    PARENT_REL_POS = 6
    NAME = 7
    HARDWARE_REV = 8
    FIRMWARE_REV = 9
    SOFTWARE_REV = 10
    SERIAL_NUM = 11
    MFG_NAME = 12
    MODEL_NAME = 13
    ALIAS = 14
    ASSET_ID = 15
    IS_FRU = 16


class EoPowerCol:
    """eoPowerEntry columns served (RFC 7460); the power-state columns are not."""

    POWER = 1
    UNIT_MULTIPLIER = 3
    ACCURACY = 4
    MEASUREMENT_CALIBER = 5


# eoMeterCapability BITS: powermetering(1), i.e. the second bit of the first octet.
CAPABILITY_POWER_METERING = bytes([0x40])
UNIT_MULTIPLIER_UNITS = 0  # UnitMultiplier units(0): eoPower in watts
ACCURACY_UNKNOWN = 0
CALIBER_UNAVAILABLE, CALIBER_ACTUAL = 1, 3


class SensorCol:
    """entPhySensorEntry columns (RFC 3433)."""

    TYPE = 1
    SCALE = 2
    PRECISION = 3
    VALUE = 4
    OPER_STATUS = 5
    UNITS_DISPLAY = 6
    VALUE_TIME_STAMP = 7
    VALUE_UPDATE_RATE = 8


# PhysicalClass (ENTITY-MIB), EntitySensorDataType / DataScale / Status (ENTITY-SENSOR-MIB).
CLASS_CHASSIS, CLASS_SENSOR, CLASS_MODULE = 3, 8, 9
TYPE_OTHER, TYPE_VOLTS_AC, TYPE_AMPERES, TYPE_WATTS, TYPE_HERTZ = 1, 3, 5, 6, 7
SCALE_UNITS = 9
STATUS_OK, STATUS_UNAVAILABLE, STATUS_NONOPERATIONAL = 1, 2, 3
TRUE, FALSE = 1, 2
SENSOR_VALUE_LIMIT = 10**9  # EntitySensorValue is -1000000000..1000000000
UPDATE_RATE_MS = 0  # "unknown": the value changes when Home Assistant polls (push)
ZERO_DOT_ZERO = (0, 0)
MANUFACTURER = "Accuenergy"


@dataclass(frozen=True, slots=True)
class Sensor:
    """What one quantity is to ENTITY-SENSOR-MIB."""

    number: int  # added to the meter's or channel's entPhysicalIndex
    label: str
    data_type: int
    base: str  # the unit the value is brought to before scaling
    precision: int
    units: str


# Per meter (system fields) and per channel (channel fields), keyed by the point's field.
METER_SENSORS: dict[tuple[str, str | None], Sensor] = {
    ("voltage", "a"): Sensor(1, "voltage L1", TYPE_VOLTS_AC, "V", 1, "V"),
    ("voltage", "b"): Sensor(2, "voltage L2", TYPE_VOLTS_AC, "V", 1, "V"),
    ("voltage", "c"): Sensor(3, "voltage L3", TYPE_VOLTS_AC, "V", 1, "V"),
    ("frequency", None): Sensor(4, "frequency", TYPE_HERTZ, "Hz", 2, "Hz"),
    ("active_power", None): Sensor(5, "active power", TYPE_WATTS, "W", 0, "W"),
    ("import_energy", None): Sensor(6, "import energy", TYPE_OTHER, "Wh", 0, "Wh"),
    ("export_energy", None): Sensor(7, "export energy", TYPE_OTHER, "Wh", 0, "Wh"),
}
CHANNEL_SENSORS: dict[str, Sensor] = {
    "current": Sensor(1, "current", TYPE_AMPERES, "A", 3, "A"),
    "active_power": Sensor(2, "active power", TYPE_WATTS, "W", 0, "W"),
    "import_energy": Sensor(3, "import energy", TYPE_OTHER, "Wh", 0, "Wh"),
    "export_energy": Sensor(4, "export energy", TYPE_OTHER, "Wh", 0, "Wh"),
}

# Unit of measurement -> (base unit, factor to it).
UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "W": ("W", 1.0),
    "kW": ("W", 1e3),
    "MW": ("W", 1e6),
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1e3),
    "MWh": ("Wh", 1e6),
    "V": ("V", 1.0),
    "mV": ("V", 1e-3),
    "kV": ("V", 1e3),
    "A": ("A", 1.0),
    "mA": ("A", 1e-3),
    "Hz": ("Hz", 1.0),
    "kHz": ("Hz", 1e3),
}


def meter_index(m_idx: int) -> int:
    """entPhysicalIndex of a meter's chassis."""
    return m_idx * 10000


def channel_index(m_idx: int, channel: int) -> int:
    """entPhysicalIndex of a channel's module."""
    return meter_index(m_idx) + 100 * channel


def sensor_for(point: Point) -> tuple[Sensor, int | None] | None:
    """The sensor a point is, with its channel (None: the meter's own), or None."""
    field = point.field_name
    if field is None:
        return None
    if point.role is Role.CHANNEL and point.channel is not None:
        sensor = CHANNEL_SENSORS.get(field)
        return (sensor, point.channel) if sensor else None
    if point.role in (Role.SYSTEM, Role.PHASE):
        sensor = METER_SENSORS.get((field, point.phase))
        return (sensor, None) if sensor else None
    return None


def sensor_value(sensor: Sensor, point: Point) -> int | None:
    """The point's value as EntitySensorValue (None: no value, or outside the MIB's range)."""
    value = point.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    if point.unit:
        base, factor = UNIT_FACTORS.get(point.unit, (sensor.base, 1.0))
        number *= factor if base == sensor.base else 1.0
    raw = round(number * 10**sensor.precision)
    return raw if -SENSOR_VALUE_LIMIT <= raw <= SENSOR_VALUE_LIMIT else None


@dataclass(slots=True)
class SensorCell:
    """Where one point is shown in entPhySensorTable."""

    index: int
    sensor: Sensor
    changed: float = 0.0  # sysUpTime (centiseconds) of the last value change


def _text(value: str) -> Value:
    return v2c.OctetString(value.encode("utf-8")[:255])


class EntityView:
    """ENTITY-MIB and ENTITY-SENSOR-MIB instances of the meters in a point table."""

    def __init__(self, uptime: Callable[[], int]) -> None:
        """``uptime``: sysUpTime in centiseconds (for time stamps)."""
        self.uptime = uptime
        self.cells: dict[str, SensorCell] = {}
        self.energy_objects: dict[str, int] = {}  # active-power point -> its eoPower row
        self.last_change = 0

    def objects(self) -> set[Oid]:
        """The column and scalar OIDs (for noSuchInstance vs noSuchObject)."""
        cols = {(*ENT_PHYSICAL_ENTRY, c) for c in range(2, 17)}
        cols |= {(*ENT_SENSOR_ENTRY, c) for c in range(1, 9)}
        cols |= {(*EO_POWER_ENTRY, c) for c in (1, 3, 4, 5)}
        cols.add(EO_METER_CAPABILITY)
        cols.add(ENT_LAST_CHANGE_TIME[:-1])
        return cols

    def layout(
        self, values: dict[Oid, Value | Dynamic], meters: dict[int, tuple[Meter, list[Point]]]
    ) -> None:
        """Add every instance for ``meters`` (meter index -> meter and its points)."""
        self.cells = {}
        self.energy_objects = {}
        self.last_change = self.uptime()
        values[ENT_LAST_CHANGE_TIME] = v2c.TimeTicks(self.last_change)
        for m_idx, (meter, points) in sorted(meters.items()):
            chassis = meter_index(m_idx)
            name = meter.name or f"AcuRev {meter.serial}"
            self._physical(
                values,
                chassis,
                descr=f"{name}: {MANUFACTURER} {meter.model or 'AcuRev'} sub-meter",
                contained_in=0,
                cls=CLASS_CHASSIS,
                position=-1,
                name=f"{meter.serial}",
                serial=meter.serial,
                firmware=meter.firmware,
                model=meter.model,
            )
            channels: set[int] = set()
            for point in sorted(points, key=lambda p: p.key):
                found = sensor_for(point)
                if found is None:
                    continue
                sensor, channel = found
                parent = chassis
                where = "meter"
                if channel is not None:
                    parent = channel_index(m_idx, channel)
                    where = f"CH{channel:02d}"
                    if channel not in channels:
                        channels.add(channel)
                        self._physical(
                            values,
                            parent,
                            descr=f"{name} CT channel {channel}",
                            contained_in=chassis,
                            cls=CLASS_MODULE,
                            position=channel,
                            name=f"{meter.serial} CH{channel:02d}",
                        )
                index = parent + sensor.number
                self._physical(
                    values,
                    index,
                    descr=f"{name} {where} {sensor.label} ({sensor.units})",
                    contained_in=parent,
                    cls=CLASS_SENSOR,
                    position=sensor.number,
                    name=f"{meter.serial} {where} {sensor.label}",
                )
                cell = SensorCell(index, sensor, self.last_change)
                self.cells[point.unique_id] = cell

                def col(c: int, index: int = index) -> Oid:
                    return (*ENT_SENSOR_ENTRY, c, index)

                values[col(SensorCol.TYPE)] = v2c.Integer32(sensor.data_type)
                values[col(SensorCol.SCALE)] = v2c.Integer32(SCALE_UNITS)
                values[col(SensorCol.PRECISION)] = v2c.Integer32(sensor.precision)
                values[col(SensorCol.UNITS_DISPLAY)] = _text(sensor.units)
                values[col(SensorCol.VALUE_UPDATE_RATE)] = v2c.Unsigned32(UPDATE_RATE_MS)
                for oid, value in self._reading(cell, point):
                    values[oid] = value
                if sensor.data_type == TYPE_WATTS:
                    # The meter or channel is an Energy Object (RFC 7460) whose power this is.
                    self.energy_objects[point.unique_id] = parent
                    values[(*EO_METER_CAPABILITY, parent)] = v2c.OctetString(
                        CAPABILITY_POWER_METERING
                    )
                    values[(*EO_POWER_ENTRY, EoPowerCol.UNIT_MULTIPLIER, parent)] = v2c.Integer32(
                        UNIT_MULTIPLIER_UNITS
                    )
                    values[(*EO_POWER_ENTRY, EoPowerCol.ACCURACY, parent)] = v2c.Integer32(
                        ACCURACY_UNKNOWN
                    )
                    for oid, value in self._power(parent, point):
                        values[oid] = value

    @staticmethod
    def _power(index: int, point: Point) -> list[tuple[Oid, Value]]:
        # RFC 7460: eoPower is 0 while the caliber is unavailable.
        watts = sensor_value(CHANNEL_SENSORS["active_power"], point)
        available = point.available and watts is not None
        caliber = CALIBER_ACTUAL if available else CALIBER_UNAVAILABLE
        return [
            ((*EO_POWER_ENTRY, EoPowerCol.POWER, index), v2c.Integer32(watts if available else 0)),
            ((*EO_POWER_ENTRY, EoPowerCol.MEASUREMENT_CALIBER, index), v2c.Integer32(caliber)),
        ]

    def _physical(
        self,
        values: dict[Oid, Value | Dynamic],
        index: int,
        *,
        descr: str,
        contained_in: int,
        cls: int,
        position: int,
        name: str,
        serial: str = "",
        firmware: str = "",
        model: str = "",
    ) -> None:
        def col(c: int) -> Oid:
            return (*ENT_PHYSICAL_ENTRY, c, index)

        values[col(PhysCol.DESCR)] = _text(descr)
        values[col(PhysCol.VENDOR_TYPE)] = v2c.ObjectIdentifier(ZERO_DOT_ZERO)
        values[col(PhysCol.CONTAINED_IN)] = v2c.Integer32(contained_in)
        values[col(PhysCol.CLASS)] = v2c.Integer32(cls)
        values[col(PhysCol.PARENT_REL_POS)] = v2c.Integer32(position)
        values[col(PhysCol.NAME)] = _text(name)
        values[col(PhysCol.HARDWARE_REV)] = _text("")
        values[col(PhysCol.FIRMWARE_REV)] = _text(firmware)
        values[col(PhysCol.SOFTWARE_REV)] = _text("")
        values[col(PhysCol.SERIAL_NUM)] = _text(serial)
        values[col(PhysCol.MFG_NAME)] = _text(MANUFACTURER if cls == CLASS_CHASSIS else "")
        values[col(PhysCol.MODEL_NAME)] = _text(model)
        values[col(PhysCol.ALIAS)] = _text("")
        values[col(PhysCol.ASSET_ID)] = _text("")
        values[col(PhysCol.IS_FRU)] = v2c.Integer32(FALSE)

    def _reading(self, cell: SensorCell, point: Point) -> list[tuple[Oid, Value]]:
        value = sensor_value(cell.sensor, point)
        if value is None:
            status = STATUS_NONOPERATIONAL if point.value is not None else STATUS_UNAVAILABLE
        else:
            status = STATUS_OK if point.available else STATUS_UNAVAILABLE
        out: list[tuple[Oid, Value]] = [
            ((*ENT_SENSOR_ENTRY, SensorCol.OPER_STATUS, cell.index), v2c.Integer32(status)),
            (
                (*ENT_SENSOR_ENTRY, SensorCol.VALUE_TIME_STAMP, cell.index),
                v2c.TimeTicks(int(cell.changed)),
            ),
        ]
        # An unavailable sensor keeps its last value (RFC 3433: the value is then stale).
        if value is not None:
            out.append(((*ENT_SENSOR_ENTRY, SensorCol.VALUE, cell.index), v2c.Integer32(value)))
        return out

    def point_changed(self, store: OidStore, point: Point) -> None:
        """Update a sensor after its point's value or availability changed."""
        cell = self.cells.get(point.unique_id)
        if cell is None:
            return
        cell.changed = self.uptime()
        for oid, value in self._reading(cell, point):
            store.set(oid, value)
        index = self.energy_objects.get(point.unique_id)
        if index is not None:
            for oid, value in self._power(index, point):
                store.set(oid, value)


def monotonic_centiseconds(started: float) -> Callable[[], int]:
    """A sysUpTime clock from a ``time.monotonic()`` start."""
    return lambda: int((time.monotonic() - started) * 100) % 2**32

"""From the point table to ACUREV-BRIDGE-MIB instances.

A :class:`MibView` owns the agent's :class:`OidStore`. ``rebuild()`` lays out every row
after the set of meters or points changed; ``point_changed()`` updates just the cells (and
the row's availability) of one point, so a value change from Home Assistant is visible to
the next SNMP request without any polling.

Scaling (see the MIB): the value is first brought to the column's base unit from the
entity's unit of measurement (Home Assistant lets users show power in kW or energy in MWh),
then multiplied by the column's scale and rounded: W x1, 0.1 V x10, 0.01 Hz x100,
mA x1000 (of A), PF x1000, Wh x1 (of Wh, i.e. kWh x1000).

Unavailable points keep their last value (``PointTable.update_point`` keeps it) and turn
the row's *Available column false. A point that never had a value has no instance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from pysnmp.proto.api import v2c

from pyacurev.keys import Role

from ..model import Meter, Point, PointKind, PointTable
from . import oids
from .entity import EntityView
from .instrum import Dynamic, OidStore, Value
from .oids import ChannelCol, DiCol, MeterCol, Oid, RelayCol
from .state import MeterIndexMap

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1


class Syntax:
    """How a column encodes a number."""

    INTEGER32 = "Integer32"
    COUNTER64 = "Counter64"
    COUNTER32 = "Counter32"
    ON_OFF = "AcurevOnOff"


@dataclass(frozen=True, slots=True)
class Column:
    """A column fed by one point: its number, syntax, base unit and scale."""

    number: int
    syntax: str
    base: str = ""  # the unit the scale applies to ("" = dimensionless)
    scale: float = 1.0


# Unit of measurement -> factor to the base unit of its family.
_UNIT_FACTORS: dict[str, tuple[str, float]] = {
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
    "%": ("", 0.01),  # a power factor shown in percent
}

METER_COLUMNS: dict[str, Column] = {
    "frequency": Column(MeterCol.FREQUENCY, Syntax.INTEGER32, "Hz", 100),
    "voltage_a": Column(MeterCol.VOLTAGE_A, Syntax.INTEGER32, "V", 10),
    "voltage_b": Column(MeterCol.VOLTAGE_B, Syntax.INTEGER32, "V", 10),
    "voltage_c": Column(MeterCol.VOLTAGE_C, Syntax.INTEGER32, "V", 10),
    "active_power": Column(MeterCol.POWER, Syntax.INTEGER32, "W", 1),
    "power_factor": Column(MeterCol.POWER_FACTOR, Syntax.INTEGER32, "", 1000),
    "import_energy": Column(MeterCol.IMPORT_ENERGY, Syntax.COUNTER64, "Wh", 1),
    "export_energy": Column(MeterCol.EXPORT_ENERGY, Syntax.COUNTER64, "Wh", 1),
}
CHANNEL_COLUMNS: dict[str, Column] = {
    "current": Column(ChannelCol.CURRENT, Syntax.INTEGER32, "A", 1000),
    "active_power": Column(ChannelCol.POWER, Syntax.INTEGER32, "W", 1),
    "power_factor": Column(ChannelCol.POWER_FACTOR, Syntax.INTEGER32, "", 1000),
    "import_energy": Column(ChannelCol.IMPORT_ENERGY, Syntax.COUNTER64, "Wh", 1),
    "export_energy": Column(ChannelCol.EXPORT_ENERGY, Syntax.COUNTER64, "Wh", 1),
}
RELAY_STATE = Column(RelayCol.STATE, Syntax.ON_OFF)
DI_STATE = Column(DiCol.STATE, Syntax.ON_OFF)
DI_COUNT = Column(DiCol.COUNT, Syntax.COUNTER32)


_PF_RANGE = (-1000, 1000)


def encode(column: Column, point: Point) -> Value | None:
    """The pysnmp value of ``point`` in ``column``; None when there is nothing to show."""
    value = point.value
    if value is None or isinstance(value, str):
        if isinstance(value, str) and column.syntax == Syntax.ON_OFF:
            value = value == "on"
        else:
            return None
    if column.syntax == Syntax.ON_OFF:
        return v2c.Integer32(oids.ON if value else oids.OFF)
    number = float(value)
    if math.isnan(number):
        return None
    factor = 1.0
    if point.unit:
        base, factor = _UNIT_FACTORS.get(point.unit, (column.base, 1.0))
        if base != column.base:
            factor = 1.0  # an unexpected unit: take the number as it is
    raw = round(number * factor * column.scale)
    if column.syntax == Syntax.COUNTER64:
        return v2c.Counter64(min(max(raw, 0), UINT64_MAX))
    if column.syntax == Syntax.COUNTER32:
        return v2c.Counter32(min(max(raw, 0), UINT32_MAX))
    if column.number in (MeterCol.POWER_FACTOR, ChannelCol.POWER_FACTOR) and column.base == "":
        raw = min(max(raw, _PF_RANGE[0]), _PF_RANGE[1])
    return v2c.Integer32(min(max(raw, INT32_MIN), INT32_MAX))


def truth(value: bool) -> Value:
    """TruthValue."""
    return v2c.Integer32(oids.TRUE if value else oids.FALSE)


def display(text: str) -> Value:
    """DisplayString (at most 255 octets)."""
    return v2c.OctetString(text.encode("utf-8")[:255])


@dataclass(slots=True)
class Row:
    """A table row: which points it shows and where its availability goes."""

    available_oid: Oid
    uids: list[str] = field(default_factory=list)
    meter_serial: str = ""


@dataclass(slots=True)
class Cell:
    """Where one point is shown."""

    oid: Oid
    column: Column
    row: Row


class MibView:
    """The ACUREV-BRIDGE-MIB content of one agent, kept in step with a point table."""

    def __init__(
        self,
        table: PointTable,
        indexes: MeterIndexMap,
        static: dict[Oid, Value | Dynamic],
        objects: set[Oid],
        uptime: Callable[[], int] = lambda: 0,
    ) -> None:
        """``static``: instances outside the tables (system group, scalars); ``objects``: theirs.

        ``uptime`` (sysUpTime, centiseconds) stamps the standard MIBs' changes.
        """
        self.table = table
        self.entity = EntityView(uptime)
        self.indexes = indexes
        self.store = OidStore()
        self._static = static
        self._static_objects = objects
        self._cells: dict[str, Cell] = {}
        self.meter_index: dict[str, int] = {}
        self.rebuild()

    # --- layout ---------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Lay out every instance from the table (meters or points came or went)."""
        values: dict[Oid, Value | Dynamic] = dict(self._static)
        objects: set[Oid] = set(self._static_objects)
        for entry, cols in (
            (oids.METER_ENTRY, range(2, 15)),
            (oids.CHANNEL_ENTRY, range(2, 9)),
            (oids.RELAY_ENTRY, range(2, 5)),
            (oids.DI_ENTRY, range(2, 6)),
        ):
            objects.update((*entry, c) for c in cols)
        self._cells = {}
        by_meter: dict[str, list[Point]] = {}
        for point in self.table.points.values():
            by_meter.setdefault(point.serial, []).append(point)
        meters = dict(self.table.meters)
        for serial in by_meter:
            meters.setdefault(serial, Meter(serial=serial, name=f"AcuRev {serial}"))
        self.meter_index = {serial: self.indexes.get(serial) for serial in sorted(meters)}
        rows: list[Row] = []
        for serial, m_idx in self.meter_index.items():
            meter = meters[serial]
            rows.append(self._layout_meter(values, meter, m_idx, by_meter.get(serial, [])))
            rows += self._layout_points(values, meter, m_idx, by_meter.get(serial, []))
        for row in rows:
            values[row.available_oid] = truth(self._row_available(row))
        self.entity.layout(
            values,
            {
                m_idx: (meters[serial], by_meter.get(serial, []))
                for serial, m_idx in self.meter_index.items()
            },
        )
        objects |= self.entity.objects()
        self.store.replace(values, objects)

    def _layout_meter(
        self, values: dict[Oid, Value | Dynamic], meter: Meter, m_idx: int, points: list[Point]
    ) -> Row:
        def col(number: int) -> Oid:
            return (*oids.METER_ENTRY, number, m_idx)

        values[col(MeterCol.SERIAL)] = display(meter.serial)
        values[col(MeterCol.NAME)] = display(meter.name or f"AcuRev {meter.serial}")
        values[col(MeterCol.MODEL)] = display(meter.model)
        values[col(MeterCol.FIRMWARE)] = display(meter.firmware)
        row = Row(col(MeterCol.AVAILABLE), meter_serial=meter.serial)
        for point in points:
            column = METER_COLUMNS.get(point.key)
            if column is not None and point.channel is None:
                self._bind(values, point, col(column.number), column, row)
        return row

    def _layout_points(
        self, values: dict[Oid, Value | Dynamic], meter: Meter, m_idx: int, points: list[Point]
    ) -> list[Row]:
        rows: dict[Oid, Row] = {}
        meter_name = meter.name or f"AcuRev {meter.serial}"

        def row_for(entry: Oid, number: int, avail_col: int, name_col: int, name: str) -> Row:
            avail = (*entry, avail_col, m_idx, number)
            row = rows.get(avail)
            if row is None:
                row = rows[avail] = Row(avail, meter_serial=meter.serial)
                values[(*entry, name_col, m_idx, number)] = display(name)
            return row

        for point in sorted(points, key=lambda p: p.key):
            role, number = point.role, point.number
            if number is None:
                continue
            if role is Role.CHANNEL and point.kind in (PointKind.MEASUREMENT, PointKind.COUNTER):
                column = CHANNEL_COLUMNS.get(point.field_name or "")
                if column is None:
                    continue
                row = row_for(
                    oids.CHANNEL_ENTRY,
                    number,
                    ChannelCol.AVAILABLE,
                    ChannelCol.NAME,
                    f"{meter_name} CH{number:02d}",
                )
                self._bind(
                    values, point, (*oids.CHANNEL_ENTRY, column.number, m_idx, number), column, row
                )
            elif role is Role.RELAY and point.kind is PointKind.RELAY:
                row = row_for(
                    oids.RELAY_ENTRY, number, RelayCol.AVAILABLE, RelayCol.NAME, point.name
                )
                self._bind(
                    values,
                    point,
                    (*oids.RELAY_ENTRY, RelayCol.STATE, m_idx, number),
                    RELAY_STATE,
                    row,
                )
            elif role is Role.DI and point.kind is PointKind.BINARY:
                row = row_for(oids.DI_ENTRY, number, DiCol.AVAILABLE, DiCol.NAME, point.name)
                self._bind(
                    values, point, (*oids.DI_ENTRY, DiCol.STATE, m_idx, number), DI_STATE, row
                )
            elif role is Role.DI_COUNT and point.kind is PointKind.COUNTER:
                row = row_for(
                    oids.DI_ENTRY, number, DiCol.AVAILABLE, DiCol.NAME, f"{meter_name} DI{number}"
                )
                self._bind(
                    values, point, (*oids.DI_ENTRY, DiCol.COUNT, m_idx, number), DI_COUNT, row
                )
        return list(rows.values())

    def _bind(
        self, values: dict[Oid, Value | Dynamic], point: Point, oid: Oid, column: Column, row: Row
    ) -> None:
        self._cells[point.unique_id] = Cell(oid, column, row)
        row.uids.append(point.unique_id)
        value = encode(column, point)
        if value is not None:
            values[oid] = value

    def _row_available(self, row: Row) -> bool:
        if not row.uids:
            meter = self.table.meters.get(row.meter_serial)
            return bool(meter and meter.available)
        points = self.table.points
        return all(uid in points and points[uid].available for uid in row.uids)

    # --- updates --------------------------------------------------------------------------
    def point_changed(self, point: Point) -> None:
        """A point's value or availability changed: update its cell and its row."""
        self.entity.point_changed(self.store, point)
        cell = self._cells.get(point.unique_id)
        if cell is None:
            return
        value = encode(cell.column, point)
        if value is None:
            if point.available:
                self.store.delete(cell.oid)  # HA reports no value (e.g. "unknown")
        else:
            self.store.set(cell.oid, value)
        self.store.set(cell.row.available_oid, truth(self._row_available(cell.row)))

    def instance_count(self) -> int:
        """How many instances the agent serves."""
        return len(self.store)

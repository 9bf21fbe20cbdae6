"""The bridge's view of the meters: points mirrored from Home Assistant.

Home Assistant is the single source of truth (it is the only Modbus client of a
meter). The bridge mirrors the exported AcuRev entities into this table; the
BACnet device, the SNMP agent and the Node-RED API are all views of it and
never talk to Home Assistant themselves. A write (a relay command) goes back
through ``PointTable.command_relay`` which the Home Assistant client fulfils
with a ``switch.turn_on/turn_off`` call, so Home Assistant's logbook and
automations see it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

_LOGGER = logging.getLogger(__name__)


class PointKind(StrEnum):
    """What a point is to a consumer (mirrors ``custom_components.acurev.points.Kind``)."""

    MEASUREMENT = "measurement"   # analog, e.g. power, voltage
    COUNTER = "counter"           # cumulative, e.g. energy (kWh), DI pulse count
    BINARY = "binary"             # digital input, alarm state
    RELAY = "relay"               # commandable output
    TEXT = "text"                 # enum/timestamp: exported as a string where a protocol can


@dataclass(slots=True)
class Meter:
    """One AcuRev meter (one Home Assistant device)."""

    serial: str
    name: str
    model: str = ""
    firmware: str = ""
    device_id: str = ""
    available: bool = False


@dataclass(slots=True)
class Point:
    """One exported entity.

    ``key`` is the integration's point key (the unique id is ``<serial>_<key>``),
    stable across restarts and HA versions: protocol views derive their stable
    identifiers (BACnet object names/instances, SNMP indexes) from it.
    """

    unique_id: str
    entity_id: str
    serial: str
    key: str
    kind: PointKind
    name: str
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    channel: int | None = None
    value: float | bool | str | None = None
    available: bool = False
    changed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """A Home Assistant event about a meter, forwarded to the views (alarms, SOE)."""

    event_type: str            # e.g. "acurev_alarm", "acurev_soe"
    serial: str
    data: dict[str, Any]
    time: datetime


type PointListener = Callable[[Point], None]
type EventListener = Callable[[MeterEvent], None]
type RelayCommander = Callable[[Point, bool], Awaitable[bool]]


class RelayCommandError(Exception):
    """A relay command failed (HA down, refused, or the relay did not follow)."""


class PointTable:
    """Current points, meters and event fan-out; owned by the bridge process."""

    def __init__(self) -> None:
        """Start empty: the Home Assistant client fills it."""
        self.meters: dict[str, Meter] = {}
        self.points: dict[str, Point] = {}
        self.ha_connected = False
        self._point_listeners: list[PointListener] = []
        self._event_listeners: list[EventListener] = []
        self._structure_listeners: list[Callable[[], None]] = []
        self._commander: RelayCommander | None = None
        self.ready = asyncio.Event()

    # --- consumers -------------------------------------------------------------------------
    def on_point_change(self, listener: PointListener) -> Callable[[], None]:
        """Call ``listener`` after a point's value or availability changed."""
        self._point_listeners.append(listener)
        return lambda: self._point_listeners.remove(listener)

    def on_event(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` for every meter event."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    def on_structure_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after points were added or removed."""
        self._structure_listeners.append(listener)
        return lambda: self._structure_listeners.remove(listener)

    async def command_relay(self, unique_id: str, on: bool) -> bool:
        """Switch a relay through Home Assistant; return the state read back."""
        point = self.points.get(unique_id)
        if point is None or point.kind is not PointKind.RELAY:
            raise RelayCommandError(f"{unique_id} is not a relay")
        if self._commander is None or not self.ha_connected:
            raise RelayCommandError("Home Assistant is not connected")
        return await self._commander(point, on)

    # --- the Home Assistant side -----------------------------------------------------------
    def set_commander(self, commander: RelayCommander | None) -> None:
        """Install the function that turns a relay command into a service call."""
        self._commander = commander

    def replace_points(self, meters: dict[str, Meter], points: dict[str, Point]) -> None:
        """Adopt a fresh registry read (after connect or a registry change)."""
        structure_changed = set(points) != set(self.points)
        self.meters = meters
        for uid, new in points.items():
            old = self.points.get(uid)
            self.points[uid] = new
            if old is None or (old.value, old.available) != (new.value, new.available):
                self._emit_point(new)
        for uid in set(self.points) - set(points):
            del self.points[uid]
        if structure_changed:
            for listener in list(self._structure_listeners):
                listener()
        self.ready.set()

    def update_point(self, unique_id: str, value: float | bool | str | None,
                     available: bool, when: datetime | None = None) -> None:
        """A state change from Home Assistant."""
        point = self.points.get(unique_id)
        if point is None:
            return
        if (point.value, point.available) == (value, available):
            return
        # An unavailable entity keeps its last value: BMS trends show the gap as a fault flag,
        # not as a drop to zero.
        if available:
            point.value = value
        point.available = available
        point.changed_at = when or datetime.now(UTC)
        self._emit_point(point)

    def set_all_unavailable(self) -> None:
        """Home Assistant went away: every point is now a communication failure."""
        self.ha_connected = False
        for point in self.points.values():
            if point.available:
                point.available = False
                point.changed_at = datetime.now(UTC)
                self._emit_point(point)

    def emit_event(self, event: MeterEvent) -> None:
        """Fan a meter event out to the views."""
        for listener in list(self._event_listeners):
            try:
                listener(event)
            except Exception:  # a broken view must not stop the others
                _LOGGER.exception("event listener failed")

    def _emit_point(self, point: Point) -> None:
        for listener in list(self._point_listeners):
            try:
                listener(point)
            except Exception:
                _LOGGER.exception("point listener failed")

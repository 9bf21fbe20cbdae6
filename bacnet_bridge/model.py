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

from pyacurev import keys
from pyacurev.keys import PointRef, Role

_LOGGER = logging.getLogger(__name__)


class PointKind(StrEnum):
    """What a point is to a consumer (mirrors ``pyacurev.points.Kind``)."""

    MEASUREMENT = "measurement"  # analog, e.g. power, voltage
    COUNTER = "counter"  # cumulative, e.g. energy (kWh), DI pulse count
    BINARY = "binary"  # digital input, alarm state
    RELAY = "relay"  # commandable output
    TEXT = "text"  # enum/timestamp: exported as a string where a protocol can


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
    identifiers (BACnet object names/instances, SNMP indexes) from it. ``ref`` is that key
    read once through pyacurev's key grammar; every view asks ``ref`` (role, number, channel,
    field, phase) and none reads the key's spelling itself. A key outside the grammar (an
    entity of a newer integration) gives ``ref`` None: the point is still exported by key,
    it just belongs to no channel, relay or input.
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
    value: float | bool | str | None = None
    available: bool = False
    changed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ref: PointRef | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Read the key once."""
        self.ref = keys.parse(self.key)

    @property
    def role(self) -> Role | None:
        """What the point belongs to (channel, relay, digital input ...), None if unknown."""
        return self.ref.role if self.ref else None

    @property
    def number(self) -> int | None:
        """The channel, user circuit, relay, input or alarm number."""
        return self.ref.number if self.ref else None

    @property
    def channel(self) -> int | None:
        """The CT channel the point measures (channel points and per-channel alarms)."""
        return self.ref.channel if self.ref else None

    @property
    def field_name(self) -> str | None:
        """The measured quantity without its channel/user number or phase (``active_power``)."""
        return self.ref.field if self.ref else None

    @property
    def phase(self) -> str | None:
        """``a``/``b``/``c`` for a per-phase value."""
        return self.ref.phase if self.ref else None

    def shape(self) -> tuple[object, ...]:
        """Everything but the value: when this changes, views re-describe the point."""
        return (
            self.entity_id,
            self.serial,
            self.key,
            self.kind,
            self.name,
            self.unit,
            self.device_class,
            self.state_class,
        )


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """A Home Assistant event about a meter, forwarded to the views (alarms, SOE)."""

    event_type: str  # e.g. "acurev_alarm", "acurev_soe"
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
        """Adopt a fresh registry read (after connect or a registry change).

        Structure listeners run on the first read, when points were added or removed, or
        when a point's description changed (its unit, kind, name, ...: a view may have to
        rebuild the object), before the value listeners hear about the new values.
        """
        # The first read is a structure change even when it finds nothing: views that
        # started from a cache must learn that it is gone.
        structure_changed = (
            not self.ready.is_set()
            or set(points) != set(self.points)
            or any(
                old.shape() != new.shape()
                for uid, new in points.items()
                if (old := self.points.get(uid)) is not None
            )
        )
        self.meters = meters
        changed: list[Point] = []
        for uid, new in points.items():
            old = self.points.get(uid)
            # An unavailable entity keeps its last value, also across a resynchronisation
            # (Home Assistant restarted and the entity has no state yet).
            if old is not None and not new.available and new.value is None:
                new.value = old.value
            if old is None or (old.value, old.available) != (new.value, new.available):
                changed.append(new)
            else:
                new.changed_at = old.changed_at
            self.points[uid] = new
        for uid in set(self.points) - set(points):
            del self.points[uid]
        for serial in self.meters:
            self._refresh_meter(serial)
        if structure_changed:
            for listener in list(self._structure_listeners):
                try:
                    listener()
                except Exception:
                    _LOGGER.exception("structure listener failed")
        for point in changed:
            self._emit_point(point)
        self.ready.set()

    def update_point(
        self,
        unique_id: str,
        value: float | bool | str | None,
        available: bool,
        when: datetime | None = None,
    ) -> None:
        """A state change from Home Assistant."""
        point = self.points.get(unique_id)
        if point is None:
            return
        if (point.value, point.available) == (value, available):
            return
        if not available and not point.available:
            return  # still unavailable: nothing a view could show differently
        # An unavailable entity keeps its last value: BMS trends show the gap as a fault flag,
        # not as a drop to zero.
        if available:
            point.value = value
        flipped = point.available != available
        point.available = available
        point.changed_at = when or datetime.now(UTC)
        if flipped:
            self._refresh_meter(point.serial)
        self._emit_point(point)

    def set_all_unavailable(self) -> None:
        """Home Assistant went away: every point is now a communication failure."""
        self.ha_connected = False
        for meter in self.meters.values():
            meter.available = False
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

    def _refresh_meter(self, serial: str) -> None:
        # A meter is reachable while any of its entities is: HA marks them all unavailable
        # together when a poll fails.
        meter = self.meters.get(serial)
        if meter is not None:
            meter.available = any(p.available for p in self.points.values() if p.serial == serial)

    def _emit_point(self, point: Point) -> None:
        for listener in list(self._point_listeners):
            try:
                listener(point)
            except Exception:
                _LOGGER.exception("point listener failed")

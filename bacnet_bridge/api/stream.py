"""The event stream behind the API's websocket: numbered messages and a bounded history.

Every change the bridge sees becomes one JSON message with a sequence number (``seq``, counting
from 1 per bridge process, whose random ``stream`` id tells a client that the numbering
restarted). A client that lost its websocket reconnects with the last ``seq`` it received and is
sent everything after it that the bridge still holds.

Two bounded histories share the one numbering:

* ``recent`` holds every message (measurements change on every poll, so it covers minutes);
* ``events`` holds only the messages a flow must not miss: DI and relay changes, availability
  changes, alarms, SOE records, the Home Assistant connection. It covers far longer.

A resume older than ``recent`` is answered with an explicit ``gap`` message saying whether events
were lost too (``events_lost``) and then every held event after the client's ``seq`` followed by
``recent``. Nothing is ever skipped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyacurev.keys import Role

from ..model import Meter, MeterEvent, Point, PointKind, PointTable

_LOGGER = logging.getLogger(__name__)

type Message = dict[str, Any]

RECENT_SIZE = 2048
EVENTS_SIZE = 1024
WATCH_INTERVAL = 0.2  # s: how often the Home Assistant connection and meter availability are read
#                       besides right after every change
ALARM_EVENT = "acurev_alarm"
SOE_EVENT = "acurev_soe"


def iso(when: datetime) -> str:
    """A timestamp as ISO 8601 with its offset (UTC when naive)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat()


def json_value(value: object) -> object:
    """A point value as JSON can carry it (NaN and infinities become null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return iso(value)
    return value


def point_info(point: Point) -> Message:
    """What a point is (no value): for the meter listing.

    The structured fields (``role``, ``number``, ``channel``, ``field``, ``phase``) are the
    key read through pyacurev's grammar, so that a client never parses a key itself: a relay
    is ``{"role": "relay", "number": 3}``, ``ch07_active_power`` is ``{"role": "channel",
    "number": 7, "channel": 7, "field": "active_power"}``. A key outside the grammar has
    ``role`` null and ``field`` equal to the key.
    """
    return {
        "key": point.key,
        "unique_id": point.unique_id,
        "entity_id": point.entity_id,
        "kind": str(point.kind),
        "name": point.name,
        "unit": point.unit,
        "device_class": point.device_class,
        "state_class": point.state_class,
        "role": str(point.role) if point.role else None,
        "number": point.number,
        "channel": point.channel,
        "field": point.field_name if point.ref else point.key,
        "phase": point.phase,
    }


def point_value(point: Point) -> Message:
    """A point with its current value."""
    return {
        **point_info(point),
        "value": json_value(point.value),
        "available": point.available,
        "changed_at": iso(point.changed_at),
    }


def event_class(point: Point) -> str | None:
    """Which kind of event a point change is, for the event nodes (None: a plain reading)."""
    if point.kind is PointKind.RELAY:
        return "relay"
    if point.kind is PointKind.BINARY:
        return "di" if point.role is Role.DI else "binary"
    return None


def alarm_state(data: dict[str, Any]) -> str | None:
    """``occurred`` / ``recovered`` from an alarm event's data, whichever way it is said."""
    occurred = data.get("occurred")
    if isinstance(occurred, bool):
        return "occurred" if occurred else "recovered"
    state = data.get("state", data.get("status"))
    if isinstance(state, str) and state.lower() in ("occurred", "recovered"):
        return state.lower()
    return None


@dataclass(slots=True)
class Replay:
    """What a resuming client is sent before the live messages."""

    gap: Message | None
    messages: list[Message]


class Subscriber:
    """One websocket client's queue of live messages."""

    def __init__(self, maxsize: int) -> None:
        """An empty queue; ``overflowed`` is set if the client cannot keep up."""
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize)
        self.overflowed = asyncio.Event()

    def put(self, message: Message) -> None:
        """Queue a live message (never blocks the bridge: a slow client is cut off instead)."""
        if self.overflowed.is_set():
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()


class EventLog:
    """The numbered message history and the live fan-out to websocket clients."""

    def __init__(
        self, table: PointTable, recent_size: int = RECENT_SIZE, events_size: int = EVENTS_SIZE
    ) -> None:
        """Bind to ``table``; call ``start`` to listen."""
        if recent_size < 1 or events_size < 1:
            raise ValueError("history sizes must be at least 1")
        self.table = table
        self.stream_id = secrets.token_hex(8)
        self.seq = 0
        self.recent: deque[Message] = deque(maxlen=recent_size)
        self.events: deque[Message] = deque(maxlen=events_size)
        self.subscribers: set[Subscriber] = set()
        self._last: dict[str, tuple[object, bool]] = {}
        self._meters: dict[str, bool] = {}
        self._ha_connected = table.ha_connected
        self._unsubscribe: list[Callable[[], None]] = []
        self._watch_task: asyncio.Task[None] | None = None
        self._check_pending = False

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Listen to the table and watch the connection."""
        self._snapshot()
        self._unsubscribe = [
            self.table.on_point_change(self._on_point),
            self.table.on_event(self._on_event),
            self.table.on_structure_change(self._on_structure),
        ]
        self._watch_task = asyncio.get_running_loop().create_task(
            self._watch(), name="acurev-api-watch"
        )

    async def close(self) -> None:
        """Stop listening."""
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(ValueError):
                unsubscribe()
        self._unsubscribe = []
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
            self._watch_task = None

    def _snapshot(self) -> None:
        self._last = {uid: (p.value, p.available) for uid, p in self.table.points.items()}
        self._meters = {s: m.available for s, m in self.table.meters.items()}
        self._ha_connected = self.table.ha_connected

    # --- producing ---------------------------------------------------------------------------
    def append(self, message: Message, *, important: bool) -> Message:
        """Number ``message``, keep it, and hand it to every live subscriber."""
        self.seq += 1
        message = {"seq": self.seq, **message}
        message.setdefault("time", iso(datetime.now(UTC)))
        self.recent.append(message)
        if important:
            self.events.append(message)
        for subscriber in list(self.subscribers):
            subscriber.put(message)
        return message

    def _on_point(self, point: Point) -> None:
        previous, was_available = self._last.get(point.unique_id, (None, False))
        self._last[point.unique_id] = (point.value, point.available)
        cls = event_class(point)
        availability_changed = was_available != point.available
        message: Message = {
            "type": "point",
            "event": cls,
            "time": iso(point.changed_at),
            "serial": point.serial,
            **point_value(point),
            "previous": json_value(previous),
            "previous_available": was_available,
        }
        self.append(message, important=cls is not None or availability_changed)
        self._check_meters()
        self._check_soon()

    def _on_event(self, event: MeterEvent) -> None:
        data = {k: json_value(v) for k, v in event.data.items()}
        message: Message = {
            "type": "event",
            "event": {ALARM_EVENT: "alarm", SOE_EVENT: "soe"}.get(event.event_type, "other"),
            "event_type": event.event_type,
            "time": iso(event.time),
            "serial": event.serial,
            "data": data,
        }
        if event.event_type == ALARM_EVENT:
            message["state"] = alarm_state(event.data)
        self.append(message, important=True)

    def _on_structure(self) -> None:
        known = set(self.table.points)
        self._last = {uid: v for uid, v in self._last.items() if uid in known}
        self.append({"type": "structure", "meters": sorted(self.table.meters)}, important=True)
        self._check_meters()
        self._check_soon()

    def _check_soon(self) -> None:
        # The Home Assistant client sets ``ha_connected`` right after it filled the table, in
        # the same step: look again once that step is over, so that a connection that comes
        # and goes between two watcher ticks is still announced.
        if not self._check_pending:
            self._check_pending = True
            asyncio.get_running_loop().call_soon(self._deferred_check)

    def _deferred_check(self) -> None:
        self._check_pending = False
        self._check_meters()

    def _check_meters(self) -> None:
        meters: dict[str, Meter] = self.table.meters
        for serial, meter in meters.items():
            before = self._meters.get(serial)
            if before is None or before != meter.available:
                self._meters[serial] = meter.available
                self.append(
                    {
                        "type": "meter",
                        "serial": serial,
                        "name": meter.name,
                        "available": meter.available,
                    },
                    important=True,
                )
        for serial in set(self._meters) - set(meters):
            del self._meters[serial]
        if self._ha_connected != self.table.ha_connected:
            self._ha_connected = self.table.ha_connected
            self.append({"type": "connection", "ha_connected": self._ha_connected}, important=True)

    async def _watch(self) -> None:
        # The table has no callback for the connection or a meter's availability: read them.
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                self._check_meters()
            except Exception:  # never let the watcher die
                _LOGGER.exception("API watcher failed")

    # --- consuming ---------------------------------------------------------------------------
    def subscribe(
        self, since: int | None, stream: str | None, maxsize: int
    ) -> tuple[Subscriber, Replay]:
        """Register a live subscriber and compute its replay in one step (nothing in between).

        ``since`` None: live messages only. Otherwise everything after ``since`` that is held;
        ``stream`` is the id the client's ``since`` belongs to (None: this stream, unless
        ``since`` is beyond it).
        """
        replay = self.replay(since, stream)
        subscriber = Subscriber(maxsize)
        self.subscribers.add(subscriber)
        return subscriber, replay

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a subscriber."""
        self.subscribers.discard(subscriber)

    def replay(self, since: int | None, stream: str | None = None) -> Replay:
        """Held messages after ``since`` and, if some were dropped, the gap to report."""
        if since is None:
            return Replay(None, [])
        reason = "overflow"
        if (stream is not None and stream != self.stream_id) or since > self.seq:
            # Another stream's number (or one this stream never reached, from a client that
            # did not send the stream id): the bridge restarted since the client's last message.
            reason, since = "restart", 0
        first_recent = self.recent[0]["seq"] if self.recent else self.seq + 1
        if reason == "overflow" and since >= first_recent - 1:
            return Replay(None, [m for m in self.recent if m["seq"] > since])
        first_event = self.events[0]["seq"] if self.events else self.seq + 1
        # Between the client's seq and the start of ``recent`` only events are held.
        held_events = [m for m in self.events if since < m["seq"] < first_recent]
        events_lost = reason == "restart" or since < first_event - 1
        gap: Message = {
            "type": "gap",
            "reason": reason,
            "since": since if reason == "overflow" else None,
            "stream": self.stream_id,
            "first_seq": first_recent,
            "first_event_seq": first_event,
            "events_lost": events_lost,
            "message": (
                "the bridge restarted: messages of the previous stream are gone"
                if reason == "restart"
                else f"readings after seq {since} up to {first_recent - 1} are no longer held"
                + ("; events were lost too" if events_lost else "; every event is replayed")
            ),
        }
        return Replay(gap, held_events + [m for m in self.recent if m["seq"] > since])

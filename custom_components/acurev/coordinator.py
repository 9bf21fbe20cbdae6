"""Polling: one client per meter, two coordinators (fast readings, slow counters).

Each coordinator is complete when constructed: the readings poller owns the log watcher that
turns the meter's alarm/SOE rings into events, the counters poller owns the clock sync. Their
rates are fixed (``const``): users who want another rate turn polling off in the entry's
system options and call ``homeassistant.update_entity``.

Both coordinators share the entry's single client, whose lock serialises every
request: the module accepts only a few TCP clients, and a second connection per
poll rate would waste one of them.
"""

from __future__ import annotations

import logging
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from pyacurev.client import AcuRevClient
from pyacurev.discovery import Discovery
from pyacurev.energy_guard import RejectLog, ResetNotice, power_limit_kw
from pyacurev.errors import AcuRevError
from pyacurev.groups import ReadGroup
from pyacurev.layouts import user_inputs
from pyacurev.models import AlarmSettings, DeviceInfo, MeterSettings, Snapshot
from pyacurev.points import Point, PointOptions

from .backfill import Backfill, import_kwh_by_entry
from .const import COUNTERS_INTERVAL, DOMAIN, READINGS_INTERVAL
from .errors import Context, translated
from .logs import LogEvent, LogWatcher

_LOGGER = logging.getLogger(__name__)
# pymodbus logs every failed connect at WARNING through this one logger.
_PYMODBUS_LOGGER = logging.getLogger("pymodbus.logging")


def _demote(record: logging.LogRecord) -> None:
    """Keep a record for debug logging only (handlers at INFO and above skip it)."""
    record.levelno, record.levelname = logging.DEBUG, "DEBUG"


class _QuietPymodbus(logging.Filter):
    """pymodbus's per-poll connect warnings for our meters' endpoints, demoted to debug.

    While a meter is down, pymodbus would log one warning per poll and coordinator
    (hundreds an hour); the coordinators already say once that the meter dropped
    and once that it returned. Endpoints of other pymodbus users stay untouched.
    """

    def __init__(self) -> None:
        super().__init__()
        self.endpoints: Counter[tuple[str, int]] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or not self.endpoints:
            return True
        text = record.getMessage()
        if any(
            f"{host!r}, {port})" in text or f"{host}:{port}" in text
            for host, port in self.endpoints
        ):
            _demote(record)
        return True


_QUIET = _QuietPymodbus()


def quiet_pymodbus(host: str, port: int) -> Callable[[], None]:
    """Demote pymodbus's warnings about ``host:port``; call the result to stop."""
    if not _QUIET.endpoints:
        _PYMODBUS_LOGGER.addFilter(_QUIET)
    _QUIET.endpoints[(host, port)] += 1

    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:  # setup failures may run it twice (on_unload and our own except)
            return
        stopped = True
        _QUIET.endpoints[(host, port)] -= 1
        if _QUIET.endpoints[(host, port)] <= 0:
            del _QUIET.endpoints[(host, port)]
        if not _QUIET.endpoints:
            _PYMODBUS_LOGGER.removeFilter(_QUIET)

    return stop


class _OneVoicePerMeter(logging.Filter):
    """One line when a meter drops and one when it returns, not one per coordinator.

    Both pollers of a meter fail together when it drops; the one that fails while
    its peer is already failing is demoted to debug, and so is its recovery. A
    failure of one poller alone (say, only the counters' block) still logs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.by_name: weakref.WeakValueDictionary[str, AcuRevCoordinator] = (
            weakref.WeakValueDictionary()
        )

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.args[0] if isinstance(record.args, tuple) and record.args else None
        coordinator = self.by_name.get(name) if isinstance(name, str) else None
        if coordinator is None or coordinator.peer is None:
            return True
        if record.levelno >= logging.WARNING:
            coordinator.quiet = not coordinator.peer.last_update_success
            if coordinator.quiet:
                _demote(record)
        elif str(record.msg).endswith("recovered") and coordinator.quiet:
            coordinator.quiet = False
            _demote(record)
        return True


_ONE_VOICE = _OneVoicePerMeter()
_LOGGER.addFilter(_ONE_VOICE)


@dataclass(frozen=True, slots=True)
class AcuRevRuntimeData:
    """What a loaded entry holds, built once when the first polls have answered.

    The shared client, the meter's identity, its two pollers and the points the entities are
    made from. Nothing is attached later: entities read from it, they never register into it.
    """

    client: AcuRevClient
    device: DeviceInfo
    fast: ReadingsCoordinator
    slow: CountersCoordinator
    options: PointOptions
    # The entry's unique id: the serial, or a stable fallback when it does not answer.
    meter_id: str
    # What the meter answered when it was probed (set-up, reload, "re-scan meter").
    discovery: Discovery
    points: tuple[Point, ...]
    alarm_settings: AlarmSettings | None
    # CT primaries and rated voltage: the energy guards' physics bound (None: unknown).
    settings: MeterSettings | None
    # Counts (and logs once) the readings this meter's energy guards hold back.
    energy_rejects: RejectLog
    # State the energy guards read: set only once the meter acknowledged an energy clear.
    reset_notice: ResetNotice = field(default_factory=ResetNotice)
    backfill: Backfill | None = None

    def power_limit_kw(self, key: str) -> float:
        """Most power the channels behind point ``key`` can carry (see ``power_limit_kw``)."""
        point = next(p for p in self.points if p.key == key)
        if point.channel is not None:
            channels: tuple[int, ...] = (point.channel,)
        elif point.user is not None:
            channels = user_inputs(point.user, self.device.wiring)
        else:
            # Phase and system totals: bounded by every installed channel together.
            channels = tuple(range(1, self.device.installed_channels + 1))
        s = self.settings
        if s is None:
            return power_limit_kw(None, [None] * len(channels))
        pt_ratio = s.pt_primary / s.pt_secondary if s.pt_primary and s.pt_secondary else 0.0
        return power_limit_kw(s.rated_voltage, [s.ct_primary[ch - 1] for ch in channels], pt_ratio)


@dataclass(slots=True)
class ClockSync:
    """Keeps the meter clock on Home Assistant's time: daily, and when it drifts too far."""

    threshold_s: float
    last_sync: datetime | None = None

    def due(self, drift_s: float, now: datetime) -> bool:
        """Whether to set the clock now."""
        if abs(drift_s) > self.threshold_s:
            return True
        return self.last_sync is None or now - self.last_sync >= timedelta(days=1)


type AcuRevConfigEntry = ConfigEntry[AcuRevRuntimeData]


class AcuRevCoordinator(DataUpdateCoordinator[Snapshot]):
    """Reads a fixed set of register groups in the fewest requests the map allows."""

    config_entry: AcuRevConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: AcuRevConfigEntry,
        client: AcuRevClient,
        device: DeviceInfo,
        groups: Iterable[ReadGroup],
        interval: timedelta,
        name: str,
    ) -> None:
        """Set up a poller for ``groups`` every ``interval``."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.unique_id} {name}",
            update_interval=interval,
        )
        self.client = client
        self.device = device
        self.groups = frozenset(groups)
        # The meter's other poller, and whether this one's failure went unlogged.
        self.peer: AcuRevCoordinator | None = None
        self.quiet = False
        _ONE_VOICE.by_name[self.name] = self

    async def _async_update_data(self) -> Snapshot:
        # Every failure becomes UpdateFailed: the coordinator then marks the entities
        # unavailable and logs once on the way down and once on the way back, instead of a
        # partial snapshot ever reaching an entity.
        with translated(Context.POLL):
            snapshot = await self.client.read_snapshot(self.groups, self.device)
            await self._after_read(snapshot)
        return snapshot

    async def _after_read(self, snapshot: Snapshot) -> None:
        """What a poller does with a fresh snapshot besides publishing it."""


class ReadingsCoordinator(AcuRevCoordinator):
    """The fast poll: live values, I/O, and the alarm/SOE ring pointers."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: AcuRevConfigEntry,
        client: AcuRevClient,
        device: DeviceInfo,
        groups: Iterable[ReadGroup],
        logs: LogWatcher,
    ) -> None:
        """A readings poller that owns the meter's log watcher."""
        super().__init__(hass, entry, client, device, groups, READINGS_INTERVAL, "readings")
        self.logs = logs
        # The records that became events in the latest poll that found any, numbered so the
        # event entities take each batch once (a failed poll notifies them too).
        self.log_events: tuple[LogEvent, ...] = ()
        self.log_batch = 0

    async def _after_read(self, snapshot: Snapshot) -> None:
        if snapshot.log_status is None:
            return
        # The rings are read only when a pointer moved (or on first contact).
        extra = self.logs.groups_needed(snapshot.log_status)
        if extra:
            rings = await self.client.read_snapshot(extra, self.device)
            snapshot.alarms, snapshot.soe = rings.alarms, rings.soe
            events = await self.logs.async_process(snapshot, extra)
            if events:
                self.log_events = tuple(events)
                self.log_batch += 1


class CountersCoordinator(AcuRevCoordinator):
    """The slow poll: energy counters, identity, clock (and its sync), optional groups."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: AcuRevConfigEntry,
        client: AcuRevClient,
        device: DeviceInfo,
        groups: Iterable[ReadGroup],
        clock_sync: ClockSync | None,
        backfill: Backfill | None = None,
    ) -> None:
        """A counters poller; ``clock_sync`` None leaves the meter's clock alone,
        ``backfill`` None leaves the data log alone."""
        super().__init__(hass, entry, client, device, groups, COUNTERS_INTERVAL, "counters")
        self.clock_sync = clock_sync
        self.backfill = backfill

    async def _after_read(self, snapshot: Snapshot) -> None:
        if self.backfill is not None:
            # Reads the data log only when its record total moved; never fails the poll.
            await self.backfill.async_run(import_kwh_by_entry(snapshot))
        if snapshot.clock is None:
            return
        # The meter keeps naive local time; compare it in HA's time zone.
        meter_time = snapshot.clock.replace(tzinfo=dt_util.get_default_time_zone())
        snapshot.clock_drift = (meter_time - dt_util.now()).total_seconds()
        await self._maybe_sync_clock(snapshot.clock_drift)

    async def _maybe_sync_clock(self, drift: float) -> None:
        now = dt_util.now()
        if self.clock_sync is None or not self.clock_sync.due(drift, now):
            return
        try:
            await self.client.set_clock(now.replace(tzinfo=None))
        except AcuRevError as err:
            # The readings are fine; a failed clock write is retried at the next poll.
            _LOGGER.warning("Setting the clock of meter %s failed: %s", self.device.serial, err)
            return
        self.clock_sync.last_sync = now
        _LOGGER.debug("Meter %s clock set (drift was %.1f s)", self.device.serial, drift)

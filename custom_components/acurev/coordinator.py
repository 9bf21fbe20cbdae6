"""Polling: one client per meter, two coordinators (fast readings, slow counters).

Both coordinators share the entry's single client, whose lock serialises every
request: the module accepts only a few TCP clients, and a second connection per
poll rate would waste one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from pyacurev.client import AcuRevClient
from pyacurev.discovery import Discovery
from pyacurev.energy_guard import EnergyGuard
from pyacurev.errors import (
    AcuRevError,
    AcuRevIdentityError,
    AcuRevTimeoutError,
    ModbusExceptionError,
)
from pyacurev.groups import ReadGroup
from pyacurev.models import AlarmSettings, DeviceInfo, Snapshot
from pyacurev.points import Point, PointOptions

from .const import DOMAIN
from .logs import LogWatcher

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class AcuRevRuntimeData:
    """What a loaded entry holds: the shared client, the meter and its pollers."""

    client: AcuRevClient
    device: DeviceInfo
    fast: AcuRevCoordinator
    slow: AcuRevCoordinator
    options: PointOptions
    # The entry's unique id: the serial, or a stable fallback when it does not answer.
    meter_id: str
    discovery: Discovery
    points: tuple[Point, ...] = ()
    alarm_settings: AlarmSettings | None = None
    # Guards of this meter's energy sensors: an energy-clear command announces the reset to them.
    energy_guards: list[EnergyGuard] = field(default_factory=list)

    def expect_energy_reset(self) -> None:
        """The next lower energy readings are a genuine reset, not a glitch."""
        for guard in self.energy_guards:
            guard.expect_reset()


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
        interval: int,
        name: str,
    ) -> None:
        """Set up a poller for ``groups`` every ``interval`` seconds."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.unique_id} {name}",
            update_interval=timedelta(seconds=interval),
        )
        self.client = client
        self.device = device
        self.groups = frozenset(groups)
        self.logs: LogWatcher | None = None
        self.clock_sync: ClockSync | None = None

    async def _async_update_data(self) -> Snapshot:
        # Every failure becomes UpdateFailed: the coordinator then marks the
        # entities unavailable and logs once on the way down and once on the
        # way back, instead of a partial snapshot ever reaching an entity.
        try:
            snapshot = await self.client.read_snapshot(self.groups, self.device)
            if self.logs is not None and snapshot.log_status is not None:
                # The rings are read only when a pointer moved (or on first contact).
                extra = self.logs.groups_needed(snapshot.log_status)
                if extra:
                    rings = await self.client.read_snapshot(extra, self.device)
                    snapshot.alarms, snapshot.soe = rings.alarms, rings.soe
                    await self.logs.async_process(snapshot, extra)
        except AcuRevIdentityError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="wrong_meter",
                translation_placeholders={"expected": err.expected, "found": err.found},
            ) from err
        except AcuRevTimeoutError as err:
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="timeout") from err
        except ModbusExceptionError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="modbus_exception",
                translation_placeholders={"error": str(err)},
            ) from err
        except AcuRevError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        if snapshot.clock is not None:
            # The meter keeps naive local time; compare it in HA's time zone.
            meter_time = snapshot.clock.replace(tzinfo=dt_util.get_default_time_zone())
            snapshot.clock_drift = (meter_time - dt_util.now()).total_seconds()
            await self._maybe_sync_clock(snapshot.clock_drift)
        return snapshot

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

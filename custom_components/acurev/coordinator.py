"""Polling: one client per meter, two coordinators (fast readings, slow counters).

Both coordinators share the entry's single client, whose lock serialises every
request: the module accepts only a few TCP clients, and a second connection per
poll rate would waste one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .points import Point, PointOptions
from .protocol.client import AcuRevClient
from .protocol.errors import (
    AcuRevError,
    AcuRevIdentityError,
    AcuRevTimeoutError,
    ModbusExceptionError,
)
from .protocol.groups import ReadGroup
from .protocol.models import DeviceInfo, Snapshot

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class AcuRevRuntimeData:
    """What a loaded entry holds: the shared client, the meter and its pollers."""

    client: AcuRevClient
    device: DeviceInfo
    fast: AcuRevCoordinator
    slow: AcuRevCoordinator
    options: PointOptions
    points: tuple[Point, ...] = ()


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
            name=f"{DOMAIN} {device.serial} {name}",
            update_interval=timedelta(seconds=interval),
        )
        self.client = client
        self.device = device
        self.groups = frozenset(groups)

    async def _async_update_data(self) -> Snapshot:
        # Every failure becomes UpdateFailed: the coordinator then marks the
        # entities unavailable and logs once on the way down and once on the
        # way back, instead of a partial snapshot ever reaching an entity.
        try:
            snapshot = await self.client.read_snapshot(self.groups, self.device)
        except AcuRevIdentityError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="wrong_meter",
                translation_placeholders={"expected": err.expected, "found": err.found},
            ) from err
        except AcuRevTimeoutError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN, translation_key="timeout"
            ) from err
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
        return snapshot

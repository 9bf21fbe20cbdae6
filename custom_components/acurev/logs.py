"""Alarm and SOE records become Home Assistant events, each exactly once.

The ring pointers are read with every fast poll (three registers); the rings
themselves only when a pointer moved. The trackers' positions are stored per
entry, so a restart resumes where it stopped instead of replaying the ring or
skipping what happened while Home Assistant was down. The positions are saved
before the events are fired, so no crash can make a record fire twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from pyacurev.groups import ReadGroup
from pyacurev.layouts import SYSTEM_FLOAT_KEYS
from pyacurev.models import AlarmRecord, LogStatus, Snapshot, SoeRecord
from pyacurev.registers import DI_COUNT
from pyacurev.ring import RingTracker, RingUpdate

from .const import DOMAIN, EVENT_ALARM, EVENT_SOE

_LOGGER = logging.getLogger(__name__)
# One record turned into an event: the bus event type and its data.
type LogEvent = tuple[str, dict[str, Any]]
STORAGE_VERSION = 1
# Unchanged pointers skip reading the rings (4 requests saved per poll); every this many
# polls they are read anyway, to catch a ring that went round exactly to the same slot.
FULL_CHECK_EVERY = 30


def parameter_name(label: int) -> str:
    """The 0x2000-table key an alarm label refers to (its position in the table)."""
    return SYSTEM_FLOAT_KEYS[label] if 0 <= label < len(SYSTEM_FLOAT_KEYS) else str(label)


def _local(when: datetime | None) -> str | None:
    """The meter's naive local timestamp, as an ISO string in Home Assistant's zone."""
    if when is None:
        return None
    return when.replace(tzinfo=dt_util.get_default_time_zone()).isoformat()


def di_numbers(bitmap: int) -> list[int]:
    """DI numbers (1-based) whose bit is set."""
    return [n for n in range(1, DI_COUNT + 1) if bitmap & (1 << (n - 1))]


class LogWatcher:
    """Follows one meter's alarm and SOE rings and fires the events."""

    def __init__(self, hass: HomeAssistant, entry_id: str, serial: str, device_id: str) -> None:
        """Trackers start unknown until ``async_load``; events carry ``device_id``."""
        self.hass = hass
        self.serial = serial
        self.device_id = device_id
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.logs"
        )
        self.alarms: RingTracker[AlarmRecord] = RingTracker()
        self.soe: RingTracker[SoeRecord] = RingTracker()
        self._polls = 0

    async def async_load(self) -> None:
        """Resume the trackers from storage (first set-up: nothing stored)."""
        data = await self._store.async_load() or {}
        if data.get("serial") == self.serial:
            self.alarms = RingTracker(state=data.get("alarms"))
            self.soe = RingTracker(state=data.get("soe"))

    def groups_needed(self, status: LogStatus) -> set[ReadGroup]:
        """Which rings must be read for these pointers."""
        self._polls += 1
        full = self._polls % FULL_CHECK_EVERY == 0
        groups: set[ReadGroup] = set()
        if self.alarms.needs_records(status.latest_alarm) or (full and status.latest_alarm):
            groups.add(ReadGroup.ALARMS)
        if self.soe.needs_records(status.latest_soe) or (full and status.latest_soe):
            groups.add(ReadGroup.SOE)
        return groups

    async def async_process(self, snapshot: Snapshot, read: set[ReadGroup]) -> list[LogEvent]:
        """Persist the new positions, then fire one event per new record; return them.

        Persisted first: a crash after the save loses at most the events of this one
        poll, while firing first would replay them after every crash in between -
        and an automation that switches a relay on an alarm must not run twice.
        """
        status = snapshot.log_status
        if status is None:
            return []
        fire: list[LogEvent] = []
        if ReadGroup.ALARMS in read:
            update = self.alarms.update(status.latest_alarm, snapshot.alarms)
            self._report(update, "alarm")
            fire += [(EVENT_ALARM, self._alarm_data(alarm)) for alarm in update.new]
        if ReadGroup.SOE in read:
            soe_update = self.soe.update(status.latest_soe, snapshot.soe)
            self._report(soe_update, "soe")
            fire += [(EVENT_SOE, self._soe_data(record)) for record in soe_update.new]
        if not read & {ReadGroup.ALARMS, ReadGroup.SOE}:
            return []
        await self._store.async_save(
            {"serial": self.serial, "alarms": self.alarms.state, "soe": self.soe.state}
        )
        for event_type, data in fire:
            self.hass.bus.async_fire(event_type, data)
        return fire

    def _report(self, update: RingUpdate[Any], ring: str) -> None:
        if not update.lost:
            return
        _LOGGER.warning(
            "Meter %s: the %s log wrapped before it could be read; older records were lost. "
            "Shorten the readings interval to avoid this",
            self.serial,
            ring,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{ring}_log_wrapped_{self.serial}",
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="log_wrapped",
            translation_placeholders={"serial": self.serial, "log": ring},
        )

    def _alarm_data(self, alarm: AlarmRecord) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "serial": self.serial,
            "channel": alarm.channel,
            "parameter": parameter_name(alarm.parameter),
            "parameter_label": alarm.parameter,
            "value": alarm.value,
            "state": "occurred" if alarm.occurred else "recovered",
            "time": _local(alarm.time),
            "record": alarm.index,
        }

    def _soe_data(self, record: SoeRecord) -> dict[str, Any]:
        changed = di_numbers(record.changed)
        return {
            "device_id": self.device_id,
            "serial": self.serial,
            "digital_inputs": changed,
            "states": {n: bool(record.di_states & (1 << (n - 1))) for n in changed},
            "time": _local(record.time),
            "record": record.index,
        }

"""Backfill: the meter's data log into the energy sensors' long-term statistics.

Why. While Home Assistant is down or the meter unreachable, the recorder has no
states and compiles no statistics; the energy of those hours then lands in the
first hour after the gap (one spike) or, after a reset in the gap, is lost. The
meter logs the import kWh of the system and of every channel on its own clock
(``pyacurev.datalog``), so those hours can be rebuilt.

Model. A record is an import counter ``L`` (one bank entry: system, phase,
channel or user) at a clock multiple. Fed through an ``EnergyGuard`` (the
sensor's own rule: a single low sample is a glitch, a confirmed drop a reset,
and after a reset the new value counts from zero) the records give a monotonic
index ``E``. An hour ``[H, H+1)`` is covered when records sit on both of its
boundaries (and it has ended); its row is ``state = L(H+1)``, ``sum = E(H+1) +
offset``. Rows Home Assistant compiled itself are never written.

``offset`` ties ``E`` to the recorder's own sums. Per gap (a run of covered
hours without an hourly row):

* the recorder compiled short-term rows after the gap: the first of them is the
  anchor, so the imported sums end where the recorder's continue and the hour
  after the gap keeps only its own energy;
* nothing after the gap yet, and the recorder has not compiled the 5-minute
  period that just ended: the sums continue from the row before the gap (or
  start at 0 on a first set-up), and one short-term row for that period
  carries the sum reached at the sensor's published state, so the recorder's
  next compile continues from it instead of booking the gap again (its reset
  rule applied to the move from that state to the meter's reading: after a
  reset in the gap the sensor may still show the old value). The public API
  imports hourly rows only; that row goes through the recorder's own import
  task with the short-term table;
* otherwise the gap waits (its records stay buffered) for the recorder's first
  row after it;
* the sums are clamped between the neighbours' sums and never decrease, so no
  bar is negative even where a reset lost energy on the meter side.

Idempotent: hours with rows are never written, the log is read only when its
record total moved, and the buffer and total are kept in a ``Store``, so a
restart reads only the records taken while it was down.
"""

from __future__ import annotations

import asyncio
import logging
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from homeassistant.components.recorder.db_schema import StatisticsShortTerm
from homeassistant.components.recorder.models import StatisticData, StatisticMetaData
from homeassistant.components.recorder.statistics import (
    async_import_statistics,
    get_last_short_term_statistics,
    statistics_during_period,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from pyacurev.client import AcuRevClient
from pyacurev.datalog import (
    DataLogLayout,
    DataLogProbe,
    DataLogReader,
    DataLogRecord,
    probe_datalog,
    read_counters,
)
from pyacurev.energy_guard import EnergyGuard
from pyacurev.errors import AcuRevError
from pyacurev.layouts import Phase
from pyacurev.models import Snapshot
from pyacurev.points import Kind, Point, Quantity
from pyacurev.registers import ENTRY_SYSTEM, bank_entry_channel, bank_entry_user

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
# Bank entries 0-2 are the phases in this order (models.EnergyBank.phase).
PHASE_ENTRIES = (Phase.A, Phase.B, Phase.C)
HOUR = timedelta(hours=1)
FIVE_MIN = timedelta(minutes=5)
# Records older than this are dropped from the buffer even when their hours never settled.
KEEP = timedelta(days=11)


@dataclass(frozen=True, slots=True)
class Row:
    """One statistics row: start of its period, counter state and running sum."""

    start: datetime
    state: float
    sum: float
    period: timedelta = timedelta(hours=1)

    @property
    def end(self) -> datetime:
        """End of the row's period (its state is the counter there)."""
        return self.start + self.period


@dataclass(slots=True)
class Chain:
    """One channel's records as counter values ``L`` and guarded index ``E``."""

    times: list[datetime] = field(default_factory=list)
    counter: list[float] = field(default_factory=list)
    index: list[float] = field(default_factory=list)

    @classmethod
    def build(cls, points: Sequence[tuple[datetime, float]]) -> Chain:
        """Judge the counter exactly like the sensor's guard; E grows by what it believes.

        The guard holds a low or high reading back until it is confirmed (a reset must be
        seen counting up for minutes). Live, the held energy shows when it is confirmed;
        here the whole history is known, so the held records on the confirmed level are
        put back where they were taken and each hour gets the energy of its own records.
        ``points`` must be in time order (the buffer is kept sorted).
        """
        chain = cls()
        guard = EnergyGuard()
        believed: float | None = None  # the last reading the guard believed
        held: list[tuple[datetime, float]] = []
        total = 0.0
        for when, value in points:
            t = when.timestamp()
            guard.update(value, t)
            if guard.at != t:  # held back (or refused): judged once the guard decides
                held.append((when, value))
                continue
            if believed is None:
                start = value  # E starts at 0 on the first believed record
            elif value >= believed:
                start = believed  # counting on: E grows by the difference
            else:
                start = 0.0  # a confirmed reset: the meter counted up from 0
            base, last = total, start
            for held_when, held_value in held:
                if last <= held_value <= value:  # on the confirmed level, in order
                    chain.times.append(held_when)
                    chain.counter.append(held_value)
                    chain.index.append(base + held_value - start)
                    last = held_value
            held = []
            total = base + value - start
            believed = value
            chain.times.append(when)
            chain.counter.append(value)
            chain.index.append(total)
        return chain

    def at(self, when: datetime) -> int | None:
        """Index of the record taken exactly at ``when``."""
        i = bisect_left(self.times, when)
        return i if i < len(self.times) and self.times[i] == when else None

    def last_at_or_before(self, when: datetime) -> int | None:
        """Index of the newest record not after ``when``."""
        i = bisect_right(self.times, when) - 1
        return i if i >= 0 else None

    def first_at_or_after(self, when: datetime) -> int | None:
        """Index of the oldest record not before ``when``."""
        i = bisect_left(self.times, when)
        return i if i < len(self.times) else None

    def covered_hours(self) -> list[datetime]:
        """Starts of the hours with a record on both boundaries (UTC-aware times)."""
        on_hour = {t for t in self.times if t.minute == 0 and t.second == 0}
        return sorted(t for t in on_hour if t + HOUR in on_hour)

    def sum_at_state(self, i: int, state: float) -> float:
        """Index value at the moment the counter read ``state``, near record ``i``."""
        # The state belongs to the same counting run when it is not far below the record.
        return self.index[i] + (state - self.counter[i])


def plan_gap(
    chain: Chain,
    hours: Sequence[datetime],
    before: Row | None,
    after: Row | None,
) -> list[Row]:
    """Rows for consecutive ``hours`` between the neighbouring rows ``before`` / ``after``."""
    if not hours:
        return []
    if after is not None:
        i = chain.last_at_or_before(after.end)
        if i is None:
            return []
        offset = after.sum - chain.sum_at_state(i, after.state)
    elif before is not None:
        i = chain.first_at_or_after(before.end)
        if i is None:
            return []
        # The energy between the row's last state and the record belongs to the gap.
        offset = before.sum - (chain.index[i] - max(0.0, chain.counter[i] - before.state))
    else:
        offset = 0.0
    low = before.sum if before is not None else float("-inf")
    high = after.sum if after is not None else float("inf")
    rows: list[Row] = []
    running = low
    for hour in hours:
        end = chain.at(hour + HOUR)
        if end is None:
            return rows
        value = min(max(chain.index[end] + offset, running), high)
        running = value
        rows.append(Row(hour, chain.counter[end], value))
    return rows


@dataclass(slots=True)
class ChannelResult:
    """What the runs imported into one statistic (diagnostics)."""

    statistic_id: str
    hours: int = 0
    first: str | None = None
    last: str | None = None
    kwh: float = 0.0
    pending_hours: int = 0
    continuation: bool = False


def _record_to_json(rec: DataLogRecord) -> dict[str, Any]:
    return {"t": rec.time.isoformat(), "e": {str(k): v for k, v in rec.energy_kwh.items()}}


def _record_from_json(raw: Any) -> DataLogRecord | None:
    try:
        return DataLogRecord(
            datetime.fromisoformat(raw["t"]), {int(k): float(v) for k, v in raw["e"].items()}
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


class Backfill:
    """Reads the meter's data log incrementally and fills the statistics' gaps.

    Records stay in a buffer until every hour they cover is settled (it has a
    row, Home Assistant's or an imported one) or they are older than
    ``KEEP``: a gap right after a restart waits for the recorder's first
    short-term row after it, the anchor that keeps the sums continuous.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        client: AcuRevClient,
        serial: str,
        points: Sequence[Point] = (),
    ) -> None:
        """Nothing is read until the first run."""
        self.hass = hass
        self.entry_id = entry_id
        self.client = client
        self.serial = serial
        self.points: Sequence[Point] = points
        self.probe: DataLogProbe | None = None
        self.reader: DataLogReader | None = None
        self.runs = 0
        self.imported: dict[str, ChannelResult] = {}
        self.last_error: str | None = None
        self._buffer: list[DataLogRecord] = []
        self._pending = False
        self._store = backfill_store(hass, serial)
        self._stored: dict[str, Any] = {}
        self._reported = False
        self._lock = asyncio.Lock()
        # Off until the sensors exist: set once the platforms are up.
        self.active = False

    async def async_load(self) -> None:
        """Restore the buffer and where the last run stopped reading."""
        self._stored = await self._store.async_load() or {}
        raw = self._stored.get("buffer")
        if isinstance(raw, list):
            self._buffer = [r for r in map(_record_from_json, raw) if r is not None]
        self._pending = bool(self._buffer)

    def _statistic_ids(self) -> dict[int, str]:
        """Bank entry -> statistic id of its import-energy sensor (registered ones only)."""
        registry = er.async_get(self.hass)
        out: dict[int, str] = {}
        for point in self.points:
            entry = import_bank_entry(point)
            if entry is None:
                continue
            entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{self.serial}_{point.key}")
            if entity_id is not None:
                out[entry] = entity_id
        return out

    async def async_run(self, current_kwh: Mapping[int, float]) -> None:
        """One slow-poll step: probe once, then read and import only when the log moved."""
        if not self.active:
            return
        async with self._lock:
            await self._run(current_kwh)

    async def _run(self, current_kwh: Mapping[int, float]) -> None:
        if "recorder" not in self.hass.config.components:
            return  # no long-term statistics to fill
        ids = self._statistic_ids()
        if not ids:
            return
        try:
            if self.probe is None:
                self.probe, layout = await probe_datalog(self.client)
                if not self.probe.usable or layout is None:
                    self._report_unusable()
                    return
                ir.async_delete_issue(self.hass, DOMAIN, f"datalog_unusable_{self.serial}")
                self.reader = self._new_reader(layout)
            if self.reader is None:
                return
            counters = await read_counters(self.client)
            records: list[DataLogRecord] = []
            if counters.total != self.reader.last_total:
                records = await self.reader.read_new(self.client, counters)
        except AcuRevError as err:
            # The log is optional; the next slow poll tries again.
            self.last_error = str(err)
            _LOGGER.debug("Data log of meter %s not read: %s", self.serial, err)
            return
        self.last_error = None
        if not records and not self._pending:
            return
        self.runs += 1
        known = {r.time for r in self._buffer}
        self._buffer += [r for r in records if r.time not in known]
        self._buffer.sort(key=lambda r: r.time)
        settled_before = await self._import(ids, current_kwh)
        # Keep the record on the oldest unsettled boundary and everything after it.
        horizon = dt_util.utcnow() - KEEP
        tz = dt_util.get_default_time_zone()
        self._buffer = [
            r
            for r in self._buffer
            if dt_util.as_utc(r.time.replace(tzinfo=tz)) >= max(settled_before, horizon)
        ] or self._buffer[-1:]
        await self._save()

    def _new_reader(self, layout: DataLogLayout) -> DataLogReader:
        total = self._stored.get("total")
        reader = DataLogReader(layout)
        if isinstance(total, int) and self._buffer:
            reader.last_total = total
        return reader

    def _report_unusable(self) -> None:
        if self._reported or self.probe is None:
            return
        self._reported = True
        _LOGGER.warning(
            "Meter %s: its data log cannot fill energy history (%s: %s); nothing is imported",
            self.serial,
            self.probe.status,
            self.probe.detail,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"datalog_unusable_{self.serial}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="datalog_unusable",
            translation_placeholders={
                "serial": self.serial,
                "status": self.probe.status,
                "detail": self.probe.detail,
            },
        )

    async def _save(self) -> None:
        await self._store.async_save(
            {
                "total": self.reader.last_total if self.reader else None,
                "buffer": [_record_to_json(r) for r in self._buffer],
            }
        )

    async def _import(self, ids: Mapping[int, str], current_kwh: Mapping[int, float]) -> datetime:
        """Import every channel's settled gaps; returns the oldest boundary still needed."""
        tz = dt_util.get_default_time_zone()
        needed = dt_util.utcnow()
        self._pending = False
        for entry, statistic_id in ids.items():
            points = [
                (dt_util.as_utc(r.time.replace(tzinfo=tz)), r.energy_kwh[entry])
                for r in self._buffer
                if entry in r.energy_kwh
            ]
            chain = Chain.build(points)
            if len(chain.times) < 2:
                continue
            waiting = await self._import_channel(chain, statistic_id, current_kwh.get(entry))
            if waiting is not None:
                self._pending = True
                needed = min(needed, waiting)
        return needed

    async def _import_channel(
        self, chain: Chain, statistic_id: str, current: float | None
    ) -> datetime | None:
        """Import what can be settled now; returns the first hour still waiting (or None)."""
        now = dt_util.utcnow()
        hours = [h for h in chain.covered_hours() if h + HOUR <= now]
        result = self.imported.setdefault(statistic_id, ChannelResult(statistic_id))
        if not hours:
            return None
        instance = get_instance(self.hass)
        hourly = await instance.async_add_executor_job(
            _rows, self.hass, hours[0] - HOUR, hours[-1] + 2 * HOUR, statistic_id, "hour"
        )
        short = await instance.async_add_executor_job(
            _rows, self.hass, hours[0], None, statistic_id, "5minute"
        )
        latest_short = await instance.async_add_executor_job(_last_short, self.hass, statistic_id)
        have = {row.start for row in hourly}
        to_import: list[Row] = []
        waiting: datetime | None = None
        result.pending_hours = 0
        gaps = _gaps([h for h in hours if h not in have])
        base_start = _continuation_start()
        for n, gap in enumerate(gaps):
            before: Row | None = next((r for r in reversed(hourly) if r.start < gap[0]), None)
            if (
                latest_short is not None
                and latest_short.start < gap[0]
                and (before is None or latest_short.end > before.end)
            ):
                before = latest_short
            after = next((r for r in short if r.start >= gap[-1] + HOUR), None)
            if after is not None:
                to_import += plan_gap(chain, gap, before, after)
                continue
            # Nothing compiled after the gap yet. Only the last gap can be continued,
            # and only before the recorder compiles the period just ended.
            ahead = latest_short is not None and latest_short.start >= base_start
            if n == len(gaps) - 1 and current is not None and not ahead:
                rows = plan_gap(chain, gap, before, None)
                base = self._continuation(chain, rows, statistic_id, current, base_start)
                if base is not None:
                    to_import += rows
                    self._import_short(statistic_id, base)
                    result.continuation = True
                    continue
            waiting = gap[0] if waiting is None else min(waiting, gap[0])
            result.pending_hours += len(gap)
        if to_import:
            async_import_statistics(
                self.hass,
                _metadata(statistic_id),
                [
                    cast("StatisticData", {"start": r.start, "state": r.state, "sum": r.sum})
                    for r in to_import
                ],
            )
            self._account(result, hourly, to_import)
        return waiting

    @staticmethod
    def _account(result: ChannelResult, hourly: Sequence[Row], rows: Sequence[Row]) -> None:
        result.hours += len(rows)
        first, last = rows[0].start.isoformat(), rows[-1].start.isoformat()
        result.first = min(result.first or first, first)
        result.last = max(result.last or last, last)
        by_start = {r.start: r for r in [*hourly, *rows]}
        for r in rows:
            prev = by_start.get(r.start - HOUR)
            if prev is not None:
                result.kwh = round(result.kwh + r.sum - prev.sum, 3)

    def _continuation(
        self,
        chain: Chain,
        rows: Sequence[Row],
        statistic_id: str,
        current: float,
        start: datetime,
    ) -> Row | None:
        """The short-term row the recorder's next compile continues from.

        Its state is what the sensor publishes now (the compile compares the next
        state with it) and its sum is chosen so that the recorder, applying its
        own rules to the move from that state to the meter's present reading,
        lands on the sum the log says: after a reset in the gap the sensor may
        still show the value from before it, and the recorder then books the
        new reading from zero.
        """
        if not rows:
            return None
        last = len(chain.times) - 1
        end = chain.at(rows[-1].start + HOUR)
        if end is None:
            return None
        state = self.hass.states.get(statistic_id)
        try:
            published = float(state.state) if state is not None else current
        except ValueError:
            published = current
        at_last = rows[-1].sum + (chain.index[last] - chain.index[end])
        grown = current - chain.counter[last]
        # A reading below the last record is a reset after it: counted from zero.
        at_current = at_last + (grown if grown >= 0 else current)
        base = at_current - added_by_compile(published, current)
        return Row(start, published, round(base, 6), FIVE_MIN)

    def _import_short(self, statistic_id: str, row: Row) -> None:
        # The public API imports hourly rows only; the recorder's own import task
        # takes the table, which is how a short-term row gets in.
        stats = [cast("StatisticData", {"start": row.start, "state": row.state, "sum": row.sum})]
        get_instance(self.hass).async_import_statistics(
            _metadata(statistic_id), stats, StatisticsShortTerm
        )

    def as_dict(self) -> dict[str, Any]:
        """Diagnostics: the probe, the reader and what was imported."""
        return {
            "probe": self.probe.as_dict() if self.probe else None,
            "runs": self.runs,
            "last_total": self.reader.last_total if self.reader else None,
            "records_lost_to_ring": self.reader.lost if self.reader else 0,
            "records_garbled": self.reader.garbled if self.reader else 0,
            "buffered_records": len(self._buffer),
            "last_error": self.last_error,
            "imported": {
                sid: {
                    "hours": r.hours,
                    "first": r.first,
                    "last": r.last,
                    "kwh": r.kwh,
                    "pending_hours": r.pending_hours,
                    "continuation": r.continuation,
                }
                for sid, r in self.imported.items()
            },
        }


def backfill_store(hass: HomeAssistant, serial: str) -> Store[dict[str, Any]]:
    """Where a meter's buffer and record total are kept."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.backfill.{serial}")


def import_kwh_by_entry(snapshot: Snapshot | None) -> dict[int, float]:
    """Each bank entry's import kWh in a slow-poll snapshot (empty when it has no energy)."""
    if snapshot is None or snapshot.energy is None or snapshot.energy.import_active is None:
        return {}
    return dict(enumerate(snapshot.energy.import_active.values))


def import_bank_entry(point: Point) -> int | None:
    """The import-energy bank entry a real-time import-energy counter shows (None: other)."""
    if point.kind is not Kind.COUNTER or point.quantity is not Quantity.ENERGY:
        return None
    if point.key != "import_energy" and not point.key.endswith("_import_energy"):
        return None
    if point.key.startswith(("this_month", "last_month", "tou_")):
        return None
    if point.channel is not None:
        return bank_entry_channel(point.channel)
    if point.user is not None:
        return bank_entry_user(point.user)
    if point.phase is not None:
        return PHASE_ENTRIES.index(point.phase)
    return ENTRY_SYSTEM


def added_by_compile(published: float, current: float) -> float:
    """What the recorder adds when the sensor's state moves ``published`` -> ``current``."""
    if current >= published:
        return current - published
    # The recorder's rule for total_increasing: a drop of more than 10 % is a new cycle.
    return current if current < 0.9 * published else current - published


def _continuation_start() -> datetime:
    """Start of the 5-minute period that has just ended."""
    now = dt_util.utcnow().replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % 5) - FIVE_MIN


def _gaps(hours: Sequence[datetime]) -> list[list[datetime]]:
    out: list[list[datetime]] = []
    for hour in hours:
        if out and out[-1][-1] + HOUR == hour:
            out[-1].append(hour)
        else:
            out.append([hour])
    return out


def _metadata(statistic_id: str) -> StatisticMetaData:
    meta: dict[str, Any] = {
        "source": "recorder",
        "statistic_id": statistic_id,
        "unit_of_measurement": UnitOfEnergy.KILO_WATT_HOUR,
        "has_sum": True,
        "name": None,
    }
    annotations = getattr(StatisticMetaData, "__annotations__", {})
    if "mean_type" in annotations:
        from homeassistant.components.recorder.models import (
            StatisticMeanType,  # type: ignore[attr-defined,unused-ignore]
        )

        meta["mean_type"] = StatisticMeanType.NONE
    else:
        meta["has_mean"] = False
    if "unit_class" in annotations:
        meta["unit_class"] = "energy"
    return cast("StatisticMetaData", meta)


def _rows(
    hass: HomeAssistant,
    start: datetime,
    end: datetime | None,
    statistic_id: str,
    period: str,
) -> list[Row]:
    length = HOUR if period == "hour" else FIVE_MIN
    stats = statistics_during_period(
        hass,
        start,
        end,
        {statistic_id},
        period,  # type: ignore[arg-type]
        None,
        {"state", "sum"},
    )
    return [_row(r, length) for r in stats.get(statistic_id, []) if r.get("sum") is not None]


def _last_short(hass: HomeAssistant, statistic_id: str) -> Row | None:
    stats = get_last_short_term_statistics(hass, 1, statistic_id, True, {"state", "sum"})
    rows = [_row(r, FIVE_MIN) for r in stats.get(statistic_id, []) if r.get("sum") is not None]
    return rows[0] if rows else None


def _row(raw: Mapping[str, Any], period: timedelta) -> Row:
    start = raw["start"]
    when = (
        dt_util.utc_from_timestamp(start)
        if isinstance(start, (int, float))
        else dt_util.as_utc(start)
    )
    return Row(when, float(raw.get("state") or 0.0), float(raw["sum"]), period)

"""The time-of-use programme (0x1400-0x15E9) evaluated against the meter clock.

Rules (the vendor's evaluation order is not public, so this is DESIGNED):

1. a date listed among the first ``tou_holiday_count`` holidays uses that holiday's schedule;
2. otherwise a weekend day (``tou_weekend_days``, bit0 = Sunday) uses
   ``tou_weekend_schedule`` when it is not 0;
3. otherwise the season in force: the last of the first ``tou_season_count``
   seasons whose start (month, day) is on or before the date, wrapping to the
   year's last season before the first start;
4. within the schedule, the last of its first ``tou_segment_count`` segments
   whose start (hour, minute) is on or before the time; before the first start
   the day's last segment applies (the programme repeats daily).

All-zero records are unused. An invalid schedule id falls back to schedule 1
and an invalid tariff to 4 (normal).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .config import ConfigStore

SHARP, PEAK, VALLEY, NORMAL = 1, 2, 3, 4
TARIFF_NAMES: dict[int, str] = {SHARP: "sharp", PEAK: "peak", VALLEY: "valley", NORMAL: "normal"}
SEGMENT_REGS_PER_SCHEDULE = 42
MAX_SEASONS, MAX_SCHEDULES, MAX_SEGMENTS, MAX_HOLIDAYS = 14, 8, 14, 30


def _triples(cfg: ConfigStore, key: str, start: int, count: int) -> list[tuple[int, int, int]]:
    regs = cfg.get(key)
    out = []
    for i in range(count):
        a, b, c = regs[start + 3 * i : start + 3 * i + 3]
        if a or b or c:
            out.append((a, b, c))
    return out


def _clamp(value: int, high: int) -> int:
    return max(0, min(value, high))


def schedule_for(cfg: ConfigStore, day: date) -> int:
    """Schedule id (1-8) in force on ``day``."""
    holidays = _triples(cfg, "tou_holiday", 0, _clamp(cfg.value("tou_holiday_count"), MAX_HOLIDAYS))
    for month, dom, sched in holidays:
        if (month, dom) == (day.month, day.day):
            return _valid_schedule(sched)
    weekend = cfg.value("tou_weekend_schedule")
    sunday_first = (day.weekday() + 1) % 7
    if weekend and (cfg.value("tou_weekend_days") >> sunday_first) & 1:
        return _valid_schedule(weekend)
    seasons = sorted(
        _triples(cfg, "tou_season", 0, _clamp(cfg.value("tou_season_count"), MAX_SEASONS))
    )
    if not seasons:
        return 1
    active = seasons[-1][2]
    for month, dom, sched in seasons:
        if (month, dom) <= (day.month, day.day):
            active = sched
    return _valid_schedule(active)


def _valid_schedule(sched: int) -> int:
    return sched if 1 <= sched <= MAX_SCHEDULES else 1


def segments(cfg: ConfigStore, schedule: int) -> list[tuple[int, int]]:
    """(start minute of day, tariff) of a schedule's segments, in time order."""
    count = _clamp(cfg.value("tou_segment_count"), MAX_SEGMENTS)
    triples = _triples(
        cfg, "tou_schedule_segment", (schedule - 1) * SEGMENT_REGS_PER_SCHEDULE, count
    )
    return sorted((h * 60 + m, t if t in TARIFF_NAMES else NORMAL) for h, m, t in triples)


def tariff_at(cfg: ConfigStore, when: datetime) -> int:
    """Tariff 1-4 (sharp, peak, valley, normal) in force at ``when``."""
    segs = segments(cfg, schedule_for(cfg, when.date()))
    if not segs:
        return NORMAL
    minute = when.hour * 60 + when.minute
    tariff = segs[-1][1]
    for start, seg_tariff in segs:
        if start <= minute:
            tariff = seg_tariff
    return tariff


def next_change(cfg: ConfigStore, when: datetime) -> datetime:
    """The first instant after ``when`` at which the tariff may change (a segment or midnight)."""
    midnight = datetime.combine(when.date(), datetime.min.time())
    for start, _ in segments(cfg, schedule_for(cfg, when.date())):
        at = midnight + timedelta(minutes=start)
        if at > when:
            return at
    return midnight + timedelta(days=1)

"""Invariants of the backfill's hour plan (pure functions; hypothesis, bounded).

For any counter sequence on the 15-minute grid - growth, glitches, resets - and
any neighbouring rows: the planned sums never decrease, stay between the
neighbours' sums, and without a reset the hour's growth is the counter's.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.acurev.backfill import HOUR, Chain, Row, added_by_compile, plan_gap

T0 = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)

steps = st.lists(
    st.one_of(
        st.integers(0, 30).map(lambda n: ("grow", n / 10)),
        st.just(("reset", 0.0)),
        st.just(("glitch", 0.0)),
    ),
    min_size=8,
    max_size=40,
)


def counters(plan: list[tuple[str, float]]) -> list[float]:
    value, out = 1000.0, []
    for kind, amount in plan:
        if kind == "reset":
            value = 0.0
        if kind == "glitch":
            out.append(round(value / 3, 1))  # one low sample; the next is back on track
            continue
        value = round(value + amount, 1)
        out.append(value)
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps,
    st.one_of(st.none(), st.floats(-50, 50)),
    st.one_of(st.none(), st.floats(0, 500)),
)
def test_planned_sums_never_fall_and_stay_between_the_neighbours(
    plan: list[tuple[str, float]], before_sum: float | None, after_extra: float | None
) -> None:
    """Planned sums never fall, stay between the neighbour rows and book plain growth exactly."""
    values = counters(plan)
    chain = Chain.build([(T0 + i * QUARTER, v) for i, v in enumerate(values)])
    hours = chain.covered_hours()
    before = None if before_sum is None else Row(T0 - HOUR, values[0], before_sum)
    after = None
    if after_extra is not None and hours:
        low = before_sum if before_sum is not None else 0.0
        after = Row(hours[-1] + HOUR, values[-1], low + after_extra, timedelta(minutes=5))
    rows = plan_gap(chain, hours, before, after)
    sums = [r.sum for r in rows]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(sums))
    if before is not None:
        assert all(s >= before.sum - 1e-9 for s in sums)
    if after is not None:
        assert all(s <= after.sum + 1e-9 for s in sums)
    if before is not None and after is None and not any(k != "grow" for k, _ in plan):
        # Plain growth: each hour books exactly what the counter grew in it.
        by_time = dict(zip(chain.times, chain.counter, strict=True))
        for prev, row in itertools.pairwise(rows):
            grown = by_time[row.start + HOUR] - by_time[row.start]
            assert row.sum - prev.sum == pytest.approx(grown, abs=1e-6)


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_added_by_compile_follows_the_recorder_rule(published: float, current: float) -> None:
    """A drop below 90% restarts the count from zero; growth and smaller dips book the change."""
    added = added_by_compile(published, current)
    if current >= published:
        assert added == current - published
    elif current < 0.9 * published:
        assert added == current  # a new cycle: counted from zero
    else:
        assert added == current - published  # a dip: the recorder books it negative

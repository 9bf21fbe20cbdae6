"""The energy guard alone: what it publishes for each kind of reading."""

from __future__ import annotations

import math

import pytest

from pyacurev.energy_guard import EnergyGuard

pytestmark = pytest.mark.protocol  # pure Python, no Home Assistant needed


def test_rising_values_pass_through() -> None:
    guard = EnergyGuard()
    assert [guard.update(v) for v in (1.0, 1.5, 1.5, 2.0)] == [1.0, 1.5, 1.5, 2.0]


@pytest.mark.parametrize("bad", [None, -1.0, math.nan, math.inf])
def test_unusable_readings_keep_the_last_value(bad: float | None) -> None:
    guard = EnergyGuard()
    guard.update(10.0)
    assert guard.update(bad) == 10.0
    assert guard.update(11.0) == 11.0


def test_single_dip_is_ignored() -> None:
    guard = EnergyGuard()
    guard.update(1000.0)
    assert guard.update(0.0) == 1000.0  # a lone zero: the classic spike cause
    assert guard.update(1000.5) == 1000.5
    assert guard.ignored == 1


def test_reset_confirmed_by_a_second_reading() -> None:
    guard = EnergyGuard()
    guard.update(1000.0)
    assert guard.update(0.2) == 1000.0
    assert guard.update(0.4) == 0.4  # counting up again from the reset


def test_two_unrelated_low_readings_are_not_a_reset() -> None:
    guard = EnergyGuard()
    guard.update(1000.0)
    assert guard.update(500.0) == 1000.0
    assert guard.update(100.0) == 1000.0  # lower than the first low one: still a glitch


def test_announced_reset_is_accepted_at_once() -> None:
    guard = EnergyGuard()
    guard.update(1000.0)
    guard.expect_reset()
    assert guard.update(0.0) == 0.0
    assert guard.update(999.0) == 999.0


@pytest.mark.parametrize(
    ("restored", "expected"), [(50.0, 50.0), (None, None), (-3.0, None), (math.nan, None)]
)
def test_restore(restored: float | None, expected: float | None) -> None:
    guard = EnergyGuard()
    guard.restore(restored)
    assert guard.value == expected

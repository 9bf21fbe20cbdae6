"""States carry the meter's resolution, not the noise of float32 -> float64 -> W."""

from __future__ import annotations

import math
import struct

import pytest
from homeassistant.core import HomeAssistant

from custom_components.acurev.descriptions import meter_resolution
from pyacurev.points import Quantity

from .helpers import number, state


def _f32(value: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


@pytest.mark.parametrize("kw", [1.2, 0.3, 7.77, 123.456, 0.001])
def test_float32_noise_is_removed(kw: float) -> None:
    """Float32 noise in kW -> W values is rounded away to the meter's resolution."""
    noisy = _f32(kw) * 1000  # what the decoder and the kW -> W step produce
    assert meter_resolution(noisy, Quantity.ACTIVE_POWER) == pytest.approx(kw * 1000, abs=1e-9)
    assert repr(meter_resolution(noisy, Quantity.ACTIVE_POWER)) == repr(round(kw * 1000, 6))


def test_the_issue_value() -> None:
    """The 1200.0000476837158 W that a 1.2 kW reading became is published as 1200.0."""
    assert _f32(1.2) * 1000 == 1200.0000476837158  # the state the issue saw
    assert meter_resolution(_f32(1.2) * 1000, Quantity.ACTIVE_POWER) == 1200.0


def test_counted_values_are_left_exact() -> None:
    """Energy and counts keep every digit; None, booleans and NaN pass through unchanged."""
    # 0.1 kWh steps of a uint32: 7 significant digits would cut 1234567.8 to 1234568.
    assert meter_resolution(1234567.8, Quantity.ENERGY) == 1234567.8
    assert meter_resolution(12345678, Quantity.COUNT) == 12345678
    assert meter_resolution(None, Quantity.VOLTAGE) is None
    assert meter_resolution(True, Quantity.STATE) is True
    assert math.isnan(meter_resolution(math.nan, Quantity.VOLTAGE))  # type: ignore[arg-type]


async def test_power_state_has_no_float_noise(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """A 1.2 kW channel load shows as exactly 1200.0 W in the entity state."""
    meter = simulator.meter
    meter.set_channel_load(1, 1.2, 0.0)
    await loaded_entry.runtime_data.fast.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "sensor", meter.serial, "ch01_active_power").state == "1200.0"
    assert number(hass, "sensor", meter.serial, "ch01_active_power") == 1200.0

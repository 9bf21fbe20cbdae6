"""Entities per wiring mode and build; values equal the simulator's ground truth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from custom_components.acurev.const import DOMAIN
from pyacurev.layouts import Phase, Wiring, circuits, user_inputs
from pyacurev.registers import (
    ENTRY_SYSTEM,
    bank_entry_channel,
    bank_entry_user,
)

from .conftest import SimFactory, entry_for, setup_entry
from .helpers import number, state

REL = 1e-5  # float32 on the wire: about 7 significant digits


def _unique_ids(hass: HomeAssistant, entry_id: str) -> set[str]:
    return {e.unique_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry_id)}


async def test_one_device_with_identity(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """One device per meter, carrying its serial, model, build and firmware/hardware versions."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), loaded_entry.entry_id)
    assert len(devices) == 1
    device = devices[0]
    meter = simulator.meter
    assert device.identifiers == {(DOMAIN, meter.serial)}
    assert device.manufacturer == "Accuenergy"
    assert device.model == "AcuRev 2020"
    assert device.model_id == "2020-CT-18"  # the build: CT inputs, 18 channels
    assert device.serial_number == meter.serial
    fw, hw = meter.firmware_version, meter.hardware_version
    assert device.sw_version == f"{fw // 100}.{fw % 100:02d}"
    assert device.hw_version == f"{hw // 100}.{hw % 100:02d}"


@pytest.mark.usefixtures("all_entities_enabled")  # power factor starts disabled
async def test_channel_values_equal_ground_truth(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Each channel's power, current, power factor and energy equal the simulator's values."""
    meter = simulator.meter
    serial = meter.serial
    for ch in range(1, 19):
        truth = meter.channel(ch)
        key = f"ch{ch:02d}"
        assert number(hass, "sensor", serial, f"{key}_active_power") == pytest.approx(
            truth.active_power * 1000, rel=REL, abs=1e-3
        )
        assert number(hass, "sensor", serial, f"{key}_current") == pytest.approx(
            truth.current, rel=REL, abs=1e-6
        )
        assert number(hass, "sensor", serial, f"{key}_power_factor") == pytest.approx(
            truth.power_factor, rel=REL, abs=1e-6
        )
        entry = bank_entry_channel(ch)
        assert number(hass, "sensor", serial, f"{key}_import_energy") == pytest.approx(
            meter.energy_counts("import_active", entry) / 10
        )
        assert number(hass, "sensor", serial, f"{key}_export_energy") == pytest.approx(
            meter.energy_counts("export_active", entry) / 10
        )


async def test_system_and_user_values_equal_ground_truth(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Frequency, voltages, system and user-circuit values equal the simulator's channels."""
    meter = simulator.meter
    serial = meter.serial
    assert number(hass, "sensor", serial, "frequency") == pytest.approx(meter.frequency, rel=REL)
    for phase in Phase:
        assert number(hass, "sensor", serial, f"voltage_{phase}") == pytest.approx(
            meter.voltage(phase), rel=REL
        )
    # Independent expectation: the system total is the sum of all channels.
    total_kw = sum(meter.channel(ch).active_power for ch in range(1, 19))
    assert number(hass, "sensor", serial, "active_power") == pytest.approx(
        total_kw * 1000, rel=1e-4
    )
    for user in range(1, 7):
        members = user_inputs(user, Wiring.THREE_LN)
        expected_kw = sum(meter.channel(ch).active_power for ch in members)
        assert number(hass, "sensor", serial, f"user{user}_active_power") == pytest.approx(
            expected_kw * 1000, rel=1e-4
        )
        assert number(hass, "sensor", serial, f"user{user}_import_energy") == pytest.approx(
            meter.energy_counts("import_active", bank_entry_user(user)) / 10
        )
        for phase, ch in zip((Phase.A, Phase.B, Phase.C), members, strict=True):
            assert number(hass, "sensor", serial, f"user{user}_current_{phase}") == pytest.approx(
                meter.channel(ch).current, rel=REL
            )


@pytest.mark.parametrize(
    ("wiring", "channels", "model"),
    [
        ("1LN", 18, "ct"),
        ("2LN", 18, "ct"),
        ("3LN", 9, "ct"),
        ("3LN", 18, "333mv"),
        ("1LN", 9, "333mv"),
    ],
)
async def test_entities_follow_wiring_and_build(
    hass: HomeAssistant, make_simulator: SimFactory, wiring: str, channels: int, model: str
) -> None:
    """Channel, user-circuit and harmonics entities exist only where wiring and build have them."""
    sim = await make_simulator(wiring=wiring, channels=channels, model=model)
    entry = await setup_entry(hass, entry_for(sim))
    assert entry.state is ConfigEntryState.LOADED
    serial = sim.meter.serial
    ids = _unique_ids(hass, entry.entry_id)
    for ch in range(1, 19):
        assert (f"{serial}_ch{ch:02d}_active_power" in ids) is (ch <= channels)
        assert (f"{serial}_ch{ch:02d}_import_energy" in ids) is (ch <= channels)
    wired = Wiring(wiring)
    expected_users = set() if wired is Wiring.ONE_LN else set(circuits(wired, channels))
    assert {u for u in range(1, 7) if f"{serial}_user{u}_active_power" in ids} == expected_users
    # 2LN circuits have two phases, 3LN three.
    for user in expected_users:
        assert (f"{serial}_user{user}_current_c" in ids) is (wired is Wiring.THREE_LN)
    assert (f"{serial}_thd_voltage_a" in ids) is (model == "333mv")
    assert (f"{serial}_ch01_thd" in ids) is (model == "333mv")
    for n in range(1, 9):
        assert f"{serial}_relay_{n}" in ids
        assert f"{serial}_di_{n}" in ids
    # Values of the last installed channel equal the ground truth in this build too.
    truth = sim.meter.channel(channels)
    assert number(hass, "sensor", serial, f"ch{channels:02d}_active_power") == pytest.approx(
        truth.active_power * 1000, rel=REL, abs=1e-3
    )


async def test_energy_and_power_sensors_fit_the_energy_dashboard(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """Energy sensors are total_increasing kWh and power sensors measurement W."""
    serial = simulator.meter.serial
    energy = state(hass, "sensor", serial, "ch05_import_energy")
    assert energy.attributes["device_class"] == "energy"
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["unit_of_measurement"] == "kWh"
    power = state(hass, "sensor", serial, "ch05_active_power")
    assert power.attributes["device_class"] == "power"
    assert power.attributes["state_class"] == "measurement"
    assert power.attributes["unit_of_measurement"] == "W"


async def test_noisy_entities_are_disabled_by_default(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """What few users chart starts disabled; power, current and energy start enabled."""
    registry = er.async_get(hass)
    serial = simulator.meter.serial
    for key in ("ch01_reactive_power", "ch01_power_factor", "user1_active_power_a"):
        eid = registry.async_get_entity_id("sensor", DOMAIN, f"{serial}_{key}")
        assert eid is not None, key
        assert registry.async_get(eid).disabled_by is er.RegistryEntryDisabler.INTEGRATION, key
    for key in ("ch01_active_power", "ch01_current", "ch01_import_energy", "user1_active_power"):
        eid = registry.async_get_entity_id("sensor", DOMAIN, f"{serial}_{key}")
        assert eid is not None, key
        assert registry.async_get(eid).disabled_by is None, key
    drift = registry.async_get_entity_id("sensor", DOMAIN, f"{serial}_clock_drift")
    assert registry.async_get(drift).entity_category is not None


async def test_clock_drift_follows_the_meter_clock(
    hass: HomeAssistant, simulator, loaded_entry
) -> None:
    """The clock-drift sensor shows how far the meter's clock is ahead of Home Assistant's."""
    meter = simulator.meter
    meter.clock = dt_util.now().replace(tzinfo=None) + timedelta(seconds=120)
    await loaded_entry.runtime_data.slow.async_refresh()
    await hass.async_block_till_done()
    assert number(hass, "sensor", meter.serial, "clock_drift") == pytest.approx(120, abs=3)


async def test_optional_groups_equal_ground_truth(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """Enabled demand, peak time, monthly, TOU and per-phase sensors equal the simulator's."""
    sim = await make_simulator(wiring="3LN", channels=18, model="333mv")
    meter = sim.meter
    meter.advance(1800)  # build up demand and a peak
    entry = await setup_entry(
        hass, entry_for(sim, demand=True, tou=True, monthly=True, harmonics=True, per_phase=True)
    )
    serial = meter.serial
    demand = meter.demand(ENTRY_SYSTEM)
    assert number(hass, "sensor", serial, "demand_active_power") == pytest.approx(
        demand.active * 1000, rel=REL
    )
    assert number(hass, "sensor", serial, "demand_peak_active_power") == pytest.approx(
        demand.peak_active.value * 1000, rel=REL
    )
    peak_time = dt_util.parse_datetime(
        state(hass, "sensor", serial, "demand_peak_active_power_time").state
    )
    # The meter's naive local time, published in HA's zone: the wall-clock reading matches.
    assert dt_util.as_local(peak_time).replace(tzinfo=None) == demand.peak_active.time
    assert number(hass, "sensor", serial, "this_month_import_energy") == pytest.approx(
        meter.energy_counts("this_month_import_kwh", ENTRY_SYSTEM) / 10
    )
    assert number(hass, "sensor", serial, "last_month_import_energy") == pytest.approx(
        meter.energy_counts("last_month_import_kwh", ENTRY_SYSTEM) / 10
    )
    for tariff in ("sharp", "peak", "valley", "normal"):
        assert number(hass, "sensor", serial, f"tou_{tariff}_import_energy") == pytest.approx(
            meter.energy_counts(f"tou_this_month_{tariff}_import_kwh", ENTRY_SYSTEM) / 10
        )
    assert number(hass, "sensor", serial, "import_energy_b") == pytest.approx(
        meter.energy_counts("import_active", 1) / 10
    )
    assert entry.runtime_data.device.is_333mv


def test_descriptions_publish_the_catalogue_units() -> None:
    """Every quantity's HA unit (UnitOf* enums) equals the unit the library catalogue publishes."""
    from custom_components.acurev.descriptions import STYLES
    from pyacurev.points import UNITS, Quantity

    assert set(STYLES) == set(Quantity) - {Quantity.STATE}
    for quantity, style in STYLES.items():
        assert style.unit == UNITS[quantity], quantity

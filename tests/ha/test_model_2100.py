"""A real Home Assistant (phcc) sets up a simulated AcuRev 2100 in each of its wiring types.

The simulator plays a 2100 (``family="2100"``) answering the vendor layout written
from the sources in ``acurev_simulator/firmware.py`` (users 7-9 at 0x2214, their
energy at 0x2538, angles at 0x3600), not from our table. The identity block is
designed, so it does not answer: the flow must find the model from the answers
(a 2100-only wiring code, or users 7-9 carrying load) or ask the user.

Ground truth comes from the simulator's physics, computed here independently of
our decoder: channel power from its load model, user power as the sum of the
member channels' power (the pairing typed below), energy from its integrator, and
each current's angle as its phase's voltage angle minus atan2(Q, P).
"""

from __future__ import annotations

import math

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from acurev_simulator import Simulator
from custom_components.acurev.const import CONF_MODEL, CONF_UNIT_ID, DOMAIN

from .conftest import HOST, SimFactory
from .helpers import number

REL = 1e-5
# Vendor phase order of the 0x0888 wiring types; channel n sits on phase A, B, C by
# ((n - 1) % 9) // 3 (the manual's wiring table), voltages at 0, 240, 120 degrees.
VOLTAGE_ANGLE = {0: 0.0, 1: 240.0, 2: 120.0}
# User circuits per wiring type on an 18-channel 2100, typed from the manual's table
# (users 1-6: n, n+3, n+6 / n+6, n+9, n+12) and our DESIGNED pairing of users 7-9.
THREE_INPUT = {1: (1, 4, 7), 2: (2, 5, 8), 3: (3, 6, 9), 4: (10, 13, 16), 5: (11, 14, 17)}
THREE_INPUT[6] = (12, 15, 18)
TWO_INPUT = {u: members[:2] for u, members in THREE_INPUT.items()}
TWO_INPUT |= {7: (7, 16), 8: (8, 17), 9: (9, 18)}
USERS = {
    "1LN": {},
    "2LN": TWO_INPUT,
    "3LN": THREE_INPUT,
    "HLD": THREE_INPUT,
    "2LL": TWO_INPUT,
    "2LN-NET": TWO_INPUT,
}
# The wiring types whose answers tell the model: 0x0888 codes 3-5, and 2LN through the
# load on users 7-9. In 1LN and 3LN (both models have them) the user chooses.
DETECTED = {"2LN", "HLD", "2LL", "2LN-NET"}


def current_angle(channel: int, p: float, q: float) -> float:
    if p == 0 and q == 0:
        return 0.0
    return (VOLTAGE_ANGLE[((channel - 1) % 9) // 3] - math.degrees(math.atan2(q, p))) % 360


async def add_2100(hass: HomeAssistant, sim: Simulator, wiring: str) -> config_entries.ConfigEntry:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: sim.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.FORM, result
    if wiring in DETECTED:
        assert result["step_id"] == "partial"  # no model question: the answers told it
    else:
        assert result["step_id"] == "model"
        assert "read zeros" in result["description_placeholders"]["reason"]
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_MODEL: "2100"}
        )
        assert result["step_id"] == "partial"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_MODEL] == "2100"
    return entry


@pytest.mark.parametrize("wiring", ["1LN", "2LN", "3LN", "HLD", "2LL", "2LN-NET"])
async def test_a_2100_in_each_wiring_type_equals_the_ground_truth(
    hass: HomeAssistant, make_simulator: SimFactory, wiring: str
) -> None:
    sim = await make_simulator(
        wiring=wiring, channels=18, map_profile="evidence", family="2100", frozen=True
    )
    meter = sim.meter
    entry = await add_2100(hass, sim, wiring)
    meter_id = entry.unique_id
    assert "angles" in entry.data["capabilities"]

    for ch in range(1, 19):
        r = meter.channel(ch)
        assert number(hass, "sensor", meter_id, f"ch{ch:02d}_active_power") == pytest.approx(
            r.active_power * 1000, rel=REL, abs=1e-3
        )
        assert number(hass, "sensor", meter_id, f"ch{ch:02d}_import_energy") == pytest.approx(
            math.floor(meter.energy_kwh("import_active", 3 + ch) * 10 + 1e-9) / 10
        )
        angle = current_angle(ch, r.active_power, r.reactive_power)
        assert number(hass, "sensor", meter_id, f"ch{ch:02d}_current_angle") == pytest.approx(
            round(angle, 1) % 360, abs=0.051
        )
    assert number(hass, "sensor", meter_id, "voltage_angle_b") == pytest.approx(240.0)
    assert number(hass, "sensor", meter_id, "voltage_angle_c") == pytest.approx(120.0)

    users = USERS[wiring]
    ids = {
        e.unique_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    made = {u for u in range(1, 10) if f"{meter_id}_user{u}_active_power" in ids}
    assert made == set(users)
    for u, members in users.items():
        power_kw = sum(meter.channel(ch).active_power for ch in members)
        assert number(hass, "sensor", meter_id, f"user{u}_active_power") == pytest.approx(
            power_kw * 1000, rel=REL, abs=1e-3
        )
        # Users 1-6 are bank entries 22-27; the simulator keeps the 2100's 7-9 as 28-30.
        entry_no = 21 + u
        kwh = meter.energy_kwh("import_active", entry_no)
        assert kwh == pytest.approx(
            sum(meter.energy_kwh("import_active", 3 + ch) for ch in members), rel=1e-9
        )
        assert number(hass, "sensor", meter_id, f"user{u}_import_energy") == pytest.approx(
            math.floor(kwh * 10 + 1e-9) / 10
        )
    if users and max(users) > 6:
        assert f"{meter_id}_user7_export_energy" not in ids  # no export entry for 7-9


async def test_a_2020_is_not_asked_and_gets_no_2100_points(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """The evidence 2020 refuses 0x2214 (exception 02): detected as a 2020, six users."""
    sim = await make_simulator(wiring="2LN", channels=18, map_profile="evidence", frozen=True)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: sim.port, CONF_UNIT_ID: 1}
    )
    assert result["step_id"] == "partial"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    entry = result["result"]
    assert entry.data[CONF_MODEL] == "2020"
    ids = {
        e.unique_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert f"{entry.unique_id}_user6_active_power" in ids
    assert f"{entry.unique_id}_user7_active_power" not in ids
    assert not any("angle" in i for i in ids)


async def test_a_333mv_2100_shows_its_power_quality_block(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """Odd/even THD per phase and channel, and each phase's voltage harmonics (0x3200)."""
    sim = await make_simulator(
        wiring="2LL", channels=18, model="333mv", map_profile="evidence", family="2100", frozen=True
    )
    meter = sim.meter
    entry = await add_2100(hass, sim, "2LL")
    meter_id = entry.unique_id
    assert "harmonics" in entry.data["capabilities"]
    registry = er.async_get(hass)
    for i, ph in enumerate("abc"):
        spectrum = meter.harmonics.voltage[i]  # orders 2..31 in % of the fundamental
        odd = math.sqrt(sum(h * h for order, h in enumerate(spectrum, 2) if order % 2))
        even = math.sqrt(sum(h * h for order, h in enumerate(spectrum, 2) if not order % 2))
        assert number(hass, "sensor", meter_id, f"odd_thd_voltage_{ph}") == pytest.approx(
            odd, abs=0.006
        )
        assert number(hass, "sensor", meter_id, f"even_thd_voltage_{ph}") == pytest.approx(
            even, abs=0.006
        )
        # the 90 harmonic orders exist, disabled until the user wants them
        eid = registry.async_get_entity_id("sensor", DOMAIN, f"{meter_id}_voltage_harmonic_5_{ph}")
        assert eid is not None
        assert registry.async_get(eid).disabled_by is not None
    assert f"{meter_id}_ch01_odd_thd" in {
        e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }

"""A real Home Assistant (phcc) against meters whose map differs from ours.

The simulator's ``evidence`` profile answers only evidence-backed addresses
(everything designed: exception 02); ``divergent`` answers our designed blocks
with zeros (identity) and garbage. Both lay the evidence blocks out from the
vendor sources, not from our table (``acurev_simulator/firmware.py``). The
integration must set the meter up through the real config flow, create
entities only for what answered, and show the simulator's ground truth.
"""

from __future__ import annotations

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from acurev_simulator import Simulator
from custom_components.acurev.const import CONF_CAPABILITIES, CONF_UNIT_ID, DOMAIN
from pyacurev.layouts import circuits
from pyacurev.registers import block

from .conftest import HOST, SimFactory
from .helpers import number, state

REL = 1e-5


async def add_through_flow(hass: HomeAssistant, sim: Simulator) -> config_entries.ConfigEntry:
    """The user's path: the config flow, the 'some blocks did not answer' step, set-up."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: sim.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == "partial"
    missing = result["description_placeholders"]["missing"]
    assert "device (exception 02)" in missing or "device (identity" in missing
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


def unique_ids(hass: HomeAssistant, entry_id: str) -> set[str]:
    return {e.unique_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry_id)}


@pytest.mark.parametrize(
    ("wiring", "model"),
    [("3LN", "ct"), ("2LN", "ct"), ("1LN", "ct"), ("3LN", "333mv")],
)
async def test_evidence_profile_sets_up_and_equals_ground_truth(
    hass: HomeAssistant, make_simulator: SimFactory, wiring: str, model: str
) -> None:
    """A meter answering only evidence-backed blocks is added by address and shows true values."""
    sim = await make_simulator(wiring=wiring, channels=18, model=model, map_profile="evidence")
    meter = sim.meter
    entry = await add_through_flow(hass, sim)
    meter_id = entry.unique_id
    assert meter_id == f"acurev-127-0-0-1-{sim.port}-1"  # no serial answered: fallback id
    caps = set(entry.data[CONF_CAPABILITIES])
    assert {"system", "channels", "energy", "io", "build", "demand", "clock"} <= caps
    assert not caps & {"device", "export_energy", "io_config", "log_status", "monthly", "tou"}
    assert ("users" in caps) == (wiring != "1LN")
    assert ("harmonics" in caps) == (model == "333mv")

    # all 18 channel power and import-energy sensors equal the ground truth
    for ch in range(1, 19):
        key = f"ch{ch:02d}"
        assert number(hass, "sensor", meter_id, f"{key}_active_power") == pytest.approx(
            meter.channel(ch).active_power * 1000, rel=REL, abs=1e-3
        )
        assert number(hass, "sensor", meter_id, f"{key}_import_energy") == pytest.approx(
            meter.energy_counts("import_active", 3 + ch) / 10
        )
    # users: totals from 0x21D8, per-phase from the member channels
    for u in circuits(meter.wiring, 18) if wiring != "1LN" else ():
        truth = meter.user(u)
        assert number(hass, "sensor", meter_id, f"user{u}_active_power") == pytest.approx(
            truth.active_power * 1000, rel=REL, abs=1e-3
        )
        assert number(hass, "sensor", meter_id, f"user{u}_import_energy") == pytest.approx(
            meter.energy_counts("import_active", 21 + u) / 10
        )
    assert number(hass, "sensor", meter_id, "frequency") == pytest.approx(meter.frequency)
    assert number(hass, "sensor", meter_id, "active_power") == pytest.approx(
        meter.system().totals.active * 1000, rel=REL
    )
    # exactly what the answering blocks carry: no entity for a designed block
    ids = unique_ids(hass, entry.entry_id)
    assert f"{meter_id}_ch01_import_energy" in ids
    assert f"{meter_id}_ch01_export_energy" not in ids  # export banks are designed
    assert f"{meter_id}_export_energy" not in ids
    assert f"{meter_id}_run_time" not in ids  # identity block
    assert not any(i.startswith(f"{meter_id}_alarm") for i in ids)  # alarm status designed
    assert f"{meter_id}_reset_energy" not in ids  # command registers are designed
    assert f"{meter_id}_relay_1" in ids  # relays/DIs are seed
    assert f"{meter_id}_import_reactive_energy" in ids  # 0x2B00, VERIFIED-2100
    assert f"{meter_id}_apparent_energy" in ids  # 0x2B38
    assert number(hass, "sensor", meter_id, "apparent_energy") == pytest.approx(
        meter.energy_counts("apparent", 3) / 10
    )


async def test_divergent_profile_sets_up_without_trusting_designed_data(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """Zeros and garbage in designed blocks are not taken for identity, energy or settings."""
    sim = await make_simulator(wiring="3LN", channels=18, map_profile="divergent")
    meter = sim.meter
    entry = await add_through_flow(hass, sim)
    meter_id = entry.unique_id
    caps = set(entry.data[CONF_CAPABILITIES])
    assert "device" not in caps  # zeros are no identity
    assert "export_energy" not in caps  # garbage is no energy
    assert not caps & {"monthly", "tou", "alarm_settings"}  # garbage banks and set-points
    assert {"system", "channels", "users", "energy", "demand", "build"} <= caps
    for ch in (1, 9, 18):
        assert number(hass, "sensor", meter_id, f"ch{ch:02d}_active_power") == pytest.approx(
            meter.channel(ch).active_power * 1000, rel=REL, abs=1e-3
        )


async def test_a_group_that_stops_answering_takes_only_its_entities_down(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """A block that starts refusing takes only its own entities down, until it answers again."""
    sim = await make_simulator(wiring="3LN", channels=18)
    entry = await add_full(hass, sim)
    meter_id = entry.unique_id
    assert meter_id == sim.meter.serial
    runtime = entry.runtime_data
    sim.faults.exceptions["user_record"] = 2
    await runtime.fast.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "sensor", meter_id, "user1_active_power").state == STATE_UNAVAILABLE
    assert state(hass, "sensor", meter_id, "ch01_active_power").state != STATE_UNAVAILABLE
    assert number(hass, "sensor", meter_id, "frequency") == pytest.approx(sim.meter.frequency)
    sim.faults.reset()
    await runtime.fast.async_refresh()
    await hass.async_block_till_done()
    assert number(hass, "sensor", meter_id, "user1_active_power") == pytest.approx(
        sim.meter.user(1).active_power * 1000, rel=REL, abs=1e-3
    )


async def add_full(hass: HomeAssistant, sim: Simulator) -> config_entries.ConfigEntry:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: sim.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: config_entries.ConfigEntry = result["result"]
    return entry


async def test_rescan_button_reprobes_and_diagnostics_carry_the_capability_set(
    hass: HomeAssistant, hass_client, make_simulator: SimFactory
) -> None:
    """Rescan drops a block that stopped answering; diagnostics show the new capabilities."""
    sim = await make_simulator(wiring="3LN", channels=18)
    entry = await add_full(hass, sim)
    meter_id = entry.unique_id
    ids = unique_ids(hass, entry.entry_id)
    assert f"{meter_id}_ch01_export_energy" in ids
    assert "export_energy" in entry.data[CONF_CAPABILITIES]
    # A firmware update stops answering the (designed) export banks: re-scan the meter.
    sim.faults.exceptions["export_active_energy_bank"] = 2
    button = er.async_get(hass).async_get_entity_id("button", DOMAIN, f"{meter_id}_rescan_meter")
    assert button is not None
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert "export_energy" not in entry.data[CONF_CAPABILITIES]
    assert not any(p.key == "ch01_export_energy" for p in entry.runtime_data.points)
    assert number(hass, "sensor", meter_id, "ch01_import_energy") == pytest.approx(
        sim.meter.energy_counts("import_active", 4) / 10
    )
    assert await async_setup_component(hass, "diagnostics", {})
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    caps = diag["capabilities"]
    assert "export_energy" not in caps["capabilities"]
    assert caps["groups"]["export_energy"] == "exception 02"
    assert caps["identified"] is True
    raw = diag["raw_registers"]  # as the meter last answered, no new read
    assert raw["export_active_energy_bank"] == "exception 02"
    assert isinstance(raw["channel_record"], list)
    assert len(raw["channel_record"]) == block("channel_record").count


async def test_a_meter_keyed_by_address_that_later_answers_a_serial_still_loads(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """A firmware update makes the identity block answer: same entry and ids, more entities."""
    from acurev_simulator.firmware import MapProfile

    sim = await make_simulator(wiring="3LN", channels=18, map_profile="evidence")
    entry = await add_through_flow(hass, sim)
    meter_id = entry.unique_id
    assert "device" not in entry.data[CONF_CAPABILITIES]
    sim.meter.map_profile = MapProfile.FULL
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == meter_id  # the id (and the entities' history) is kept
    assert "device" in entry.data[CONF_CAPABILITIES]
    assert f"{meter_id}_ch01_export_energy" in unique_ids(hass, entry.entry_id)
    assert number(hass, "sensor", meter_id, "ch01_active_power") == pytest.approx(
        sim.meter.channel(1).active_power * 1000, rel=REL, abs=1e-3
    )

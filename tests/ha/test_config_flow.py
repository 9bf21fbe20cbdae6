"""Config, reconfigure and options flows: every error path and its recovery."""

from __future__ import annotations

import pytest
from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.acurev.const import (
    CONF_CAPABILITIES,
    CONF_MODEL,
    CONF_UNIT_ID,
    COUNTERS_INTERVAL,
    DOMAIN,
    READINGS_INTERVAL,
)

from .conftest import HOST, SimFactory, entry_for, free_port, setup_entry


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return result["flow_id"]


async def test_user_flow_creates_entry_keyed_by_serial(hass: HomeAssistant, simulator) -> None:
    """The user flow creates an entry keyed by serial, listing the groups the meter answered."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == simulator.meter.serial
    assert simulator.meter.serial in result["title"]
    data = dict(result["data"])
    capabilities = data.pop(CONF_CAPABILITIES)
    # the identity block says 2020: the model is detected, not asked, and stored
    assert data == {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1, CONF_MODEL: "2020"}
    # the full-profile CT meter answers every group it has (no harmonics on a CT build)
    assert "device" in capabilities
    assert "harmonics" not in capabilities
    assert {"system", "channels", "users", "energy", "io", "demand"} <= set(capabilities)


async def test_cannot_connect_then_recover(hass: HomeAssistant, simulator) -> None:
    """A port where nothing listens shows cannot_connect; the right port then creates the entry."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: free_port(), CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_silence_on_an_open_connection_is_a_wrong_unit_id(
    hass: HomeAssistant, simulator
) -> None:
    """A connection that opens but gets no answer is a wrong unit id; the flow then recovers."""
    simulator.faults.silent = True
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["errors"] == {"base": "wrong_unit_id"}
    simulator.faults.silent = False
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_gateway_exception_is_a_wrong_unit_id(hass: HomeAssistant, simulator) -> None:
    """A gateway exception for another unit id is a wrong unit id; unit 1 then creates the entry."""
    # The simulator answers other unit ids like a TCP gateway: exception 0x0B.
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 7}
    )
    assert result["errors"] == {"base": "wrong_unit_id"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_not_an_acurev_when_the_verified_core_refuses(hass: HomeAssistant, simulator) -> None:
    """A refused or implausible verified core is not an AcuRev; a sane meter is then added."""
    simulator.faults.exceptions["channel_record"] = 2
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["errors"] == {"base": "not_acurev"}
    simulator.faults.reset()
    simulator.meter.set_frequency(20.0)  # an implausible 0x2000 table is no core either
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["errors"] == {"base": "not_acurev"}
    simulator.meter.set_frequency(50.0)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("how", ["exception", "implausible"])
async def test_a_refused_identity_is_no_refusal(hass: HomeAssistant, simulator, how: str) -> None:
    """Serial and model are DESIGNED registers: the meter is added with a fallback id."""
    if how == "exception":
        simulator.faults.exceptions["serial_number"] = 2
    else:
        simulator.meter.device_model = 1234
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.FORM
    if how == "implausible":
        # model 1234, a 3LN wiring both models have, zeros at 0x2214: the user says which
        assert result["step_id"] == "model"
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_MODEL: "2020"})
    assert result["step_id"] == "partial"
    assert "device" in result["description_placeholders"]["missing"]
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MODEL] == "2020"
    assert result["result"].unique_id == f"acurev-127-0-0-1-{simulator.port}-1"
    assert "device" not in result["data"][CONF_CAPABILITIES]
    # the same meter cannot be added twice under its fallback id
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("port", "unit", "errors"),
    [
        (0, 1, {CONF_PORT: "invalid_port"}),
        (70000, 1, {CONF_PORT: "invalid_port"}),
        (502, 0, {CONF_UNIT_ID: "invalid_unit_id"}),
        (502, 248, {CONF_UNIT_ID: "invalid_unit_id"}),
    ],
)
async def test_invalid_port_or_unit(
    hass: HomeAssistant, simulator, port: int, unit: int, errors
) -> None:
    """Out-of-range fields are field errors; corrected, the flow creates the entry."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: port, CONF_UNIT_ID: unit}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_meter_twice_aborts(hass: HomeAssistant, simulator) -> None:
    """Adding an already configured meter again aborts as already_configured."""
    await setup_entry(hass, entry_for(simulator))
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: HOST, CONF_PORT: simulator.port, CONF_UNIT_ID: 1}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_to_new_port_of_same_meter(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """Reconfigure moves the entry to the same meter's new port, after an unreachable try."""
    old = await make_simulator(wiring="3LN", channels=18, serial="AR-SAME-0001")
    entry = await setup_entry(hass, entry_for(old))
    await old.stop()
    new = await make_simulator(wiring="3LN", channels=18, serial="AR-SAME-0001")

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    # First a port where nothing listens: error, the form stays.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: free_port()}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: new.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_PORT] == new.port
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_reconfigure_refuses_a_different_meter(
    hass: HomeAssistant, make_simulator: SimFactory
) -> None:
    """Reconfiguring to a port where another meter answers aborts and keeps the old port."""
    first = await make_simulator(wiring="3LN", channels=18, serial="AR-FIRST-001")
    other = await make_simulator(wiring="3LN", channels=18, serial="AR-OTHER-002")
    entry = await setup_entry(hass, entry_for(first))
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: other.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_meter"
    assert entry.data[CONF_PORT] == first.port


async def test_options_change_reloads_entry(hass: HomeAssistant, simulator) -> None:
    """Saving the options reloads the entry; old polling options are dropped, rates fixed."""
    entry = await setup_entry(hass, entry_for(simulator, scan_interval=7, energy_interval=30))
    assert entry.runtime_data.fast.update_interval == READINGS_INTERVAL  # old option ignored
    before = entry.runtime_data
    assert not any(p.key == "demand_active_power" for p in before.points)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "per_phase": True,
            "demand": True,
            "tou": False,
            "monthly": False,
            "harmonics": False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert "scan_interval" not in entry.options
    assert "energy_interval" not in entry.options
    # Reloaded: a new runtime, with the demand group polled.
    assert entry.runtime_data is not before
    assert entry.runtime_data.slow.update_interval == COUNTERS_INTERVAL
    assert any(p.key == "demand_active_power" for p in entry.runtime_data.points)

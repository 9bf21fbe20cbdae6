"""Fixtures: a real Home Assistant (phcc) against the simulator over loopback."""

from __future__ import annotations

import socket
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from acurev_simulator import Simulator
from custom_components.acurev.const import CONF_UNIT_ID, DOMAIN
from tests.conftest import HOST, SimFactory

__all__ = ["HOST", "SimFactory"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: Any) -> None:
    """Let Home Assistant load custom_components/acurev."""


@pytest.fixture(autouse=True)
def fast_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A silent meter should fail a test in a fraction of a second, not 5 s."""
    monkeypatch.setattr("custom_components.acurev.REQUEST_TIMEOUT", 0.5)
    monkeypatch.setattr("custom_components.acurev.config_flow.REQUEST_TIMEOUT", 0.5)


@pytest.fixture
async def simulator(make_simulator: SimFactory) -> Simulator:
    """An 18-channel 3LN meter, measurements frozen for exact comparisons."""
    return await make_simulator(wiring="3LN", channels=18)


def entry_for(sim: Simulator, **options: Any) -> MockConfigEntry:
    """A config entry pointing at ``sim``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"AcuRev {sim.meter.serial}",
        unique_id=sim.meter.serial,
        data={CONF_HOST: HOST, CONF_PORT: sim.port, CONF_UNIT_ID: 1},
        options=options,
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add and set up ``entry``; wait until everything settled."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, simulator: Simulator) -> MockConfigEntry:
    """The default simulator, set up in Home Assistant."""
    return await setup_entry(hass, entry_for(simulator))


def free_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def all_entities_enabled() -> Any:
    """Create disabled-by-default entities enabled, so their states can be checked.

    (Core's ``entity_registry_enabled_by_default`` fixture, which phcc 0.13.236 lacks.)"""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield

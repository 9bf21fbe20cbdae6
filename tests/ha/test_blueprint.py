"""The shipped blueprint imports cleanly and works against the simulator."""

from __future__ import annotations

import shutil
from pathlib import Path

from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import models
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import async_mock_service

from .helpers import device_id

BLUEPRINT = (
    Path(__file__).resolve().parents[2]
    / "blueprints"
    / "automation"
    / "acurev"
    / "alarm_notify.yaml"
)


def test_blueprint_validates() -> None:
    """The shipped blueprint passes Home Assistant's own blueprint validation."""
    blueprint = models.Blueprint(
        load_yaml_dict(str(BLUEPRINT)),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert set(blueprint.inputs) == {"meter", "alarm_channel", "actions"}


def _install(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)


async def test_blueprint_automation_runs(hass: HomeAssistant, simulator, loaded_entry) -> None:
    """An automation from the blueprint runs its action when the meter's alarm fires."""
    target = Path(hass.config.path("blueprints", "automation", "acurev"))
    await hass.async_add_executor_job(_install, target)
    calls = async_mock_service(hass, "test", "automation")
    meter = simulator.meter
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": "acurev/alarm_notify.yaml",
                    "input": {
                        "meter": device_id(hass, meter.serial),
                        "alarm_channel": 1,
                        "actions": [
                            {
                                "action": "test.automation",
                                "data": {"v": "{{ trigger.event.data.parameter }}"},
                            }
                        ],
                    },
                },
            }
        },
    )
    meter.set_frequency(61.0)  # alarm 3, not the chosen channel 1: no action
    meter.advance(3)
    await loaded_entry.runtime_data.fast.async_refresh()
    await hass.async_block_till_done()
    assert calls == []
    meter.set_voltage("a", 140.0)  # alarm 1: U1 over-voltage
    meter.advance(6)
    await loaded_entry.runtime_data.fast.async_refresh()
    await hass.async_block_till_done()
    assert [c.data["v"] for c in calls] == ["u1"]

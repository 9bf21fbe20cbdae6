"""The bridge exports an AcuRev 2100's extra points: users 7-9 and the phase angles.

A real Home Assistant runs the integration on a simulated 2100 (2LN: nine users);
the bridge reads it like any meter (keys through ``pyacurev.keys``, counts from
the points present). An independent BACnet client (bac-py) reads the objects and
the API lists the counts. Expected values come from the simulator's physics.
"""

from __future__ import annotations

import math
from pathlib import Path

import aiohttp
import pytest

from .api_support import TOKEN, auth
from .conftest import MeterFactory

DEGREES_PHASE = 14  # BACnet EngineeringUnits degrees-phase
WATTS = 47


@pytest.fixture
async def meter_2100(make_meter: MeterFactory):
    return await make_meter(
        sim_kwargs={"family": "2100", "wiring": "2LN", "serial": "AR2100-00000042"}
    )


async def test_bacnet_and_api_export_the_2100_points(
    meter_2100, make_config, start_bridge, bacnet_peer, tmp_path: Path
) -> None:
    token_file = tmp_path / "api-token"
    token_file.write_text(TOKEN + "\n")
    config = make_config(api={"enabled": True, "token_file": str(token_file)})
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    names = await peer.names()
    serial = meter_2100.serial
    truth = meter_2100.sim.meter

    def oid(key: str) -> str:
        return names[f"{serial}_{key}"]

    # user 9 = inputs 9 and 18 (our DESIGNED pairing of the 2100's users 7-9)
    user9_w = (truth.channel(9).active_power + truth.channel(18).active_power) * 1000
    ch5 = truth.channel(5)  # phase B: voltage at 240 degrees
    ch5_angle = (240.0 - math.degrees(math.atan2(ch5.reactive_power, ch5.active_power))) % 360
    wanted = {
        "user9_active_power": (WATTS, user9_w, 1e-6),
        "voltage_angle_b": (DEGREES_PHASE, 240.0, 1e-6),
        "ch05_current_angle": (DEGREES_PHASE, ch5_angle, 0.06),
    }
    result = await peer.client.read_multiple(
        peer.address, {oid(k): ["units", "present-value"] for k in wanted}
    )
    for key, (units, value, tol) in wanted.items():
        row = result[oid(key)]
        assert row["units"] == units, key
        assert row["present-value"] == pytest.approx(value, rel=tol, abs=tol), key
    assert f"{serial}_user9_import_energy" in names

    api = bridge.views["api"]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{api.url}/api/v1/meters", headers=auth()) as resp,
    ):
        body = await resp.json()
    (listed,) = [m for m in body["meters"] if m["serial"] == serial]
    assert listed["counts"]["users"] == 9
    assert listed["limits"]["users"] == 9
    assert listed["numbers"]["users"] == list(range(1, 10))

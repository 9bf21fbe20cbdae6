"""EDE export: the file set matches what the BACnet device serves."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from bacnet_bridge import cli
from bacnet_bridge.ede import COLUMNS, export


def _rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes().decode("utf-8")
    assert raw.endswith("\r\n")
    return [line.split(";") for line in raw.split("\r\n")[:-1]]


async def test_ede_file_set_matches_the_device(
    start_bridge, meter, make_config, bacnet_peer, tmp_path: Path
) -> None:
    config = make_config(bacnet={"device_name": "Plant Room", "device_instance": 4242})
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    served = await peer.names()
    await bridge.close()

    paths = await export(config, tmp_path / "ede")
    names = sorted(p.name for p in paths)
    assert names == [
        "Plant_Room_EDE.csv",
        "Plant_Room_ObjTypes.csv",
        "Plant_Room_StateTexts.csv",
        "Plant_Room_Units.csv",
    ]
    main = _rows(tmp_path / "ede" / "Plant_Room_EDE.csv")
    assert main[0][0].startswith("# Engineering-Data-Exchange")
    header = {row[0]: row[1] for row in main[1:6]}
    assert header["PROJECT_NAME"] == "Plant_Room"
    assert header["VERSION_OF_LAYOUT"] == "2.3"
    assert main[7] == ["# " + COLUMNS[0], *COLUMNS[1:]]
    body = main[8:]
    assert all(len(row) == 16 for row in body)
    device = body[0]
    assert device[1:5] == ["4242", "Plant Room", "8", "4242"]
    by_name = {row[2]: row for row in body[1:]}
    # Exactly the device's objects, with the same types and instance numbers.
    assert len(by_name) == len(served) - 2  # minus device and network port
    codes = {"analog-input": "0", "binary-input": "3", "binary-output": "4"}
    for name, row in by_name.items():
        kind, instance = served[name].split(",")
        assert (row[3], row[4]) == (codes[kind], instance), name

    power = by_name[f"{meter.serial}_ch01_active_power"]
    assert power[14] == "47"  # watts
    assert power[10] == "Y"  # supports COV
    assert power[15] == meter.entity_id("sensor", "ch01_active_power")
    assert by_name[f"{meter.serial}_ch01_import_energy"][14] == "19"  # kilowatt-hours
    relay = by_name[f"{meter.serial}_relay_1"]
    assert relay[9] == "N"  # relay commands not allowed here
    di = by_name[f"{meter.serial}_di_1"]
    texts = {row[0]: row[1:] for row in _rows(tmp_path / "ede" / "Plant_Room_StateTexts.csv")[2:]}
    assert texts[di[13]] == ["open", "closed"]
    assert texts[relay[13]] == ["off", "on"]
    units = {row[0]: row[1] for row in _rows(tmp_path / "ede" / "Plant_Room_Units.csv")[2:]}
    assert units["47"] == "watts"
    assert units["19"] == "kilowatt-hours"
    types = {row[0]: row[1] for row in _rows(tmp_path / "ede" / "Plant_Room_ObjTypes.csv")[2:]}
    assert types["4"] == "binary-output"


async def test_ede_before_the_bridge_ever_ran_numbers_like_the_bridge(
    ha_server, meter, make_config, start_bridge, bacnet_peer, tmp_path: Path
) -> None:
    config = make_config(bacnet={"allow_relay_commands": True})
    await export(config, tmp_path / "ede", project="first")
    rows = {row[2]: row for row in _rows(tmp_path / "ede" / "first_EDE.csv")[9:]}
    assert rows[f"{meter.serial}_relay_1"][9] == "Y"
    await start_bridge(config)
    peer = await bacnet_peer(config)
    served = await peer.names()
    for name, row in rows.items():
        assert served[name].split(",")[1] == row[4], name


async def test_ede_command_line(
    start_bridge, meter, make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    config = make_config()
    bridge = await start_bridge(config)
    await bridge.close()
    path = tmp_path / "bridge.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "home_assistant": {"url": config.home_assistant.url},
                "state_dir": str(config.state_dir),
                "bacnet": {"device_name": config.bacnet.device_name},
                "snmp": {"enabled": False},
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("ACUREV_HA_TOKEN", "not-needed-for-an-export-from-state")
    out = tmp_path / "out"
    code = await asyncio.to_thread(cli.main, ["ede", "--config", str(path), "--out", str(out)])
    assert code == cli.EXIT_OK
    assert (out / "AcuRev_Bridge_EDE.csv").exists()
    assert str(out / "AcuRev_Bridge_EDE.csv") in capsys.readouterr().out

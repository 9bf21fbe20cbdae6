"""``probe`` and the command line against the simulator (ground truth from its MeterModel)."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys

import pytest

from acurev_simulator import Simulator
from pyacurev.cli import run
from pyacurev.groups import DI_KEYS, ENERGY_BANK_KEYS
from pyacurev.image import RegisterImage
from pyacurev.layouts import Wiring
from pyacurev.models import DeviceInfo
from pyacurev.probe import (
    check_energy_monotonic,
    guess_power_unit,
    run_probe,
)
from pyacurev.registers import REGISTER_MAP

from .conftest import HOST, ROOT, ClientFactory, SimFactory

pytestmark = pytest.mark.protocol

BLOCKS = [b.key for b in REGISTER_MAP if not b.reserved]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- probe


async def test_probe_healthy_meter(sim: Simulator, make_client: ClientFactory) -> None:
    report = await run_probe(make_client(sim), interval=0.05)
    assert [b.key for b in report.blocks] == BLOCKS
    assert report.all_blocks_ok, [b for b in report.blocks if b.status != "ok"]
    assert report.plausible, report.checks
    for name in (
        "map_version",
        "frequency",
        "power_factor_range",
        "apparent_ge_active",
        "power_unit",
        "energy_monotonic",
        "layout_2012",
    ):
        assert report.check(name).status == "pass", report.check(name)
    assert report.power_unit == "kW"
    assert report.map_version == 2
    assert report.device is not None
    assert report.device["serial"] == sim.meter.serial
    # read only: no FC05 / FC16 reached the meter
    assert set(sim.stats.requests) <= {1, 2, 3}
    assert report.transactions == sim.stats.total_requests
    decoded = json.loads(report.to_json())
    assert decoded["plausible"] is True
    table = report.format_table()
    assert "verdict: plausible" in table
    assert all(key in table for key in BLOCKS)


async def test_probe_reports_exceptions_per_block(
    sim: Simulator, make_client: ClientFactory
) -> None:
    sim.faults.exceptions["uc_harmonic"] = 2
    sim.faults.exceptions["di_1"] = 4  # FC02 fails: every DI block with it
    report = await run_probe(make_client(sim), interval=0)
    status = {b.key: (b.status, b.exception_code) for b in report.blocks}
    assert status["uc_harmonic"] == ("exception", 2)
    for key in DI_KEYS:
        assert status[key] == ("exception", 4)
    bad = {"uc_harmonic", *DI_KEYS}
    assert all(status[k] == ("ok", None) for k in BLOCKS if k not in bad)
    assert not report.all_blocks_ok
    assert report.plausible  # what did answer is still plausible
    assert "exception 02" in report.format_table()


async def test_probe_flags_implausible_values(sim: Simulator, make_client: ClientFactory) -> None:
    sim.meter.set_frequency(70.0)
    sim.meter.map_version = 1
    report = await run_probe(make_client(sim), interval=0)
    assert report.check("frequency").status == "fail"
    assert report.check("map_version").status == "fail"
    assert not report.plausible
    assert "NOT plausible" in report.format_table()


async def test_probe_on_a_meter_that_goes_silent(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim, timeout=0.1)
    await client.connect()
    sim.faults.silent = True
    report = await run_probe(client, interval=0)
    assert {b.status for b in report.blocks} == {"timeout"}
    # three timeouts, then the rest is marked without waiting out a timeout each
    assert report.transactions <= 5
    assert report.check("frequency").status == "skip"
    assert report.check("energy_monotonic").status == "skip"


async def test_energy_check_catches_a_decrease(sim: Simulator, make_client: ClientFactory) -> None:
    client = make_client(sim)
    image, failures = await client.read_blocks_tolerant(ENERGY_BANK_KEYS)
    assert not failures
    sim.meter.run_command("clear_energy")
    check = await check_energy_monotonic(client, image, 0)
    assert check.status == "fail"
    assert "import_active[3]" in check.detail


def test_power_unit_guess_from_v_times_i() -> None:
    def f32(v: float) -> list[int]:
        return list(struct.unpack(">HH", struct.pack(">f", v)))

    device = DeviceInfo("S", 2020, 211, 100, 2, Wiring.ONE_LN, 0, 9, 0.0)
    image = RegisterImage()
    image.add(0x2000, [w for i in range(36) for w in f32(50.0 if i == 0 else 230.0)])
    # channel 1: 10 A at 230 V, PF 0.9 -> 2070 W; the meter stores 2070 (W) or 2.07 (kW)
    for unit, p in (("W", 2070.0), ("kW", 2.07)):
        image.add(0x2100, [*f32(10.0), *f32(p), *f32(0.0), *f32(p / 0.9), *f32(0.9), *f32(76.0)])
        from pyacurev.decoders import decode_system

        check, guess = guess_power_unit(image, device, decode_system(image))
        assert guess == unit
        assert check.status == ("pass" if unit == "kW" else "fail")


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize(("wiring", "channels"), [("3LN", 18), ("1LN", 9), ("2LN", 18)])
async def test_cli_snapshot_is_the_ground_truth(
    make_sim: SimFactory, capsys: pytest.CaptureFixture[str], wiring: str, channels: int
) -> None:
    sim = await make_sim(wiring=wiring, channels=channels)
    sim.meter.set_channel_load(2, -1.5, 0.4)
    sim.meter.advance(600)
    code = await run(["snapshot", "--host", HOST, "--port", str(sim.port), "--unit", "1"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    m = sim.meter
    assert doc["device"]["serial"] == m.serial
    assert doc["device"]["model"] == 2020
    assert doc["device"]["firmware"] == "2.11"
    assert doc["wiring"] == wiring
    assert doc["system"]["frequency"] == pytest.approx(m.frequency)
    assert [c["channel"] for c in doc["channels"]] == list(range(1, channels + 1))
    for c in doc["channels"]:
        r = m.channel(c["channel"])
        for key in ("current", "active_power", "reactive_power", "apparent_power", "power_factor"):
            assert c[key] == pytest.approx(getattr(r, key), rel=2e-7, abs=1e-6), key
        assert c["import_energy"] == pytest.approx(
            m.energy_counts("import_active", 3 + c["channel"]) / 10
        )
        assert c["export_energy"] == pytest.approx(
            m.energy_counts("export_active", 3 + c["channel"]) / 10
        )
    assert doc["channels"][1]["export_energy"] > 0
    assert [u["user"] for u in doc["users"]] == list(m.users())
    for u in doc["users"]:
        assert u["active_power_total"] == pytest.approx(m.user(u["user"]).active_power, rel=2e-7)
        assert u["import_energy"] == pytest.approx(
            m.energy_counts("import_active", 21 + u["user"]) / 10
        )
    assert doc["relays"] == list(m.relays)
    assert doc["digital_inputs"] == list(m.digital_inputs)


async def test_cli_probe(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["probe", "--host", HOST, "--port", str(sim.port), "--interval", "0"]
    assert await run([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["all_blocks_ok"] is True
    assert len(doc["blocks"]) == len(BLOCKS)
    assert await run(args) == 0
    assert "verdict: plausible" in capsys.readouterr().out
    sim.meter.set_frequency(40.0)
    # implausible data is what the probe reports, not a failure: it still exits 0
    assert await run(args) == 0
    assert "NOT plausible" in capsys.readouterr().out


async def test_cli_errors_are_one_line(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert await run(["snapshot", "--host", HOST, "--port", str(port), "--timeout", "0.3"]) == 1
    err = capsys.readouterr()
    assert err.out == ""
    assert err.err.count("\n") == 1
    assert err.err.startswith(f"error: {HOST}:{port} unit 1: ")
    sim.faults.exceptions["channel_record"] = 2
    assert await run(["snapshot", "--host", HOST, "--port", str(sim.port)]) == 1
    err = capsys.readouterr().err
    assert "channels did not answer" in err
    assert err.count("\n") == 1
    # A designed group that does not answer is named, not fatal.
    sim.faults.reset()
    sim.faults.exceptions["export_active_energy_bank"] = 2
    assert await run(["snapshot", "--host", HOST, "--port", str(sim.port)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed_groups"] == ["export_energy"]
    assert doc["channels"][0]["export_energy"] is None
    assert doc["channels"][0]["import_energy"] == pytest.approx(
        sim.meter.energy_counts("import_active", 4) / 10
    )


async def test_python_dash_m(sim: Simulator) -> None:
    async def cli(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pyacurev",
            *args,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out.decode(), err.decode()

    good, bad = await asyncio.gather(
        cli("snapshot", "--host", HOST, "--port", str(sim.port), "--unit", "1"),
        cli("snapshot", "--host", HOST, "--port", str(free_port())),
    )
    code, out, _ = good
    assert code == 0
    doc = json.loads(out)
    assert doc["device"]["serial"] == sim.meter.serial
    assert doc["relays"] == list(sim.meter.relays)
    code, out, err = bad
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1


def test_main_exit_code_without_a_meter(capsys: pytest.CaptureFixture[str]) -> None:
    from pyacurev.cli import main

    port = free_port()
    assert main(["probe", "--host", HOST, "--port", str(port), "--timeout", "0.3"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {HOST}:{port} unit 1: cannot connect")

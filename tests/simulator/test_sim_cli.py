"""``python -m acurev_simulator`` starts, serves what its options say and exits cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .raw_modbus import SyncRawClient, ascii_of, f32

pytestmark = pytest.mark.protocol

ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> tuple[subprocess.Popen[str], int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "acurev_simulator", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if match := re.search(r" on 127\.0\.0\.1:(\d+)", line):
            return proc, int(match.group(1)), line
    proc.kill()
    raise AssertionError(f"simulator did not start: {proc.communicate()[0]}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_exits_cleanly(sig: signal.Signals) -> None:
    proc, port, line = start(
        "--wiring",
        "2LN",
        "--channels",
        "9",
        "--unit",
        "3",
        "--model",
        "333mv",
        "--serial",
        "AR2020-CLI",
        "--frozen",
    )
    try:
        assert "unit 3, 2LN, 9 channels, 333mv model" in line
        client = SyncRawClient(port, unit=3)
        try:
            assert client.read_registers(0x0888, 1) == [2]  # vendor code 2 = 2LN
            assert client.read_registers(0x080D, 1) == [333]  # 333 mV
            assert client.read_registers(0x0882, 1) == [9]  # 9 channels
            assert ascii_of(client.read_registers(0x1000, 8)) == "AR2020-CLI"
            assert f32(client.read_registers(0x2000, 2)) == pytest.approx(60.0)
        finally:
            client.close()
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.parametrize("profile", ["full", "evidence", "divergent"])
def test_cli_map_profile(profile: str) -> None:
    """``--map-profile``: the designed identity block answers data, exception 02 or zeros."""
    proc, port, line = start("--map-profile", profile, "--frozen")
    try:
        assert f"map profile {profile}" in line
        client = SyncRawClient(port)
        try:
            # evidence-backed addresses answer in every profile
            assert f32(client.read_registers(0x2000, 2)) == pytest.approx(60.0)
            assert client.read_registers(0x0888, 1) == [1]  # 3LN
            if profile == "full":
                assert ascii_of(client.read_registers(0x1000, 8)) == "AR2020-00001234"
            elif profile == "evidence":
                assert client.read_exception(0x1000, 8) == 0x02
                assert client.read_exception(0x2540, 2) == 0x02  # designed export bank
            else:
                assert client.read_registers(0x1000, 12) == [0] * 12
                assert client.read_registers(0x2540, 2) != [0, 0]  # garbage, not our data
            # an UNKNOWN row is answered only by the full profile (zeros)
            if profile == "full":
                assert client.read_registers(0x2580, 2) == [0, 0]
            else:
                assert client.read_exception(0x2580, 2) == 0x02
        finally:
            client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--channels", "12"], "--channels"),
        (
            ["--serial", "AR2020-SEVENTEEN1"],
            "--serial",
        ),  # 17 characters: a usage error, no traceback
        (["--serial", "AR2020-\u00e9"], "--serial"),
    ],
)
def test_cli_rejects_bad_options(args: list[str], named: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "acurev_simulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_meter_option_picks_the_family_and_its_wiring_types() -> None:
    from acurev_simulator.cli import parse_args

    args = parse_args(["--meter", "2100", "--wiring", "2LL"])
    assert (args.meter, args.wiring, args.model, args.serial) == (
        "2100",
        "2LL",
        "ct",
        "AR2100-00001234",
    )
    assert parse_args([]).serial == "AR2020-00001234"
    with pytest.raises(SystemExit):
        parse_args(["--wiring", "HLD"])  # a 2020 has no high-leg delta

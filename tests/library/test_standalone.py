"""pyacurev and the simulator stand alone: no Home Assistant, no ``custom_components``.

The probe is how owners of real meters tell us where our map is wrong, so it has to run after
``pip install pyacurev`` on a laptop with nothing else. These tests check that the way a user
would meet it: installed (not editable) from the repository path into a fresh venv with no
Home Assistant, then run as console scripts against a simulator on loopback.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import pyacurev
from pyacurev.registers import REGISTER_MAP

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "pyacurev"
SIMULATOR = ROOT / "acurev_simulator"


def _sources(package: Path) -> Iterator[Path]:
    yield from sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", [LIBRARY, SIMULATOR], ids=lambda p: p.name)
def test_imports_nothing_from_home_assistant_or_the_integration(package: Path) -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _sources(package)
        for name in _imported_modules(path)
        if name.split(".")[0] in {"homeassistant", "custom_components"}
    }
    assert not offenders
    assert list(_sources(package)), "no sources found: the check would pass vacuously"


def test_every_module_imports_with_home_assistant_blocked() -> None:
    # A finder that refuses homeassistant, in a fresh interpreter: what a laptop without HA sees,
    # even though this venv has HA installed.
    script = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"homeassistant", "custom_components"}:
            raise ImportError("blocked: " + name)
        return None
sys.meta_path.insert(0, Block())
import pyacurev, acurev_simulator
names = [m.name for m in pkgutil.walk_packages(pyacurev.__path__, "pyacurev.")]
names += [m.name for m in pkgutil.walk_packages(acurev_simulator.__path__, "acurev_simulator.")]
for name in names:
    if not name.endswith(".__main__"):
        importlib.import_module(name)
print(len(names))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert int(out.stdout) >= 15


def _project(path: Path) -> dict[str, object]:
    with path.open("rb") as fh:
        project: dict[str, object] = tomllib.load(fh)["project"]
    return project


def test_one_version_everywhere() -> None:
    library = _project(LIBRARY / "pyproject.toml")
    simulator = _project(SIMULATOR / "pyproject.toml")
    manifest = json.loads((ROOT / "custom_components" / "acurev" / "manifest.json").read_text())
    version = library["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(version))
    assert pyacurev.__version__ == version
    assert simulator["version"] == version
    assert simulator["dependencies"] == [f"pyacurev=={version}"]
    assert manifest["requirements"] == [f"pyacurev=={version}"]
    assert library["dependencies"] == ["pymodbus>=3.8.3"]


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    """The two package directories, copied: building writes build/ and egg-info beside them."""
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    return (
        Path(shutil.copytree(LIBRARY, tmp_path / "src" / "pyacurev", ignore=ignore)),
        Path(shutil.copytree(SIMULATOR, tmp_path / "src" / "acurev_simulator", ignore=ignore)),
    )


def _fresh_venv(tmp_path: Path) -> Path:
    """A venv with nothing but what uv installs from the repository path (not editable)."""
    library, simulator = _copies(tmp_path)
    venv = tmp_path / "venv"
    uv = [sys.executable, "-m", "uv"]
    subprocess.run(
        [*uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=300
    )
    subprocess.run(
        [
            *uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            str(library),
            str(simulator),
        ],
        check=True,
        timeout=600,
    )
    return venv


@pytest.mark.packaging
def test_installed_into_a_fresh_venv_the_probe_works_without_home_assistant(
    tmp_path: Path,
) -> None:
    venv = _fresh_venv(tmp_path)
    python = venv / "bin" / "python"
    env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    # cwd outside the checkout, so nothing is imported from the repository by accident.
    has_ha = subprocess.run(
        [str(python), "-c", "import homeassistant"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert has_ha.returncode != 0
    where = subprocess.run(
        [str(python), "-c", "import pyacurev; print(pyacurev.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv)

    sim = subprocess.Popen(  # the installed console script, on a free port
        [
            "acurev-simulator",
            "--port",
            "0",
            "--frozen",
            "--channels",
            "9",
            "--serial",
            "AR2020-STANDALN",
        ],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stderr is not None
        lines = [sim.stderr.readline() for _ in range(1)]
        while not (match := re.search(r"on 127\.0\.0\.1:(\d+)", lines[-1])) and len(lines) < 20:
            lines.append(sim.stderr.readline())
        assert match, lines
        port = match.group(1)
        probe = subprocess.run(
            ["acurev", "probe", "--host", "127.0.0.1", "--port", port, "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert probe.returncode == 0, probe.stderr
        report = json.loads(probe.stdout)
        assert "AR2020-STANDALN" in json.dumps(report)
        snap = subprocess.run(
            [str(python), "-m", "pyacurev", "snapshot", "--host", "127.0.0.1", "--port", port],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        doc = json.loads(snap.stdout)
        assert len(doc["channels"]) == 9
    finally:
        sim.terminate()
        sim.wait(timeout=30)

    # A meter whose map differs from ours: only evidence-backed addresses answer.
    evidence = subprocess.Popen(
        ["acurev-simulator", "--port", "0", "--frozen", "--map-profile", "evidence"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert evidence.stderr is not None
        lines = [evidence.stderr.readline()]
        while not (match := re.search(r"on 127\.0\.0\.1:(\d+)", lines[-1])) and len(lines) < 20:
            lines.append(evidence.stderr.readline())
        assert match, lines
        probe = subprocess.run(
            ["acurev", "probe", "--host", "127.0.0.1", "--port", match.group(1), "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert probe.returncode == 0, probe.stderr
        report = json.loads(probe.stdout)
        blocks = {b["key"]: b for b in report["blocks"]}
        # every non-reserved block of the map, each reported
        assert len(blocks) == sum(1 for b in REGISTER_MAP if not b.reserved)
        assert blocks["serial_number"]["exception_code"] == 2
        assert blocks["channel_record"]["status"] == "ok"
        assert blocks["import_active_energy_channels"]["plausible"] is not False
        assert report["power_unit"] == "kW"
    finally:
        evidence.terminate()
        evidence.wait(timeout=30)


@pytest.mark.packaging
def test_release_artifacts_pass_twine_check(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    for package in _copies(tmp_path):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                "-q",
                "--sdist",
                "--wheel",
                "--outdir",
                str(dist),
                str(package),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    built = sorted(p.name for p in dist.iterdir())
    assert len(built) == 4, built
    subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = dist.glob("pyacurev-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"pyacurev/py.typed", "pyacurev/data/register-map.csv", "pyacurev/client.py"} <= names
    assert not any(n.endswith("pyproject.toml") for n in names)
    assert not any(n.startswith(("custom_components", "tests")) for n in names)

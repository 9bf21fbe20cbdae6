"""HACS and hassfest rules the repository must keep (checked here, not in a network CI)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import yaml

import pyacurev
from pyacurev.layouts import Wiring
from pyacurev.models import DeviceInfo
from pyacurev.points import Option, PointOptions, build_points

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "custom_components" / "acurev"
HASSFEST_KEYS = {
    "domain",
    "name",
    "integration_type",
    "config_flow",
    "mqtt",
    "zeroconf",
    "ssdp",
    "bluetooth",
    "homekit",
    "dhcp",
    "usb",
    "documentation",
    "quality_scale",
    "requirements",
    "dependencies",
    "after_dependencies",
    "codeowners",
    "loggers",
    "disabled",
    "iot_class",
    "single_config_entry",
    "preview_features",
    "version",
    "issue_tracker",
    "import_executor",
}
HACS_JSON_KEYS = {
    "name",
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "persistent_directory",
    "render_readme",
    "zip_release",
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_follows_hassfest_and_hacs() -> None:
    manifest = _load(COMPONENT / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "keys after domain and name must be alphabetical"
    assert set(keys) <= HASSFEST_KEYS
    assert manifest["domain"] == COMPONENT.name
    for required in ("version", "documentation", "issue_tracker", "codeowners", "iot_class"):
        assert manifest[required]
    assert manifest["documentation"].startswith("https://")
    assert manifest["iot_class"] == "local_polling"
    assert manifest["integration_type"] == "device"
    # The library, pinned exactly: Home Assistant installs it from PyPI for HACS users.
    assert manifest["requirements"] == [f"pyacurev=={pyacurev.__version__}"]
    assert "pyacurev" in manifest["loggers"]
    assert manifest["config_flow"] is True


def test_hacs_json() -> None:
    hacs = _load(ROOT / "hacs.json")
    assert set(hacs) <= HACS_JSON_KEYS
    assert hacs["name"]
    assert hacs["homeassistant"] == "2025.4.0"


def test_brand_icon_is_a_256_png() -> None:
    data = (COMPONENT / "brand" / "icon.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (256, 256)


def test_licence_is_osi() -> None:
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def _leaves(tree: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out |= _leaves(value, path) if isinstance(value, dict) else {path}
    return out


@pytest.mark.parametrize("language", ["en", "de"])
def test_translations_complete(language: str) -> None:
    strings = _leaves(_load(COMPONENT / "strings.json"))
    assert _leaves(_load(COMPONENT / "translations" / f"{language}.json")) == strings


def test_every_translation_key_used_by_points_exists() -> None:
    strings = _load(COMPONENT / "strings.json")["entity"]
    device = DeviceInfo("X", 2020, 211, 100, 2, Wiring.THREE_LN, 1, 18, 0.0)
    points = build_points(device, PointOptions(frozenset(Option)), (True,) * 8)
    for point in points:
        platform = {"relay": "switch", "binary": "binary_sensor"}.get(point.kind, "sensor")
        assert point.translation_key in strings[platform], point.key
        name = strings[platform][point.translation_key]["name"]
        for placeholder in point.placeholders:
            assert "{" + placeholder + "}" in name


def test_quality_scale_is_complete_and_exemptions_have_reasons() -> None:
    rules = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text(encoding="utf-8"))["rules"]
    assert len(rules) == 54  # Bronze 20 + Silver 10 + Gold 21 + Platinum 3
    for name, rule in rules.items():
        if isinstance(rule, dict):
            assert rule["status"] in ("done", "exempt", "todo"), name
            assert rule.get("comment"), name
        else:
            assert rule == "done", name


def test_release_workflow_builds_checks_and_publishes_on_tags() -> None:
    """The release path the README describes: both packages, twine check, trusted publishing."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert on["push"]["tags"] == ["v*"]
    build = "\n".join(step.get("run", "") for step in workflow["jobs"]["build"]["steps"])
    assert "python -m build --outdir dist pyacurev" in build
    assert "python -m build --outdir dist acurev_simulator" in build
    assert "twine check --strict dist/*" in build
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert publish["permissions"] == {"id-token": "write"}
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert "pypa/gh-action-pypi-publish@release/v1" in uses
    assert not any("password" in str(step.get("with", {})) for step in publish["steps"])

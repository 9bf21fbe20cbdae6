"""Configuration errors are clear; the CLI reports them; secrets never reach a log."""

from __future__ import annotations

import logging
import re
import textwrap
from pathlib import Path

import pytest

from bacnet_bridge import __version__, cli
from bacnet_bridge.app import Bridge
from bacnet_bridge.config import ConfigError, load_config, parse_config

from .conftest import wait_for


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


ENV = {"ACUREV_HA_TOKEN": "secret-token-value"}
BASE = {"snmp": {"enabled": False}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"bacnet": {"port": 70000}}, "bacnet.port: 70000 is outside 1-65535"),
        ({"bacnet": {"device_instance": 4194303}}, "bacnet.device_instance: 4194303 is outside"),
        ({"bacnet": {"allow_relay_commands": "yes"}}, "bacnet.allow_relay_commands: must be true"),
        (
            {"bacnet": {"foreign_device": {"address": "192.0.2.1", "ttl_minutes": 2}}},
            "bacnet.foreign_device.ttl_minutes: 2 is outside 5-1440",
        ),
        (
            {"bacnet": {"foreign_device": {"ttl_minutes": 10}}},
            "bacnet.foreign_device.address: the BBMD's IP address is required",
        ),
        ({"bacnet": {"prot": 47808}}, "bacnet.prot: unknown key"),
        ({"home_assistant": {"url": "ws://x"}}, "home_assistant.url: must start with http"),
    ],
)
def test_validation_errors_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({**BASE, **raw}, environ=ENV)
    assert message in str(err.value)


def test_missing_token_is_explained() -> None:
    with pytest.raises(ConfigError, match="no token; set token_file, or token_env"):
        parse_config(BASE, environ={})


def test_environment_overrides_and_redaction(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        home_assistant: {url: "http://127.0.0.1:8123", token_env: MY_TOKEN}
        bacnet: {port: 47808}
        snmp: {enabled: false}
    """,
    )
    config = load_config(
        path,
        environ={
            "MY_TOKEN": "abc-secret",
            "ACUREV_BRIDGE_BACNET_PORT": "47809",
            "ACUREV_BRIDGE_BACNET_ALLOW_RELAY_COMMANDS": "true",
        },
    )
    assert config.bacnet.port == 47809
    assert config.bacnet.allow_relay_commands is True
    assert "abc-secret" not in repr(config)
    assert "abc-secret" not in str(config.redacted())


def test_cli_check_and_config_error_exit_codes(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACUREV_HA_TOKEN", "cli-secret-token")
    good = _write(
        tmp_path,
        """
        home_assistant: {url: "http://127.0.0.1:8123"}
        snmp: {enabled: false}
    """,
    )
    assert cli.main(["check", "--config", str(good)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert '"port": 47808' in out
    assert "cli-secret-token" not in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("bacnet: {port: 0}\nsnmp: {enabled: false}\n", encoding="utf-8")
    assert cli.main(["run", "--config", str(bad)]) == cli.EXIT_CONFIG
    assert "bacnet.port: 0 is outside 1-65535" in capsys.readouterr().err
    assert (
        cli.main(["ede", "--config", str(tmp_path / "absent.yaml"), "--out", str(tmp_path)])
        == cli.EXIT_CONFIG
    )


def test_version_matches_the_package_metadata() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == __version__
    assert pyproject["project"]["scripts"]["acurev-bridge"] == "bacnet_bridge.cli:main"


async def test_wrong_token_is_reported_and_never_logged(
    ha_server, meter, make_config, caplog
) -> None:
    caplog.set_level(logging.DEBUG, logger="bacnet_bridge")
    config = make_config()
    config.home_assistant.token = "definitely-wrong-token-123"
    bridge = Bridge(config)
    await bridge.start()
    try:
        await wait_for(lambda: "refused the access token" in caplog.text)
        assert bridge.table.points == {}
    finally:
        await bridge.close()
    # (Home Assistant's own debug log echoes what it received; that is not ours to fix.)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bacnet_bridge"))
    assert "refused the access token" in ours
    assert "definitely-wrong-token-123" not in ours


async def test_an_address_that_cannot_be_bound_stops_the_start(
    ha_server, make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bacnet_bridge.bacnet.device.BIND_TIMEOUT", 0.3)
    config = make_config(bacnet={"address": "192.0.2.77"})  # not an address of this machine
    bridge = Bridge(config)
    with pytest.raises(OSError, match=r"cannot bind BACnet/IP to 192\.0\.2\.77"):
        await bridge.start()


async def test_a_port_in_use_stops_the_start(ha_server, make_config) -> None:
    import socket

    config = make_config()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", config.bacnet.port))
        expected = re.escape(f"cannot bind BACnet/IP to 127.0.0.1:{config.bacnet.port}")
        with pytest.raises(OSError, match=expected):
            await Bridge(config).start()

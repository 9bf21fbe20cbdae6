"""Bridge configuration: one YAML file, environment overrides, validated on start.

Every mistake is reported with the path of the offending key and stops the
bridge before it binds anything: a BMS integrator should not discover a typo
as a device that silently exposes nothing. Secrets (the Home Assistant token,
SNMP keys, the API token) are read from files or environment variables and
are never logged; ``Config.redacted()`` is what may be printed.

Environment overrides: ``ACUREV_BRIDGE_<SECTION>_<KEY>`` for scalar keys, e.g.
``ACUREV_BRIDGE_BACNET_PORT=47809`` or ``ACUREV_BRIDGE_HOME_ASSISTANT_URL=...``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ENV_PREFIX = "ACUREV_BRIDGE_"
DEFAULT_TOKEN_ENV = "ACUREV_HA_TOKEN"


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key."""


@dataclass(slots=True)
class HomeAssistantConfig:
    """Where Home Assistant is and how to authenticate."""

    url: str = "http://127.0.0.1:8123"
    token: str = field(default="", repr=False)


@dataclass(slots=True)
class ForeignDeviceConfig:
    """Register with a BBMD as a foreign device (for BMSs on another subnet)."""

    address: str = ""
    port: int = 47808
    ttl_minutes: int = 5


@dataclass(slots=True)
class BacnetConfig:
    """The BACnet/IP device."""

    enabled: bool = True
    device_instance: int = 2020001
    device_name: str = "AcuRev Bridge"
    address: str = "127.0.0.1"
    netmask_bits: int = 24
    port: int = 47808
    # The write policy. Relay commands are opt-in. Out_Of_Service and Present_Value writes on
    # inputs let any peer show a BMS fake readings, so they are off unless an operator wants
    # the standard's override for commissioning. COV subscriptions hold memory and send
    # traffic for as long as they live: limited per peer (by address) and in total.
    allow_relay_commands: bool = False
    allow_out_of_service: bool = False
    allow_input_value_writes: bool = False
    max_cov_subscriptions: int = 1000
    max_cov_subscriptions_per_peer: int = 200
    # ASHRAE assigns vendor identifiers; 999 is a placeholder that no real vendor holds today.
    # A deployment that other BACnet devices must tell apart needs its own (docs/bridge.md).
    vendor_identifier: int = 999
    foreign_device: ForeignDeviceConfig | None = None


@dataclass(slots=True)
class SnmpUser:
    """An SNMPv3 user (authPriv: SHA + AES-128)."""

    name: str
    auth_key: str = field(repr=False)
    priv_key: str = field(repr=False)


@dataclass(slots=True)
class TrapReceiver:
    """Where alarm notifications go."""

    host: str
    port: int = 162
    version: str = "v2c"  # "v2c" (community) or "v3" (user)
    inform: bool = False
    community: str = field(default="public", repr=False)
    user: str = ""


@dataclass(slots=True)
class SnmpConfig:
    """The SNMP agent."""

    enabled: bool = True
    address: str = "127.0.0.1"
    port: int = 1161
    community: str | None = field(default=None, repr=False)  # v2c read-only; None = v3 only
    users: list[SnmpUser] = field(default_factory=list)
    trap_receivers: list[TrapReceiver] = field(default_factory=list)


@dataclass(slots=True)
class ApiConfig:
    """The local API the Node-RED nodes use (off unless configured)."""

    enabled: bool = False
    address: str = "127.0.0.1"
    port: int = 8099
    token: str = field(default="", repr=False)


@dataclass(slots=True)
class Config:
    """The whole bridge configuration."""

    home_assistant: HomeAssistantConfig
    meters: list[str] = field(default_factory=list)  # serial numbers; empty = every AcuRev
    state_dir: Path = Path("bridge-state")
    bacnet: BacnetConfig = field(default_factory=BacnetConfig)
    snmp: SnmpConfig = field(default_factory=SnmpConfig)
    api: ApiConfig = field(default_factory=ApiConfig)

    def redacted(self) -> dict[str, Any]:
        """The configuration with every secret replaced, safe to log."""
        data = asdict(self)
        data["home_assistant"]["token"] = "**REDACTED**"
        data["api"]["token"] = "**REDACTED**" if self.api.token else ""
        if self.snmp.community is not None:
            data["snmp"]["community"] = "**REDACTED**"
        for user in data["snmp"]["users"]:
            user["auth_key"] = user["priv_key"] = "**REDACTED**"
        for receiver in data["snmp"]["trap_receivers"]:
            receiver["community"] = "**REDACTED**"
        data["state_dir"] = str(self.state_dir)
        return data


# --- loading ---------------------------------------------------------------------------------


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, override from the environment, validate."""
    env = os.environ if environ is None else environ
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(f"cannot read {file}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{file} is not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping")
    _apply_env(raw, env)
    return parse_config(raw, base=file.parent, environ=env)


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    sections = ("home_assistant", "bacnet", "snmp", "api")
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        if rest == "state_dir":
            raw["state_dir"] = value
            continue
        for section in sections:
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1 :]
                target = raw.setdefault(section, {})
                if not isinstance(target, dict):
                    raise ConfigError(f"{section}: must be a mapping")
                target[key] = yaml.safe_load(value) if value else value
                break


def parse_config(
    raw: Mapping[str, Any], base: Path = Path(), environ: Mapping[str, str] | None = None
) -> Config:
    """Validate a configuration mapping (paths relative to ``base``)."""
    env = os.environ if environ is None else environ
    _only(raw, "", {"home_assistant", "meters", "state_dir", "bacnet", "snmp", "api"})
    ha_raw = _section(raw, "home_assistant")
    _only(ha_raw, "home_assistant", {"url", "token_file", "token_env"})
    url = _str(ha_raw, "home_assistant.url", "http://127.0.0.1:8123")
    if not url.startswith(("http://", "https://")):
        raise ConfigError("home_assistant.url: must start with http:// or https://")
    token = _secret(ha_raw, "home_assistant", base, env, default_env=DEFAULT_TOKEN_ENV)
    if not token:
        raise ConfigError(
            "home_assistant: no token; set token_file, or token_env "
            f"(default environment variable {DEFAULT_TOKEN_ENV})"
        )
    meters = raw.get("meters") or []
    if not isinstance(meters, list) or not all(isinstance(m, str) for m in meters):
        raise ConfigError("meters: must be a list of serial numbers")
    state_dir = Path(str(raw.get("state_dir", "bridge-state")))
    if not state_dir.is_absolute():
        state_dir = base / state_dir
    return Config(
        home_assistant=HomeAssistantConfig(url=url.rstrip("/"), token=token),
        meters=list(meters),
        state_dir=state_dir,
        bacnet=_bacnet(_section(raw, "bacnet")),
        snmp=_snmp(_section(raw, "snmp"), base, env),
        api=_api(_section(raw, "api"), base, env),
    )


def _bacnet(raw: Mapping[str, Any]) -> BacnetConfig:
    _only(
        raw,
        "bacnet",
        {
            "enabled",
            "device_instance",
            "device_name",
            "address",
            "netmask_bits",
            "port",
            "allow_relay_commands",
            "allow_out_of_service",
            "allow_input_value_writes",
            "max_cov_subscriptions",
            "max_cov_subscriptions_per_peer",
            "vendor_identifier",
            "foreign_device",
        },
    )
    fd_raw = raw.get("foreign_device")
    foreign = None
    if fd_raw:
        if not isinstance(fd_raw, dict):
            raise ConfigError("bacnet.foreign_device: must be a mapping")
        _only(fd_raw, "bacnet.foreign_device", {"address", "port", "ttl_minutes"})
        foreign = ForeignDeviceConfig(
            address=_str(fd_raw, "bacnet.foreign_device.address", ""),
            port=_int(fd_raw, "bacnet.foreign_device.port", 47808, 1, 65535),
            ttl_minutes=_int(fd_raw, "bacnet.foreign_device.ttl_minutes", 5, 5, 1440),
        )
        if not foreign.address:
            raise ConfigError("bacnet.foreign_device.address: the BBMD's IP address is required")
    return BacnetConfig(
        enabled=_bool(raw, "bacnet.enabled", True),
        device_instance=_int(raw, "bacnet.device_instance", 2020001, 0, 4194302),
        device_name=_str(raw, "bacnet.device_name", "AcuRev Bridge"),
        address=_str(raw, "bacnet.address", "127.0.0.1"),
        netmask_bits=_int(raw, "bacnet.netmask_bits", 24, 0, 32),
        port=_int(raw, "bacnet.port", 47808, 1, 65535),
        allow_relay_commands=_bool(raw, "bacnet.allow_relay_commands", False),
        allow_out_of_service=_bool(raw, "bacnet.allow_out_of_service", False),
        allow_input_value_writes=_bool(raw, "bacnet.allow_input_value_writes", False),
        max_cov_subscriptions=_int(raw, "bacnet.max_cov_subscriptions", 1000, 0, 100_000),
        max_cov_subscriptions_per_peer=_int(
            raw, "bacnet.max_cov_subscriptions_per_peer", 200, 0, 100_000
        ),
        vendor_identifier=_int(raw, "bacnet.vendor_identifier", 999, 0, 65535),
        foreign_device=foreign,
    )


def _snmp(raw: Mapping[str, Any], base: Path, env: Mapping[str, str]) -> SnmpConfig:
    _only(
        raw,
        "snmp",
        {
            "enabled",
            "address",
            "port",
            "community",
            "community_file",
            "community_env",
            "users",
            "trap_receivers",
        },
    )
    community = raw.get("community")
    if community is None and ("community_file" in raw or "community_env" in raw):
        community = _secret(raw, "snmp", base, env, prefix="community") or None
    users: list[SnmpUser] = []
    for i, user in enumerate(raw.get("users") or []):
        where = f"snmp.users[{i}]"
        if not isinstance(user, dict):
            raise ConfigError(f"{where}: must be a mapping")
        _only(user, where, {"name", "auth_key", "priv_key", "auth_key_env", "priv_key_env"})
        name = _str(user, f"{where}.name", "")
        auth = str(user.get("auth_key") or env.get(str(user.get("auth_key_env", "")), ""))
        priv = str(user.get("priv_key") or env.get(str(user.get("priv_key_env", "")), ""))
        if not name:
            raise ConfigError(f"{where}.name: required")
        for label, key in (("auth_key", auth), ("priv_key", priv)):
            if len(key) < 8:
                raise ConfigError(f"{where}.{label}: at least 8 characters (RFC 3414)")
        users.append(SnmpUser(name, auth, priv))
    receivers: list[TrapReceiver] = []
    for i, rec in enumerate(raw.get("trap_receivers") or []):
        where = f"snmp.trap_receivers[{i}]"
        if not isinstance(rec, dict):
            raise ConfigError(f"{where}: must be a mapping")
        _only(rec, where, {"host", "port", "version", "inform", "community", "user"})
        version = _str(rec, f"{where}.version", "v2c")
        if version not in ("v2c", "v3"):
            raise ConfigError(f"{where}.version: 'v2c' or 'v3'")
        user = _str(rec, f"{where}.user", "")
        if version == "v3" and user not in {u.name for u in users}:
            raise ConfigError(f"{where}.user: must name one of snmp.users")
        receivers.append(
            TrapReceiver(
                host=_str(rec, f"{where}.host", ""),
                port=_int(rec, f"{where}.port", 162, 1, 65535),
                version=version,
                inform=_bool(rec, f"{where}.inform", False),
                community=_str(rec, f"{where}.community", "public"),
                user=user,
            )
        )
        if not receivers[-1].host:
            raise ConfigError(f"{where}.host: required")
    enabled = _bool(raw, "snmp.enabled", True)
    if enabled and community is None and not users:
        raise ConfigError(
            "snmp: enable a v2c community or at least one v3 user (or enabled: false)"
        )
    return SnmpConfig(
        enabled=enabled,
        address=_str(raw, "snmp.address", "127.0.0.1"),
        port=_int(raw, "snmp.port", 1161, 1, 65535),
        community=None if community is None else str(community),
        users=users,
        trap_receivers=receivers,
    )


def _api(raw: Mapping[str, Any], base: Path, env: Mapping[str, str]) -> ApiConfig:
    _only(raw, "api", {"enabled", "address", "port", "token_file", "token_env"})
    enabled = _bool(raw, "api.enabled", False)
    token = _secret(raw, "api", base, env) if enabled else ""
    if enabled and len(token) < 16:
        raise ConfigError(
            "api: a token of at least 16 characters is required (token_file or token_env)"
        )
    return ApiConfig(
        enabled=enabled,
        address=_str(raw, "api.address", "127.0.0.1"),
        port=_int(raw, "api.port", 8099, 1, 65535),
        token=token,
    )


# --- small validators --------------------------------------------------------------------------


def _section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = raw.get(name) or {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name}: must be a mapping")
    return value


def _only(raw: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        names = ", ".join(sorted(allowed))
        raise ConfigError(f"{prefix}{unknown[0]}: unknown key (allowed: {names})")


def _str(raw: Mapping[str, Any], where: str, default: str) -> str:
    value = raw.get(where.rsplit(".", 1)[-1], default)
    if not isinstance(value, (str, int)):
        raise ConfigError(f"{where}: must be a string")
    return str(value)


def _int(raw: Mapping[str, Any], where: str, default: int, low: int, high: int) -> int:
    value = raw.get(where.rsplit(".", 1)[-1], default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: must be a whole number")
    if not low <= value <= high:
        raise ConfigError(f"{where}: {value} is outside {low}-{high}")
    return value


def _bool(raw: Mapping[str, Any], where: str, default: bool) -> bool:
    value = raw.get(where.rsplit(".", 1)[-1], default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: must be true or false")
    return value


def _secret(
    raw: Mapping[str, Any],
    where: str,
    base: Path,
    env: Mapping[str, str],
    *,
    prefix: str = "token",
    default_env: str | None = None,
) -> str:
    file_key, env_key = f"{prefix}_file", f"{prefix}_env"
    if raw.get(file_key):
        path = Path(str(raw[file_key]))
        path = path if path.is_absolute() else base / path
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"{where}.{file_key}: cannot read {path}: {err.strerror}") from err
    name = str(raw.get(env_key) or default_env or "")
    return env.get(name, "").strip() if name else ""

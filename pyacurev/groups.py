"""Read groups: what a caller can ask for, and which register blocks each one needs.

The blocks are named by their keys in ``registers.py`` (never by address), so a
corrected address there changes what is read here without a code change.
Groups whose size depends on the meter build (channels, users, demand,
harmonics) narrow their reads once the ``DeviceInfo`` is known: a 9-channel
meter's channels fit in one request instead of two.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from .layouts import SYSTEM_FLOAT_KEYS
from .models import DeviceInfo
from .planner import Span, block_span, record_span
from .profiles import USER_RECORD_ROWS
from .registers import (
    BANK_ENTRIES,
    DI_COUNT,
    ENTRY_SYSTEM,
    REGISTER_MAP,
    RELAY_COUNT,
    USER_COUNT,
    Space,
    bank_entry_channel,
    bank_entry_user,
    block,
)


class ReadGroup(StrEnum):
    """A unit of polling; the integration picks groups per update interval."""

    DEVICE = "device"
    BUILD = "build"
    SETTINGS = "settings"
    SYSTEM = "system"
    CHANNELS = "channels"
    USERS = "users"
    ENERGY = "energy"
    EXPORT_ENERGY = "export_energy"
    MONTHLY = "monthly"
    TOU = "tou"
    DEMAND = "demand"
    HARMONICS = "harmonics"
    ANGLES = "angles"
    IO = "io"
    IO_CONFIG = "io_config"
    LOG_STATUS = "log_status"
    ALARMS = "alarms"
    SOE = "soe"
    CLOCK = "clock"
    ALARM_SETTINGS = "alarm_settings"


# The rows of each real-time energy bank (28 entries: phases A-C, system,
# channels 1-18, users 1-6). The import bank is three rows because its entries
# have different provenance; the rows are adjacent, so the bank reads as one.
ENERGY_BANK_ROWS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "import_active": (
            "import_active_energy_phases",
            "import_active_energy_channels",
            "import_active_energy_users",
        ),
        "export_active": ("export_active_energy_bank",),
        "import_reactive": ("import_reactive_energy_bank",),
        "export_reactive": ("export_reactive_energy_bank",),
        "apparent": ("apparent_energy_bank",),
    }
)
ENERGY_BANK_KEYS: tuple[str, ...] = tuple(k for rows in ENERGY_BANK_ROWS.values() for k in rows)
# The AcuRev 2100's users 7-9 of a bank, appended outside its 28 entries (S9).
ENERGY_BANK_USERS_2100: MappingProxyType[str, str] = MappingProxyType(
    {
        "import_active": "import_active_energy_users_2100",
        "import_reactive": "import_reactive_energy_users_2100",
        "apparent": "apparent_energy_users_2100",
    }
)
# Evidence-backed banks (the ENERGY group) and the designed export banks (EXPORT_ENERGY).
EVIDENCE_BANKS: tuple[str, ...] = ("import_active", "import_reactive", "apparent")
EXPORT_BANKS: tuple[str, ...] = ("export_active", "export_reactive")
MONTHLY_BANK_KEYS: tuple[str, ...] = tuple(
    b.key
    for b in REGISTER_MAP
    if b.key.endswith("_bank") and "month" in b.key and not b.key.startswith("tou_")
)
TOU_BANK_KEYS: tuple[str, ...] = tuple(
    b.key for b in REGISTER_MAP if b.key.startswith("tou_") and b.key.endswith("_bank")
)
CLOCK_KEYS: tuple[str, ...] = (
    "clock_year",
    "clock_month",
    "clock_day",
    "clock_hour",
    "clock_minute",
    "clock_second",
)
RELAY_KEYS: tuple[str, ...] = tuple(f"relay_{n}" for n in range(1, RELAY_COUNT + 1))
DI_KEYS: tuple[str, ...] = tuple(f"di_{n}" for n in range(1, DI_COUNT + 1))
SETTINGS_KEYS: tuple[str, ...] = (
    # meter_password is deliberately not polled: it would end up in diagnostics.
    "modbus_address",
    "rs485_baud",
    "rs485_parity",
    "rated_voltage",
    "pt_primary",
    "pt_secondary",
    "demand_method",
    "demand_interval",
    "demand_subinterval",
    "var_calc_method",
    "var_pf_convention",
    "billing_day",
    "billing_hour",
    "tou_enable",
    "backlight_timeout",
    "user_channel_code",
    "user_display_enable",
    "ct_primary_ch1",
    "ct_primary_ch2_18",
    "user_name",
)
HARMONICS_KEYS: tuple[str, ...] = (
    "voltage_unbalance",
    "thd_voltage",
    "ua_harmonic",
    "ub_harmonic",
    "uc_harmonic",
    "current_unbalance",
    "voltage_thd_detail",
    "channel_thd_detail",
    "channel_harmonic",
)
DEMAND_KEYS: tuple[str, ...] = ("demand_system", "demand_phase", "demand_channel", "demand_user")

# Holding-register blocks of each group (the whole block, before any narrowing).
GROUP_BLOCKS: MappingProxyType[ReadGroup, tuple[str, ...]] = MappingProxyType(
    {
        # DESIGNED identity: optional, a meter that refuses it is still set up.
        ReadGroup.DEVICE: (
            "serial_number",
            "device_model",
            "firmware_version",
            "hardware_version",
            "map_version",
            "meter_run_time",
            "comm_module_type",
            "installed_channels",
        ),
        # Evidence-backed build settings: wiring and CT type.
        ReadGroup.BUILD: ("ct_type", "wiring_mode"),
        ReadGroup.SETTINGS: SETTINGS_KEYS,
        ReadGroup.SYSTEM: SYSTEM_FLOAT_KEYS,
        ReadGroup.CHANNELS: ("channel_record",),
        # User totals, plus the member channels whose records give the per-phase values.
        ReadGroup.USERS: ("user_record", "channel_record"),
        ReadGroup.ENERGY: tuple(k for b in EVIDENCE_BANKS for k in ENERGY_BANK_ROWS[b]),
        ReadGroup.EXPORT_ENERGY: tuple(k for b in EXPORT_BANKS for k in ENERGY_BANK_ROWS[b]),
        ReadGroup.MONTHLY: MONTHLY_BANK_KEYS,
        ReadGroup.TOU: TOU_BANK_KEYS,
        ReadGroup.DEMAND: DEMAND_KEYS,
        ReadGroup.HARMONICS: HARMONICS_KEYS,
        ReadGroup.ANGLES: ("phase_angle",),
        ReadGroup.IO: (),
        ReadGroup.IO_CONFIG: ("di_mode_bitmap", "relay_mode_bitmap", "di_pulse_count"),
        ReadGroup.LOG_STATUS: ("latest_alarm_record", "latest_soe_record", "active_alarm_bitmap"),
        ReadGroup.ALARMS: ("alarm_record",),
        ReadGroup.SOE: ("soe_record",),
        ReadGroup.CLOCK: CLOCK_KEYS,
        ReadGroup.ALARM_SETTINGS: ("alarm_global_enable", "alarm_channel"),
    }
)

# Coil / discrete-input blocks (FC01 / FC02) of each group.
GROUP_BITS: MappingProxyType[ReadGroup, tuple[str, ...]] = MappingProxyType(
    {
        ReadGroup.IO: RELAY_KEYS + DI_KEYS,
    }
)

# Groups whose decoding depends on wiring, installed channels or the CT input type.
NEEDS_DEVICE: frozenset[ReadGroup] = frozenset(
    {
        ReadGroup.CHANNELS,
        ReadGroup.USERS,
        ReadGroup.DEMAND,
        ReadGroup.HARMONICS,
    }
)


def _check_tables() -> None:
    # Catch a renamed/removed row at import time rather than mid-poll.
    for keys in (*GROUP_BLOCKS.values(), *GROUP_BITS.values()):
        for key in keys:
            block(key)
    for key in (*GROUP_BLOCKS[ReadGroup.IO_CONFIG], *SETTINGS_KEYS):
        if block(key).space is not Space.HOLDING:
            raise RuntimeError(f"{key} is not a holding register")
    if len(MONTHLY_BANK_KEYS) != 6 or len(TOU_BANK_KEYS) != 8:
        raise RuntimeError("monthly/TOU bank rows changed; update groups.py")


_check_tables()


def monthly_name(key: str) -> str:
    """Snapshot.monthly key of a bank: 'this_month_import_kwh_bank' -> 'this_month_import_kwh'."""
    return key.removesuffix("_bank")


def tou_name(key: str) -> str:
    """Snapshot.tou key of a bank: 'tou_this_month_sharp_import_kwh_bank' -> 'this_month_sharp'.

    Every TOU bank is import kWh, so the unit suffix carries nothing.
    """
    return key.removeprefix("tou_").removesuffix("_bank").removesuffix("_import_kwh")


def bit_range(space: Space, keys: tuple[str, ...]) -> tuple[int, int]:
    """``(address, count)`` of one FC01/FC02 read covering the bit blocks ``keys``."""
    blocks = [block(k) for k in keys if block(k).space is space]
    if not blocks:
        raise ValueError(f"no {space} blocks in {keys}")
    start = min(b.address for b in blocks)
    return start, max(b.end for b in blocks) - start


def installed_circuit_users(device: DeviceInfo) -> tuple[int, ...]:
    """User circuits that exist on this model, build and wiring (none in 1LN)."""
    return device.users


def user_record_spans(users: tuple[int, ...]) -> list[Span]:
    """Spans of the user records of ``users``, each run within the row that holds it.

    Users 1-6 sit in ``user_record``, the 2100's 7-9 in ``user_record_2100``
    right after it; a span never crosses rows, so a 2020 is never asked for 7-9.
    """
    spans: list[Span] = []
    first_user = 1
    for key in USER_RECORD_ROWS:
        blk = block(key)
        n = blk.count // blk.record
        mine = tuple(u - first_user for u in users if first_user <= u < first_user + n)
        spans += [record_span(key, first, count) for first, count in _runs(mine)]
        first_user += n
    return spans


def users_2100_energy_spans(device: DeviceInfo) -> list[Span]:
    """The 2100's users 7-9 energy rows, when this meter has any of those users."""
    if not any(u > USER_COUNT for u in device.users):
        return []
    return [block_span(k) for k in ENERGY_BANK_USERS_2100.values()]


def demand_entries(device: DeviceInfo | None) -> tuple[int, ...]:
    """Demand/energy bank entries that carry data on this meter (all 28 when unknown)."""
    if device is None:
        return tuple(range(BANK_ENTRIES))
    entries = list(range(ENTRY_SYSTEM + 1))
    entries += [bank_entry_channel(n) for n in range(1, device.installed_channels + 1)]
    entries += [bank_entry_user(u) for u in installed_circuit_users(device) if u <= USER_COUNT]
    return tuple(entries)


def demand_spans(device: DeviceInfo) -> list[Span]:
    """Demand records of the entries this build uses (system, phases, channels, users)."""
    spans = [block_span("demand_system"), block_span("demand_phase")]
    spans.append(record_span("demand_channel", 0, device.installed_channels))
    # The 2100's users 7-9 demand (0x30B1-0x3102) is not in our table yet: users 1-6 only.
    users = tuple(u for u in installed_circuit_users(device) if u <= USER_COUNT)
    spans += [record_span("demand_user", first - 1, n) for first, n in _runs(users)]
    return spans


def _runs(indices: tuple[int, ...]) -> list[tuple[int, int]]:
    """Consecutive runs ``(first, count)`` of sorted indices."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    return runs


def group_spans(group: ReadGroup, device: DeviceInfo | None = None) -> list[Span]:
    """Holding-register spans ``group`` needs, narrowed to the build when ``device`` is known."""
    if group is ReadGroup.CLOCK:
        # Read as one atom: a clock torn across two requests can be a minute off.
        first = block(CLOCK_KEYS[0])
        return [
            Span(
                first.address,
                block(CLOCK_KEYS[-1]).end - first.address,
                block(CLOCK_KEYS[-1]).end - first.address,
            )
        ]
    if device is not None:
        if group is ReadGroup.CHANNELS:
            return [record_span("channel_record", 0, device.installed_channels)]
        if group is ReadGroup.USERS:
            users = installed_circuit_users(device)
            spans = user_record_spans(users)
            if users:
                # Per-phase user values come from the member channels' records.
                spans.append(record_span("channel_record", 0, device.installed_channels))
            return spans
        if group is ReadGroup.ENERGY:
            return [block_span(k) for k in GROUP_BLOCKS[group]] + users_2100_energy_spans(device)
        if group is ReadGroup.DEMAND:
            return demand_spans(device)
        if group is ReadGroup.HARMONICS and not device.is_333mv:
            return []
    return [block_span(k) for k in GROUP_BLOCKS[group]]

"""The Accuenergy AcuRev 2020 integration."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from pyacurev.client import AcuRevClient
from pyacurev.discovery import Discovery, discover
from pyacurev.errors import AcuRevError, AcuRevIdentityError
from pyacurev.groups import ReadGroup
from pyacurev.layouts import Wiring
from pyacurev.models import AlarmSettings, DeviceInfo
from pyacurev.points import Option, build_points

from .const import (
    CONF_CAPABILITIES,
    CONF_UNIT_ID,
    DOMAIN,
    REQUEST_TIMEOUT,
    is_fallback_meter_id,
)
from .coordinator import AcuRevConfigEntry, AcuRevCoordinator, AcuRevRuntimeData, ClockSync
from .entity import device_info
from .logs import LogWatcher
from .options import clock_sync_threshold, energy_interval, point_options, scan_interval
from .services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the meter actions once, for every entry (they target a meter)."""
    async_setup_services(hass)
    return True


def _fast_groups(device: DeviceInfo, capable: frozenset[ReadGroup]) -> set[ReadGroup]:
    # The ring pointers ride along every fast poll: a new alarm shows within one interval.
    groups = {
        ReadGroup.SYSTEM,
        ReadGroup.CHANNELS,
        ReadGroup.IO,
        ReadGroup.IO_CONFIG,
        ReadGroup.LOG_STATUS,
    }
    if device.wiring is not Wiring.ONE_LN:
        groups.add(ReadGroup.USERS)
    # Only what answered when the meter was probed is polled.
    return groups & capable


def _slow_groups(
    device: DeviceInfo, options: frozenset[Option], capable: frozenset[ReadGroup]
) -> set[ReadGroup]:
    groups = {ReadGroup.ENERGY, ReadGroup.EXPORT_ENERGY, ReadGroup.DEVICE, ReadGroup.CLOCK}
    optional = {
        Option.DEMAND: ReadGroup.DEMAND,
        Option.MONTHLY: ReadGroup.MONTHLY,
        Option.TOU: ReadGroup.TOU,
    }
    groups |= {group for opt, group in optional.items() if opt in options}
    if device.is_333mv and Option.HARMONICS in options:
        groups.add(ReadGroup.HARMONICS)
    return groups & capable


async def async_setup_entry(hass: HomeAssistant, entry: AcuRevConfigEntry) -> bool:
    """Connect, check the meter is the one configured, probe what it answers, start polling.

    The probe runs on every load (set-up, reload, "re-scan meter"), so a
    firmware update that adds or drops a block changes the entities with it.
    """
    client = AcuRevClient(
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_UNIT_ID],
        timeout=REQUEST_TIMEOUT,
        # Only a real serial can be checked; a fallback id never matches one.
        expected_serial=None if is_fallback_meter_id(entry.unique_id) else entry.unique_id,
    )
    try:
        found = await discover(client)
        if not found.core_ok:
            raise AcuRevError("; ".join(found.core_problems))
        device = found.device
        alarm_settings = None
        if ReadGroup.ALARM_SETTINGS in found.capabilities:
            alarm_settings = (
                await client.read_snapshot({ReadGroup.ALARM_SETTINGS}, device)
            ).alarm_settings
    except AcuRevIdentityError as err:
        await client.close()
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="wrong_meter",
            translation_placeholders={"expected": err.expected, "found": err.found},
        ) from err
    except AcuRevError as err:
        await client.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"host": entry.data[CONF_HOST], "error": str(err)},
        ) from err

    _store_capabilities(hass, entry, found)
    capable = found.capabilities
    opts = point_options(entry.options)
    fast = AcuRevCoordinator(
        hass,
        entry,
        client,
        device,
        _fast_groups(device, capable),
        scan_interval(entry.options),
        "readings",
    )
    slow = AcuRevCoordinator(
        hass,
        entry,
        client,
        device,
        _slow_groups(device, opts.enabled, capable),
        energy_interval(entry.options),
        "counters",
    )
    meter_id = entry.unique_id or device.serial
    runtime = AcuRevRuntimeData(
        client, device, fast, slow, opts, meter_id, found, alarm_settings=alarm_settings
    )
    entry.runtime_data = runtime
    # The device exists before the first poll, so events fired by it carry its id.
    dev = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **device_info(runtime)
    )
    fast.logs = LogWatcher(hass, entry.entry_id, meter_id)
    fast.logs.device_id = dev.id
    await fast.logs.async_load()
    threshold = clock_sync_threshold(entry.options)
    if threshold is not None:
        slow.clock_sync = ClockSync(threshold)
    try:
        await fast.async_config_entry_first_refresh()
        await slow.async_config_entry_first_refresh()
    except ConfigEntryNotReady:
        await client.close()
        raise
    io = fast.data.io
    runtime.points = build_points(
        device,
        opts,
        io.di_counter_mode if io else (),
        _enabled_alarms(alarm_settings),
        capable,
    )

    entry.async_on_unload(entry.add_update_listener(_async_reload))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


def _store_capabilities(hass: HomeAssistant, entry: AcuRevConfigEntry, found: Discovery) -> None:
    """Keep what the meter answered in the entry (the update listener is not yet attached)."""
    stored = sorted(found.capabilities)
    if entry.data.get(CONF_CAPABILITIES) != stored:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_CAPABILITIES: stored}
        )


def _enabled_alarms(settings: AlarmSettings | None) -> tuple[int, ...]:
    if settings is None or not settings.enabled:
        return ()
    return tuple(ch.channel for ch in settings.channels if ch.enabled)


async def _async_reload(hass: HomeAssistant, entry: AcuRevConfigEntry) -> None:
    """Options or connection changed: rebuild everything from the meter."""
    hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: AcuRevConfigEntry) -> bool:
    """Stop polling and close the meter's connection."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.client.close()
    return unloaded

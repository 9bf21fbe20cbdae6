"""The Accuenergy AcuRev 2020 integration."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from pyacurev.client import AcuRevClient
from pyacurev.discovery import Discovery, discover
from pyacurev.energy_guard import RejectLog
from pyacurev.errors import AcuRevError
from pyacurev.groups import ReadGroup
from pyacurev.layouts import Wiring
from pyacurev.models import AlarmSettings, DeviceInfo
from pyacurev.points import Option, build_points

from .backfill import Backfill, backfill_store
from .const import (
    CONF_CAPABILITIES,
    CONF_MODEL,
    CONF_UNIT_ID,
    DOMAIN,
    REQUEST_TIMEOUT,
    is_fallback_meter_id,
)
from .coordinator import (
    AcuRevConfigEntry,
    AcuRevRuntimeData,
    ClockSync,
    CountersCoordinator,
    ReadingsCoordinator,
    quiet_pymodbus,
)
from .entity import device_info
from .errors import Context, translated
from .logs import LogWatcher
from .options import backfill_enabled, clock_sync_threshold, point_options
from .options_flow import NEEDS_UPDATE_LISTENER
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
    groups = {
        ReadGroup.ENERGY,
        ReadGroup.EXPORT_ENERGY,
        ReadGroup.DEVICE,
        ReadGroup.CLOCK,
        ReadGroup.ANGLES,  # only a 2100 answers it into ``capable`` (discovery)
    }
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
    """Connect, probe what the meter answers, poll once, then create the entities.

    The probe runs on every load (set-up, reload, "re-scan meter"), so a firmware update
    that adds or drops a block changes the entities with it. Only the core (system values,
    channel records, import energy, relays and inputs) must answer; every designed block
    is optional.
    """
    unquiet = quiet_pymodbus(entry.data[CONF_HOST], entry.data[CONF_PORT])
    try:
        return await _async_setup_entry(hass, entry, unquiet)
    except BaseException:
        unquiet()
        raise


async def _async_setup_entry(
    hass: HomeAssistant, entry: AcuRevConfigEntry, unquiet: Callable[[], None]
) -> bool:
    client = AcuRevClient(
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_UNIT_ID],
        timeout=REQUEST_TIMEOUT,
        # Only a real serial can be checked; a fallback id never matches one.
        expected_serial=None if is_fallback_meter_id(entry.unique_id) else entry.unique_id,
    )
    try:
        with translated(Context.SETUP, {"host": entry.data[CONF_HOST]}):
            # The stored model only decides where the meter's answers cannot (detect_model).
            found = await discover(client, entry.data.get(CONF_MODEL))
            if not found.core_ok:
                raise AcuRevError("; ".join(found.core_problems))
            device = found.device
            alarm_settings = None
            if ReadGroup.ALARM_SETTINGS in found.capabilities:
                alarm_settings = (
                    await client.read_snapshot({ReadGroup.ALARM_SETTINGS}, device)
                ).alarm_settings
    except HomeAssistantError:
        await client.close()
        raise

    try:
        settings = (await client.read_snapshot({ReadGroup.SETTINGS}, device)).settings
    except AcuRevError:
        # Only the energy guards' physics bound needs them (CT primaries, rated voltage: not
        # a discovery group); unknown, the bound is the conservative fixed one.
        settings = None

    _store_capabilities(hass, entry, found)
    capable = found.capabilities
    meter_id = entry.unique_id or device.serial

    # The device exists before the first poll, so events fired by it carry its id.
    dev = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **device_info(device, meter_id, found.identified)
    )
    logs = LogWatcher(hass, entry.entry_id, meter_id, dev.id)
    await logs.async_load()
    backfill = None
    if backfill_enabled(entry.options):
        backfill = Backfill(hass, entry.entry_id, client, meter_id)
        await backfill.async_load()
    threshold = clock_sync_threshold(entry.options)
    opts = point_options(entry.options)
    fast = ReadingsCoordinator(hass, entry, client, device, _fast_groups(device, capable), logs)
    slow = CountersCoordinator(
        hass,
        entry,
        client,
        device,
        _slow_groups(device, opts.enabled, capable),
        ClockSync(threshold) if threshold is not None else None,
        backfill,
    )
    fast.peer, slow.peer = slow, fast
    try:
        await fast.async_config_entry_first_refresh()
        await slow.async_config_entry_first_refresh()
    except ConfigEntryNotReady:
        await client.close()
        raise
    io = fast.data.io
    entry.runtime_data = AcuRevRuntimeData(
        client=client,
        device=device,
        fast=fast,
        slow=slow,
        options=opts,
        meter_id=meter_id,
        discovery=found,
        points=build_points(
            device, opts, io.di_counter_mode if io else (), _enabled_alarms(alarm_settings), capable
        ),
        alarm_settings=alarm_settings,
        settings=settings,
        energy_rejects=RejectLog(meter_id),
        backfill=backfill,
    )
    if NEEDS_UPDATE_LISTENER:
        entry.async_on_unload(entry.add_update_listener(_async_reload))
    entry.async_on_unload(unquiet)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if backfill is not None:
        # From the next slow poll on: the sensors (and their statistic ids) exist now.
        backfill.points = entry.runtime_data.points
        backfill.active = True
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
    """HA 2025.4-2025.7 only: options changed, rebuild everything from the meter."""
    hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: AcuRevConfigEntry) -> bool:
    """Stop polling and close the meter's connection."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.client.close()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: AcuRevConfigEntry) -> None:
    """The meter is gone: so is what the backfill kept of its data log."""
    if entry.unique_id:
        await backfill_store(hass, entry.unique_id).async_remove()

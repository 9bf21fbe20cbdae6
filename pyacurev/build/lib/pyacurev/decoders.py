"""Register image -> typed snapshots (``models.py``).

Every address comes from ``registers.block(key).address`` plus an offset from
``layouts.py`` (or the record layout named in the block's note), and every
32-bit value uses the block's ``word_order`` and ``scale``: the map is the one
place to correct a wrong guess. A NaN/inf float becomes None, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import datetime

from .codec import (
    decode_ascii,
    decode_clock6,
    decode_float32,
    decode_time3,
    decode_time7,
    decode_uint32,
    finite,
)
from .errors import AcuRevProtocolError
from .groups import (
    CLOCK_KEYS,
    DI_KEYS,
    ENERGY_BANK_KEYS,
    MONTHLY_BANK_KEYS,
    NEEDS_DEVICE,
    RELAY_KEYS,
    TOU_BANK_KEYS,
    ReadGroup,
    demand_entries,
    installed_circuit_users,
    monthly_name,
    tou_name,
)
from .image import RegisterImage
from .layouts import (
    ALARM_RECORD_SIZE,
    ALARM_SETTING_SIZE,
    CHANNEL_FIELDS,
    DEMAND_RECORD_SIZE,
    LOAD_NATURE_CODES,
    MAX_MIN_PARAMS,
    MAX_MIN_RECORD_SIZE,
    SOE_RECORD_SIZE,
    SYSTEM_FLOAT_KEYS,
    USER_FIELDS,
    WIRING_CODES,
    DemandOffset,
    LoadNature,
    Phase,
    user_inputs,
)
from .models import (
    ENERGY_BANKS,
    AlarmRecord,
    AlarmSetting,
    AlarmSettings,
    ChannelValues,
    DemandValues,
    DeviceInfo,
    Energy,
    EnergyBank,
    Harmonics,
    IOStatus,
    LogStatus,
    MaxMin,
    MeterSettings,
    Peak,
    Snapshot,
    SoeRecord,
    SystemValues,
    UserValues,
)
from .registers import (
    ALARM_CHANNEL_COUNT,
    BANK_ENTRIES,
    CHANNEL_COUNT,
    DI_COUNT,
    LOG_RING_SIZE,
    RELAY_COUNT,
    Block,
    Space,
    block,
)

_PHASES = (Phase.A, Phase.B, Phase.C)

# Offsets inside records, as documented in layouts.py and the map's notes.
_MAXMIN_MAX, _MAXMIN_MAX_TIME, _MAXMIN_MIN, _MAXMIN_MIN_TIME = 0, 2, 5, 7
_ALARM_STATUS, _ALARM_CHANNEL, _ALARM_LABEL, _ALARM_VALUE, _ALARM_TIME = 0, 1, 2, 3, 5
_SOE_STATES, _SOE_CHANGED, _SOE_TIME = 0, 1, 2
_ASET_ENABLE, _ASET_LABEL, _ASET_COMPARE, _ASET_SETPOINT, _ASET_DELAY, _ASET_RELAY = (
    0,
    1,
    2,
    3,
    5,
    6,
)
_USER_NAME_REGS = 3
_CT_STRIDE = 2  # primary/secondary pairs: channel n at ct_*_ch1 + 2(n-1)


def _decimals(scale: float) -> int:
    """Decimal places a scale implies (0.1 -> 1), so 3 * 0.1 prints as 0.3."""
    if scale >= 1:
        return 0
    return max(0, -math.floor(math.log10(scale) + 1e-9))


def _scaled(raw: int, blk: Block) -> float:
    return round(raw * blk.scale, _decimals(blk.scale))


def _f32_at(image: RegisterImage, address: int, blk: Block) -> float | None:
    return finite(decode_float32(image.words(address, 2), blk.word_order))


def _f32(image: RegisterImage, key: str) -> float | None:
    blk = block(key)
    return _f32_at(image, blk.address, blk)


def _f32_array(image: RegisterImage, key: str) -> tuple[float | None, ...]:
    blk = block(key)
    regs = image.words(blk.address, blk.count)
    return tuple(
        finite(decode_float32(regs[i : i + 2], blk.word_order)) for i in range(0, blk.count, 2)
    )


def _u32_array(image: RegisterImage, key: str) -> list[int]:
    blk = block(key)
    regs = image.words(blk.address, blk.count)
    return [decode_uint32(regs[i : i + 2], blk.word_order) for i in range(0, blk.count, 2)]


def _load_nature(value: float | None) -> LoadNature | None:
    if value is None:
        return None
    return LOAD_NATURE_CODES.get(round(value))


def _bits(mask: int, count: int) -> tuple[bool, ...]:
    return tuple(bool(mask >> i & 1) for i in range(count))


# --------------------------------------------------------------------------- device


def decode_device_info(image: RegisterImage) -> DeviceInfo:
    """Identity and build (DEVICE group)."""
    code = image.word(block("user_wiring_mode").address)
    wiring = WIRING_CODES.get(code)
    if wiring is None:
        # A code the map does not know means the map does not fit this meter:
        # guessing a wiring would mislabel every circuit.
        raise AcuRevProtocolError(f"unknown wiring mode code {code} at 0x0880")
    installed = image.word(block("installed_channels").address)
    if not 1 <= installed <= CHANNEL_COUNT:
        raise AcuRevProtocolError(f"implausible installed channel count {installed}")
    run_time = block("meter_run_time")
    return DeviceInfo(
        serial=decode_serial(image),
        model=image.word(block("device_model").address),
        firmware=image.word(block("firmware_version").address),
        hardware=image.word(block("hardware_version").address),
        map_version=image.word(block("map_version").address),
        wiring=wiring,
        ct_input_type=image.word(block("ct_input_type").address),
        installed_channels=installed,
        run_time_h=_scaled(
            decode_uint32(image.block_words("meter_run_time"), run_time.word_order), run_time
        ),
        comm_module_type=image.word(block("comm_module_type").address),
    )


def decode_serial(image: RegisterImage) -> str:
    """Serial number string (NUL padded ASCII)."""
    return decode_ascii(image.block_words("serial_number"))


# --------------------------------------------------------------------------- real-time


def decode_system(image: RegisterImage) -> SystemValues:
    """The 0x2000 system float table."""
    v = {key: _f32(image, key) for key in SYSTEM_FLOAT_KEYS}

    def per_phase(a: str, b: str, c: str) -> dict[Phase, float | None]:
        return {Phase.A: v[a], Phase.B: v[b], Phase.C: v[c]}

    return SystemValues(
        frequency=v["f"],
        voltage=per_phase("u1", "u2", "u3"),
        voltage_avg=v["uavg"],
        voltage_ll={"ab": v["u12"], "bc": v["u23"], "ca": v["u31"]},
        voltage_ll_avg=v["ulavg"],
        current=per_phase("il1", "il2", "il3"),
        current_avg=v["ilavg"],
        current_neutral=v["i_neutral"],
        active_power=per_phase("pa", "pb", "pc"),
        active_power_total=v["psum"],
        reactive_power=per_phase("qa", "qb", "qc"),
        reactive_power_total=v["qsum"],
        apparent_power=per_phase("sa", "sb", "sc"),
        apparent_power_total=v["ssum"],
        power_factor=per_phase("pfa", "pfb", "pfc"),
        power_factor_total=v["pfsum"],
        voltage_unbalance=v["u_unbalance"],
        current_unbalance=v["i_unbalance"],
        load_nature_total=_load_nature(v["load_nature_sum"]),
        load_nature={
            Phase.A: _load_nature(v["load_nature_a"]),
            Phase.B: _load_nature(v["load_nature_b"]),
            Phase.C: _load_nature(v["load_nature_c"]),
        },
    )


def _record_floats(
    image: RegisterImage, key: str, index: int, fields: Sequence[str]
) -> dict[str, float | None]:
    """Float fields of record ``index`` (0-based) of a record block, 2 registers each."""
    blk = block(key)
    base = blk.address + index * blk.record
    regs = image.words(base, 2 * len(fields))
    return {
        name: finite(decode_float32(regs[2 * i : 2 * i + 2], blk.word_order))
        for i, name in enumerate(fields)
    }


def decode_channel(image: RegisterImage, channel: int) -> ChannelValues:
    """One input channel 1..18."""
    v = _record_floats(image, "channel_record", channel - 1, CHANNEL_FIELDS)
    return ChannelValues(
        channel=channel,
        current=v["current"],
        active_power=v["active_power"],
        reactive_power=v["reactive_power"],
        apparent_power=v["apparent_power"],
        power_factor=v["power_factor"],
        load_nature=_load_nature(v["load_nature"]),
    )


def decode_channels(image: RegisterImage, device: DeviceInfo) -> tuple[ChannelValues, ...]:
    """The installed input channels."""
    return tuple(decode_channel(image, n) for n in range(1, device.installed_channels + 1))


def decode_user(image: RegisterImage, user: int, device: DeviceInfo) -> UserValues:
    """One 2LN/3LN user circuit; phases limited to the inputs it uses."""
    v = _record_floats(image, "user_record", user - 1, USER_FIELDS)
    inputs = user_inputs(user, device.wiring)
    phases = _PHASES[: len(inputs)]

    def per_phase(prefix: str) -> dict[Phase, float | None]:
        return {p: v[f"{prefix}_{p.value}"] for p in phases}

    return UserValues(
        user=user,
        inputs=inputs,
        current=per_phase("current"),
        active_power=per_phase("active_power"),
        active_power_total=v["active_power"],
        reactive_power=per_phase("reactive_power"),
        reactive_power_total=v["reactive_power"],
        apparent_power=per_phase("apparent_power"),
        apparent_power_total=v["apparent_power"],
        power_factor=per_phase("power_factor"),
        power_factor_total=v["power_factor"],
        load_nature=_load_nature(v["load_nature"]),
    )


def decode_users(image: RegisterImage, device: DeviceInfo) -> tuple[UserValues, ...]:
    """The user circuits of this build (empty in 1LN)."""
    return tuple(decode_user(image, u, device) for u in installed_circuit_users(device))


# --------------------------------------------------------------------------- energy


def decode_bank(image: RegisterImage, key: str) -> EnergyBank:
    """One 28-entry uint32 bank, scaled to kWh/kvarh/kVAh."""
    blk = block(key)
    raw = _u32_array(image, key)
    if len(raw) != BANK_ENTRIES:
        raise AcuRevProtocolError(f"{key}: {len(raw)} entries in the map, expected 28")
    return EnergyBank(tuple(_scaled(r, blk) for r in raw))


def decode_energy(image: RegisterImage) -> Energy:
    """The five real-time energy banks."""
    banks = {
        name: decode_bank(image, key)
        for name, key in zip(ENERGY_BANKS, ENERGY_BANK_KEYS, strict=True)
    }
    return Energy(**banks)


def decode_monthly(image: RegisterImage) -> dict[str, EnergyBank]:
    """This/last month banks by name (e.g. 'this_month_import_kwh')."""
    return {monthly_name(k): decode_bank(image, k) for k in MONTHLY_BANK_KEYS}


def decode_tou(image: RegisterImage) -> dict[str, EnergyBank]:
    """TOU banks by name: 'this_month_sharp' ... 'last_month_normal'."""
    return {tou_name(k): decode_bank(image, k) for k in TOU_BANK_KEYS}


# --------------------------------------------------------------------------- demand, stats


def _peak(image: RegisterImage, address: int, blk: Block) -> Peak:
    return Peak(_f32_at(image, address, blk), decode_time3(image.words(address + 2, 3)))


def decode_demand_entry(image: RegisterImage, entry: int) -> DemandValues:
    """Demand record of bank entry 0..27."""
    blk = block("demand_record")
    base = blk.address + entry * DEMAND_RECORD_SIZE

    def f(offset: DemandOffset) -> float | None:
        return _f32_at(image, base + offset, blk)

    return DemandValues(
        entry=entry,
        current=f(DemandOffset.CURRENT),
        active=f(DemandOffset.ACTIVE),
        reactive=f(DemandOffset.REACTIVE),
        apparent=f(DemandOffset.APPARENT),
        predicted_active=f(DemandOffset.PREDICTED_ACTIVE),
        peak_current=_peak(image, base + DemandOffset.PEAK_CURRENT, blk),
        peak_active=_peak(image, base + DemandOffset.PEAK_ACTIVE, blk),
        peak_reactive=_peak(image, base + DemandOffset.PEAK_REACTIVE, blk),
        peak_apparent=_peak(image, base + DemandOffset.PEAK_APPARENT, blk),
    )


def decode_demand(image: RegisterImage, device: DeviceInfo | None) -> tuple[DemandValues, ...]:
    """Demand records of the entries this build uses."""
    return tuple(decode_demand_entry(image, e) for e in demand_entries(device))


def decode_max_min(image: RegisterImage) -> tuple[MaxMin, ...]:
    """Max/min statistics of the 16 parameters."""
    blk = block("max_min_record")
    out: list[MaxMin] = []
    for i, name in enumerate(MAX_MIN_PARAMS):
        base = blk.address + i * MAX_MIN_RECORD_SIZE
        out.append(
            MaxMin(
                parameter=name,
                maximum=Peak(
                    _f32_at(image, base + _MAXMIN_MAX, blk),
                    decode_time3(image.words(base + _MAXMIN_MAX_TIME, 3)),
                ),
                minimum=Peak(
                    _f32_at(image, base + _MAXMIN_MIN, blk),
                    decode_time3(image.words(base + _MAXMIN_MIN_TIME, 3)),
                ),
            )
        )
    return tuple(out)


def decode_harmonics(image: RegisterImage) -> Harmonics:
    """Power-quality block of the 333 mV model."""
    thd = _f32_array(image, "thd_voltage")
    crest = _f32_array(image, "crest_factor")
    return Harmonics(
        thd_voltage=dict(zip(_PHASES, thd[:3], strict=True)),
        thd_voltage_avg=thd[3],
        crest_factor=dict(zip(_PHASES, crest[:3], strict=True)),
        voltage_unbalance=_f32(image, "voltage_unbalance"),
        voltage_harmonics={
            Phase.A: _f32_array(image, "u1_harmonic"),
            Phase.B: _f32_array(image, "u2_harmonic"),
            Phase.C: _f32_array(image, "u3_harmonic"),
        },
        channel_thd=_f32_array(image, "channel_thd"),
        channel_k_factor=_f32_array(image, "channel_k_factor"),
    )


# --------------------------------------------------------------------------- I/O, logs, clock


def decode_io(image: RegisterImage) -> IOStatus:
    """Relays (FC01), DIs (FC02), DI/relay mode bitmaps and DI pulse counts."""
    relays = [image.bits(Space.COIL, block(k).address, 1)[0] for k in RELAY_KEYS]
    dis = [image.bits(Space.DISCRETE_INPUT, block(k).address, 1)[0] for k in DI_KEYS]
    relay_mode = image.word(block("relay_mode_bitmap").address)
    return IOStatus(
        relays=tuple(relays),
        digital_inputs=tuple(dis),
        di_counter_mode=_bits(image.word(block("di_mode_bitmap").address), DI_COUNT),
        # bit = 0 means remote control (FC05 allowed), bit = 1 alarm/event output.
        relay_remote_control=tuple(not b for b in _bits(relay_mode, RELAY_COUNT)),
        di_counts=tuple(_u32_array(image, "di_pulse_count")),
    )


def decode_log_status(image: RegisterImage) -> LogStatus:
    """Alarm/SOE ring pointers and the active-alarm bitmap."""
    return LogStatus(
        latest_alarm=image.word(block("latest_alarm_record").address),
        latest_soe=image.word(block("latest_soe_record").address),
        active_alarms=image.word(block("active_alarm_bitmap").address),
    )


def decode_alarms(image: RegisterImage) -> tuple[AlarmRecord, ...]:
    """The 20 alarm records, index 1..20 (ring order, not time order)."""
    blk = block("alarm_record")
    out: list[AlarmRecord] = []
    for r in range(LOG_RING_SIZE):
        base = blk.address + r * ALARM_RECORD_SIZE
        regs = image.words(base, ALARM_RECORD_SIZE)
        out.append(
            AlarmRecord(
                index=r + 1,
                occurred=bool(regs[_ALARM_STATUS] & 1),
                channel=regs[_ALARM_CHANNEL],
                parameter=regs[_ALARM_LABEL],
                value=finite(decode_float32(regs[_ALARM_VALUE : _ALARM_VALUE + 2], blk.word_order)),
                time=decode_time7(regs[_ALARM_TIME : _ALARM_TIME + 7]),
            )
        )
    return tuple(out)


def decode_soe(image: RegisterImage) -> tuple[SoeRecord, ...]:
    """The 20 sequence-of-events records, index 1..20."""
    blk = block("soe_record")
    out: list[SoeRecord] = []
    for r in range(LOG_RING_SIZE):
        regs = image.words(blk.address + r * SOE_RECORD_SIZE, SOE_RECORD_SIZE)
        out.append(
            SoeRecord(
                index=r + 1,
                di_states=regs[_SOE_STATES],
                changed=regs[_SOE_CHANGED],
                time=decode_time7(regs[_SOE_TIME : _SOE_TIME + 7]),
            )
        )
    return tuple(out)


def decode_clock(image: RegisterImage) -> datetime | None:
    """The device clock (None when the registers hold an impossible date)."""
    first = block(CLOCK_KEYS[0]).address
    return decode_clock6(image.words(first, len(CLOCK_KEYS)))


# --------------------------------------------------------------------------- settings


def decode_settings(image: RegisterImage) -> MeterSettings:
    """Communication, demand, billing, user-mapping and CT settings."""

    def w(key: str) -> int:
        return image.word(block(key).address)

    pt = block("pt_primary")
    prim = block("ct_primary_ch1").address
    sec = block("ct_secondary_ch1").address
    names = block("user_name")
    return MeterSettings(
        modbus_address=w("modbus_address"),
        baud=w("rs485_baud"),
        parity=w("rs485_parity"),
        rated_voltage=w("rated_voltage"),
        pt_primary=decode_uint32(image.block_words("pt_primary"), pt.word_order),
        pt_secondary=w("pt_secondary"),
        demand_method=w("demand_method"),
        demand_period=w("demand_period"),
        demand_subperiod=w("demand_subperiod"),
        demand_sync_source=w("demand_sync_source"),
        demand_sync_edge=w("demand_sync_edge"),
        var_calc_method=w("var_calc_method"),
        pf_convention=w("pf_convention"),
        billing_day=w("billing_day"),
        billing_hour=w("billing_hour"),
        tou_enable=bool(w("tou_enable")),
        backlight_timeout=w("backlight_timeout"),
        user_channel_codes=tuple(image.block_words("user_channel_code")),
        user_display_enable=tuple(bool(x) for x in image.block_words("user_display_enable")),
        ct_primary=tuple(image.word(prim + _CT_STRIDE * i) for i in range(CHANNEL_COUNT)),
        ct_secondary=tuple(image.word(sec + _CT_STRIDE * i) for i in range(CHANNEL_COUNT)),
        user_names=tuple(
            decode_ascii(image.words(names.address + _USER_NAME_REGS * i, _USER_NAME_REGS))
            for i in range(names.count // _USER_NAME_REGS)
        ),
    )


def decode_alarm_settings(image: RegisterImage) -> AlarmSettings:
    """Global alarm enable and the 16 alarm channels."""
    blk = block("alarm_channel")
    channels: list[AlarmSetting] = []
    for c in range(ALARM_CHANNEL_COUNT):
        regs = image.words(blk.address + c * ALARM_SETTING_SIZE, ALARM_SETTING_SIZE)
        channels.append(
            AlarmSetting(
                channel=c + 1,
                enabled=bool(regs[_ASET_ENABLE]),
                parameter=regs[_ASET_LABEL],
                greater_than=regs[_ASET_COMPARE] == 1,
                setpoint=finite(
                    decode_float32(regs[_ASET_SETPOINT : _ASET_SETPOINT + 2], blk.word_order)
                ),
                delay_s=regs[_ASET_DELAY],
                relay=regs[_ASET_RELAY],
            )
        )
    return AlarmSettings(
        enabled=bool(image.word(block("alarm_global_enable").address)),
        channels=tuple(channels),
    )


# --------------------------------------------------------------------------- snapshot


def decode_snapshot(
    image: RegisterImage,
    groups: Collection[ReadGroup],
    device: DeviceInfo | None = None,
) -> Snapshot:
    """Decode every requested group; DEVICE in ``groups`` overrides ``device``.

    ``snapshot.device`` is the DeviceInfo the decoding used (read now or passed in).
    """
    if ReadGroup.DEVICE in groups:
        device = decode_device_info(image)
    if device is None and any(g in NEEDS_DEVICE for g in groups):
        raise ValueError("channels/users/demand/harmonics need DeviceInfo or the DEVICE group")
    snap = Snapshot(device=device)
    if ReadGroup.SYSTEM in groups:
        snap.system = decode_system(image)
    if device is not None:
        if ReadGroup.CHANNELS in groups:
            snap.channels = decode_channels(image, device)
        if ReadGroup.USERS in groups:
            snap.users = decode_users(image, device)
        if ReadGroup.DEMAND in groups:
            snap.demand = decode_demand(image, device)
        if ReadGroup.HARMONICS in groups and device.is_333mv:
            snap.harmonics = decode_harmonics(image)
    if ReadGroup.ENERGY in groups:
        snap.energy = decode_energy(image)
    if ReadGroup.MONTHLY in groups:
        snap.monthly = decode_monthly(image)
    if ReadGroup.TOU in groups:
        snap.tou = decode_tou(image)
    if ReadGroup.MAX_MIN in groups:
        snap.max_min = decode_max_min(image)
    if ReadGroup.IO in groups:
        snap.io = decode_io(image)
    if ReadGroup.LOG_STATUS in groups:
        snap.log_status = decode_log_status(image)
    if ReadGroup.ALARMS in groups:
        snap.alarms = decode_alarms(image)
    if ReadGroup.SOE in groups:
        snap.soe = decode_soe(image)
    if ReadGroup.CLOCK in groups:
        snap.clock = decode_clock(image)
    if ReadGroup.SETTINGS in groups:
        snap.settings = decode_settings(image)
    if ReadGroup.ALARM_SETTINGS in groups:
        snap.alarm_settings = decode_alarm_settings(image)
    return snap

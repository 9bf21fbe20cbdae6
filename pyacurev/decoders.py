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
from .groups import (
    CLOCK_KEYS,
    DI_KEYS,
    ENERGY_BANK_ROWS,
    ENERGY_BANK_USERS_2100,
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
    CHANNEL_DETAIL_K,
    CHANNEL_FIELDS,
    CREST_FACTOR_SCALE,
    DEMAND_FULL,
    DEMAND_POWER,
    DEMAND_RECORD_SIZE,
    K_FACTOR_SCALE,
    LOAD_NATURE_CODES,
    PQ_PERCENT_SCALE,
    SOE_RECORD_SIZE,
    SYSTEM_FLOAT_KEYS,
    USER_FIELDS,
    VOLTAGE_DETAIL_CREST,
    WIRING_CODES,
    DemandOffset,
    DemandQuantity,
    LoadNature,
    Phase,
    Wiring,
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
    MeterSettings,
    Peak,
    PhaseAngles,
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
    ENTRY_SYSTEM,
    FIRST_CHANNEL_ENTRY,
    FIRST_USER_ENTRY,
    LOG_RING_SIZE,
    RELAY_COUNT,
    Block,
    Space,
    block,
)

_PHASES = (Phase.A, Phase.B, Phase.C)

# Offsets inside records, as documented in layouts.py and the map's notes.
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
# Fallbacks when a DESIGNED build register does not answer (discovery degrades, never refuses).
FALLBACK_WIRING = Wiring.ONE_LN
FALLBACK_CHANNELS = CHANNEL_COUNT


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


def _word(image: RegisterImage, key: str, default: int = 0) -> int:
    """One register of a block, or ``default`` when the meter did not answer it."""
    address = block(key).address
    return image.word(address) if image.has(address) else default


def decode_wiring(image: RegisterImage) -> Wiring | None:
    """Wiring from 0x0888, None when it did not answer or holds a code this build lacks."""
    address = block("wiring_mode").address
    if not image.has(address):
        return None
    return WIRING_CODES.get(image.word(address))


def decode_installed_channels(image: RegisterImage) -> int | None:
    """Installed channels (DESIGNED 0x0882), None when absent or implausible."""
    address = block("installed_channels").address
    if not image.has(address):
        return None
    installed = image.word(address)
    return installed if installed in (9, CHANNEL_COUNT) else None


def decode_device_info(image: RegisterImage, base: DeviceInfo | None = None) -> DeviceInfo:
    """Identity and build from whatever of the DEVICE and BUILD groups answered.

    Every field degrades on its own: an identity register that did not answer
    (or answered nonsense) keeps ``base``'s value, or "" / 0; an unknown wiring
    code falls back to 1LN (channels only, no user grouping guessed) and an
    implausible channel count to 18.
    """
    wiring = decode_wiring(image) or (base.wiring if base else FALLBACK_WIRING)
    installed = decode_installed_channels(image) or (
        base.installed_channels if base else FALLBACK_CHANNELS
    )
    run_time = block("meter_run_time")
    if image.has(run_time.address, run_time.count):
        run_time_h = _scaled(
            decode_uint32(image.block_words("meter_run_time"), run_time.word_order), run_time
        )
    else:
        run_time_h = base.run_time_h if base else 0.0
    serial = decode_serial(image) if image.has(block("serial_number").address, 8) else None
    if serial is None or not plausible_serial(serial):
        serial = base.serial if base else ""

    def ident(key: str, old: int) -> int:
        return _word(image, key, old)

    return DeviceInfo(
        serial=serial,
        model=ident("device_model", base.model if base else 0),
        firmware=ident("firmware_version", base.firmware if base else 0),
        hardware=ident("hardware_version", base.hardware if base else 0),
        map_version=ident("map_version", base.map_version if base else 0),
        wiring=wiring,
        ct_input_type=_word(image, "ct_type", base.ct_input_type if base else 0),
        installed_channels=installed,
        run_time_h=run_time_h,
        comm_module_type=ident("comm_module_type", base.comm_module_type if base else 0),
    )


def plausible_serial(serial: str) -> bool:
    """A serial worth using as an identity: printable, not empty, not all one character."""
    return bool(serial) and serial.isprintable() and serial.isascii() and len(set(serial)) > 1


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
        active_power=per_phase("pa", "pb", "pc"),
        active_power_total=v["psum"],
        reactive_power=per_phase("qa", "qb", "qc"),
        reactive_power_total=v["qsum"],
        apparent_power=per_phase("sa", "sb", "sc"),
        apparent_power_total=v["ssum"],
        power_factor=per_phase("pfa", "pfb", "pfc"),
        power_factor_total=v["pfsum"],
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
    """One 2LN/3LN user circuit: totals from 0x21D8, per-phase values from its channels.

    The vendor's user record holds totals only; a user's phase A/B/C values are
    its member input channels (manual table, ``user_inputs``), whose records the
    USERS group reads alongside.
    """
    v = _record_floats(image, "user_record", user - 1, USER_FIELDS)
    inputs = user_inputs(user, device.wiring)
    members = {phase: decode_channel(image, n) for phase, n in zip(_PHASES, inputs, strict=False)}
    return UserValues(
        user=user,
        inputs=inputs,
        current={p: ch.current for p, ch in members.items()},
        active_power={p: ch.active_power for p, ch in members.items()},
        active_power_total=v["active_power"],
        reactive_power={p: ch.reactive_power for p, ch in members.items()},
        reactive_power_total=v["reactive_power"],
        apparent_power={p: ch.apparent_power for p, ch in members.items()},
        apparent_power_total=v["apparent_power"],
        power_factor={p: ch.power_factor for p, ch in members.items()},
        power_factor_total=v["power_factor"],
        load_nature=_load_nature(v["load_nature"]),
    )


def decode_users(image: RegisterImage, device: DeviceInfo) -> tuple[UserValues, ...]:
    """The user circuits of this build (empty in 1LN)."""
    return tuple(decode_user(image, u, device) for u in installed_circuit_users(device))


# --------------------------------------------------------------------------- energy


def _bank_from(image: RegisterImage, first: Block) -> EnergyBank:
    address = first.address
    regs = image.words(address, 2 * BANK_ENTRIES)
    raw = [decode_uint32(regs[i : i + 2], first.word_order) for i in range(0, len(regs), 2)]
    return EnergyBank(tuple(_scaled(r, first) for r in raw))


def decode_bank(image: RegisterImage, key: str) -> EnergyBank:
    """One 28-entry uint32 bank starting at row ``key``, scaled to kWh/kvarh/kVAh."""
    return _bank_from(image, block(key))


def decode_energy(image: RegisterImage) -> Energy:
    """The real-time energy banks that are in ``image`` (the others stay None)."""
    banks: dict[str, EnergyBank | None] = {}
    for name in ENERGY_BANKS:
        first = block(ENERGY_BANK_ROWS[name][0])
        if not image.has(first.address, 2 * BANK_ENTRIES):
            banks[name] = None
            continue
        bank = _bank_from(image, first)
        extra_key = ENERGY_BANK_USERS_2100.get(name)
        if extra_key is not None and image.has(block(extra_key).address, block(extra_key).count):
            extra = block(extra_key)
            regs = image.words(extra.address, extra.count)
            raw = [decode_uint32(regs[i : i + 2], extra.word_order) for i in range(0, len(regs), 2)]
            bank = EnergyBank(bank.values, tuple(_scaled(r, extra) for r in raw))
        banks[name] = bank
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


def demand_group(entry: int) -> tuple[str, int, tuple[DemandQuantity, ...]]:
    """Where bank entry 0..27 keeps its demand: (block key, record index, quantities)."""
    if entry < ENTRY_SYSTEM:
        return "demand_phase", entry, DEMAND_FULL
    if entry == ENTRY_SYSTEM:
        return "demand_system", 0, DEMAND_POWER
    if entry < FIRST_USER_ENTRY:
        return "demand_channel", entry - FIRST_CHANNEL_ENTRY, DEMAND_FULL
    return "demand_user", entry - FIRST_USER_ENTRY, DEMAND_POWER


def decode_demand_entry(image: RegisterImage, entry: int) -> DemandValues:
    """Demand of bank entry 0..27: per quantity, demand, predicted, peak and its time."""
    key, index, quantities = demand_group(entry)
    blk = block(key)
    base = blk.address + index * blk.record
    values: dict[DemandQuantity, tuple[float | None, float | None, Peak]] = {}
    for i, q in enumerate(quantities):
        rec = base + i * DEMAND_RECORD_SIZE
        values[q] = (
            _f32_at(image, rec + DemandOffset.DEMAND, blk),
            _f32_at(image, rec + DemandOffset.PREDICTED, blk),
            _peak(image, rec + DemandOffset.PEAK, blk),
        )
    none: tuple[float | None, float | None, Peak] = (None, None, Peak(None, None))

    def get(q: DemandQuantity) -> tuple[float | None, float | None, Peak]:
        return values.get(q, none)

    return DemandValues(
        entry=entry,
        current=get(DemandQuantity.CURRENT)[0],
        active=get(DemandQuantity.ACTIVE)[0],
        reactive=get(DemandQuantity.REACTIVE)[0],
        apparent=get(DemandQuantity.APPARENT)[0],
        predicted_active=get(DemandQuantity.ACTIVE)[1],
        peak_current=get(DemandQuantity.CURRENT)[2],
        peak_active=get(DemandQuantity.ACTIVE)[2],
        peak_reactive=get(DemandQuantity.REACTIVE)[2],
        peak_apparent=get(DemandQuantity.APPARENT)[2],
    )


def decode_demand(image: RegisterImage, device: DeviceInfo | None) -> tuple[DemandValues, ...]:
    """Demand records of the entries this build uses."""
    return tuple(decode_demand_entry(image, e) for e in demand_entries(device))


def _pq(image: RegisterImage, address: int, scale: float) -> float:
    return round(image.word(address) * scale, _decimals(scale))


def decode_harmonics(image: RegisterImage) -> Harmonics:
    """Power-quality block of the 333 mV model (uint16 values from 0x3200)."""
    thd = [_pq(image, block("thd_voltage").address + i, PQ_PERCENT_SCALE) for i in range(4)]
    detail = block("voltage_thd_detail")
    crest = [
        _pq(image, detail.address + p * detail.record + VOLTAGE_DETAIL_CREST, CREST_FACTOR_SCALE)
        for p in range(3)
    ]
    spectra = {
        ph: tuple(
            _pq(image, block(key).address + i, PQ_PERCENT_SCALE) for i in range(block(key).count)
        )
        for ph, key in zip(_PHASES, ("ua_harmonic", "ub_harmonic", "uc_harmonic"), strict=True)
    }
    ch_h = block("channel_harmonic")
    ch_d = block("channel_thd_detail")
    return Harmonics(
        thd_voltage=dict(zip(_PHASES, thd[:3], strict=True)),
        thd_voltage_avg=thd[3],
        crest_factor=dict(zip(_PHASES, crest, strict=True)),
        voltage_unbalance=_pq(image, block("voltage_unbalance").address, 0.1),
        current_unbalance=_pq(image, block("current_unbalance").address, 0.1),
        voltage_harmonics=dict(spectra),
        channel_thd=tuple(
            _pq(image, ch_h.address + n * ch_h.record, PQ_PERCENT_SCALE)
            for n in range(CHANNEL_COUNT)
        ),
        channel_k_factor=tuple(
            _pq(image, ch_d.address + n * ch_d.record + CHANNEL_DETAIL_K, K_FACTOR_SCALE)
            for n in range(CHANNEL_COUNT)
        ),
        odd_thd_voltage=_detail(image, detail, 0),
        even_thd_voltage=_detail(image, detail, 1),
        channel_odd_thd=tuple(
            _pq(image, ch_d.address + n * ch_d.record, PQ_PERCENT_SCALE)
            for n in range(CHANNEL_COUNT)
        ),
        channel_even_thd=tuple(
            _pq(image, ch_d.address + n * ch_d.record + 1, PQ_PERCENT_SCALE)
            for n in range(CHANNEL_COUNT)
        ),
    )


def _detail(image: RegisterImage, detail: Block, offset: int) -> dict[Phase, float | None]:
    """One field (0 odd THD, 1 even THD, x0.01 %) of the per-phase voltage THD records."""
    return {
        ph: _pq(image, detail.address + p * detail.record + offset, PQ_PERCENT_SCALE)
        for p, ph in enumerate(_PHASES)
    }


def decode_angles(image: RegisterImage) -> PhaseAngles:
    """Phase angles (0x3600: Ub, Uc, then I1..I18; uint16 x 0.1 degree, 0-3600)."""
    blk = block("phase_angle")
    values = [_pq(image, blk.address + i, blk.scale) for i in range(blk.count)]
    return PhaseAngles(
        voltage={Phase.B: values[0], Phase.C: values[1]},
        channel_current=tuple(values[2:]),
    )


# --------------------------------------------------------------------------- I/O, logs, clock


def decode_io(image: RegisterImage) -> IOStatus:
    """Relays (FC01), DIs (FC02), DI/relay mode bitmaps and DI pulse counts."""
    # IO (FC01/FC02, seed) and IO_CONFIG (designed holding registers) are read
    # groups of their own; either may be absent from the image.
    have_bits = all(image.has_block(k) for k in (*RELAY_KEYS, *DI_KEYS))
    relays = (
        [image.bits(Space.COIL, block(k).address, 1)[0] for k in RELAY_KEYS] if have_bits else []
    )
    dis = (
        [image.bits(Space.DISCRETE_INPUT, block(k).address, 1)[0] for k in DI_KEYS]
        if have_bits
        else []
    )
    if not image.has(block("relay_mode_bitmap").address):
        # The DESIGNED I/O configuration did not answer: relays and DIs only.
        return IOStatus(relays=tuple(relays), digital_inputs=tuple(dis))
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
    names = block("user_name")
    return MeterSettings(
        modbus_address=w("modbus_address"),
        baud=w("rs485_baud"),
        parity=w("rs485_parity"),
        rated_voltage=w("rated_voltage"),
        pt_primary=decode_uint32(image.block_words("pt_primary"), pt.word_order),
        pt_secondary=w("pt_secondary"),
        demand_method=w("demand_method"),
        demand_period=w("demand_interval"),
        demand_subperiod=w("demand_subinterval"),
        var_calc_method=w("var_calc_method"),
        pf_convention=w("var_pf_convention"),
        billing_day=w("billing_day"),
        billing_hour=w("billing_hour"),
        tou_enable=bool(w("tou_enable")),
        backlight_timeout=w("backlight_timeout"),
        user_channel_codes=tuple(image.block_words("user_channel_code")),
        user_display_enable=tuple(bool(x) for x in image.block_words("user_display_enable")),
        ct_primary=tuple(image.word(prim + i) for i in range(CHANNEL_COUNT)),
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
    """Decode every requested group; DEVICE/BUILD in ``groups`` refresh ``device``.

    ``snapshot.device`` is the DeviceInfo the decoding used (read now or passed in).
    """
    if ReadGroup.DEVICE in groups or ReadGroup.BUILD in groups:
        device = decode_device_info(image, device)
    if device is None and any(g in NEEDS_DEVICE for g in groups):
        raise ValueError("channels/users/demand/harmonics need DeviceInfo or the BUILD group")
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
    if ReadGroup.ANGLES in groups:
        snap.angles = decode_angles(image)
    if ReadGroup.ENERGY in groups or ReadGroup.EXPORT_ENERGY in groups:
        snap.energy = decode_energy(image)
    if ReadGroup.MONTHLY in groups:
        snap.monthly = decode_monthly(image)
    if ReadGroup.TOU in groups:
        snap.tou = decode_tou(image)
    if ReadGroup.IO in groups or ReadGroup.IO_CONFIG in groups:
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

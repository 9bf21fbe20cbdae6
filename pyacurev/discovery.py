"""Discovery: which read groups a meter answers, judged group by group.

Our map is not the meter's map. Set-up therefore never asks "is this an AcuRev"
of a designed register (serial, model, map version); it reads the
evidence-backed core — the system floats with a plausible frequency, the
channel records, the import energy bank, relays and DIs — and accepts the meter
when that core is plausible. Every other group is read on its own; the ones
that answer plausibly form the meter's capability set, and only they create
entities and are polled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .client import GATEWAY_EXCEPTIONS, AcuRevClient
from .codec import decode_float32
from .decoders import plausible_serial
from .errors import (
    AcuRevConnectionError,
    AcuRevError,
    AcuRevTimeoutError,
    ModbusExceptionError,
)
from .groups import ReadGroup
from .layouts import Wiring
from .models import DeviceInfo, Snapshot
from .profiles import PROFILES, MeterModel
from .registers import block

# Without these answering plausibly there is nothing to set up.
CORE_GROUPS: tuple[ReadGroup, ...] = (
    ReadGroup.SYSTEM,
    ReadGroup.CHANNELS,
    ReadGroup.ENERGY,
    ReadGroup.IO,
)
# Probed one by one; missing ones only mean fewer entities.
OPTIONAL_GROUPS: tuple[ReadGroup, ...] = (
    ReadGroup.DEVICE,
    ReadGroup.BUILD,
    ReadGroup.USERS,
    ReadGroup.EXPORT_ENERGY,
    ReadGroup.DEMAND,
    ReadGroup.HARMONICS,
    ReadGroup.ANGLES,
    ReadGroup.IO_CONFIG,
    ReadGroup.LOG_STATUS,
    ReadGroup.CLOCK,
    ReadGroup.MONTHLY,
    ReadGroup.TOU,
    ReadGroup.ALARM_SETTINGS,
)
FREQUENCY_RANGE = (45.0, 65.0)
# Prefix of a verdict for a group this build does not have (not a missing block).
NOT_APPLICABLE = "n/a: "
KNOWN_MODELS = frozenset({2010, 2020, 2100})
# 100 GWh: far beyond any sub-meter counter; garbage in a uint32 bank lands above it.
MAX_PLAUSIBLE_KWH = 1.0e8


class WrongUnitIdError(AcuRevConnectionError):
    """The TCP connection works but nothing answers at this unit id (gateway 0x0A/0x0B, silence)."""


@dataclass(frozen=True, slots=True)
class ModelDetection:
    """Which model profile the meter's answers fit; ``model`` None when they cannot tell."""

    model: MeterModel | None
    reason: str


async def detect_model(client: AcuRevClient, device: DeviceInfo) -> ModelDetection:
    """Tell a 2020 from a 2100 by what answers, most direct evidence first.

    1. the (designed) identity block, when it answered a plausible model;
    2. a wiring code only the 2100 has (0x0888 = 3, 4, 5: high-leg delta, 2LL, 2LN network);
    3. the 2100's user records 7-9 (0x2214): exception 02 means a 2020's map,
       finite non-zero floats a 2100's; zeros say nothing (a 2100 in 3LN reads zeros
       there too, and so may a 2020 that maps the range as reserved).
    """
    if device.model in (2020, 2010):
        return ModelDetection(MeterModel.ACUREV_2020, f"identity block: model {device.model}")
    if device.model == 2100:
        return ModelDetection(MeterModel.ACUREV_2100, "identity block: model 2100")
    if device.wiring not in PROFILES[MeterModel.ACUREV_2020].wirings:
        return ModelDetection(MeterModel.ACUREV_2100, f"wiring {device.wiring} is a 2100 type")
    rows = block("user_record_2100")
    where = f"0x{rows.address:04X}"
    try:
        regs = await client.read_holding(rows.address, rows.count)
    except ModbusExceptionError as exc:
        if exc.exception_code in GATEWAY_EXCEPTIONS:
            raise WrongUnitIdError(str(exc)) from exc
        return ModelDetection(
            MeterModel.ACUREV_2020,
            f"users 7-9 at {where} answer exception {exc.exception_code:02d}",
        )
    values = [decode_float32(regs[i : i + 2]) for i in range(0, len(regs), 2)]
    if any(regs) and all(math.isfinite(v) for v in values):
        return ModelDetection(MeterModel.ACUREV_2100, f"users 7-9 answer at {where}")
    if not any(regs):
        return ModelDetection(None, f"users 7-9 at {where} read zeros")
    return ModelDetection(None, f"{where} holds no float records")


@dataclass(slots=True)
class Discovery:
    """What a meter answered: its build, its capability set and why groups were left out."""

    device: DeviceInfo
    capabilities: frozenset[ReadGroup]
    # group -> "ok" or why it is not in the capability set (exception, implausible data)
    groups: dict[str, str] = field(default_factory=dict)
    # How the model profile was chosen (detected, or the caller's choice when it could not be).
    model: ModelDetection = field(
        default_factory=lambda: ModelDetection(MeterModel.ACUREV_2020, "not detected")
    )

    @property
    def core_ok(self) -> bool:
        """Every core group answered plausibly."""
        return all(g in self.capabilities for g in CORE_GROUPS)

    @property
    def core_problems(self) -> list[str]:
        """``group: why`` of each core group that is missing."""
        return [
            f"{g}: {self.groups.get(g, 'not read')}"
            for g in CORE_GROUPS
            if g not in self.capabilities
        ]

    @property
    def missing(self) -> list[str]:
        """Groups this build should have that did not answer plausibly."""
        return sorted(
            g
            for g, why in self.groups.items()
            if why != "ok" and not why.startswith(NOT_APPLICABLE)
        )

    @property
    def identified(self) -> bool:
        """The (designed) identity block answered with a plausible serial and model."""
        return ReadGroup.DEVICE in self.capabilities

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly summary (diagnostics, the config entry)."""
        return {
            "capabilities": sorted(self.capabilities),
            "groups": dict(sorted(self.groups.items())),
            "identified": self.identified,
            "model": self.device.profile.model.value,
            "model_detected": self.model.model is not None,
            "model_reason": self.model.reason,
        }


def _finite(values: Iterable[float | None]) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def judge(group: ReadGroup, snap: Snapshot, device: DeviceInfo) -> str:
    """Return "ok", or why what ``group`` answered is not plausible."""
    if group is ReadGroup.SYSTEM:
        f = snap.system.frequency if snap.system else None
        lo, hi = FREQUENCY_RANGE
        if f is None or not lo <= f <= hi:
            return f"frequency {f!r} outside {lo:g}-{hi:g} Hz"
    elif group is ReadGroup.CHANNELS:
        if len(snap.channels) != device.installed_channels:
            return "channel records missing"
        for ch in snap.channels:
            values = (ch.current, ch.active_power, ch.apparent_power, ch.power_factor)
            if not _finite(values) or abs(ch.power_factor or 0.0) > 1.001:
                return f"channel {ch.channel} record is not plausible"
    elif group in (ReadGroup.ENERGY, ReadGroup.EXPORT_ENERGY):
        energy = snap.energy
        name = "import_active" if group is ReadGroup.ENERGY else "export_active"
        bank = getattr(energy, name) if energy else None
        if bank is None:
            return f"{name} bank missing"
        if max(bank.values) > MAX_PLAUSIBLE_KWH:
            return f"{name} bank beyond {MAX_PLAUSIBLE_KWH:g} kWh"
    elif group in (ReadGroup.MONTHLY, ReadGroup.TOU):
        banks = [*snap.monthly.values(), *snap.tou.values()]
        if not banks or any(max(b.values) > MAX_PLAUSIBLE_KWH for b in banks):
            return f"a bank beyond {MAX_PLAUSIBLE_KWH:g} kWh"
    elif group is ReadGroup.LOG_STATUS:
        st = snap.log_status
        if st is None or not (0 <= st.latest_alarm <= 20 and 0 <= st.latest_soe <= 20):
            return "ring pointers outside 0-20"
    elif group is ReadGroup.ALARM_SETTINGS:
        al = snap.alarm_settings
        if al is None or any(not 0 <= ch.relay <= 8 or ch.parameter > 64 for ch in al.channels):
            return "alarm channels hold impossible settings"
    elif group is ReadGroup.IO:
        if snap.io is None or len(snap.io.relays) != 8 or len(snap.io.digital_inputs) != 8:
            return "relays/DIs missing"
    elif group is ReadGroup.DEVICE:
        dev = snap.device
        if dev is None or not plausible_serial(dev.serial) or dev.model not in KNOWN_MODELS:
            return "identity registers hold no plausible serial/model"
    elif group is ReadGroup.USERS:
        if device.wiring is Wiring.ONE_LN:
            return NOT_APPLICABLE + "no user circuits in 1LN"
        if not snap.users or not all(
            _finite((u.active_power_total, u.apparent_power_total)) for u in snap.users
        ):
            return "user records are not plausible"
    elif group is ReadGroup.HARMONICS:
        if not device.is_333mv:
            return NOT_APPLICABLE + "current-output build has no power quality"
        h = snap.harmonics
        if h is None or any((v or 0.0) > 100 for v in h.thd_voltage.values()):
            return "power-quality values are not plausible"
    elif group is ReadGroup.ANGLES:
        a = snap.angles
        angles: list[float | None] = [*a.voltage.values(), *a.channel_current] if a else [None]
        if any(v is None or not 0 <= v <= 360 for v in angles):
            return "phase angles outside 0-360 degrees"
    elif group is ReadGroup.CLOCK and snap.clock is None:
        return "clock registers hold no valid date"
    return "ok"


async def discover(client: AcuRevClient, model: MeterModel | str | None = None) -> Discovery:
    """Read the build, detect the model, then read every group on its own and judge it.

    ``model`` is the caller's choice (the config entry's), used only when the
    meter's answers cannot tell the model (``detect_model``); without either the
    2020 profile applies and ``Discovery.model.model`` stays None, so a set-up
    flow can ask. Raises ``WrongUnitIdError`` when the connection works but
    nothing answers at the unit id, and the client's connection errors when
    there is no connection at all; never because a designed register refused.
    """
    connects_before = client.stats.connects
    try:
        device = await client.read_device_info()
    except ModbusExceptionError as exc:
        if exc.exception_code in GATEWAY_EXCEPTIONS:
            raise WrongUnitIdError(str(exc)) from exc
        raise
    except AcuRevTimeoutError as exc:
        if client.stats.connects > connects_before:
            raise WrongUnitIdError(f"no answer at unit {client.unit_id}: {exc}") from exc
        raise
    detection = await detect_model(client, device)
    chosen = detection.model or (MeterModel(model) if model else None)
    if chosen is MeterModel.ACUREV_2100 and device.model != 2100:
        # The profile follows DeviceInfo.model; the identity block did not say so.
        device = replace(device, model=2100)
    groups: dict[str, str] = {}
    capabilities: set[ReadGroup] = set()
    for group in (*CORE_GROUPS, *OPTIONAL_GROUPS):
        if group is ReadGroup.USERS and device.wiring is Wiring.ONE_LN:
            groups[group] = NOT_APPLICABLE + "no user circuits in 1LN"
            continue
        if group is ReadGroup.HARMONICS and not device.is_333mv:
            groups[group] = NOT_APPLICABLE + "current-output build has no power quality"
            continue
        if group is ReadGroup.ANGLES and device.profile.model is not MeterModel.ACUREV_2100:
            # 0x3600 is in the 2100's map only (S9); whether a 2020 has it is unknown.
            groups[group] = NOT_APPLICABLE + "phase angles are an AcuRev 2100 block"
            continue
        try:
            snap = await client.read_snapshot({group}, device)
        except AcuRevConnectionError:
            raise
        except ModbusExceptionError as exc:
            if exc.exception_code in GATEWAY_EXCEPTIONS:
                raise WrongUnitIdError(str(exc)) from exc
            groups[group] = f"exception {exc.exception_code:02d}"
            continue
        except AcuRevError as exc:
            groups[group] = f"error: {exc}"
            continue
        verdict = judge(group, snap, device)
        groups[group] = verdict
        if verdict == "ok":
            capabilities.add(group)
    return Discovery(device, frozenset(capabilities), groups, detection)


__all__ = [
    "CORE_GROUPS",
    "OPTIONAL_GROUPS",
    "Discovery",
    "ModelDetection",
    "WrongUnitIdError",
    "detect_model",
    "discover",
    "judge",
]

"""Probe a meter: which blocks of the (partly designed) map answer, and do the values make sense.

Much of the register map is still DESIGNED, not from the vendor. A user with a
real meter runs this and attaches the report; it shows block by block what the
meter answered (or which exception) and whether the values are plausible, which
is what is needed to correct the map. The probe never stops at identity: the
serial, model and map version are designed registers like any other, so every
block is read on its own and a meter that refuses them is still probed. A wrong
unit id (a gateway's exception 0x0A/0x0B, or silence on an open connection) is
reported as such. The probe only reads — a tool that is run against unknown
firmware must not change anything on it.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import compat
from .client import GATEWAY_EXCEPTIONS, AcuRevClient
from .codec import decode_ascii, decode_float32
from .datalog import probe_layout
from .decoders import (
    decode_channel,
    decode_device_info,
    decode_energy,
    decode_system,
    decode_user,
    plausible_serial,
)
from .discovery import detect_model
from .errors import (
    AcuRevConnectionError,
    AcuRevError,
    AcuRevProtocolError,
    AcuRevTimeoutError,
    ModbusExceptionError,
)
from .groups import ENERGY_BANK_ROWS, installed_circuit_users
from .image import MissingRegistersError, RegisterImage
from .layouts import (
    CT_TYPE_333MV,
    CT_TYPE_RCT,
    WIRING_CODES,
    Phase,
    Wiring,
    channel_phase,
)
from .models import ENERGY_BANKS, DeviceInfo, Energy, SystemValues
from .profiles import PROFILES
from .registers import REGISTER_MAP, Block, DataType, Space, block

# Tenant-1 energy in the 2012 (V1.02) firmware layout; deliberately outside the
# map (register-map.md section 3, source S2). A meter that answers here with
# data probably speaks the old layout and the map does not fit it.
LEGACY_2012_ENERGY_ADDRESS = 0x4600
EXPECTED_MAP_VERSION = 2
FREQUENCY_RANGE = (45.0, 65.0)
# Float32 rounding and the meter's own arithmetic: a PF of 1.0000001 is not a fault.
_TOLERANCE = 1e-3
# Channels below this current say nothing about the power unit.
_MIN_CURRENT_A = 0.5
_MIN_VOLTAGE_V = 50.0

OK = "ok"
PASS, FAIL, SKIP, INFO = "pass", "fail", "skip", "info"


@dataclass(slots=True)
class BlockResult:
    """What the meter answered for one block of the map."""

    key: str
    space: str
    address: int
    count: int
    provenance: str
    status: str  # ok | exception | timeout | protocol_error | connection_error | not_read
    exception_code: int | None = None
    error: str | None = None
    # None: answered, but nothing to judge it by; False: answered implausible data.
    plausible: bool | None = None
    why: str | None = None

    @property
    def answered(self) -> bool:
        """The meter answered this block with data."""
        return self.status == OK


@dataclass(slots=True)
class Check:
    """One plausibility verdict."""

    name: str
    status: str  # pass | fail | skip | info
    detail: str


@dataclass(slots=True)
class ProbeReport:
    """The whole probe, JSON-serialisable via ``as_dict()`` / ``to_json()``."""

    host: str
    port: int
    unit_id: int
    pymodbus_version: str
    started: str
    duration_s: float = 0.0
    device: dict[str, Any] | None = None
    blocks: list[BlockResult] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    power_unit: str = "unknown"
    map_version: int | None = None
    transactions: int = 0
    # Set when the meter could not be talked to at this unit id (gateway 0x0A/0x0B, silence).
    unit_id_problem: str | None = None
    # Whether any Modbus answer (data or exception) came back from the meter.
    talked: bool = False

    @property
    def all_blocks_ok(self) -> bool:
        """Every block of the map answered."""
        return all(b.status == OK for b in self.blocks)

    @property
    def plausible(self) -> bool:
        """No plausibility check failed."""
        return all(c.status != FAIL for c in self.checks)

    def check(self, name: str) -> Check:
        """The check called ``name`` (KeyError if it was not run)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON types only)."""
        out = asdict(self)
        out["all_blocks_ok"] = self.all_blocks_ok
        out["plausible"] = self.plausible
        out["blocks_answered"] = sum(b.answered for b in self.blocks)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text."""
        return json.dumps(self.as_dict(), indent=indent)

    def format_table(self) -> str:
        """Human-readable report."""
        lines = [
            f"AcuRev probe {self.host}:{self.port} unit {self.unit_id} "
            f"(pymodbus {self.pymodbus_version}, {self.duration_s:.1f} s, "
            f"{self.transactions} requests)"
        ]
        if self.unit_id_problem:
            lines.append(f"WRONG UNIT ID? {self.unit_id_problem}")
        if self.device:
            d = self.device
            lines.append(
                f"meter: serial {d['serial'] or '(not answered)'}, model {d['model']}, "
                f"firmware {d['firmware_version']}, wiring {d['wiring']}, "
                f"{d['installed_channels']} channels, map version {d['map_version']}"
            )
        lines.append("")
        lines.append(
            f"{'block':<40} {'space':<5} {'address':>7} {'regs':>5}  {'status':<18} "
            f"{'plausible':<10} {'provenance':<26} why"
        )
        for b in self.blocks:
            status = b.status if b.exception_code is None else f"exception {b.exception_code:02d}"
            verdict = {None: "-", True: "yes", False: "NO"}[b.plausible]
            lines.append(
                f"{b.key:<40} {b.space:<5} 0x{b.address:04X} {b.count:>5}  "
                f"{status:<18} {verdict:<10} {b.provenance:<26} {b.why or ''}".rstrip()
            )
        ok = sum(b.status == OK for b in self.blocks)
        lines.append(f"{ok}/{len(self.blocks)} blocks answered")
        lines.append("")
        lines.append("checks:")
        for c in self.checks:
            lines.append(f"  {c.status:<5} {c.name:<24} {c.detail}")
        lines.append(f"power unit guess: {self.power_unit}")
        lines.append("verdict: " + ("plausible" if self.plausible else "NOT plausible"))
        return "\n".join(lines)


def _classify(key: str, blk: Block, err: AcuRevError | None) -> BlockResult:
    result = BlockResult(key, str(blk.space), blk.address, blk.count, str(blk.provenance), OK)
    if err is None:
        return result
    result.error = str(err)
    if isinstance(err, ModbusExceptionError):
        result.status = "exception"
        result.exception_code = err.exception_code
    elif isinstance(err, AcuRevTimeoutError):
        result.status = "timeout"
    elif isinstance(err, AcuRevConnectionError):
        result.status = "connection_error"
    elif isinstance(err, AcuRevProtocolError):
        result.status = "protocol_error"
    else:
        result.status = "error"
    return result


def _device_dict(device: DeviceInfo) -> dict[str, Any]:
    out = asdict(device)
    out["wiring"] = str(device.wiring)
    out["firmware_version"] = device.firmware_version
    out["hardware_version"] = device.hardware_version
    out["model_name"] = device.model_name
    return out


def _try[T](fn: Callable[..., T], *args: object) -> T | None:
    """Decode what the meter gave; a block that did not answer just yields None."""
    try:
        return fn(*args)
    except (MissingRegistersError, AcuRevProtocolError):
        return None


async def run_probe(client: AcuRevClient, *, interval: float = 3.0) -> ProbeReport:
    """Read every block of the map (never writing) and judge what came back.

    ``interval`` is the pause before the energy banks are read a second time
    for the "energy never decreases" check. Raises only if the meter cannot be
    reached at all or is a different meter than ``expected_serial``.
    """
    started = time.monotonic()
    report = ProbeReport(
        client.host,
        client.port,
        client.unit_id,
        compat.PYMODBUS_VERSION,
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
    tx_before = client.stats.transactions
    connects_before = client.stats.connects
    keys = [b.key for b in REGISTER_MAP if not b.reserved]
    try:
        await client.connect()
    except ModbusExceptionError as exc:
        if (
            exc.exception_code not in GATEWAY_EXCEPTIONS
        ):  # pragma: no cover - client re-raises only these
            raise
        report.talked = True
        report.unit_id_problem = (
            f"a gateway answered exception {exc.exception_code:02X}h for unit {client.unit_id}: "
            "no device at this unit id behind it"
        )
        return _unread(report, keys, client, tx_before, started, str(exc))
    except AcuRevTimeoutError as exc:
        if client.stats.connects == connects_before:
            raise  # the TCP connection itself failed: nothing to report on
        report.unit_id_problem = (
            f"the connection opened but nothing answered unit {client.unit_id}: "
            "wrong unit id (or the meter is busy)"
        )
        return _unread(report, keys, client, tx_before, started, str(exc))
    report.talked = True

    image, failures = await client.read_blocks_tolerant(keys)
    report.blocks = [_classify(k, block(k), failures.get(k)) for k in keys]
    for result in report.blocks:
        if result.answered:
            result.plausible, result.why = judge_block(result.key, image)
    if report.blocks and all(
        b.exception_code in GATEWAY_EXCEPTIONS or b.status == "timeout" for b in report.blocks
    ):
        report.unit_id_problem = "no block answered at this unit id"

    device = _try(decode_device_info, image)
    if device is not None:
        report.device = _device_dict(device)
        report.map_version = device.map_version
    system = _try(decode_system, image)

    report.checks.append(_check_map_version(image))
    report.checks.append(_check_frequency(system))
    report.checks.extend(_check_power(image, device, system))
    unit_check, report.power_unit = guess_power_unit(image, device, system)
    report.checks.append(unit_check)
    report.checks.append(await check_energy_monotonic(client, image, interval))
    if report.unit_id_problem:
        # Nothing answered: more reads would each wait out a timeout to learn nothing.
        report.checks += [
            Check(name, SKIP, "no block answered")
            for name in ("layout_2012", "datalog_energy", "model_profile")
        ]
    else:
        report.checks.append(await _check_2012_layout(client))
        report.checks.append(await _check_datalog(client))
        report.checks.append(await check_model_profile(client, device))

    report.transactions = client.stats.transactions - tx_before
    report.duration_s = round(time.monotonic() - started, 3)
    return report


async def _check_datalog(client: AcuRevClient) -> Check:
    # Configuration and counters only: reading records would write the window pointers.
    try:
        log, _ = await probe_layout(client)
    except AcuRevError as err:
        return Check("datalog_energy", SKIP, f"not read: {err}")
    return Check("datalog_energy", PASS if log.usable else INFO, f"{log.status}: {log.detail}")


def _unread(
    report: ProbeReport,
    keys: list[str],
    client: AcuRevClient,
    tx_before: int,
    started: float,
    error: str,
) -> ProbeReport:
    report.blocks = [
        BlockResult(
            k,
            str(block(k).space),
            block(k).address,
            block(k).count,
            str(block(k).provenance),
            "not_read",
            error=error,
        )
        for k in keys
    ]
    report.transactions = client.stats.transactions - tx_before
    report.duration_s = round(time.monotonic() - started, 3)
    return report


# --------------------------------------------------------------------------- block verdicts

_FREQUENCY_KEY = "f"
_PF_KEYS = frozenset({"pfsum", "pfa", "pfb", "pfc"})
_PERCENT_LIMIT = 100.0  # THD and harmonics above 100 % of the fundamental are not plausible
_IDENTITY_MODELS = frozenset({2010, 2020, 2100})


def _floats(image: RegisterImage, blk: Block) -> list[float]:
    regs = image.words(blk.address, blk.count)
    return [decode_float32(regs[i : i + 2], blk.word_order) for i in range(0, len(regs), 2)]


def _judge_floats(blk: Block, image: RegisterImage) -> tuple[bool | None, str | None]:
    values = _floats(image, blk)
    if not all(math.isfinite(v) for v in values):
        return False, "not a finite float"
    if blk.key == _FREQUENCY_KEY:
        lo, hi = FREQUENCY_RANGE
        ok = lo <= values[0] <= hi
        return ok, None if ok else f"{values[0]:.3g} Hz outside {lo:g}-{hi:g} Hz"
    if blk.key in _PF_KEYS and abs(values[0]) > 1 + _TOLERANCE:
        return False, f"power factor {values[0]:.3g} outside -1..1"
    if blk.key in ("channel_record", "user_record"):
        size = blk.record // 2
        pf_at = 4 if blk.key == "channel_record" else 3
        p_at, s_at = (1, 3) if blk.key == "channel_record" else (0, 2)
        for i in range(0, len(values), size):
            rec = values[i : i + size]
            if abs(rec[pf_at]) > 1 + _TOLERANCE:
                return False, f"record {i // size + 1}: power factor {rec[pf_at]:.3g}"
            if rec[s_at] < abs(rec[p_at]) * (1 - _TOLERANCE) - _TOLERANCE:
                return False, f"record {i // size + 1}: S < |P|"
    return True, None


def _judge_word(key: str, value: int) -> tuple[bool | None, str | None]:
    allowed: dict[str, frozenset[int]] = {
        "device_model": _IDENTITY_MODELS,
        "map_version": frozenset({EXPECTED_MAP_VERSION}),
        "wiring_mode": frozenset(WIRING_CODES),
        "ct_type": frozenset({CT_TYPE_RCT, CT_TYPE_333MV}),
        "installed_channels": frozenset({9, 18}),
    }
    if key not in allowed:
        return None, None
    ok = value in allowed[key]
    return ok, None if ok else f"{value} not one of {sorted(allowed[key])}"


def judge_block(key: str, image: RegisterImage) -> tuple[bool | None, str | None]:
    """Is what the meter answered for block ``key`` physically and formally plausible?

    ``(None, None)`` means there is nothing to judge it by (a setting, a counter
    of unknown history); ``(False, why)`` is data the map cannot be right about.
    """
    blk = block(key)
    if blk.space is not Space.HOLDING or not image.has(blk.address, blk.count):
        return None, None
    try:
        if key == "serial_number":
            serial = decode_ascii(image.block_words(key))
            ok = plausible_serial(serial)
            return ok, None if ok else f"no printable serial ({serial!r})"
        if blk.count == 1 and blk.dtype is DataType.UINT16 and blk.scale == 1.0:
            return _judge_word(key, image.word(blk.address))
        if blk.dtype is DataType.FLOAT32 or key in ("channel_record", "user_record"):
            return _judge_floats(blk, image)
        if blk.dtype is DataType.UINT16 and blk.unit == "%" and blk.scale < 1:
            worst = max(image.block_words(key)) * blk.scale
            ok = worst <= _PERCENT_LIMIT
            return ok, None if ok else f"{worst:.4g} % above {_PERCENT_LIMIT:g} %"
        if key == ENERGY_BANK_ROWS["import_active"][0]:
            a, b, c, total = (x * blk.scale for x in _u32s(image.block_words(key)))
            ok = abs(total - (a + b + c)) <= 0.1 * 4
            return ok, None if ok else f"system {total:g} kWh is not A+B+C = {a + b + c:g}"
    except (MissingRegistersError, AcuRevProtocolError):  # pragma: no cover - guarded by has()
        return None, None
    return None, None


def _u32s(regs: list[int]) -> list[int]:
    return [regs[i] << 16 | regs[i + 1] for i in range(0, len(regs), 2)]


def _check_map_version(image: RegisterImage) -> Check:
    blk = block("map_version")
    if not image.has(blk.address):
        return Check("map_version", SKIP, "map_version register did not answer")
    version = image.word(blk.address)
    if version == EXPECTED_MAP_VERSION:
        return Check("map_version", PASS, f"{version} (post-2014 layout)")
    return Check(
        "map_version",
        FAIL,
        f"{version}, expected {EXPECTED_MAP_VERSION}: the map may not fit this firmware",
    )


def _check_frequency(system: SystemValues | None) -> Check:
    if system is None or system.frequency is None:
        return Check("frequency", SKIP, "no frequency reading")
    lo, hi = FREQUENCY_RANGE
    f = system.frequency
    if lo <= f <= hi:
        return Check("frequency", PASS, f"{f:.2f} Hz")
    return Check(
        "frequency", FAIL, f"{f:.3f} Hz outside {lo:g}-{hi:g} Hz: 0x2000 may not hold the frequency"
    )


def _check_power(
    image: RegisterImage, device: DeviceInfo | None, system: SystemValues | None
) -> list[Check]:
    """|PF| <= 1 and S >= |P| for every channel, user and phase that was read."""
    rows: list[tuple[str, float | None, float | None, float | None]] = []  # name, P, S, PF
    if system is not None:
        for ph in Phase:
            rows.append(
                (
                    f"phase {ph.value}",
                    system.active_power[ph],
                    system.apparent_power[ph],
                    system.power_factor[ph],
                )
            )
        rows.append(
            (
                "system",
                system.active_power_total,
                system.apparent_power_total,
                system.power_factor_total,
            )
        )
    if device is not None:
        for n in range(1, device.installed_channels + 1):
            ch = _try(decode_channel, image, n)
            if ch is not None:
                rows.append((f"channel {n}", ch.active_power, ch.apparent_power, ch.power_factor))
        for u in installed_circuit_users(device):
            us = _try(decode_user, image, u, device)
            if us is not None:
                rows.append(
                    (
                        f"user {u}",
                        us.active_power_total,
                        us.apparent_power_total,
                        us.power_factor_total,
                    )
                )
                for ph, p in us.active_power.items():
                    rows.append(
                        (
                            f"user {u} phase {ph.value}",
                            p,
                            us.apparent_power[ph],
                            us.power_factor[ph],
                        )
                    )
    if not rows:
        return [
            Check("power_factor_range", SKIP, "no power readings"),
            Check("apparent_ge_active", SKIP, "no power readings"),
        ]
    bad_pf = [name for name, _, _, pf in rows if pf is not None and abs(pf) > 1 + _TOLERANCE]
    bad_s = [
        name
        for name, p, s, _ in rows
        if p is not None and s is not None and s < abs(p) * (1 - _TOLERANCE) - _TOLERANCE
    ]
    n = len(rows)
    return [
        Check(
            "power_factor_range",
            FAIL if bad_pf else PASS,
            f"|PF| > 1 at {', '.join(bad_pf)}" if bad_pf else f"{n} readings within -1..1",
        ),
        Check(
            "apparent_ge_active",
            FAIL if bad_s else PASS,
            f"S < |P| at {', '.join(bad_s)}" if bad_s else f"S >= |P| for {n} readings",
        ),
    ]


def guess_power_unit(
    image: RegisterImage, device: DeviceInfo | None, system: SystemValues | None
) -> tuple[Check, str]:
    """kW or W? Compare each loaded channel's |P| with V x I of its phase.

    The map stores kW (a guess: the vendor does not say). With P in kW,
    |P| <= V*I/1000; with P in W, |P| is about 1000 times larger. Channels with
    little current or a near-zero power factor say nothing and are skipped.
    """
    if device is None or system is None:
        return Check("power_unit", SKIP, "no channel or voltage readings"), "unknown"
    votes: list[str] = []
    for n in range(1, device.installed_channels + 1):
        ch = _try(decode_channel, image, n)
        volts = system.voltage[channel_phase(n)]
        if ch is None or ch.current is None or ch.active_power is None or volts is None:
            continue
        if ch.current < _MIN_CURRENT_A or volts < _MIN_VOLTAGE_V:
            continue
        ratio = abs(ch.active_power) / (volts * ch.current)
        if ratio <= 1.05e-3 and ratio > 1e-5:
            votes.append("kW")
        elif 1.05e-2 < ratio <= 1.05:
            votes.append("W")
    if not votes:
        return Check("power_unit", SKIP, "no loaded channel to compare"), "unknown"
    unit = statistics.mode(votes)
    agree = votes.count(unit)
    status = PASS if unit == "kW" else FAIL
    detail = f"{agree}/{len(votes)} loaded channels consistent with {unit}"
    if unit == "W":
        detail += " (the map assumes kW: powers would read 1000x too high)"
    return Check("power_unit", status, detail), unit


async def _read_energy(client: AcuRevClient, keys: list[str]) -> Energy | None:
    image, _failures = await client.read_blocks_tolerant(keys)
    return _try(decode_energy, image)


async def check_energy_monotonic(
    client: AcuRevClient, image: RegisterImage, interval: float
) -> Check:
    """Read the energy banks again after ``interval`` s: no counter may have gone down."""
    first = _try(decode_energy, image)
    names = [n for n in ENERGY_BANKS if first is not None and getattr(first, n) is not None]
    if first is None or not names:
        return Check("energy_monotonic", SKIP, "energy banks did not answer")
    await asyncio.sleep(interval)
    keys = [k for n in names for k in ENERGY_BANK_ROWS[n]]
    second = await _read_energy(client, keys)
    if second is None:
        return Check("energy_monotonic", SKIP, "second energy read failed")
    decreased: list[str] = []
    for name in names:
        before_bank, after_bank = getattr(first, name), getattr(second, name)
        if after_bank is None:
            return Check("energy_monotonic", SKIP, f"second read of {name} failed")
        decreased += [
            f"{name}[{i}] {a} -> {b}"
            for i, (a, b) in enumerate(zip(before_bank.values, after_bank.values, strict=True))
            if b < a
        ]
    if decreased:
        return Check("energy_monotonic", FAIL, "decreased: " + "; ".join(decreased[:5]))
    return Check("energy_monotonic", PASS, f"no counter decreased over {interval:g} s")


async def check_model_profile(client: AcuRevClient, device: DeviceInfo | None = None) -> Check:
    """Which model profile fits the answers (``discovery.detect_model``, the set-up's own test).

    The identity block's model, a 2100-only wiring code at 0x0888, then the
    2100's user records 7-9 at 0x2214: exception 02 there means a 2020's map,
    finite non-zero floats a 2100's, zeros say nothing (set-up then asks).
    """
    if device is None:
        device = DeviceInfo("", 0, 0, 0, 0, Wiring.ONE_LN, 0, 18, 0.0)
    try:
        found = await detect_model(client, device)
    except AcuRevError as exc:
        return Check("model_profile", INFO, f"unknown: could not be read: {exc}")
    if found.model is None:
        return Check("model_profile", INFO, f"unknown: {found.reason} (2020, or a 2100 in use)")
    profile = PROFILES[found.model]
    return Check(
        "model_profile",
        INFO,
        f"{profile.name} ({profile.user_count} users): {found.reason}",
    )


async def _check_2012_layout(client: AcuRevClient) -> Check:
    where = f"0x{LEGACY_2012_ENERGY_ADDRESS:04X}"
    try:
        regs = await client.read_holding(LEGACY_2012_ENERGY_ADDRESS, 2)
    except ModbusExceptionError as exc:
        return Check(
            "layout_2012",
            PASS,
            f"{where} answers exception {exc.exception_code:02d}: not the 2012 layout",
        )
    except AcuRevError as exc:
        return Check("layout_2012", INFO, f"{where} could not be read: {exc}")
    if any(regs):
        return Check(
            "layout_2012",
            FAIL,
            f"{where} holds data {regs}: the firmware may use the 2012 layout "
            "(tenant energy at 0x4600), which this map does not describe",
        )
    return Check("layout_2012", INFO, f"{where} answers zeros: inconclusive")


__all__ = [
    "LEGACY_2012_ENERGY_ADDRESS",
    "BlockResult",
    "Check",
    "ProbeReport",
    "check_energy_monotonic",
    "check_model_profile",
    "guess_power_unit",
    "run_probe",
]

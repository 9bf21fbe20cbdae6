"""Typed snapshots of what the meter reports, in engineering units.

Powers are kW/kvar/kVA as the vendor map stores them (VERIFIED-2100); energy is kWh,
kvarh or kVAh after the 0.1 scale. ``None`` means the meter did not give a
usable number (NaN register, impossible timestamp) — never a made-up 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .layouts import CT_TYPE_333MV, LoadNature, Phase, Wiring
from .profiles import ModelProfile, profile_for
from .registers import (
    BANK_ENTRIES,
    ENTRY_SYSTEM,
    USER_COUNT,
    bank_entry_channel,
    bank_entry_user,
)


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Identity and build of a meter.

    The identity fields (serial, model, firmware, hardware, map version, run
    time, installed channels) sit in DESIGNED registers: a meter that does not
    answer them gets "" / 0 there and 18 channels, never a refusal. Wiring and
    CT type come from the evidence-backed settings (0x0888, 0x080D).
    """

    serial: str
    model: int
    firmware: int
    hardware: int
    map_version: int
    wiring: Wiring
    ct_input_type: int
    installed_channels: int
    run_time_h: float
    comm_module_type: int = 0

    @property
    def is_333mv(self) -> bool:
        """The 333 mV build measures harmonics (CT type code 333 at 0x080D)."""
        return self.ct_input_type == CT_TYPE_333MV

    @property
    def profile(self) -> ModelProfile:
        """The model profile (2100 when identified or detected as one; otherwise the 2020)."""
        return profile_for(self.model)

    @property
    def users(self) -> tuple[int, ...]:
        """The user circuits of this build and wiring (none in 1LN)."""
        return self.profile.users(self.wiring, self.installed_channels)

    @property
    def firmware_version(self) -> str:
        """Firmware as the meter's screen shows it (211 -> 2.11)."""
        return f"{self.firmware // 100}.{self.firmware % 100:02d}"

    @property
    def hardware_version(self) -> str:
        """Hardware as the meter's screen shows it (100 -> 1.00)."""
        return f"{self.hardware // 100}.{self.hardware % 100:02d}"

    @property
    def model_name(self) -> str:
        """Marketing name, e.g. 'AcuRev 2020 (333 mV)'."""
        suffix = " (333 mV)" if self.is_333mv else ""
        name = f"AcuRev {self.model}" if self.model else "AcuRev"
        return f"{name}{suffix}"


@dataclass(frozen=True, slots=True)
class SystemValues:
    """The 0x2000 float table (phase/system 'inline' values, to 0x2041)."""

    frequency: float | None
    voltage: dict[Phase, float | None]
    voltage_avg: float | None
    voltage_ll: dict[str, float | None]  # "ab", "bc", "ca"
    voltage_ll_avg: float | None
    current: dict[Phase, float | None]
    current_avg: float | None
    active_power: dict[Phase, float | None]
    active_power_total: float | None
    reactive_power: dict[Phase, float | None]
    reactive_power_total: float | None
    apparent_power: dict[Phase, float | None]
    apparent_power_total: float | None
    power_factor: dict[Phase, float | None]
    power_factor_total: float | None
    load_nature_total: LoadNature | None
    load_nature: dict[Phase, LoadNature | None]


@dataclass(frozen=True, slots=True)
class ChannelValues:
    """One input channel (CT) record."""

    channel: int
    current: float | None
    active_power: float | None
    reactive_power: float | None
    apparent_power: float | None
    power_factor: float | None
    load_nature: LoadNature | None


@dataclass(frozen=True, slots=True)
class UserValues:
    """One 2LN/3LN user circuit: totals from its record, per-phase values from its channels."""

    user: int
    inputs: tuple[int, ...]
    current: dict[Phase, float | None]
    active_power: dict[Phase, float | None]
    active_power_total: float | None
    reactive_power: dict[Phase, float | None]
    reactive_power_total: float | None
    apparent_power: dict[Phase, float | None]
    apparent_power_total: float | None
    power_factor: dict[Phase, float | None]
    power_factor_total: float | None
    load_nature: LoadNature | None


@dataclass(frozen=True, slots=True)
class EnergyBank:
    """28 counters of one energy kind (kWh / kvarh / kVAh), entry layout of the map.

    ``extra_users`` are the AcuRev 2100's users 7-9, which its map appends outside
    the 28 entries (0x2538, 0x2B70, 0x2B76); empty on a 2020 and for banks without them.
    """

    values: tuple[float, ...]
    extra_users: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        """A bank with the wrong number of entries is a decoding bug."""
        if len(self.values) != BANK_ENTRIES:
            raise ValueError(f"energy bank needs {BANK_ENTRIES} entries, got {len(self.values)}")

    def phase(self, phase: Phase) -> float:
        """Phase A/B/C total."""
        return self.values[(Phase.A, Phase.B, Phase.C).index(phase)]

    @property
    def system(self) -> float:
        """System total."""
        return self.values[ENTRY_SYSTEM]

    def channel(self, channel: int) -> float:
        """Input channel 1..18."""
        return self.values[bank_entry_channel(channel)]

    def user(self, user: int) -> float | None:
        """User circuit 1..9 (None: a user 7-9 this bank does not hold)."""
        if user <= USER_COUNT:
            return self.values[bank_entry_user(user)]
        extra = user - USER_COUNT - 1
        return self.extra_users[extra] if extra < len(self.extra_users) else None


# Names of the five real-time energy banks, in map order.
ENERGY_BANKS: tuple[str, ...] = (
    "import_active",
    "export_active",
    "import_reactive",
    "export_reactive",
    "apparent",
)


@dataclass(frozen=True, slots=True)
class Energy:
    """The five real-time energy banks; a bank that was not read (or not answered) is None."""

    import_active: EnergyBank | None = None
    export_active: EnergyBank | None = None
    import_reactive: EnergyBank | None = None
    export_reactive: EnergyBank | None = None
    apparent: EnergyBank | None = None


@dataclass(frozen=True, slots=True)
class Peak:
    """A peak demand value and when it happened (None: not yet)."""

    value: float | None
    time: datetime | None


@dataclass(frozen=True, slots=True)
class DemandValues:
    """Demand of one bank entry (phases, system, channels, users); absent quantities are None."""

    entry: int
    current: float | None
    active: float | None
    reactive: float | None
    apparent: float | None
    predicted_active: float | None
    peak_current: Peak
    peak_active: Peak
    peak_reactive: Peak
    peak_apparent: Peak


@dataclass(frozen=True, slots=True)
class MaxMin:
    """Max/min statistic of one parameter (simulated; the meter's address is unknown)."""

    parameter: str
    maximum: Peak
    minimum: Peak


@dataclass(frozen=True, slots=True)
class Harmonics:
    """Power-quality values of the 333 mV model (uint16 block from 0x3200)."""

    thd_voltage: dict[Phase, float | None]
    thd_voltage_avg: float | None
    crest_factor: dict[Phase, float | None]
    voltage_unbalance: float | None
    current_unbalance: float | None
    voltage_harmonics: dict[Phase, tuple[float | None, ...]]  # orders 2..31
    channel_thd: tuple[float | None, ...]  # channels 1..18
    channel_k_factor: tuple[float | None, ...]
    # Odd / even voltage THD per phase (0x3260 + 4p, +0/+1) and per channel (0x32A0 + 3(n-1)).
    odd_thd_voltage: dict[Phase, float | None] = field(default_factory=dict)
    even_thd_voltage: dict[Phase, float | None] = field(default_factory=dict)
    channel_odd_thd: tuple[float | None, ...] = ()
    channel_even_thd: tuple[float | None, ...] = ()


@dataclass(frozen=True, slots=True)
class PhaseAngles:
    """Phase angles in degrees 0..360 (0x3600, AcuRev 2100): Ub, Uc against Ua, channel currents."""

    voltage: dict[Phase, float | None]  # B and C (A is the reference, 0)
    channel_current: tuple[float | None, ...]  # channels 1..18


@dataclass(frozen=True, slots=True)
class IOStatus:
    """Relays, digital inputs and DI pulse counters."""

    relays: tuple[bool, ...]
    digital_inputs: tuple[bool, ...]
    di_counter_mode: tuple[bool, ...] = ()
    relay_remote_control: tuple[bool, ...] = ()
    di_counts: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    """One entry of the 20-record alarm ring."""

    index: int
    occurred: bool
    channel: int
    parameter: int
    value: float | None
    time: datetime | None


@dataclass(frozen=True, slots=True)
class SoeRecord:
    """One entry of the 20-record sequence-of-events ring (a DI change)."""

    index: int
    di_states: int
    changed: int
    time: datetime | None


@dataclass(frozen=True, slots=True)
class LogStatus:
    """Ring pointers and the active-alarm bitmap."""

    latest_alarm: int
    latest_soe: int
    active_alarms: int


@dataclass(frozen=True, slots=True)
class MeterSettings:
    """Communication, demand, billing and per-channel CT settings (0x0801-0x0935).

    The meter password (0x0800) is deliberately absent: snapshots end up in
    diagnostics and logs.
    """

    modbus_address: int
    baud: int
    parity: int
    rated_voltage: int
    pt_primary: int
    pt_secondary: int
    demand_method: int
    demand_period: int
    demand_subperiod: int
    var_calc_method: int
    pf_convention: int
    billing_day: int
    billing_hour: int
    tou_enable: bool
    backlight_timeout: int
    user_channel_codes: tuple[int, ...]  # 18 entries
    user_display_enable: tuple[bool, ...]
    ct_primary: tuple[int, ...]  # channels 1..18, A
    user_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlarmSetting:
    """One of the 16 alarm channels."""

    channel: int
    enabled: bool
    parameter: int
    greater_than: bool
    setpoint: float | None
    delay_s: int
    relay: int


@dataclass(frozen=True, slots=True)
class AlarmSettings:
    """Global alarm switch and the 16 alarm channels."""

    enabled: bool
    channels: tuple[AlarmSetting, ...]


@dataclass(slots=True)
class Snapshot:
    """Everything one poll read; groups that were not asked for stay None/empty."""

    device: DeviceInfo | None = None
    system: SystemValues | None = None
    channels: tuple[ChannelValues, ...] = ()
    users: tuple[UserValues, ...] = ()
    energy: Energy | None = None
    monthly: dict[str, EnergyBank] = field(default_factory=dict)
    tou: dict[str, EnergyBank] = field(default_factory=dict)
    demand: tuple[DemandValues, ...] = ()
    harmonics: Harmonics | None = None
    angles: PhaseAngles | None = None
    io: IOStatus | None = None
    log_status: LogStatus | None = None
    alarms: tuple[AlarmRecord, ...] = ()
    soe: tuple[SoeRecord, ...] = ()
    clock: datetime | None = None
    settings: MeterSettings | None = None
    alarm_settings: AlarmSettings | None = None
    # Meter clock minus the reader's clock, in seconds; set by whoever knows the
    # reader's time zone (the meter's clock is naive local time).
    clock_drift: float | None = None
    # Groups (ReadGroup values) that were asked for but did not answer this poll.
    failed_groups: frozenset[str] = frozenset()

"""The simulated AcuRev 2020: the ground truth the Modbus server exposes.

Tests read and set this object directly; the server encodes it with the shared
register map (``custom_components/acurev/protocol``) and nothing else.

Time: ``advance(seconds)`` is the only thing that moves simulated time. It
integrates energy and demand, runs the alarm engine, moves the clock and the
run time, rolls monthly banks over at the billing instant and takes data-log
records, splitting the step exactly at every instant where something happens
(tariff change, billing instant, alarm delay expiry, data-log instant), so the
result does not depend on how a span of time is cut into calls. The server's
ticker calls it with real elapsed time x speed; a frozen simulator has no
ticker, so a frozen meter stands still (measurements and time) unless a test
calls ``advance()``.

Drift (``drift_enabled``, switched on by a non-frozen ``Simulator``) makes loads,
voltages and frequency wander slightly as a seeded function of simulated time;
``set_channel_load`` and friends set the nominal value the drift is applied to,
and switching drift off returns to the nominal values.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from pyacurev.codec import (
    decode_uint32,
    encode_float32,
    encode_uint32,
)
from pyacurev.layouts import (
    MAX_MIN_PARAMS,
    WIRING_CODES,
    Phase,
    Wiring,
    channel_phase,
    user_inputs,
)
from pyacurev.models import (
    AlarmRecord,
    DemandValues,
    MaxMin,
    Peak,
    SoeRecord,
)
from pyacurev.profiles import MAX_USER_COUNT, PROFILES, ModelProfile
from pyacurev.profiles import MeterModel as ProfileModel
from pyacurev.registers import (
    CHANNEL_COUNT,
    COMMAND_MAGIC,
    DI_COUNT,
    REGISTER_MAP,
    RELAY_COUNT,
    Access,
    Block,
    Provenance,
    Space,
    block,
    is_mapped,
)

from . import datalog, firmware, image, tou, writes
from .alarms import AlarmEngine, AlarmSetting, decode_settings
from .config import ConfigStore
from .demand import DemandTracker, Values
from .energy import ALL_BANKS, BANK_ROW_ENTRIES, ENTRIES, EnergyStore
from .errors import (
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    SERVER_DEVICE_FAILURE,
    ModbusError,
)
from .harmonics import Harmonics
from .logs import (
    EVENT_CLOCK_CHANGE,
    EVENT_DI_COUNTER_CLEAR,
    EVENT_ENERGY_CLEAR,
    EVENT_ENERGY_PRESET,
    EVENT_PARAMETER_CHANGE,
    EVENT_POWER_ON,
    EVENT_REVERSED_POWER,
    EVENT_RUN_TIME_CLEAR,
    EVENT_TOU_CHANGE,
    LogStore,
)
from .physics import (
    PHASES,
    ChannelReading,
    Power,
    SystemReading,
    UserReading,
    channel_power,
    total,
)
from .profile import (
    DEFAULT_DI_ON,
    DEFAULT_LOADS,
    DEFAULT_RELAYS_ON,
    NOMINAL_HZ,
    NOMINAL_VOLTS,
    Drift,
    default_config,
)
from .rings import Ring

US_PER_HOUR = 3_600_000_000
US_PER_SECOND = 1_000_000
DRIFT_STEP_US = US_PER_SECOND
UINT32_SPAN = 1 << 32
MODELS = ("ct", "333mv")
# Which meter family the simulator plays (pyacurev.profiles); ``model`` above is its CT build.
FAMILIES = tuple(m.value for m in ProfileModel)
WIRINGS = (Wiring.ONE_LN, Wiring.TWO_LN, Wiring.THREE_LN)
DEMAND_KEYS = frozenset({"demand_method", "demand_interval", "demand_subinterval"})
LOG_WINDOW_KEYS = frozenset({"log_select", "log_window_status", "log_window_offset"})
QUIET_KEYS = LOG_WINDOW_KEYS | {"current_harmonic_channel_select"}


def _phase(phase: int | str | Phase) -> Phase:
    if isinstance(phase, int):
        if not 1 <= phase <= 3:
            raise ValueError(f"phase out of range: {phase}")
        return PHASES[phase - 1]
    return Phase(phase.lower())


def _check_channel(channel: int) -> None:
    if not 1 <= channel <= CHANNEL_COUNT:
        raise ValueError(f"channel out of range: {channel}")


class _Measurements:
    """Everything measured at one instant, computed once from the same P, Q and V."""

    def __init__(self, meter: MeterModel) -> None:
        volts = {ph: meter.voltage(ph) for ph in PHASES}
        self.channels: dict[int, ChannelReading] = {}
        for ch in range(1, CHANNEL_COUNT + 1):
            ph = channel_phase(ch)
            if ch <= meter.installed_channels:
                p, q = meter.instant_load(ch)
                self.channels[ch] = ChannelReading.of(
                    ch, ph, volts[ph], channel_power(p, q, volts[ph])
                )
            else:
                self.channels[ch] = ChannelReading.of(ch, ph, volts[ph], Power(), installed=False)
        installed = [r for r in self.channels.values() if r.installed]
        phases = {ph: total([r.power for r in installed if r.phase is ph]) for ph in PHASES}
        self.system = SystemReading(meter.frequency, volts, phases, total(list(phases.values())))
        self.users: dict[int, UserReading] = {}
        for u in meter.users():
            inputs = user_inputs(u, meter.wiring)
            # By position (first, second[, third] input), as the client decodes it: the
            # 2100's users 7-9 pair two phase-C inputs in our design (layouts.user_inputs).
            members = {PHASES[i]: self.channels[ch].power for i, ch in enumerate(inputs)}
            self.users[u] = UserReading(u, inputs, members, total(list(members.values())))
        self.floats = self.system.floats()


class MeterModel:
    """One AcuRev 2020: settings, loads, I/O, energy, demand, logs and clock."""

    def __init__(
        self,
        wiring: str | Wiring = "3LN",
        channels: int = 18,
        model: str = "ct",
        serial: str = "AR2020-00001234",
        unit_id: int = 1,
        seed: int = 0,
        *,
        clock: datetime | None = None,
        run_hours: float | None = None,
        log_history_hours: float = 0.0,
        map_profile: str = "full",
        family: str = "2020",
    ) -> None:
        """A meter that has run ``run_hours`` (seeded when None) at its default loads.

        ``clock`` is the meter's naive local time (default: now, to the second).
        Energy, monthly/TOU banks and demand start as if the default loads had
        been running all that time, so every counter starts plausible and large.
        ``log_history_hours`` of data-log records are kept from before the clock
        (``datalog.prefill``; 0: the log starts empty).
        """
        wiring = Wiring(wiring)
        if not 1 <= unit_id <= 247:
            raise ValueError("unit_id must be 1-247")
        if channels not in (9, 18):
            raise ValueError("channels must be 9 or 18")
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}")
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}")
        # AcuRev 2020 or 2100 (pyacurev.profiles); ``model`` is the CT build of either.
        self.family: str = family
        if wiring not in self.profile.wirings:
            raise ValueError(f"the AcuRev {family} has no {wiring} wiring")
        if len(serial) > 16 or not serial.isascii():
            raise ValueError("serial must be at most 16 ASCII characters")
        self.serial: str = serial
        self.model: str = model
        # How the firmware lays out its registers (firmware.MapProfile); the
        # measurements are the same whatever the profile.
        self.map_profile: firmware.MapProfile = firmware.MapProfile(map_profile)
        self.installed_channels: int = channels
        self.seed: int = seed
        self.device_model: int = int(family)
        self.firmware_version: int = 211
        self.hardware_version: int = 100
        self.map_version: int = 2
        self.config: ConfigStore = ConfigStore(
            default_config(wiring, channels, model, unit_id, self.profile.user_count)
        )
        self.harmonics: Harmonics = Harmonics.seeded(seed)
        self._drift_enabled = False
        self._drift = Drift(seed)
        self._loads: list[tuple[float, float]] = list(DEFAULT_LOADS)
        self._volts = [NOMINAL_VOLTS] * 3
        self._hz = NOMINAL_HZ
        self._relays = [n in DEFAULT_RELAYS_ON for n in range(1, RELAY_COUNT + 1)]
        self._dis = [n in DEFAULT_DI_ON for n in range(1, DI_COUNT + 1)]
        self._di_counts = [0] * DI_COUNT
        self._di_pulses = [0] * DI_COUNT  # pulses since the last count (pulse constant)
        self._clock = clock if clock is not None else datetime.now().replace(microsecond=0)
        self._elapsed_us = 0
        hours = run_hours if run_hours is not None else random.Random(seed).uniform(2000, 20000)
        self._run_time_us = round(hours * US_PER_HOUR)
        self.energy: EnergyStore = EnergyStore()
        self.demand_tracker: DemandTracker = DemandTracker(ENTRIES)
        self.alarm_engine: AlarmEngine = AlarmEngine()
        self.soe: Ring[SoeRecord] = Ring()
        self.logs: LogStore = LogStore()
        self._max_min: dict[str, tuple[float, datetime, float, datetime] | None] = {
            p: None for p in MAX_MIN_PARAMS
        }
        self.reboot_count: int = 0
        self._reboot_pending = False
        self._window_wanted = 0
        self._meas: _Measurements | None = None
        self._alarm_cache: list[AlarmSetting] | None = None
        self._configure_demand()
        self._start_history(hours)
        datalog.prefill(self, timedelta(hours=log_history_hours))
        self.logs.event(EVENT_POWER_ON, self._clock)
        self._sample()

    # ----------------------------------------------------------------- identity / settings

    @property
    def wiring(self) -> Wiring:
        """User wiring mode (register 0x0888: 0 = 1LN, 1 = 3LN, 2 = 2LN)."""
        return WIRING_CODES[self.config.value("wiring_mode")]

    @property
    def unit_id(self) -> int:
        """The Modbus unit id the meter answers (register 0x0801)."""
        return self.config.value("modbus_address")

    @unit_id.setter
    def unit_id(self, value: int) -> None:
        self.set_setting("modbus_address", value)

    def setting(self, key: str) -> list[int]:
        """Raw registers of a setting block."""
        return self.config.get(key)

    def set_setting(self, key: str, value: int | Sequence[int]) -> None:
        """Write a setting block exactly as an FC16 frame would (same checks, same effects;
        a refused value raises the ``ModbusError`` the meter would answer with)."""
        regs = [value] if isinstance(value, int) else list(value)
        self.write_registers(block(key).address, regs)

    def ct_primary(self, channel: int) -> int:
        """CT primary rating (A) of input channel 1..18 (0x0889 + (n-1))."""
        _check_channel(channel)
        if channel == 1:
            return self.config.value("ct_primary_ch1")
        return self.config.value("ct_primary_ch2_18", channel - 2)

    def alarm_settings(self) -> list[AlarmSetting]:
        """The 16 alarm channels, decoded (disabled when alarm_global_enable is 0)."""
        if self._alarm_cache is None:
            self._alarm_cache = decode_settings(
                self.config.get("alarm_channel"), self.config.value("alarm_global_enable") == 1
            )
        return self._alarm_cache

    def set_alarm(
        self,
        channel: int,
        *,
        label: int,
        compare: int,
        setpoint: float,
        delay: int = 0,
        relay: int = 0,
        enabled: bool = True,
    ) -> None:
        """Program alarm channel 1..16 (a convenience over an FC16 write of its 8 registers)."""
        regs = [int(enabled), label, compare, *encode_float32(setpoint), delay, relay, 0]
        self.write_registers(block("alarm_channel").address + 8 * (channel - 1), regs)

    @property
    def drift_enabled(self) -> bool:
        """True while loads, voltages and frequency wander (a non-frozen simulator)."""
        return self._drift_enabled

    @drift_enabled.setter
    def drift_enabled(self, value: bool) -> None:
        self._drift_enabled = value
        self._meas = None

    # ----------------------------------------------------------------- physical inputs

    def set_channel_load(self, channel: int, active_kw: float, reactive_kvar: float) -> None:
        """Set a channel's nominal P (kW, negative = export) and Q (kvar, negative = capacitive)."""
        _check_channel(channel)
        old_p = self._loads[channel - 1][0]
        if old_p * active_kw < 0:
            self.logs.event(EVENT_REVERSED_POWER, self._clock)
        self._loads[channel - 1] = (float(active_kw), float(reactive_kvar))
        self._meas = None

    def load(self, channel: int) -> tuple[float, float]:
        """Nominal (P, Q) of a channel as last set."""
        _check_channel(channel)
        return self._loads[channel - 1]

    def instant_load(self, channel: int) -> tuple[float, float]:
        """(P, Q) now: the nominal value, times the drift when drift is on."""
        p, q = self._loads[channel - 1]
        if self.drift_enabled:
            t = self._elapsed_us / US_PER_SECOND
            p *= self._drift.active[channel - 1].factor(t)
            q *= self._drift.reactive[channel - 1].factor(t)
        return p, q

    def set_voltage(self, phase: int | str | Phase, volts: float) -> None:
        """Set a phase-to-neutral voltage (phase 1-3 or 'a'-'c')."""
        if volts < 0:
            raise ValueError("voltage must not be negative")
        self._volts[PHASES.index(_phase(phase))] = float(volts)
        self._meas = None

    def voltage(self, phase: int | str | Phase) -> float:
        """Phase-to-neutral voltage now."""
        i = PHASES.index(_phase(phase))
        v = self._volts[i]
        if self.drift_enabled:
            v *= self._drift.voltage[i].factor(self._elapsed_us / US_PER_SECOND)
        return v

    def set_frequency(self, hz: float) -> None:
        """Set the supply frequency."""
        self._hz = float(hz)
        self._meas = None

    @property
    def frequency(self) -> float:
        """Supply frequency now."""
        if self.drift_enabled:
            return self._hz * self._drift.frequency.factor(self._elapsed_us / US_PER_SECOND)
        return self._hz

    # ----------------------------------------------------------------- measurements

    def _measure(self) -> _Measurements:
        if self._meas is None:
            self._meas = _Measurements(self)
        return self._meas

    def users(self) -> tuple[int, ...]:
        """User circuits of this model in the current wiring (none in 1LN; 1-3 on 9 channels)."""
        return self.profile.users(self.wiring, self.installed_channels)

    @property
    def profile(self) -> ModelProfile:
        """The model profile (AcuRev 2020 or 2100) this meter plays."""
        return PROFILES[ProfileModel(self.family)]

    def channel(self, n: int) -> ChannelReading:
        """Input channel 1..18 now (a channel beyond the installed ones reads all zero)."""
        _check_channel(n)
        return self._measure().channels[n]

    def user(self, u: int) -> UserReading:
        """User circuit ``u`` now (ValueError when the wiring has no such circuit)."""
        readings = self._measure().users
        if u not in readings:
            raise ValueError(
                f"user {u} is not a circuit in {self.wiring} with "
                f"{self.installed_channels} channels"
            )
        return readings[u]

    def system(self) -> SystemReading:
        """Phase and system totals now (the 0x2000 table)."""
        return self._measure().system

    def system_floats(self) -> dict[str, float]:
        """The 0x2000 table keyed like ``layouts.SYSTEM_FLOAT_KEYS``."""
        return dict(self._measure().floats)

    def entry_members(self) -> list[tuple[int, ...]]:
        """Channels summed into each of the 28 bank entries (empty: entry not in use)."""
        installed = range(1, self.installed_channels + 1)
        members: list[tuple[int, ...]] = [
            tuple(ch for ch in installed if channel_phase(ch) is ph) for ph in PHASES
        ]
        members.append(tuple(installed))
        members += [
            (ch,) if ch <= self.installed_channels else () for ch in range(1, CHANNEL_COUNT + 1)
        ]
        users = self.users()
        # Users 1-6 are map entries 22-27; the 2100's users 7-9 follow as entries 28-30.
        members += [
            user_inputs(u, self.wiring) if u in users else () for u in range(1, MAX_USER_COUNT + 1)
        ]
        return members

    def entry_power(self) -> list[Power]:
        """I/P/Q/S of each bank entry now (sums of its member channels)."""
        chans = self._measure().channels
        return [total([chans[ch].power for ch in m]) for m in self.entry_members()]

    # ----------------------------------------------------------------- relays and DIs

    @property
    def relays(self) -> tuple[bool, ...]:
        """Relay 1..8 states (index 0 = relay 1)."""
        return tuple(self._relays)

    def set_relay(self, n: int, on: bool) -> None:
        """Switch relay 1..8 directly (the ground truth; ignores the relay mode)."""
        self._relays[n - 1] = bool(on)

    @property
    def relay_mode(self) -> int:
        """relay_mode_bitmap: bit n-1 = 1 when relay n follows alarms (no remote control)."""
        return self.config.value("relay_mode_bitmap")

    @relay_mode.setter
    def relay_mode(self, bitmap: int) -> None:
        self.set_setting("relay_mode_bitmap", bitmap)

    @property
    def digital_inputs(self) -> tuple[bool, ...]:
        """DI 1..8 states (index 0 = DI1)."""
        return tuple(self._dis)

    @property
    def di_mode(self) -> int:
        """di_mode_bitmap: bit n-1 = 1 when DI n counts pulses."""
        return self.config.value("di_mode_bitmap")

    @di_mode.setter
    def di_mode(self, bitmap: int) -> None:
        self.set_setting("di_mode_bitmap", bitmap)

    @property
    def di_counts(self) -> tuple[int, ...]:
        """DI pulse counts (after the pulse constant)."""
        return tuple(self._di_counts)

    def set_di(self, n: int, on: bool) -> None:
        """Change DI 1..8: writes an SOE record, counts a rising edge in counter mode,
        (the designed DI demand-sync registers were contradicted by the vendor map)."""
        if not 1 <= n <= DI_COUNT:
            raise ValueError(f"DI out of range: {n}")
        if self._dis[n - 1] == bool(on):
            return
        self._dis[n - 1] = bool(on)
        states = sum(1 << i for i, s in enumerate(self._dis) if s)
        when = self._clock
        self.soe.push(lambda slot: SoeRecord(slot, states, 1 << (n - 1), when))
        if on and self.di_mode >> (n - 1) & 1:
            self._di_pulses[n - 1] += 1
            if self._di_pulses[n - 1] >= self.config.value("di_pulse_constant", n - 1):
                self._di_pulses[n - 1] = 0
                self._di_counts[n - 1] = (self._di_counts[n - 1] + 1) % UINT32_SPAN

    def soe_records(self) -> list[SoeRecord]:
        """SOE records, oldest first (``index`` is the ring slot)."""
        return self.soe.chronological()

    def alarm_records(self) -> list[AlarmRecord]:
        """Alarm records, oldest first (``index`` is the ring slot)."""
        return self.alarm_engine.ring.chronological()

    @property
    def latest_alarm_record(self) -> int:
        """Slot 1-20 of the newest alarm record (0: none)."""
        return self.alarm_engine.ring.latest

    @property
    def latest_soe_record(self) -> int:
        """Slot 1-20 of the newest SOE record (0: none)."""
        return self.soe.latest

    @property
    def active_alarms(self) -> int:
        """active_alarm_bitmap."""
        return self.alarm_engine.bitmap

    # ----------------------------------------------------------------- clock and time

    @property
    def clock(self) -> datetime:
        """The meter's clock (naive local time)."""
        return self._clock

    @clock.setter
    def clock(self, when: datetime) -> None:
        self._clock = when
        self.logs.event(EVENT_CLOCK_CHANGE, when)

    @property
    def run_time_hours(self) -> float:
        """Meter run time in hours."""
        return self._run_time_us / US_PER_HOUR

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass (see the module docstring)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        remaining = round(seconds * US_PER_SECOND)
        self._sample()
        while remaining > 0:
            step = min(remaining, self._time_to_next_event_us())
            self._integrate(step)
            remaining -= step
            self._sample()

    def _time_to_next_event_us(self) -> int:
        now = self._clock
        candidates = [self._us_until(self._next_billing(now))]
        if self.config.value("tou_enable"):
            candidates.append(self._us_until(tou.next_change(self.config, now)))
        log_at = self._next_datalog(now)
        if log_at is not None:
            candidates.append(self._us_until(log_at))
        trip = self.alarm_engine.next_trip_us(self.alarm_settings(), self._measure().floats)
        if trip is not None:
            candidates.append(trip)
        if self.drift_enabled:
            candidates.append(DRIFT_STEP_US)
        return max(1, min(candidates))

    def _us_until(self, when: datetime) -> int:
        delta = when - self._clock
        return (delta.days * 86400 + delta.seconds) * US_PER_SECOND + delta.microseconds

    def _integrate(self, dt_us: int) -> None:
        start = self._clock
        meas = self._measure()
        powers = {ch: r.power for ch, r in meas.channels.items() if r.installed}
        tariff = tou.tariff_at(self.config, start) if self.config.value("tou_enable") else None
        self.energy.integrate(powers, self.entry_members(), dt_us / US_PER_HOUR, tariff)
        self.demand_tracker.run(self._demand_inputs(), dt_us, start)
        self.alarm_engine.hold(self.alarm_settings(), meas.floats, dt_us)
        billing = self._next_billing(start)
        datalog = self._next_datalog(start)
        self._clock = start + timedelta(microseconds=dt_us)
        self._elapsed_us += dt_us
        self._run_time_us += dt_us
        if self.drift_enabled:
            self._meas = None
        if self._clock >= billing:
            self.energy.rollover()
        if datalog is not None and self._clock >= datalog:
            self._take_datalog_record()

    def _demand_inputs(self) -> list[Values]:
        return [(p.current, p.active, p.reactive, p.apparent) for p in self.entry_power()]

    def _next_billing(self, now: datetime) -> datetime:
        day, hour = self.config.value("billing_day"), self.config.value("billing_hour")
        at = datetime(now.year, now.month, day, hour)
        if at <= now:
            at = datetime(now.year + now.month // 12, now.month % 12 + 1, day, hour)
        return at

    def _previous_billing(self, now: datetime) -> datetime:
        day, hour = self.config.value("billing_day"), self.config.value("billing_hour")
        at = datetime(now.year, now.month, day, hour)
        if at > now:
            year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
            at = datetime(year, month, day, hour)
        return at

    def _next_datalog(self, now: datetime) -> datetime | None:
        interval = self.config.value("datalog_interval")
        if not self.config.value("datalog_enable") or interval == 0:
            return None
        midnight = datetime.combine(now.date(), datetime.min.time())
        minutes = (now - midnight) // timedelta(minutes=1)
        return midnight + timedelta(minutes=(minutes // interval + 1) * interval)

    def _take_datalog_record(self) -> None:
        self.logs.append_data(datalog.record_now(self))

    def _sample(self) -> None:
        """Run the alarm engine and the max/min statistics on the values of this instant."""
        floats = self._measure().floats
        for change in self.alarm_engine.evaluate(self.alarm_settings(), floats, self._clock):
            relay = change.setting.relay
            if 1 <= relay <= RELAY_COUNT and self.relay_mode >> (relay - 1) & 1:
                self._relays[relay - 1] = change.occurred
        for param in MAX_MIN_PARAMS:
            v = floats[param]
            old = self._max_min[param]
            if old is None:
                self._max_min[param] = (v, self._clock, v, self._clock)
                continue
            hi, hi_t, lo, lo_t = old
            if v > hi:
                hi, hi_t = v, self._clock
            if v < lo:
                lo, lo_t = v, self._clock
            self._max_min[param] = (hi, hi_t, lo, lo_t)

    def _configure_demand(self) -> None:
        self.demand_tracker.configure(
            self.config.value("demand_method"),
            self.config.value("demand_interval"),
            self.config.value("demand_subinterval"),
        )

    def _start_history(self, hours: float) -> None:
        """Counters as if the default loads had run for ``hours`` up to the clock."""
        now = self._clock
        this_start = self._previous_billing(now)
        last_start = self._previous_billing(this_start - timedelta(seconds=1))
        before = max(0.0, hours - (now - last_start) / timedelta(hours=1))
        powers = {ch: r.power for ch, r in self._measure().channels.items() if r.installed}
        self.energy.integrate(powers, self.entry_members(), before, None, monthly=False)
        self._history_span(last_start, this_start)
        self.energy.rollover()
        self._history_span(this_start, now)
        self.demand_tracker.prefill(self._demand_inputs(), now)

    def _history_span(self, start: datetime, end: datetime) -> None:
        powers = {ch: r.power for ch, r in self._measure().channels.items() if r.installed}
        members = self.entry_members()
        t = start
        while t < end:
            nxt = min(tou.next_change(self.config, t), end)
            tariff = tou.tariff_at(self.config, t) if self.config.value("tou_enable") else None
            self.energy.integrate(powers, members, (nxt - t) / timedelta(hours=1), tariff)
            t = nxt

    # ----------------------------------------------------------------- read-outs for tests

    def energy_kwh(self, bank: str, entry: int) -> float:
        """Exact energy of one bank entry (kWh, kvarh or kVAh).

        ``bank`` is one of ``models.ENERGY_BANKS`` or a monthly/TOU bank named like
        its register block without ``_bank`` (e.g. "this_month_import_kwh",
        "tou_last_month_peak_import_kwh").
        """
        self._check_bank(bank, entry)
        return self.energy.kwh(bank, entry)

    def energy_counts(self, bank: str, entry: int) -> int:
        """The uint32 the meter exposes for one bank entry: floor(kWh x 10)."""
        self._check_bank(bank, entry)
        return self.energy.counts(bank, entry)

    @staticmethod
    def _check_bank(bank: str, entry: int) -> None:
        if bank not in ALL_BANKS:
            raise KeyError(f"unknown energy bank {bank!r}; use one of {ALL_BANKS}")
        if not 0 <= entry < ENTRIES:
            raise ValueError(f"entry out of range: {entry}")

    def demand(self, entry: int) -> DemandValues:
        """Demand record of bank entry 0..27 (present, predicted and peaks)."""
        d = self.demand_tracker
        pk = [Peak(d.peak[entry][q], d.peak_time[entry][q]) for q in range(4)]
        cur, act, rea, app = d.present[entry]
        return DemandValues(entry, cur, act, rea, app, d.predicted_active(entry), *pk)

    def max_min(self, param: str) -> MaxMin:
        """Max/min statistic of one of ``layouts.MAX_MIN_PARAMS`` (None values after a clear)."""
        rec = self._max_min[param]
        if rec is None:
            return MaxMin(param, Peak(None, None), Peak(None, None))
        hi, hi_t, lo, lo_t = rec
        return MaxMin(param, Peak(hi, hi_t), Peak(lo, lo_t))

    def max_min_record(self, param: str) -> tuple[float, datetime, float, datetime] | None:
        """Raw (max, time, min, time) of one parameter."""
        return self._max_min[param]

    def event_log(self) -> list[tuple[int, datetime]]:
        """System events (code, time), oldest first."""
        return list(self.logs.events)

    def take_reboot(self) -> bool:
        """True once after a reboot command (the server then drops its connections)."""
        pending, self._reboot_pending = self._reboot_pending, False
        return pending

    # ----------------------------------------------------------------- commands

    def run_command(self, key: str, value: int = COMMAND_MAGIC) -> None:
        """Perform a 0x1030-0x1039 command as if ``value`` had been written to it."""
        self.write_registers(block(key).address, [value])

    def _command(self, key: str, value: int) -> None:
        if key == "clear_demand":
            self.demand_tracker.clear()
        elif key == "clear_energy":
            self.energy.clear()
            self.logs.event(EVENT_ENERGY_CLEAR, self._clock)
        elif key == "clear_max_min":
            self._max_min = dict.fromkeys(MAX_MIN_PARAMS)
        elif key == "clear_alarm_records":
            self.alarm_engine.ring.clear()
        elif key == "clear_run_time":
            self._run_time_us = 0
            self.logs.event(EVENT_RUN_TIME_CLEAR, self._clock)
        elif key == "clear_di_counters":
            for i in range(DI_COUNT):
                if value >> i & 1:
                    self._di_counts[i] = 0
                    self._di_pulses[i] = 0
            self.logs.event(EVENT_DI_COUNTER_CLEAR, self._clock)
        elif key == "clear_soe_records":
            self.soe.clear()
        elif key == "clear_event_log":
            self.logs.events.clear()
        elif key == "demand_sync_command":
            self.demand_tracker.sync()
        elif key == "reboot_meter":
            self.reboot_count += 1
            self._reboot_pending = True
            self.demand_tracker.restart()
            self.logs.event(EVENT_POWER_ON, self._clock)

    # ----------------------------------------------------------------- register access

    def read_registers(self, address: int, count: int) -> list[int]:
        """FC03: ``count`` holding registers from ``address`` (ModbusError 02 outside the map).

        The map is the one of ``map_profile``: our whole table (``full``) or a
        firmware whose map differs from ours (see ``firmware.py``).
        """
        if self.map_profile is not firmware.MapProfile.FULL:
            return firmware.read(self, self.map_profile, address, count)
        return self.full_registers(address, count)

    def full_map_answers(self, address: int, count: int) -> bool:
        """True when our whole table (the ``full`` profile) maps every register of the range."""
        return count >= 1 and is_mapped(address, count)

    def designed_map_answers(self, address: int, count: int) -> bool:
        """True when the range lies in our table and touches no UNKNOWN row."""
        end = address + count
        return self.full_map_answers(address, count) and not any(
            b.address < end and address < b.end for b in _UNKNOWN_ROWS
        )

    def full_registers(self, address: int, count: int) -> list[int]:
        """FC03 against our whole table (the ``full`` profile)."""
        if count < 1 or not is_mapped(address, count):
            raise ModbusError(ILLEGAL_DATA_ADDRESS, f"{count} registers at {address:#06x}")
        out: list[int] = []
        for blk in writes.touched_blocks(address, count):
            regs = image.encode_block(self, blk)
            lo = max(blk.address, address)
            hi = min(blk.end, address + count)
            out += regs[lo - blk.address : hi - blk.address]
        return out

    def register_image(self) -> dict[int, int]:
        """Every mapped holding register -> its value now."""
        out: dict[int, int] = {}
        for blk in writes.touched_blocks(0, 0x10000):
            for i, reg in enumerate(image.encode_block(self, blk)):
                out[blk.address + i] = reg
        return out

    def read_bits(self, space: Space, address: int, count: int) -> list[bool]:
        """FC01 (relays) / FC02 (DIs): ``count`` bits from ``address``."""
        if count < 1 or not is_mapped(address, count, space):
            raise ModbusError(ILLEGAL_DATA_ADDRESS, f"{count} bits at {address}")
        bits = self._relays if space is Space.COIL else self._dis
        return bits[address : address + count]

    def write_coil(self, address: int, on: bool) -> None:
        """FC05: switch a relay; 04 when the relay is in alarm/event mode."""
        if not is_mapped(address, 1, Space.COIL):
            raise ModbusError(ILLEGAL_DATA_ADDRESS, f"relay {address}")
        if self.relay_mode >> address & 1:
            raise ModbusError(SERVER_DEVICE_FAILURE, f"relay {address + 1} is in alarm mode")
        self._relays[address] = on

    def block_registers(self, blk: Block) -> list[int]:
        """Current registers of a whole block (what a read of it returns)."""
        return image.encode_block(self, blk)

    def write_registers(self, address: int, values: Sequence[int]) -> None:
        """FC16: validate the whole frame, then apply it (nothing is applied on an exception)."""
        values = list(values)
        count = len(values)
        firmware.check_write(self.map_profile, address, count, self.family)
        if count < 1 or not is_mapped(address, count):
            raise ModbusError(ILLEGAL_DATA_ADDRESS, f"{count} registers at {address:#06x}")
        if any(not 0 <= v <= 0xFFFF for v in values):
            raise ModbusError(ILLEGAL_DATA_VALUE, "register values are 16-bit")
        blocks = writes.touched_blocks(address, count)
        writes.check_address(address, count, blocks)
        merged: dict[str, list[int]] = {}
        written: dict[str, tuple[int, list[int]]] = {}
        for blk in blocks:
            lo, hi = max(blk.address, address), min(blk.end, address + count)
            regs = [0] * blk.count if blk.access is Access.W else self.block_registers(blk)
            regs[lo - blk.address : hi - blk.address] = values[lo - address : hi - address]
            merged[blk.key] = regs
            written[blk.key] = (lo - blk.address, values[lo - address : hi - address])
            writes.validate(blk.key, regs)
            writes.validate_for_model(blk.key, regs, self.profile)
        new_clock = self._clock_from(merged)
        events: set[int] = set()
        for blk in blocks:
            self._apply(blk, merged[blk.key], *written[blk.key], events)
        if new_clock is not None:
            self._clock = new_clock
            events.add(EVENT_CLOCK_CHANGE)
        if LOG_WINDOW_KEYS & merged.keys():
            self.logs.fill(
                self.config.value("log_select"),
                self._window_wanted,
                self.config.uint32("log_window_offset"),
            )
        for code in sorted(events):
            self.logs.event(code, self._clock)
        for blk in blocks:
            if blk.access is Access.W:
                self._command(blk.key, merged[blk.key][0])

    @staticmethod
    def _clock_from(merged: dict[str, list[int]]) -> datetime | None:
        if "clock_year" not in merged:
            return None
        year, month, day, hour, minute, second = (merged[k][0] for k in writes.CLOCK_KEYS)
        fields = [year, month, day, hour, minute, second]
        try:
            when = datetime(year, month, day, hour, minute, second)
        except ValueError as err:
            raise ModbusError(ILLEGAL_DATA_VALUE, f"invalid clock {fields}") from err
        if not 2000 <= when.year <= 2099:
            raise ModbusError(ILLEGAL_DATA_VALUE, f"clock year {when.year} out of range")
        return when

    def _apply(
        self, blk: Block, regs: list[int], offset: int, new: list[int], events: set[int]
    ) -> None:
        key = blk.key
        if key in self.config:
            self.config.set(key, regs)
            if key in DEMAND_KEYS:
                self._configure_demand()
            if key.startswith("tou_"):
                events.add(EVENT_TOU_CHANGE)
            elif key not in QUIET_KEYS:
                events.add(EVENT_PARAMETER_CHANGE)
            self._meas = None
            self._alarm_cache = None
        elif key in BANK_ROW_ENTRIES:
            bank, first = BANK_ROW_ENTRIES[key]
            for i in range(offset // 2, (offset + len(new)) // 2):
                self.energy.preset(bank, first + i, decode_uint32(regs[2 * i : 2 * i + 2]))
            events.add(EVENT_ENERGY_PRESET)
        elif key == "di_pulse_count":
            for i in range(offset // 2, (offset + len(new)) // 2):
                self._di_counts[i] = decode_uint32(regs[2 * i : 2 * i + 2])
        elif key == "log_window_status":
            self._window_wanted = regs[0] >> 8

    def di_count_registers(self) -> list[int]:
        """The 16 registers of di_pulse_count."""
        return [r for c in self._di_counts for r in encode_uint32(c)]


_UNKNOWN_ROWS: tuple[Block, ...] = tuple(
    b for b in REGISTER_MAP if b.space is Space.HOLDING and b.provenance is Provenance.UNKNOWN
)

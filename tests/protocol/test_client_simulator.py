"""The client against the simulator over real loopback sockets: decoded values
equal the simulator's ground truth (its MeterModel, not an earlier client read),
in every wiring mode, for 9- and 18-channel builds and the 333 mV model.
"""

from __future__ import annotations

import math

import pytest

from acurev_simulator import Simulator
from acurev_simulator.harmonics import crest_factor, k_factor, thd
from pyacurev.groups import ReadGroup
from pyacurev.layouts import Phase, Wiring
from pyacurev.models import ENERGY_BANKS, Peak, Snapshot
from pyacurev.registers import (
    BANK_ENTRIES,
    CHANNEL_COUNT,
    DI_COUNT,
    REGISTER_MAP,
    RELAY_COUNT,
    Space,
    block,
)

from .conftest import ClientFactory, SimFactory
from .test_planner import FULL, full_snapshot_wanted, min_requests_unconstrained

pytestmark = pytest.mark.protocol

ALL_GROUPS = tuple(ReadGroup)
PHASES = (Phase.A, Phase.B, Phase.C)


def near(value: float | None, truth: float) -> bool:
    """Float32 on the wire: about 7 significant digits survive."""
    return value is not None and math.isclose(value, truth, rel_tol=2e-7, abs_tol=1e-6)


def assert_near(value: float | None, truth: float, what: str) -> None:
    assert near(value, truth), f"{what}: decoded {value!r}, meter {truth!r}"


def assert_peak(peak: Peak, truth: Peak, what: str) -> None:
    if truth.value is None:
        assert peak.value in (None, 0.0), what
    else:
        assert_near(peak.value, truth.value, what)
    want = truth.time.replace(microsecond=0) if truth.time else None
    assert peak.time == want, what


def vary_loads(sim: Simulator) -> None:
    """Distinct loads per channel: import and export, inductive and capacitive."""
    for n in range(1, CHANNEL_COUNT + 1):
        p = (0.37 * n + 0.11) * (-1 if n % 5 == 0 else 1)
        q = 0.21 * n * (-1 if n % 4 == 0 else 1)
        sim.meter.set_channel_load(n, p, q)
    sim.meter.set_voltage(1, 119.5)
    sim.meter.set_voltage(2, 121.25)
    sim.meter.set_voltage(3, 118.75)


def exercise(sim: Simulator) -> None:
    """Give logs, counters and demand something to hold, then let 20 minutes pass."""
    m = sim.meter
    m.set_setting("alarm_global_enable", 1)
    m.set_alarm(1, label=0, compare=1, setpoint=50.0)  # F > 50 Hz: trips at once
    m.set_alarm(2, label=17, compare=0, setpoint=-100.0, delay=5, relay=7)  # never trips
    m.di_mode = 0b1000_0001
    for on in (True, False, True, False, True):
        m.set_di(1, on)
    m.set_di(3, False)
    m.advance(1200)


def check_snapshot(snap: Snapshot, sim: Simulator) -> None:
    m = sim.meter
    dev = snap.device
    assert dev is not None
    assert dev.serial == m.serial
    assert dev.wiring is m.wiring
    assert dev.installed_channels == m.installed_channels
    assert dev.is_333mv == (m.model == "333mv")
    assert dev.model == m.device_model
    assert dev.map_version == m.map_version
    assert dev.run_time_h == pytest.approx(math.floor(m.run_time_hours * 100) / 100)

    # system table
    truth = m.system_floats()
    sysv = snap.system
    assert sysv is not None
    assert_near(sysv.frequency, truth["f"], "f")
    for i, ph in enumerate(PHASES, start=1):
        assert_near(sysv.voltage[ph], truth[f"u{i}"], f"u{i}")
        assert_near(sysv.current[ph], truth[f"il{i}"], f"il{i}")
        assert_near(sysv.active_power[ph], truth[f"p{ph.value}"], f"p{ph}")
        assert_near(sysv.reactive_power[ph], truth[f"q{ph.value}"], f"q{ph}")
        assert_near(sysv.apparent_power[ph], truth[f"s{ph.value}"], f"s{ph}")
        assert_near(sysv.power_factor[ph], truth[f"pf{ph.value}"], f"pf{ph}")
    assert_near(sysv.voltage_ll["ab"], truth["u12"], "u12")
    assert_near(sysv.voltage_ll_avg, truth["ulavg"], "ulavg")
    assert_near(sysv.active_power_total, truth["psum"], "psum")
    assert_near(sysv.power_factor_total, truth["pfsum"], "pfsum")
    assert sysv.load_nature_total is m.system().totals.load_nature

    # channels: exactly the installed ones
    assert [c.channel for c in snap.channels] == list(range(1, m.installed_channels + 1))
    for ch in snap.channels:
        r = m.channel(ch.channel)
        for name in ("current", "active_power", "reactive_power", "apparent_power", "power_factor"):
            assert_near(getattr(ch, name), getattr(r, name), f"ch{ch.channel}.{name}")
        assert ch.load_nature is r.load_nature

    # users: the circuits of this wiring and build, phases limited to the members
    assert [u.user for u in snap.users] == list(m.users())
    for us in snap.users:
        r = m.user(us.user)
        assert us.inputs == r.inputs
        assert set(us.current) == set(PHASES[: len(r.inputs)])
        for ph in us.current:
            assert_near(us.current[ph], r.phases[ph].current, f"u{us.user}.I{ph}")
            assert_near(us.active_power[ph], r.phases[ph].active, f"u{us.user}.P{ph}")
            assert_near(us.power_factor[ph], r.phase_power_factor(ph), f"u{us.user}.PF{ph}")
        assert_near(us.active_power_total, r.active_power, f"u{us.user}.Psum")
        assert_near(us.reactive_power_total, r.reactive_power, f"u{us.user}.Qsum")
        assert_near(us.apparent_power_total, r.apparent_power, f"u{us.user}.Ssum")
        assert_near(us.power_factor_total, r.power_factor, f"u{us.user}.PFsum")
        assert us.load_nature is r.load_nature

    # energy: the meter exposes floor(kWh * 10) counts
    assert snap.energy is not None
    for bank in ENERGY_BANKS:
        decoded = getattr(snap.energy, bank).values  # every bank answers in the full profile
        assert decoded == tuple(
            pytest.approx(m.energy_counts(bank, e) / 10) for e in range(BANK_ENTRIES)
        ), bank
    for name, bank in snap.monthly.items():
        assert bank.values == tuple(
            pytest.approx(m.energy_counts(name, e) / 10) for e in range(BANK_ENTRIES)
        ), name
    assert len(snap.monthly) == 6
    assert len(snap.tou) == 8
    for name, bank in snap.tou.items():
        tariff_bank = f"tou_{name}_import_kwh"
        assert bank.values == tuple(
            pytest.approx(m.energy_counts(tariff_bank, e) / 10) for e in range(BANK_ENTRIES)
        ), name

    # demand: the entries in use on this build
    used = [e for e, members in enumerate(m.entry_members()) if members or e <= 3]
    assert [d.entry for d in snap.demand] == used
    for d in snap.demand:
        t = m.demand(d.entry)
        # The vendor map has no current demand for the system (entry 3) and users (22-27).
        has_current = d.entry != 3 and d.entry < 22
        if not has_current:
            assert d.current is None
            assert d.peak_current == Peak(None, None)
        for name in ("current", "active", "reactive", "apparent", "predicted_active"):
            if name != "current" or has_current:
                assert_near(getattr(d, name), getattr(t, name), f"demand[{d.entry}].{name}")
        for name in ("peak_current", "peak_active", "peak_reactive", "peak_apparent"):
            if name != "peak_current" or has_current:
                assert_peak(getattr(d, name), getattr(t, name), f"demand[{d.entry}].{name}")

    # I/O
    io = snap.io
    assert io is not None
    assert io.relays == m.relays
    assert io.digital_inputs == m.digital_inputs
    assert io.di_counter_mode == tuple(bool(m.di_mode >> i & 1) for i in range(DI_COUNT))
    assert io.relay_remote_control == tuple(not m.relay_mode >> i & 1 for i in range(RELAY_COUNT))
    assert io.di_counts == m.di_counts

    # logs: by ring slot
    assert snap.log_status is not None
    assert snap.log_status.latest_alarm == m.latest_alarm_record
    assert snap.log_status.latest_soe == m.latest_soe_record
    assert snap.log_status.active_alarms == m.active_alarms
    truth_alarms = {a.index: a for a in m.alarm_records()}
    assert truth_alarms, "the scenario should have produced alarm records"
    assert len(snap.alarms) == 20
    for a in snap.alarms:
        if a.index not in truth_alarms:
            assert a.time is None
            continue
        t = truth_alarms[a.index]
        assert (a.occurred, a.channel, a.parameter) == (t.occurred, t.channel, t.parameter)
        assert_near(a.value, t.value or 0.0, f"alarm {a.index}")
        assert a.time == t.time
    truth_soe = {s.index: s for s in m.soe_records()}
    assert truth_soe
    assert len(snap.soe) == 20
    for s in snap.soe:
        if s.index in truth_soe:
            t = truth_soe[s.index]
            assert (s.di_states, s.changed, s.time) == (t.di_states, t.changed, t.time)
        else:
            assert s.time is None

    assert snap.clock == m.clock.replace(microsecond=0)

    # settings
    st = snap.settings
    assert st is not None
    assert st.ct_primary == tuple(m.ct_primary(n) for n in range(1, CHANNEL_COUNT + 1))
    assert st.modbus_address == m.unit_id
    assert st.demand_period == m.setting("demand_interval")[0]
    assert st.rated_voltage == m.setting("rated_voltage")[0]
    assert st.user_channel_codes == tuple(m.setting("user_channel_code"))
    al = snap.alarm_settings
    assert al is not None
    assert al.enabled
    for got, want in zip(al.channels, m.alarm_settings(), strict=True):
        assert (got.enabled, got.parameter) == (want.enabled, want.label)
        assert_near(got.setpoint, want.setpoint, "alarm set-point")
        assert (got.delay_s, got.relay) == (want.delay_s, want.relay)

    # harmonics: only the 333 mV build has them (computed here from the spectra)
    if m.model != "333mv":
        assert snap.harmonics is None
        return
    # The vendor map quantises power quality to uint16: THD and harmonics 0.01 %,
    # crest factor 0.001, K factor and unbalance 0.1 -> within half a step.
    h = snap.harmonics
    assert h is not None
    for i, ph in enumerate(PHASES):
        spectrum = m.harmonics.voltage[i]
        assert h.thd_voltage[ph] == pytest.approx(thd(spectrum), abs=0.005), f"THD U{i + 1}"
        assert h.crest_factor[ph] == pytest.approx(crest_factor(thd(spectrum)), abs=5e-4)
        assert h.voltage_harmonics[ph] == tuple(pytest.approx(w, abs=0.005) for w in spectrum)
    assert h.voltage_unbalance == pytest.approx(truth["u_unbalance"], abs=0.05)
    assert h.current_unbalance == pytest.approx(truth["i_unbalance"], abs=0.05)
    for n in range(1, CHANNEL_COUNT + 1):
        loaded = m.channel(n).current > 0
        spectrum = m.harmonics.channel[n - 1]
        want_thd = thd(spectrum) if loaded else 0.0
        want_k = k_factor(spectrum) if loaded else 0.0
        assert h.channel_thd[n - 1] == pytest.approx(want_thd, abs=0.005), f"THD ch{n}"
        assert h.channel_k_factor[n - 1] == pytest.approx(want_k, abs=0.05), f"K ch{n}"


BUILDS = [
    ("1LN", 18, "ct"),
    ("2LN", 18, "ct"),
    ("3LN", 18, "ct"),
    ("1LN", 9, "ct"),
    ("2LN", 9, "ct"),
    ("3LN", 9, "333mv"),
    ("3LN", 18, "333mv"),
]


@pytest.mark.parametrize(("wiring", "channels", "model"), BUILDS)
async def test_snapshot_equals_ground_truth(
    make_sim: SimFactory, make_client: ClientFactory, wiring: str, channels: int, model: str
) -> None:
    sim = await make_sim(wiring=wiring, channels=channels, model=model, seed=channels)
    vary_loads(sim)
    exercise(sim)
    client = make_client(sim)
    # Without a DeviceInfo the client adds DEVICE to the same plan.
    snap = await client.read_snapshot(ALL_GROUPS)
    check_snapshot(snap, sim)
    # With the DeviceInfo passed in, the narrowed plan decodes the same values.
    again = await client.read_snapshot(ALL_GROUPS, snap.device)
    assert again.channels == snap.channels
    assert again.users == snap.users
    assert again.demand == snap.demand


async def test_device_info_and_build_detection(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim(wiring="2LN", channels=9, model="333mv", serial="SN-9-333")
    dev = await make_client(sim).read_device_info()
    assert (dev.serial, dev.wiring, dev.installed_channels) == ("SN-9-333", Wiring.TWO_LN, 9)
    assert dev.is_333mv
    assert dev.model_name == "AcuRev 2020 (333 mV)"


async def test_values_follow_the_meter_between_polls(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim)
    dev = await client.read_device_info()
    before = await client.read_snapshot([ReadGroup.CHANNELS, ReadGroup.ENERGY], dev)
    sim.meter.set_channel_load(4, 7.5, -1.25)
    sim.meter.advance(3600)
    after = await client.read_snapshot([ReadGroup.CHANNELS, ReadGroup.ENERGY], dev)
    assert_near(after.channels[3].active_power, 7.5, "P ch4")
    assert after.channels[3].active_power != before.channels[3].active_power
    assert after.energy is not None
    assert after.energy.import_active.channel(4) == pytest.approx(
        sim.meter.energy_counts("import_active", 7) / 10
    )


async def test_full_snapshot_uses_the_fewest_transactions(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim)
    dev = await client.read_device_info()
    # The minimum comes from the CSV map by a DP over addresses (test_planner),
    # plus one FC01 (relays) and one FC02 (DIs), which no FC03 can replace.
    minimum = min_requests_unconstrained(full_snapshot_wanted()) + 2
    sim_before = sim.stats.total_requests
    client_before = client.stats.transactions
    snap = await client.read_snapshot(FULL, dev)
    assert len(snap.channels) == 18
    assert len(snap.users) == 6
    assert sim.stats.total_requests - sim_before <= minimum
    assert client.stats.transactions - client_before <= minimum
    assert sim.stats.requests[1] >= 1
    assert sim.stats.requests[2] >= 1


async def test_read_image_and_raw_reads(sim: Simulator, make_client: ClientFactory) -> None:
    client = make_client(sim)
    image = await client.read_image(
        ["serial_number", "relay_1", "relay_2", "di_8", "import_active_energy_channels"]
    )
    assert image.block_words("serial_number") == sim.meter.block_registers(block("serial_number"))
    assert image.has_block("relay_2")
    assert image.has_block("di_8")
    assert image.block_words("import_active_energy_channels") == sim.meter.block_registers(
        block("import_active_energy_channels")
    )
    assert await client.read_holding(0x1008, 2) == [2020, 211]
    assert await client.read_coils(0, 8) == list(sim.meter.relays)
    assert await client.read_discrete_inputs(0, 8) == list(sim.meter.digital_inputs)
    assert client.stats.bits_read == 16 + 2 + 1  # 8 + 8, then relays 1-2 and DI 8


async def test_raw_dump_has_every_block(sim: Simulator, make_client: ClientFactory) -> None:
    sim.faults.exceptions["ub_harmonic"] = 2
    sim.meter.set_setting("meter_password", 4321)
    dump = await make_client(sim).read_raw_dump()
    keys = [b.key for b in REGISTER_MAP if not b.reserved]
    assert list(dump) == keys
    assert "exception 2" in str(dump["ub_harmonic"])
    assert dump["meter_password"] == "redacted (not read)"
    for b in REGISTER_MAP:
        if b.reserved or b.key in ("ub_harmonic", "meter_password"):
            continue
        if b.space is Space.HOLDING:
            assert dump[b.key] == sim.meter.block_registers(b), b.key
        elif b.space is Space.COIL:
            assert dump[b.key] == [int(sim.meter.relays[b.address])]
        else:
            assert dump[b.key] == [int(sim.meter.digital_inputs[b.address])]

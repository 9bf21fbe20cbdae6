"""A meter whose map differs from ours still works: client and probe against map profiles.

The ``evidence`` and ``divergent`` simulator profiles lay the evidence-backed
blocks out from the vendor sources (``acurev_simulator/firmware.py``, literal
addresses, no import of our table), answer exception 02 (evidence) or zeros and
garbage (divergent) for our DESIGNED blocks. Values are compared with the
simulator's ground truth (its MeterModel physics), never with another read.
"""

from __future__ import annotations

import json
import math
from types import MappingProxyType

import pytest

from acurev_simulator import Simulator
from pyacurev import registers
from pyacurev.cli import run
from pyacurev.groups import ReadGroup
from pyacurev.layouts import Phase, Wiring
from pyacurev.probe import run_probe
from pyacurev.registers import REGISTER_MAP, Provenance, Space
from pyacurev.registers import block as table_block

from .conftest import HOST, ClientFactory, SimFactory

pytestmark = pytest.mark.protocol

PHASES = (Phase.A, Phase.B, Phase.C)
EVIDENCE_GROUPS = frozenset(
    {
        ReadGroup.BUILD,
        ReadGroup.SYSTEM,
        ReadGroup.CHANNELS,
        ReadGroup.USERS,
        ReadGroup.ENERGY,
        ReadGroup.DEMAND,
        ReadGroup.HARMONICS,
        ReadGroup.IO,
        ReadGroup.CLOCK,
    }
)
DESIGNED_GROUPS = frozenset(
    {
        ReadGroup.DEVICE,
        ReadGroup.EXPORT_ENERGY,
        ReadGroup.IO_CONFIG,
        ReadGroup.LOG_STATUS,
        ReadGroup.MONTHLY,
        ReadGroup.TOU,
        ReadGroup.ALARM_SETTINGS,
    }
)


def near(value: float | None, truth: float) -> bool:
    return value is not None and math.isclose(value, truth, rel_tol=2e-7, abs_tol=1e-6)


async def check_core(sim: Simulator, client_factory: ClientFactory) -> None:
    m = sim.meter
    client = client_factory(sim)
    dev = await client.read_device_info()
    # identity registers did not answer (or answered nonsense): no serial, no model
    assert dev.serial == ""
    assert dev.model == 0
    # ... but the build comes from the evidence-backed settings
    assert dev.wiring is m.wiring
    assert dev.is_333mv == (m.model == "333mv")
    snap = await client.read_snapshot(EVIDENCE_GROUPS | DESIGNED_GROUPS, dev)
    failed = {ReadGroup(g) for g in snap.failed_groups}
    if m.map_profile == "evidence":
        assert failed == DESIGNED_GROUPS
    assert not failed & EVIDENCE_GROUPS

    truth = m.system_floats()
    sysv = snap.system
    assert sysv is not None
    assert near(sysv.frequency, truth["f"])
    assert near(sysv.active_power_total, truth["psum"])
    assert near(sysv.power_factor_total, truth["pfsum"])
    for i, ph in enumerate(PHASES, start=1):
        assert near(sysv.voltage[ph], truth[f"u{i}"])
        assert near(sysv.current[ph], truth[f"il{i}"])
        assert near(sysv.active_power[ph], truth[f"p{ph.value}"])
        assert near(sysv.apparent_power[ph], truth[f"s{ph.value}"])
    assert [c.channel for c in snap.channels] == list(range(1, 19))
    for ch in snap.channels:
        r = m.channel(ch.channel)
        assert near(ch.active_power, r.active_power), ch.channel
        assert near(ch.current, r.current), ch.channel
        assert near(ch.power_factor, r.power_factor), ch.channel
    assert [u.user for u in snap.users] == list(m.users())
    for us in snap.users:
        r = m.user(us.user)
        assert near(us.active_power_total, r.active_power)
        assert near(us.apparent_power_total, r.apparent_power)
        for ph, p in r.phases.items():
            assert near(us.active_power[ph], p.active)
    energy = snap.energy
    assert energy is not None
    for bank in ("import_active", "import_reactive", "apparent"):
        decoded = getattr(energy, bank)
        assert decoded is not None, bank
        assert decoded.values == tuple(
            pytest.approx(m.energy_counts(bank, e) / 10) for e in range(28)
        ), bank
    for d in snap.demand:
        t = m.demand(d.entry)
        assert near(d.active, t.active or 0.0), d.entry
        assert near(d.predicted_active, t.predicted_active or 0.0), d.entry
    assert snap.io is not None
    assert snap.io.relays == m.relays
    assert snap.io.digital_inputs == m.digital_inputs
    assert snap.clock == m.clock.replace(microsecond=0)


@pytest.mark.parametrize(
    ("profile", "wiring", "model"),
    [
        ("evidence", "3LN", "ct"),
        ("evidence", "2LN", "ct"),
        ("evidence", "1LN", "ct"),
        ("evidence", "3LN", "333mv"),
        ("divergent", "3LN", "ct"),
        ("divergent", "2LN", "333mv"),
    ],
)
async def test_client_reads_a_meter_whose_map_differs(
    make_sim: SimFactory, make_client: ClientFactory, profile: str, wiring: str, model: str
) -> None:
    sim = await make_sim(wiring=wiring, model=model, map_profile=profile)
    sim.meter.set_channel_load(3, -2.25, 0.5)
    sim.meter.advance(900)
    await check_core(sim, make_client)


async def test_identity_that_refuses_does_not_stop_the_connection(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim(map_profile="evidence")
    client = make_client(sim)
    await client.connect()
    assert client.serial is None
    assert client.connected
    # The full profile's serial is still checked when it answers.
    full = await make_sim(serial="SN-ONE")
    checked = make_client(full, expected_serial="SN-TWO")
    from pyacurev.errors import AcuRevIdentityError

    with pytest.raises(AcuRevIdentityError):
        await checked.connect()


@pytest.mark.parametrize("family", ["2020", "2100"])
async def test_probe_reports_every_block_against_the_evidence_profile(
    make_sim: SimFactory, make_client: ClientFactory, family: str
) -> None:
    sim = await make_sim(map_profile="evidence", model="333mv", family=family)
    report = await run_probe(make_client(sim), interval=0)
    keys = [b.key for b in REGISTER_MAP if not b.reserved]
    assert [b.key for b in report.blocks] == keys
    by_key = {b.key: b for b in report.blocks}
    for blk in REGISTER_MAP:
        if blk.reserved:
            continue
        result = by_key[blk.key]
        # A 2100-only row (users 7-9) is not on a 2020's map: exception 02 there.
        if blk.provenance is Provenance.DESIGNED or not blk.on_model(family):
            assert (result.status, result.exception_code) == ("exception", 2), blk.key
        else:
            assert result.status == "ok", blk.key
            assert result.plausible is not False, (blk.key, result.why)
    assert report.power_unit == "kW"
    assert report.check("frequency").status == "pass"
    assert report.check("map_version").status == "skip"
    assert report.talked
    assert report.unit_id_problem is None


async def test_probe_flags_the_divergent_identity(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim(map_profile="divergent")
    report = await run_probe(make_client(sim), interval=0)
    by_key = {b.key: b for b in report.blocks}
    assert by_key["serial_number"].status == "ok"
    assert by_key["serial_number"].plausible is False
    assert by_key["device_model"].plausible is False
    assert by_key["map_version"].plausible is False
    assert by_key["installed_channels"].plausible is False  # garbage, not 9 or 18
    assert by_key["channel_record"].plausible is True
    assert by_key["wiring_mode"].plausible is True
    assert report.check("map_version").status == "fail"


async def test_cli_probe_json_exits_0_against_the_evidence_profile(
    make_sim: SimFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = await make_sim(map_profile="evidence")
    code = await run(
        ["probe", "--host", HOST, "--port", str(sim.port), "--json", "--interval", "0"]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    blocks = doc["blocks"]
    assert len(blocks) == sum(not b.reserved for b in REGISTER_MAP)
    answered = {b["key"] for b in blocks if b["status"] == "ok"}
    refused = {b["key"] for b in blocks if b["exception_code"] == 2}
    assert {"f", "channel_record", "user_record", "import_active_energy_phases"} <= answered
    assert {"serial_number", "device_model", "map_version", "export_active_energy_bank"} <= refused
    for b in blocks:
        assert {"address", "count", "status", "exception_code", "plausible", "why"} <= set(b)
    assert doc["power_unit"] == "kW"
    assert doc["blocks_answered"] == len(answered)


async def test_probe_names_a_wrong_unit_id(
    make_sim: SimFactory, make_client: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = await make_sim()
    # The simulator answers other unit ids like a gateway: exception 0x0B.
    report = await run_probe(make_client(sim, unit_id=7), interval=0)
    assert report.unit_id_problem is not None
    assert "0B" in report.unit_id_problem
    assert report.talked
    assert "WRONG UNIT ID?" in report.format_table()
    args = ["probe", "--host", HOST, "--port", str(sim.port), "--unit", "7", "--interval", "0"]
    assert await run(args) == 0
    assert "WRONG UNIT ID?" in capsys.readouterr().out
    # Silence on an open connection: reported as a likely wrong unit id, exit 1.
    sim.faults.silent = True
    silent = await run_probe(make_client(sim, timeout=0.2), interval=0)
    assert silent.unit_id_problem is not None
    assert "nothing answered" in silent.unit_id_problem
    assert not silent.talked
    assert await run([*args[:-4], "--unit", "1", "--timeout", "0.2", "--interval", "0"]) == 1


async def test_a_wrong_address_in_our_table_is_caught(
    make_sim: SimFactory, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation check: a user-record address off by one record must not pass.

    The evidence profile lays the users out from the vendor source, not from
    our table, so decoding at a wrong address gives values that differ from the
    ground truth. (The ``full`` profile encodes from the table row itself, so a
    wrong row there would be copied into both sides; that is why these profiles
    exist.)
    """
    sim = await make_sim(map_profile="evidence", wiring="3LN")
    original = table_block("user_record")
    moved = registers.Block(
        original.key,
        Space.HOLDING,
        original.address - original.record,
        original.count,
        original.dtype,
        original.access,
        original.provenance,
        record=original.record,
    )
    monkeypatch.setattr(
        registers, "BLOCKS", MappingProxyType({**registers.BLOCKS, "user_record": moved})
    )
    client = make_client(sim)
    dev = await client.read_device_info()
    assert dev.wiring is Wiring.THREE_LN
    wrong = await client.read_snapshot({ReadGroup.USERS}, dev)
    m = sim.meter
    assert [u.user for u in wrong.users] == [1, 2, 3, 4, 5, 6]
    assert not any(near(u.active_power_total, m.user(u.user).active_power) for u in wrong.users)
    monkeypatch.undo()
    right = await client.read_snapshot({ReadGroup.USERS}, dev)
    assert all(near(u.active_power_total, m.user(u.user).active_power) for u in right.users)


async def test_probe_says_which_model_profile_fits(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    """The 2100's user records 7-9 (0x2214) tell the models apart when nothing else does."""
    from pyacurev.probe import check_model_profile

    evidence = await make_sim(map_profile="evidence")
    check = await check_model_profile(make_client(evidence))
    assert check.detail == "AcuRev 2020 (6 users): users 7-9 at 0x2214 answer exception 02"
    full = await make_sim()  # the full 2020 answers the 2100-only rows with 0
    check = await check_model_profile(make_client(full))
    assert check.detail.startswith("unknown: users 7-9 at 0x2214 read zeros")
    # a 2100 whose identity block refuses: its 2LN users 7-9 carry load
    ev2100 = await make_sim(map_profile="evidence", family="2100", wiring="2LN")
    check = await check_model_profile(make_client(ev2100))
    assert check.detail == "AcuRev 2100 (9 users): users 7-9 answer at 0x2214"
    # a 2100-only wiring code says so on its own, even in a three-input wiring
    hld = await make_sim(map_profile="divergent", family="2100", wiring="HLD")
    client = make_client(hld)
    device = await client.read_device_info()
    check = await check_model_profile(client, device)
    assert check.detail == "AcuRev 2100 (9 users): wiring HLD is a 2100 type"


async def test_model_profile_of_a_2100_answer() -> None:
    """A stand-in that answers only the 0x2214 read with floats is judged a 2100."""
    import struct

    from pyacurev.probe import check_model_profile

    class UsersSevenToNine:
        async def read_holding(self, address: int, count: int) -> list[int]:
            assert (address, count) == (0x2214, 30)
            floats = [1.5, 0.2, 1.6, 0.94, 76.0] * 3  # P, Q, S, PF, load nature per user
            return [w for f in floats for w in struct.unpack(">HH", struct.pack(">f", f))]

    check = await check_model_profile(UsersSevenToNine())  # type: ignore[arg-type]
    assert check.detail == "AcuRev 2100 (9 users): users 7-9 answer at 0x2214"

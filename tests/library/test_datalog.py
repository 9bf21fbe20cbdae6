"""pyacurev.datalog against the simulator over real TCP: layout, window, counters, probe.

The simulator's own log records (raw registers in ``meter.logs.data``) and its
energy counters are the ground truth; several tests configure a log that differs
from the factory list, and one makes the DESIGNED counters answer an exception.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from acurev_simulator import Simulator
from pyacurev import datalog
from pyacurev.client import AcuRevClient
from pyacurev.registers import bank_entry_channel, block
from tests.conftest import HOST, SimFactory

START = datetime(2026, 3, 10, 12, 7, 0)


def energy_address(channel: int) -> int:
    return block("import_active_energy_phases").address + 2 * bank_entry_channel(channel)


@pytest.fixture
async def sim(make_simulator: SimFactory) -> Simulator:
    return await make_simulator(clock=START, seed=1, log_history_hours=24)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[AcuRevClient]:
    async with AcuRevClient(HOST, sim.port) as c:
        yield c


def set_list(sim: Simulator, addresses: list[int]) -> None:
    regs = [0xFFFF] * block("datalog_register_list").count
    regs[: len(addresses)] = addresses
    sim.meter.set_setting("datalog_register_list", regs)


async def test_reads_all_kept_records_then_only_new_ones(
    sim: Simulator, client: AcuRevClient
) -> None:
    probe, layout = await datalog.probe_datalog(client)
    assert probe.usable, probe
    assert layout is not None
    assert probe.channels == tuple(range(1, 19))
    assert probe.kept == probe.total == 96
    reader = datalog.DataLogReader(layout)
    records = await reader.read_new(client)
    assert len(records) == 96
    assert records[-1].time == datetime(2026, 3, 10, 12, 0)
    assert {b.time - a.time for a, b in itertools.pairwise(records)} == {timedelta(minutes=15)}
    # Values: the simulator's raw record, decoded here by hand (high word first, 0.1 kWh).
    raw = sim.meter.logs.data[-1]
    i = 3 + 6 + 2 + 2 * 4  # channel 5: after time, Psum, U1, F, system and channels 1-4
    assert records[-1].channel_kwh(5) == pytest.approx(((raw[i] << 16) | raw[i + 1]) / 10)

    sim.meter.advance(8 * 60)  # to 12:15: one record, taken from the live counters
    counts = sim.meter.energy_counts("import_active", bank_entry_channel(2))
    sim.meter.advance(50 * 60)  # three more records
    new = await reader.read_new(client)
    assert [r.time.strftime("%H:%M") for r in new] == ["12:15", "12:30", "12:45", "13:00"]
    assert new[0].channel_kwh(2) == pytest.approx(counts / 10)
    assert await reader.read_new(client) == []


async def test_a_full_ring_still_tells_what_is_new(sim: Simulator, client: AcuRevClient) -> None:
    sim.meter.set_setting("datalog_interval", 1)
    _, layout = await datalog.probe_datalog(client)
    assert layout is not None
    reader = datalog.DataLogReader(layout)
    await reader.read_new(client)
    sim.meter.advance(1010 * 60)  # more than the 1000-record ring holds
    new = await reader.read_new(client)
    assert len(new) == 1000
    assert reader.lost == 10
    assert new[-1].time == datetime(2026, 3, 11, 4, 57)  # 12:07 + 1010 min


async def test_a_list_configured_otherwise_is_decoded_from_the_meter(
    sim: Simulator, client: AcuRevClient
) -> None:
    # Channel 7 first, then U1, then channel 3: not the factory order.
    ch7, ch3 = energy_address(7), energy_address(3)
    set_list(sim, [ch7, ch7 + 1, 0x2002, 0x2003, ch3, ch3 + 1])
    sim.meter.advance(8 * 60)
    probe, layout = await datalog.probe_datalog(client)
    assert probe.usable
    assert layout is not None
    assert layout.channels == (3, 7)
    assert layout.record_size == 3 + 6
    reader = datalog.DataLogReader(layout)
    records = await reader.read_new(client)
    newest = records[-1]
    assert newest.time == datetime(2026, 3, 10, 12, 15)
    for ch in (3, 7):
        counts = sim.meter.energy_counts("import_active", bank_entry_channel(ch))
        assert newest.channel_kwh(ch) == pytest.approx(counts / 10, abs=0.1)


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        (lambda sim: set_list(sim, [0x2002, 0x2003]), datalog.NO_ENERGY),
        # Half a counter is no counter.
        (lambda sim: set_list(sim, [energy_address(1)]), datalog.NO_ENERGY),
        (lambda sim: sim.meter.set_setting("datalog_enable", 0), datalog.DISABLED),
        (lambda sim: sim.faults.exceptions.update({"datalog_record_count": 2}), datalog.NO_ANSWER),
        (lambda sim: sim.faults.exceptions.update({"datalog_enable": 2}), datalog.NO_ANSWER),
        (lambda sim: sim.faults.exceptions.update({"log_window_data": 2}), datalog.NO_ANSWER),
    ],
    ids=["no-energy", "half-counter", "disabled", "no-counters", "no-config", "no-window"],
)
async def test_the_probe_degrades_and_says_why(
    sim: Simulator, client: AcuRevClient, setup: object, status: str
) -> None:
    setup(sim)  # type: ignore[operator]
    probe, _ = await datalog.probe_datalog(client)
    assert probe.status == status
    assert not probe.usable
    assert probe.detail
    assert probe.as_dict()["status"] == status


async def test_read_only_probe_writes_nothing(sim: Simulator, client: AcuRevClient) -> None:
    before = client.stats.registers_written
    probe, _ = await datalog.probe_layout(client)
    assert probe.usable
    assert client.stats.registers_written == before


async def test_the_meter_probe_reports_the_log(sim: Simulator, client: AcuRevClient) -> None:
    from pyacurev.probe import run_probe

    written = client.stats.registers_written
    report = await run_probe(client, interval=0.0)
    check = report.check("datalog_energy")
    assert check.status == "pass"
    assert check.detail.startswith("ok: import kWh of 19 bank entries (18 channels)")
    assert client.stats.registers_written == written  # the probe only reads
    set_list(sim, [0x2002, 0x2003])
    report = await run_probe(client, interval=0.0)
    assert report.check("datalog_energy").status == "info"
    assert report.check("datalog_energy").detail.startswith("no_energy")

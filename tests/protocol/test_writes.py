"""Writes reach the meter: checked in the simulator's ground truth, not by reading back."""

from __future__ import annotations

from datetime import datetime

import pytest

from acurev_simulator import Simulator
from pyacurev.client import Command
from pyacurev.codec import encode_uint32
from pyacurev.errors import AcuRevValueError, ModbusExceptionError
from pyacurev.layouts import MAX_MIN_PARAMS
from pyacurev.models import ENERGY_BANKS
from pyacurev.registers import BANK_ENTRIES, block

from .conftest import ClientFactory

pytestmark = pytest.mark.protocol


async def test_relays(sim: Simulator, make_client: ClientFactory) -> None:
    client = make_client(sim)
    assert not sim.meter.relays[2]
    assert await client.set_relay(3, True) is True
    assert sim.meter.relays[2]
    assert await client.set_relay(3, False) is False
    assert not sim.meter.relays[2]
    assert sim.stats.requests[5] == 2
    assert sim.stats.requests[1] == 2  # each write is read back with FC01


async def test_relay_read_back_reports_the_meter_not_the_request(
    sim: Simulator, make_client: ClientFactory
) -> None:
    # Relay 7 follows alarms by default: the meter refuses remote control (04).
    assert sim.meter.relay_mode >> 6 & 1
    client = make_client(sim)
    with pytest.raises(ModbusExceptionError) as err:
        await client.set_relay(7, True)
    assert (err.value.function_code, err.value.exception_code) == (5, 4)
    assert not sim.meter.relays[6]


@pytest.mark.parametrize("relay", [0, 9, -1])
async def test_relay_range(sim: Simulator, make_client: ClientFactory, relay: int) -> None:
    client = make_client(sim)
    with pytest.raises(AcuRevValueError):
        await client.set_relay(relay, True)
    assert sim.stats.total_requests == 0


# CT primaries are one register per channel from 0x0889, 5-50000 A (vendor settings test).
@pytest.mark.parametrize(("channel", "amps"), [(1, 500), (2, 5), (7, 600), (18, 50000)])
async def test_ct_primary(
    sim: Simulator, make_client: ClientFactory, channel: int, amps: int
) -> None:
    others = {n: sim.meter.ct_primary(n) for n in range(1, 19) if n != channel}
    await make_client(sim).set_ct_primary(channel, amps)
    assert sim.meter.ct_primary(channel) == amps
    assert {n: sim.meter.ct_primary(n) for n in others} == others
    # written at the vendor address, independent of our table
    assert sim.meter.read_registers(0x0889 + channel - 1, 1) == [amps]


@pytest.mark.parametrize(("channel", "amps"), [(1, 4), (1, 50001), (0, 100), (19, 100)])
async def test_ct_primary_range(
    sim: Simulator, make_client: ClientFactory, channel: int, amps: int
) -> None:
    before = sim.meter.ct_primary(1)
    with pytest.raises(AcuRevValueError):
        await make_client(sim).set_ct_primary(channel, amps)
    assert sim.stats.total_requests == 0
    assert sim.meter.ct_primary(1) == before


async def test_clock(sim: Simulator, make_client: ClientFactory) -> None:
    when = datetime(2027, 1, 2, 3, 4, 5)
    client = make_client(sim)
    await client.set_clock(when)
    assert sim.meter.clock == when
    assert sim.stats.requests[16] == 1  # one FC16 of all six registers
    with pytest.raises(AcuRevValueError):
        await client.set_clock(datetime(1999, 12, 31, 23, 59, 59))


def counts(sim: Simulator) -> dict[tuple[str, int], int]:
    return {
        (b, e): sim.meter.energy_counts(b, e) for b in ENERGY_BANKS for e in range(BANK_ENTRIES)
    }


async def test_commands(sim: Simulator, make_client: ClientFactory) -> None:
    m = sim.meter
    m.set_setting("alarm_global_enable", 1)
    m.set_alarm(1, label=0, compare=1, setpoint=50.0)
    m.set_di(2, True)
    m.advance(900)
    m.write_registers(
        block("di_pulse_count").address,
        [r for c in (11, 22, 33, 44, 55, 66, 77, 88) for r in encode_uint32(c)],
    )
    client = make_client(sim)

    assert any(v for v in counts(sim).values())
    await client.run_command(Command.CLEAR_ENERGY)
    assert not any(counts(sim).values())

    assert m.demand(3).peak_active.value
    await client.run_command(Command.CLEAR_DEMAND)
    assert not m.demand(3).peak_active.value

    assert all(m.max_min_record(p) is not None for p in MAX_MIN_PARAMS)
    await client.run_command(Command.CLEAR_MAX_MIN)
    assert all(m.max_min_record(p) is None for p in MAX_MIN_PARAMS)

    assert m.alarm_records()
    await client.run_command(Command.CLEAR_ALARM_RECORDS)
    assert m.alarm_records() == []

    assert m.run_time_hours > 0
    await client.run_command(Command.CLEAR_RUN_TIME)
    assert m.run_time_hours == 0

    await client.run_command(Command.CLEAR_DI_COUNTERS, di_mask=0b0000_0101)
    assert m.di_counts == (0, 22, 0, 44, 55, 66, 77, 88)
    await client.run_command(Command.CLEAR_DI_COUNTERS)
    assert m.di_counts == (0,) * 8
    for mask in (0, 0x100):
        with pytest.raises(AcuRevValueError):
            await client.run_command(Command.CLEAR_DI_COUNTERS, di_mask=mask)

    assert m.soe_records()
    await client.run_command(Command.CLEAR_SOE_RECORDS)
    assert m.soe_records() == []

    assert m.event_log()
    await client.run_command(Command.CLEAR_EVENT_LOG)
    assert m.event_log() == []

    m.advance(37)  # part-way into a demand sub-period
    # A sync leaves no trace in the registers; the tracker's sub-period clock is the truth.
    assert m.demand_tracker._elapsed_us
    await client.run_command(Command.DEMAND_SYNC)
    assert m.demand_tracker._elapsed_us == 0

    await client.run_command(Command.REBOOT)
    assert m.reboot_count == 1
    assert not client.connected
    # The meter is back: the next call reconnects (and re-checks identity).
    assert (await client.read_device_info()).serial == m.serial
    assert client.stats.reconnects == 1
    assert sim.stats.requests[16] == 11  # one FC16 per command, none for refused masks


async def test_every_command_is_covered() -> None:
    # test_commands exercises each member; this fails when one is added without a test.
    assert {c.name for c in Command} == {
        "CLEAR_DEMAND",
        "CLEAR_ENERGY",
        "CLEAR_MAX_MIN",
        "CLEAR_ALARM_RECORDS",
        "CLEAR_RUN_TIME",
        "CLEAR_DI_COUNTERS",
        "CLEAR_SOE_RECORDS",
        "CLEAR_EVENT_LOG",
        "DEMAND_SYNC",
        "REBOOT",
    }
    assert [c.address for c in Command] == list(range(0x1030, 0x103A))

"""Every fault the simulator can inject has a defined outcome, and none yields data."""

from __future__ import annotations

import asyncio
import time

import pytest

from acurev_simulator import Simulator
from acurev_simulator.faults import CORRUPT_MODES
from pyacurev.client import AcuRevClient
from pyacurev.errors import (
    AcuRevConnectionError,
    AcuRevError,
    AcuRevIdentityError,
    AcuRevProtocolError,
    AcuRevTimeoutError,
    ModbusExceptionError,
)
from pyacurev.groups import ReadGroup

from .conftest import ClientFactory, SimFactory

pytestmark = pytest.mark.protocol

SERIAL_WORDS = 8
TIMEOUT = 0.25


async def truth_check(client: AcuRevClient, sim: Simulator) -> None:
    """A read after a fault returns exactly what the meter holds."""
    regs = await client.read_holding(0x1000, SERIAL_WORDS)
    assert regs == sim.meter.read_registers(0x1000, SERIAL_WORDS)


async def test_delay_within_timeout_is_data(sim: Simulator, make_client: ClientFactory) -> None:
    client = make_client(sim, timeout=0.5)
    await client.connect()
    sim.faults.delay = 0.1
    start = time.monotonic()
    await truth_check(client, sim)
    assert time.monotonic() - start >= 0.1
    assert client.stats.errors == {}


async def test_delay_over_timeout_times_out_then_recovers(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim, timeout=TIMEOUT)
    await client.connect()
    sim.faults.delay = 0.6
    start = time.monotonic()
    with pytest.raises(AcuRevTimeoutError):
        await client.read_holding(0x2000, 2)
    assert time.monotonic() - start < TIMEOUT + 0.2  # our timeout, not pymodbus's
    assert not client.connected  # a late answer must not be read as the next one
    sim.faults.reset()
    await asyncio.sleep(0.4)  # the late answer arrives on the old, closed socket
    await truth_check(client, sim)
    assert client.stats.reconnects == 1
    assert client.stats.errors == {"AcuRevTimeoutError": 1}


async def test_silence_times_out_and_reconnects(sim: Simulator, make_client: ClientFactory) -> None:
    client = make_client(sim, timeout=TIMEOUT)
    await client.connect()
    sim.faults.silent = True
    with pytest.raises(AcuRevTimeoutError):
        await client.read_snapshot([ReadGroup.SYSTEM])
    with pytest.raises(AcuRevTimeoutError):
        await client.read_coils(0, 8)
    sim.faults.reset()
    await truth_check(client, sim)
    assert client.stats.reconnects == 2
    assert client.stats.errors["AcuRevTimeoutError"] == 2


async def test_dropped_connection_fails_fast_then_recovers(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim, timeout=2.0)
    await client.connect()
    sim.faults.drop_next = 1
    start = time.monotonic()
    with pytest.raises(AcuRevConnectionError) as err:
        await client.read_holding(0x2000, 2)
    assert not isinstance(err.value, AcuRevTimeoutError)
    assert time.monotonic() - start < 1.0  # noticed the close, did not wait for the timeout
    await truth_check(client, sim)
    assert client.stats.reconnects == 1


async def test_connection_closed_while_idle_is_reopened(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim)
    await client.connect()
    sim.drop_connections()
    await asyncio.sleep(0.05)
    await truth_check(client, sim)
    assert client.stats.reconnects == 1
    assert client.stats.errors == {}


async def test_exception_responses_carry_code_and_address(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim)
    dev = await client.read_device_info()
    sim.faults.exceptions["channel_record"] = 2
    with pytest.raises(ModbusExceptionError) as err:
        await client.read_snapshot([ReadGroup.CHANNELS], dev)
    assert (err.value.function_code, err.value.exception_code) == (3, 2)
    assert err.value.address == 0x2100
    sim.faults.exceptions[(1, 0)] = 4
    with pytest.raises(ModbusExceptionError) as err:
        await client.read_coils(0, 8)
    assert (err.value.function_code, err.value.exception_code, err.value.address) == (1, 4, 0)
    # An exception is an answer: the connection stays up.
    assert client.connected
    assert client.stats.reconnects == 0
    # Addresses outside the map: the real exception of the server, not an injected one.
    sim.faults.reset()
    with pytest.raises(ModbusExceptionError) as err:
        await client.read_holding(0x4600, 2)
    assert err.value.exception_code == 2
    assert client.stats.errors == {"ModbusExceptionError": 3}
    stats = client.stats.as_dict()
    assert stats["errors"] == {"ModbusExceptionError": 3}
    assert stats["transactions"] == sim.stats.total_requests
    assert (client.host, client.port, client.unit_id, client.timeout) == (
        "127.0.0.1",
        sim.port,
        1,
        0.5,
    )


READS = {
    "holding": lambda c: c.read_holding(0x2100, 12),
    "coils": lambda c: c.read_coils(0, 8),
    "inputs": lambda c: c.read_discrete_inputs(0, 8),
    "write_coil": lambda c: c.set_relay(2, True),
    "write_registers": lambda c: c.set_ct_primary(3, 250),
}


@pytest.mark.parametrize("mode", CORRUPT_MODES)
@pytest.mark.parametrize("call", list(READS))
async def test_corrupt_answers_are_errors_never_data(
    sim: Simulator, make_client: ClientFactory, mode: str, call: str
) -> None:
    client = make_client(sim, timeout=TIMEOUT)
    await client.connect()
    sim.faults.corrupt = mode  # type: ignore[assignment]
    with pytest.raises((AcuRevProtocolError, AcuRevConnectionError)):
        await READS[call](client)
    sim.faults.reset()
    await truth_check(client, sim)
    assert client.stats.reconnects == 1


async def test_too_many_clients(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.faults.max_clients = 1
    first = make_client(sim)
    await first.connect()
    second = make_client(sim)
    with pytest.raises(AcuRevConnectionError):
        await second.connect()
    assert sim.stats.connections_refused == 1
    await first.close()
    await asyncio.sleep(0.05)
    await truth_check(second, sim)


async def test_unreachable_meter(make_client: ClientFactory) -> None:
    # A port nobody listens on: refused at once.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(port)
    with pytest.raises(AcuRevConnectionError, match="cannot connect"):
        await client.read_device_info()
    assert not client.connected
    assert client.stats.errors == {"AcuRevConnectionError": 1}


async def test_wrong_unit_id_is_a_gateway_exception(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim, unit_id=7)
    with pytest.raises(ModbusExceptionError) as err:
        await client.connect()
    assert err.value.exception_code == 0x0B
    # The link is up but unidentified: no later call may skip the identity read.
    with pytest.raises(ModbusExceptionError):
        await client.read_holding(0x2000, 2)
    assert sim.stats.requests[3] == 2
    assert sim.stats.registers_served == 0


async def test_cancelled_request_does_not_poison_the_next(
    sim: Simulator, make_client: ClientFactory
) -> None:
    client = make_client(sim, timeout=2.0)
    await client.connect()
    sim.faults.delay = 0.2
    task = asyncio.create_task(client.read_holding(0x2000, 2))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not client.connected
    sim.faults.reset()
    await truth_check(client, sim)
    assert client.stats.reconnects == 1


async def test_identity_is_checked_on_every_connect(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    first = await make_sim(serial="METER-A")
    with pytest.raises(AcuRevIdentityError) as err:
        await make_client(first, expected_serial="METER-B").read_device_info()
    assert (err.value.expected, err.value.found) == ("METER-B", "METER-A")

    client = make_client(first, expected_serial="METER-A")
    assert (await client.read_device_info()).serial == "METER-A"
    assert client.serial == "METER-A"
    # The address now answers as another meter: no data, an identity error.
    port = first.port
    await first.stop()
    await make_sim(serial="METER-C", port=port)
    with pytest.raises(AcuRevError):
        await client.read_holding(0x2000, 2)  # the old connection is gone
    with pytest.raises(AcuRevIdentityError):
        await client.read_holding(0x2000, 2)
    assert not client.connected


async def test_requests_are_serialised(sim: Simulator, make_client: ClientFactory) -> None:
    client = make_client(sim)
    await client.connect()
    sim.faults.delay = 0.02
    results = await asyncio.gather(*(client.read_holding(0x2000 + 2 * i, 2) for i in range(8)))
    assert results == [sim.meter.read_registers(0x2000 + 2 * i, 2) for i in range(8)]
    assert sim.stats.connections_accepted == 1


async def test_bad_arguments_never_reach_the_wire(
    sim: Simulator, make_client: ClientFactory
) -> None:
    from pyacurev.errors import AcuRevValueError

    client = make_client(sim)
    await client.connect()
    before = client.stats.transactions
    for call in (
        lambda: client.read_holding(0x2000, 126),
        lambda: client.read_holding(0, 0),
        lambda: client.read_coils(0, 2001),
        lambda: client.read_holding(-1, 1),
        lambda: client.read_discrete_inputs(0xFFFF, 2),
    ):
        with pytest.raises(AcuRevValueError):
            await call()
    assert client.stats.transactions == before
    with pytest.raises(AcuRevValueError):
        AcuRevClient("127.0.0.1", unit_id=256)
    with pytest.raises(AcuRevValueError):
        AcuRevClient("127.0.0.1", timeout=0)

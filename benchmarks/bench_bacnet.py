"""BACnet/IP benchmark of the bridge: RP/s, RPM properties/s, simulator-change-to-COV latency.

Run from the repository root (a script, not part of the test suite: ``testpaths`` is
``tests``, so this file runs only when named)::

    .venv/bin/python -m pytest benchmarks/bench_bacnet.py -s -p no:cacheprovider

``ACUREV_BENCH_RP`` (default 2000), ``ACUREV_BENCH_RPM`` (default 200) and
``ACUREV_BENCH_COV`` (default 30) set the counts.

The whole chain is real and on loopback: the simulator (18-channel 3LN, frozen) polled by
a real Home Assistant (phcc's ``hass``) with the acurev integration; Home Assistant's
websocket API on a TCP port; the bridge (``bacnet_bridge.app.Bridge``) in the same event
loop; and an independent BACnet client, bac-py, on its own UDP port. Because the client
shares the event loop with the server, the request rates are those of client and server
together on one core (the notes measured a Node client at ~3.2k RP/s against the same
server; Python clients are the bottleneck).

* **ReadProperty/s**: sequential Present_Value reads cycling over every analog input,
  one request in flight; and 8 in flight.
* **ReadPropertyMultiple properties/s**: requests of 20 analog inputs x 4 properties
  (Present_Value, Status_Flags, Reliability, Units) = 80 properties each.
* **change -> COV latency**: ``set_channel_load`` on the simulator, then Home Assistant's
  fast coordinator refreshes at once (in the field it polls every 10 s: add up to that),
  the state goes over the websocket to the bridge, and the bridge's unconfirmed COV
  notification reaches the client. Split into the poll (Modbus read + HA state writes)
  and the rest (websocket + bridge + BACnet). Median, p90 and max over the samples.

phcc runs the loop in asyncio debug mode; production does not, so it is turned off here.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time
from typing import Any

import pytest
from bac_py.app.client import decode_cov_values

from tests.bridge.conftest import (  # noqa: F401  (fixtures)
    HOST,
    auto_enable_custom_integrations,
    bacnet_peer,
    fast_timeouts,
    ha_server,
    make_config,
    make_meter,
    meter,
    start_bridge,
    wait_for,
)
from tests.conftest import make_simulator  # noqa: F401  (fixture)

RP_COUNT = int(os.environ.get("ACUREV_BENCH_RP", "2000"))
RPM_COUNT = int(os.environ.get("ACUREV_BENCH_RPM", "200"))
COV_COUNT = int(os.environ.get("ACUREV_BENCH_COV", "30"))


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Override phcc's fixture: production runs without asyncio debug."""


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    return (
        f"median {statistics.median(ordered) * 1000:6.2f} ms, p90 {p90 * 1000:6.2f} ms, "
        f"max {ordered[-1] * 1000:6.2f} ms"
    )


@pytest.mark.timeout(600)
async def test_bench_bacnet(
    socket_enabled: None,
    start_bridge: Any,  # noqa: F811
    meter: Any,  # noqa: F811
    make_config: Any,  # noqa: F811
    bacnet_peer: Any,  # noqa: F811
) -> None:
    """Measure and print."""
    config = make_config()
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    names = await peer.names()
    analog = [oid for oid in names.values() if oid.startswith("analog-input,")]
    client, address = peer.client, peer.address

    # --- ReadProperty, one in flight
    for oid in analog[:50]:  # warm-up
        await client.read(address, oid, "present-value")
    start = time.perf_counter()
    for i in range(RP_COUNT):
        await client.read(address, analog[i % len(analog)], "present-value")
    rp_seq = RP_COUNT / (time.perf_counter() - start)

    # --- ReadProperty, 8 in flight
    async def worker(offset: int, count: int) -> None:
        for i in range(count):
            await client.read(address, analog[(offset + i * 8) % len(analog)], "present-value")

    start = time.perf_counter()
    await asyncio.gather(*(worker(w, RP_COUNT // 8) for w in range(8)))
    rp_par = (RP_COUNT // 8 * 8) / (time.perf_counter() - start)

    # --- ReadPropertyMultiple, 20 objects x 4 properties
    props = ["present-value", "status-flags", "reliability", "units"]
    batches = [analog[i : i + 20] for i in range(0, len(analog) - 19, 20)]
    start = time.perf_counter()
    properties = 0
    for i in range(RPM_COUNT):
        batch = batches[i % len(batches)]
        result = await client.read_multiple(address, {oid: props for oid in batch})
        properties += sum(len(values) for values in result.values())
    elapsed = time.perf_counter() - start
    rpm_req, rpm_props = RPM_COUNT / elapsed, properties / elapsed
    assert properties == RPM_COUNT * 80

    # --- simulator change -> COV notification
    power = names[f"{meter.serial}_ch01_active_power"]
    arrived: list[tuple[float, float]] = []
    await client.subscribe_cov_ex(
        address,
        power,
        31,
        confirmed=False,
        lifetime=600,
        callback=lambda n, _src: arrived.append(
            (time.perf_counter(), float(decode_cov_values(n)["present-value"]))
        ),
    )
    await wait_for(lambda: arrived)
    fast = meter.entry.runtime_data.fast
    total: list[float] = []
    polls: list[float] = []
    rest: list[float] = []
    for i in range(COV_COUNT):
        watts = 1000.0 + 100.0 * (i + 1)  # well above the COV increment
        meter.sim.meter.set_channel_load(1, watts / 1000, 0.2)
        t0 = time.perf_counter()
        await fast.async_refresh()
        await meter.hass.async_block_till_done()
        t1 = time.perf_counter()
        await wait_for(lambda w=watts: any(v == w for _, v in arrived), timeout=5, interval=0.0005)
        t2 = next(t for t, v in arrived if v == watts)
        total.append(t2 - t0)
        polls.append(t1 - t0)
        rest.append(t2 - t1)

    objects = len(names)
    print()
    print(
        f"BACnet bridge benchmark - Python {platform.python_version()}, "
        f"{os.cpu_count()} CPU, {objects} objects ({len(analog)} AI), "
        f"{len(bridge.table.points)} HA entities mirrored"
    )
    print(f"ReadProperty, sequential ({RP_COUNT})          {rp_seq:8.0f} req/s")
    print(f"ReadProperty, 8 in flight ({RP_COUNT // 8 * 8})        {rp_par:8.0f} req/s")
    print(
        f"ReadPropertyMultiple 80 props ({RPM_COUNT})      {rpm_req:8.0f} req/s = "
        f"{rpm_props:.0f} properties/s"
    )
    print(f"simulator change -> COV ({COV_COUNT})           {_ms(total)}")
    print(f"  of which the HA poll (Modbus + states)  {_ms(polls)}")
    print(f"  websocket + bridge + BACnet COV         {_ms(rest)}")

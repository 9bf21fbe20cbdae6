"""The BACnet/IP device, read and written by an independent stack (bac-py) over loopback."""

from __future__ import annotations

import asyncio

import pytest
from bac_py.app.client import decode_cov_values
from bac_py.services.errors import BACnetError

from bacnet_bridge import __version__
from pyacurev.registers import bank_entry_channel

from .conftest import wait_for

FAULT = 1  # Status_Flags bit: {in-alarm, fault, overridden, out-of-service}
COMM_FAILURE = 12  # Reliability communication-failure
NO_FAULT = 0

# Protocol_Services_Supported bits (ASHRAE 135 BACnetServicesSupported)
SERVICES = {
    "subscribe-cov": 5,
    "read-property": 12,
    "read-property-multiple": 14,
    "write-property": 15,
    "write-property-multiple": 16,
    "i-am": 26,
    "who-has": 33,
    "who-is": 34,
}
OBJECT_TYPES = {
    "analog-input": 0,
    "binary-input": 3,
    "binary-output": 4,
    "device": 8,
    "network-port": 56,
}


def f32(value: float) -> float:
    """What a BACnet REAL holds."""
    import struct

    return float(struct.unpack("f", struct.pack("f", value))[0])


async def test_device_object(start_bridge, meter, make_config, bacnet_peer) -> None:
    config = make_config(bacnet={"device_name": "Plant room meters", "device_instance": 77})
    await start_bridge(config)
    peer = await bacnet_peer(config)
    dev = "device,77"
    props = await peer.client.read_multiple(
        peer.address,
        {
            dev: [
                "object-name",
                "vendor-name",
                "vendor-identifier",
                "model-name",
                "firmware-revision",
                "application-software-version",
                "protocol-version",
                "protocol-revision",
                "protocol-services-supported",
                "protocol-object-types-supported",
                "database-revision",
                "max-apdu-length-accepted",
                "segmentation-supported",
                "system-status",
                "object-list",
            ]
        },
    )
    values = props[dev]
    assert values["object-name"] == "Plant room meters"
    assert values["vendor-name"] == "AcuRev plugin set"
    assert values["model-name"] == "AcuRev BACnet bridge"
    assert values["firmware-revision"] == __version__
    assert __version__ in values["application-software-version"]
    assert values["protocol-version"] == 1
    assert values["protocol-revision"] >= 14  # COV on Reliability changes: rev 14+
    services = values["protocol-services-supported"]
    assert {i for i in range(len(services)) if services[i]} == set(SERVICES.values())
    types = values["protocol-object-types-supported"]
    assert {i for i in range(len(types)) if types[i]} == set(OBJECT_TYPES.values())
    assert values["max-apdu-length-accepted"] == 1476
    assert values["database-revision"] >= 1
    kinds = {oid.object_type.name for oid in values["object-list"]}
    assert kinds == {"DEVICE", "NETWORK_PORT", "ANALOG_INPUT", "BINARY_INPUT", "BINARY_OUTPUT"}
    # One read property by property as well, and the RPM "all"-free answers agree.
    assert await peer.read(dev, "vendor-identifier") == values["vendor-identifier"]


async def test_values_units_and_names(start_bridge, meter, make_config, bacnet_peer) -> None:
    config = make_config()
    await start_bridge(config)
    peer = await bacnet_peer(config)
    names = await peer.names()
    serial = meter.serial
    truth = meter.sim.meter

    def oid(key: str) -> str:
        return names[f"{serial}_{key}"]

    assert oid("ch01_active_power").startswith("analog-input,")
    assert oid("di_1").startswith("binary-input,")
    assert oid("relay_1").startswith("binary-output,")
    # Object names are unique, descriptions carry Home Assistant's friendly name.
    assert len(names) == len(set(names.values()))
    description = await peer.read(oid("ch01_active_power"), "description")
    assert "Channel 1" in description or "channel 1" in description.lower()

    expected_units = {
        "ch01_active_power": 47,
        "ch01_import_energy": 19,
        "voltage_a": 5,
        "ch01_current": 3,
        "frequency": 27,
        "power_factor": 15,
        "reactive_power": 11,
        "apparent_power": 8,
        "import_reactive_energy": 243,
        "apparent_energy": 240,
    }
    result = await peer.client.read_multiple(
        peer.address,
        {
            oid(k): [
                "units",
                "present-value",
                "status-flags",
                "reliability",
                "event-state",
                "out-of-service",
                "cov-increment",
            ]
            for k in expected_units
        },
    )
    for key, units in expected_units.items():
        row = result[oid(key)]
        assert row["units"] == units, key
        assert not row["status-flags"][FAULT]
        assert row["reliability"] == NO_FAULT
        assert row["event-state"] == 0
        assert row["out-of-service"] is False
    power = result[oid("ch01_active_power")]["present-value"]
    assert power == f32(truth.channel(1).active_power * 1000)
    energy = result[oid("ch01_import_energy")]["present-value"]
    assert energy == pytest.approx(
        truth.energy_counts("import_active", bank_entry_channel(1)) / 10, rel=1e-7
    )
    assert result[oid("voltage_a")]["present-value"] == pytest.approx(truth.voltage("a"), rel=1e-6)

    # The simulator moves; Home Assistant polls; the BACnet value follows.
    truth.set_channel_load(1, 7.5, 1.25)
    await meter.poll()
    await wait_for(lambda: _read_equals(peer, oid("ch01_active_power"), 7500.0))

    # Digital inputs and relays as BI / BO.
    truth.set_di(1, True)
    await meter.poll()
    await wait_for(lambda: _read_equals(peer, oid("di_1"), 1))
    assert await peer.read(oid("di_1"), "active-text") == "closed"


async def _read_equals(peer, obj: str, value: object) -> bool:
    return bool(await peer.read(obj, "present-value") == value)


async def test_writes_refused_where_they_make_no_sense(
    start_bridge, meter, make_config, bacnet_peer
) -> None:
    config = make_config()
    await start_bridge(config)
    peer = await bacnet_peer(config)
    names = await peer.names()
    ai = names[f"{meter.serial}_ch01_active_power"]
    for prop, value in (
        ("present-value", 1.0),
        ("object-name", "x"),
        ("units", 95),
        ("reliability", 0),
    ):
        with pytest.raises(BACnetError) as err:
            await peer.write(ai, prop, value)
        assert err.value.error_code.name == "WRITE_ACCESS_DENIED", prop
    with pytest.raises(BACnetError) as err:
        await peer.write(peer.device, "object-name", "renamed")
    assert err.value.error_code.name == "WRITE_ACCESS_DENIED"


async def test_relay_refused_unless_allowed(start_bridge, meter, make_config, bacnet_peer) -> None:
    config = make_config()  # allow_relay_commands defaults to false
    await start_bridge(config)
    peer = await bacnet_peer(config)
    relay = (await peer.names())[f"{meter.serial}_relay_2"]
    before = meter.sim.meter.relays
    with pytest.raises(BACnetError) as err:
        await peer.write(relay, "present-value", 1, priority=8)
    assert err.value.error_class.name == "PROPERTY"
    assert err.value.error_code.name == "WRITE_ACCESS_DENIED"
    assert meter.sim.meter.relays == before
    assert await peer.read(relay, "priority-array") == [None] * 16


async def test_relay_commands_priorities_and_relinquish(
    start_bridge, meter, make_config, bacnet_peer
) -> None:
    config = make_config(bacnet={"allow_relay_commands": True})
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    relay = (await peer.names())[f"{meter.serial}_relay_2"]
    coils = meter.sim.meter
    assert coils.relays[1] is False
    assert await peer.read(relay, "relinquish-default") == 0

    await peer.write(relay, "present-value", 1, priority=8)
    assert coils.relays[1] is True  # the coil switched...
    assert await peer.read(relay, "present-value") == 1
    assert await peer.read(relay, "current-command-priority") == 8
    assert (await peer.read(relay, "priority-array"))[7] == 1
    # ...through Home Assistant, whose state the table mirrors.
    assert meter.hass.states.get(meter.entity_id("switch", "relay_2")).state == "on"
    assert bridge.table.points[f"{meter.serial}_relay_2"].value is True

    # A lower priority (16) cannot override priority 8; relinquishing 8 hands over to it.
    await peer.write(relay, "present-value", 0, priority=16)
    assert coils.relays[1] is True
    await peer.write(relay, "present-value", None, priority=8)
    assert coils.relays[1] is False
    assert await peer.read(relay, "current-command-priority") == 16
    # Relinquishing the last one returns to Relinquish_Default (inactive).
    await peer.write(relay, "present-value", 1, priority=16)
    assert coils.relays[1] is True
    await peer.write(relay, "present-value", None, priority=16)
    assert coils.relays[1] is False
    assert await peer.read(relay, "present-value") == 0
    assert await peer.read(relay, "current-command-priority") is None

    # Present_Value follows Home Assistant also when the relay is switched elsewhere.
    await meter.hass.services.async_call(
        "switch", "turn_on", {"entity_id": meter.entity_id("switch", "relay_2")}, blocking=True
    )
    await wait_for(lambda: _read_equals(peer, relay, 1))
    assert await peer.read(relay, "feedback-value") == 1


async def test_relay_command_the_meter_refuses(
    start_bridge, meter, make_config, bacnet_peer
) -> None:
    config = make_config(bacnet={"allow_relay_commands": True})
    await start_bridge(config)
    peer = await bacnet_peer(config)
    relay = (await peer.names())[f"{meter.serial}_relay_5"]
    meter.sim.meter.relay_mode |= 1 << 4  # relay 5 follows alarms: the meter refuses
    with pytest.raises(BACnetError) as err:
        await peer.write(relay, "present-value", 1, priority=8)
    assert err.value.error_class.name == "DEVICE"
    assert err.value.error_code.name == "OPERATIONAL_PROBLEM"
    assert await peer.read(relay, "priority-array") == [None] * 16


async def test_cov_on_value_and_on_fault(start_bridge, meter, make_config, bacnet_peer) -> None:
    config = make_config()
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    names = await peer.names()
    power = names[f"{meter.serial}_ch03_active_power"]
    relay = names[f"{meter.serial}_relay_1"]
    confirmed: list[dict] = []
    unconfirmed: list[dict] = []
    await peer.client.subscribe_cov_ex(
        peer.address,
        power,
        11,
        confirmed=True,
        lifetime=120,
        callback=lambda n, _src: confirmed.append(decode_cov_values(n)),
    )
    await peer.client.subscribe_cov_ex(
        peer.address,
        relay,
        12,
        confirmed=False,
        lifetime=120,
        callback=lambda n, _src: unconfirmed.append(decode_cov_values(n)),
    )
    await wait_for(lambda: confirmed and unconfirmed, message="initial notifications")
    # bac-py's generic decoder stops at the context tags of BACnetCOVSubscription; the raw
    # value is decoded with bacpypes3's type instead.
    ack = await peer.client.read_property(peer.address, peer.device, "active-cov-subscriptions")
    active = _cov_subscriptions(bytes(ack.property_value))
    assert sorted(
        (int(s.recipient.processIdentifier), bool(s.issueConfirmedNotifications)) for s in active
    ) == [(11, True), (12, False)]
    assert all(0 < s.timeRemaining <= 120 for s in active)
    before = confirmed[-1]["present-value"]

    truth = meter.sim.meter
    truth.set_channel_load(3, 4.25, 0.5)
    await meter.poll()
    await wait_for(lambda: any(n["present-value"] == 4250.0 for n in confirmed))

    # A change below the COV increment (10 W) is not notified...
    count = len(confirmed)
    truth.set_channel_load(3, 4.254, 0.5)
    await meter.poll()
    point = bridge.table.points[f"{meter.serial}_ch03_active_power"]
    await wait_for(lambda: point.value == pytest.approx(4254.0))
    # ...and the increment is writable.
    await peer.write(power, "cov-increment", 1.0)
    assert await peer.read(power, "cov-increment") == 1.0
    truth.set_channel_load(3, 4.3, 0.5)
    await meter.poll()
    await wait_for(lambda: any(n["present-value"] == 4300.0 for n in confirmed))
    assert not any(n["present-value"] == pytest.approx(4254.0) for n in confirmed[count:])
    assert before != 4300.0

    # The meter goes silent: Home Assistant marks it unavailable; BACnet keeps the last value,
    # raises the fault flag, reports communication-failure, and says so by COV.
    meter.sim.faults.silent = True
    await meter.poll()
    await wait_for(lambda: any(n["status-flags"][FAULT] for n in confirmed))
    await wait_for(lambda: any(n["status-flags"][FAULT] for n in unconfirmed))
    fault = next(n for n in confirmed if n["status-flags"][FAULT])
    assert fault["present-value"] == 4300.0
    assert await peer.read(power, "reliability") == COMM_FAILURE
    assert await peer.read(power, "present-value") == 4300.0

    meter.sim.faults.silent = False
    await meter.poll()
    await wait_for(lambda: not confirmed[-1]["status-flags"][FAULT])
    assert await peer.read(power, "reliability") == NO_FAULT


async def test_home_assistant_restart(
    start_bridge, meter, make_config, bacnet_peer, ha_server
) -> None:
    config = make_config()
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    power = (await peer.names())[f"{meter.serial}_ch01_active_power"]
    value = await peer.read(power, "present-value")
    notes: list[dict] = []
    await peer.client.subscribe_cov_ex(
        peer.address,
        power,
        21,
        confirmed=False,
        lifetime=120,
        callback=lambda n, _src: notes.append(decode_cov_values(n)),
    )

    await ha_server.stop()
    await wait_for(lambda: _read_equals_prop(peer, power, "reliability", COMM_FAILURE))
    assert await peer.read(power, "present-value") == value  # last value kept
    await wait_for(lambda: any(n["status-flags"][FAULT] for n in notes))

    # Meanwhile the meter moved; when Home Assistant is back the bridge resynchronises.
    meter.sim.meter.set_channel_load(1, 2.5, 0.0)
    await meter.poll()
    await ha_server.start()
    await bridge.wait_synced(timeout=10)
    await wait_for(lambda: _read_equals_prop(peer, power, "reliability", NO_FAULT))
    assert await peer.read(power, "present-value") == 2500.0
    await wait_for(lambda: not notes[-1]["status-flags"][FAULT])


async def _read_equals_prop(peer, obj: str, prop: str, value: object) -> bool:
    return bool(await peer.read(obj, prop) == value)


async def test_out_of_service_decouples_an_input(
    start_bridge, meter, make_config, bacnet_peer
) -> None:
    # Both writes are off by default (test_bacnet_wire.py); this operator allowed them.
    config = make_config(bacnet={"allow_out_of_service": True, "allow_input_value_writes": True})
    bridge = await start_bridge(config)
    peer = await bacnet_peer(config)
    power = (await peer.names())[f"{meter.serial}_ch04_active_power"]
    await peer.write(power, "out-of-service", True)
    assert (await peer.read(power, "status-flags"))[3]  # out-of-service flag
    await peer.write(power, "present-value", 123.0)  # an operator override
    meter.sim.meter.set_channel_load(4, 3.0, 0.0)
    await meter.poll()
    point = bridge.table.points[f"{meter.serial}_ch04_active_power"]
    await wait_for(lambda: point.value == 3000.0)
    assert await peer.read(power, "present-value") == 123.0  # Home Assistant decoupled
    await peer.write(power, "out-of-service", False)
    assert await peer.read(power, "present-value") == 3000.0  # and back
    with pytest.raises(BACnetError) as err:
        await peer.write(power, "present-value", 1.0)
    assert err.value.error_code.name == "WRITE_ACCESS_DENIED"
    with pytest.raises(BACnetError) as err:
        await peer.write(power, "cov-increment", -1.0)
    assert err.value.error_code.name == "VALUE_OUT_OF_RANGE"


async def test_segmented_rpm_and_write_property_multiple(
    start_bridge, meter, make_config, bacnet_peer
) -> None:
    config = make_config()
    await start_bridge(config)
    peer = await bacnet_peer(config)
    names = await peer.names()
    analog = [oid for oid in names.values() if oid.startswith("analog-input,")]
    # One request for every analog input's name, value and units: the answer (several kB)
    # only fits in a segmented response.
    result = await peer.client.read_multiple(
        peer.address, {oid: ["object-name", "present-value", "units"] for oid in analog}
    )
    assert len(result) == len(analog) > 150
    assert all(names[row["object-name"]] == oid for oid, row in result.items())

    power = names[f"{meter.serial}_ch05_active_power"]
    await peer.client.write_multiple(peer.address, {power: {"cov-increment": 25.0}})
    assert await peer.read(power, "cov-increment") == 25.0
    with pytest.raises(BACnetError) as err:
        await peer.client.write_multiple(peer.address, {power: {"present-value": 1.0}})
    # bac-py 1.5.7 decodes a WritePropertyMultiple-Error like a plain Error: it takes the
    # [0] opening tag of errorType for the class, so what it calls the code is our class,
    # property (2), and our code, write-access-denied (40), starts what it calls error_data.
    assert err.value.error_code.value == 2
    assert err.value.error_data[:2] == bytes([0x91, 40])


def _cov_subscriptions(raw: bytes) -> list:
    from bacpypes3.basetypes import ListOfCOVSubscription
    from bacpypes3.pdu import PDUData
    from bacpypes3.primitivedata import TagList

    return list(ListOfCOVSubscription.decode(TagList.decode(PDUData(raw))))


async def test_foreign_device_registration_and_discovery(start_bridge, meter, make_config) -> None:
    """The bridge registers with a BBMD (a minimal one here, on loopback) and answers a
    Who-Is the BBMD forwards: how a BMS on another subnet discovers it."""
    loop = asyncio.get_running_loop()
    received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()

    class Bbmd(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            received.put_nowait((data, addr))

    transport, _ = await loop.create_datagram_endpoint(Bbmd, local_addr=("127.0.0.1", 0))
    bms, _ = await loop.create_datagram_endpoint(Bbmd, local_addr=("127.0.0.1", 0))
    try:
        bbmd_port = transport.get_extra_info("sockname")[1]
        bms_port = bms.get_extra_info("sockname")[1]
        config = make_config(
            bacnet={"foreign_device": {"address": "127.0.0.1", "port": bbmd_port, "ttl_minutes": 5}}
        )
        await start_bridge(config)
        data, bridge_addr = await asyncio.wait_for(received.get(), 5)
        # BVLC Register-Foreign-Device with the TTL in seconds.
        assert data == bytes([0x81, 0x05, 0x00, 0x06]) + (5 * 60).to_bytes(2, "big")
        assert bridge_addr == ("127.0.0.1", config.bacnet.port)
        transport.sendto(bytes([0x81, 0x00, 0x00, 0x06, 0x00, 0x00]), bridge_addr)  # Result OK
        # A Who-Is from a BMS (on loopback too), forwarded by the BBMD (Forwarded-NPDU).
        origin = bytes([127, 0, 0, 1]) + bms_port.to_bytes(2, "big")
        npdu = bytes([0x01, 0x00, 0x10, 0x08])
        forwarded = bytes([0x81, 0x04, 0x00, 4 + 6 + len(npdu)]) + origin + npdu
        await asyncio.sleep(0.05)
        transport.sendto(forwarded, bridge_addr)
        answer, source = await asyncio.wait_for(received.get(), 5)
        # The I-Am goes straight to the BMS (Original-Unicast-NPDU) with the device identifier.
        assert source == bridge_addr
        assert answer[:2] == bytes([0x81, 0x0A])
        device_id = (8 << 22 | config.bacnet.device_instance).to_bytes(4, "big")
        assert device_id in answer
    finally:
        transport.close()
        bms.close()

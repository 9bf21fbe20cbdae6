"""MBAP framing, function codes and every exception code of section 6.3."""

from __future__ import annotations

import struct

import pytest

from acurev_simulator import Simulator

from .raw_modbus import (
    HOST,
    RawClient,
    ascii_of,
    f32,
    frame,
    read_pdu,
    write_coil_pdu,
    write_registers_pdu,
)

pytestmark = pytest.mark.protocol


async def test_mbap_header_is_echoed(client: RawClient) -> None:
    await client.send(frame(0xBEEF, 1, read_pdu(3, 0x2000, 2)))
    reply = await client.receive()
    assert (reply.tid, reply.pid, reply.unit) == (0xBEEF, 0, 1)
    # length = unit id + function + byte count + 4 data bytes
    assert reply.length == 7
    assert reply.pdu[:2] == bytes([3, 4])
    assert f32(list(struct.unpack(">HH", reply.pdu[2:]))) == pytest.approx(60.0)


async def test_pipelined_requests_are_answered_in_order(client: RawClient) -> None:
    await client.send(b"".join(frame(tid, 1, read_pdu(3, 0x1008, 1)) for tid in (7, 8, 9)))
    replies = [await client.receive() for _ in range(3)]
    assert [r.tid for r in replies] == [7, 8, 9]
    assert all(r.pdu == bytes([3, 2, 0x07, 0xE4]) for r in replies)  # 2020


async def test_frame_with_other_protocol_id_is_discarded(client: RawClient) -> None:
    request = read_pdu(3, 0x1008, 1)
    await client.send(frame(1, 1, request, pid=5) + frame(2, 1, request))
    reply = await client.receive()
    assert reply.tid == 2


async def test_other_unit_id_gets_gateway_exception(sim: Simulator, client: RawClient) -> None:
    assert await client.exception_of(read_pdu(3, 0x2000, 2), unit=2) == 0x0B
    assert await client.exception_of(read_pdu(3, 0x2000, 2), unit=0) == 0x0B
    # The unit id is the modbus_address register: change it over Modbus.
    await client.write_registers(0x0801, [5])
    assert sim.meter.unit_id == 5
    assert await client.exception_of(read_pdu(3, 0x1008, 1), unit=1) == 0x0B
    client.unit = 5
    assert await client.read_registers(0x0801, 1) == [5]


@pytest.mark.parametrize("function", [0x04, 0x06, 0x0F, 0x17, 0x2B])
async def test_unsupported_function_is_exception_01(client: RawClient, function: int) -> None:
    assert await client.exception_of(struct.pack(">BHH", function, 0x2000, 1)) == 0x01


@pytest.mark.parametrize(
    "pdu",
    [
        read_pdu(3, 0x0000, 1),  # below every holding block
        read_pdu(3, 0x0936, 1),  # just after user names (0x0900 + 54)
        read_pdu(3, 0x0930, 10),  # starts mapped, runs into the gap
        read_pdu(3, 0x4048, 1),  # after the 0x4000 alias
        read_pdu(3, 0x3B7F, 1),  # after the log window
        read_pdu(1, 8, 1),  # relay 9
        read_pdu(1, 7, 2),  # relays 8..9
        read_pdu(2, 8, 1),  # DI 9
        write_coil_pdu(8, 0xFF00),  # relay 9
        write_registers_pdu(0x0936, [1]),
        write_registers_pdu(0x2000, [0, 0]),  # read-only frequency
        write_registers_pdu(0x0882, [9]),  # read-only installed_channels
        write_registers_pdu(0x0880, [1]),  # UNKNOWN row (our old wiring address)
        write_registers_pdu(0x0813, [0]),  # reserved register
    ],
)
async def test_illegal_address_is_exception_02(client: RawClient, pdu: bytes) -> None:
    assert await client.exception_of(pdu) == 0x02


@pytest.mark.parametrize(
    "pdu",
    [
        read_pdu(3, 0x2000, 0),
        read_pdu(3, 0x2000, 126),
        read_pdu(1, 0, 0),
        read_pdu(2, 0, 2001),
        write_registers_pdu(0x1302, [0] * 124),
        write_registers_pdu(0x080B, [15, 1], byte_count=2),  # byte count != 2 x quantity
        write_registers_pdu(0x080B, [15], quantity=2, byte_count=4),  # fewer bytes than claimed
        write_registers_pdu(0x080B, [], quantity=0, byte_count=0),
        write_coil_pdu(1, 0x1234),
        write_coil_pdu(1, 0x00FF),
        write_registers_pdu(0x2500, [1]),  # high half of an energy dword
        write_registers_pdu(0x2501, [1]),  # low half
        write_registers_pdu(0x2501, [1, 2]),  # straddles two dwords
        write_registers_pdu(0x1054, [2026, 1, 1]),  # half of the 6-register clock
        write_registers_pdu(0x1213, [0]),  # half of alarm channel 1's set-point
        write_registers_pdu(0x0900, [0x4142]),  # 1 of the 3 registers of a user name
        write_registers_pdu(0x1031, [1]),  # command value other than 0x000A
        write_registers_pdu(0x1039, [0xFF00]),
        write_registers_pdu(0x1035, [0x0100]),  # DI bitmask beyond DI8
        write_registers_pdu(0x080F, [29]),  # billing day 1-28
        write_registers_pdu(0x080B, [31]),  # demand interval 1-30
        write_registers_pdu(0x0888, [3]),  # wiring code 3 (high-leg delta) is 2100-only
        write_registers_pdu(0x088A, [4]),  # CT primary of channel 2: 5-50000 A
        write_registers_pdu(0x0887, [401]),  # rated voltage 10-400 V
        write_registers_pdu(0x080D, [5]),  # CT type: 120 or 333
        write_registers_pdu(0x1054, [2026, 2, 30, 0, 0, 0]),  # no 30 February
    ],
)
async def test_illegal_value_is_exception_03(client: RawClient, pdu: bytes) -> None:
    assert await client.exception_of(pdu) == 0x03


async def test_refused_frame_changes_nothing(sim: Simulator, client: RawClient) -> None:
    """billing_day (0x080F) valid, billing_hour (0x0810) invalid: neither is applied."""
    assert await client.exception_of(write_registers_pdu(0x080F, [5, 24])) == 0x03
    assert await client.read_registers(0x080F, 2) == [1, 0]


async def test_relay_in_alarm_mode_is_exception_04(sim: Simulator, client: RawClient) -> None:
    # Default relay_mode_bitmap 0xC0: relays 7 and 8 follow alarms.
    assert await client.read_registers(0x1103, 1) == [0xC0]
    before = sim.meter.relays
    assert await client.exception_of(write_coil_pdu(6, 0xFF00)) == 0x04
    assert sim.meter.relays == before


async def test_largest_read_and_write(client: RawClient) -> None:
    regs = await client.read_registers(0x2100, 125)  # crosses channel records
    assert len(regs) == 125
    values = list(range(1, 118)) + [0x0202] * 6  # register list + 6 descriptor registers
    await client.write_registers(0x1302, values)  # 123 registers, two blocks
    assert await client.read_registers(0x1302, 123) == values


async def test_read_across_reserved_rows(client: RawClient) -> None:
    # 0x0813-0x083F is reserved: it reads 0 and a read may cross it.
    regs = await client.read_registers(0x0810, 0x0842 - 0x0810)
    assert regs[3:0x30] == [0] * (0x30 - 3)


async def test_seed_ct_frame_two_registers_at_0889(sim: Simulator, client: RawClient) -> None:
    """The seed's FC16 example writes 2 registers at 0x0889: CT primaries of channels 1 and 2.

    Vendor map (S10): one CT primary per channel, channel n at 0x0889 + (n-1).
    """
    await client.write_registers(0x0889, [500, 5])
    assert (sim.meter.ct_primary(1), sim.meter.ct_primary(2)) == (500, 5)
    await client.write_registers(0x0889, [400])  # a 1-register write works as well
    assert sim.meter.ct_primary(1) == 400
    await client.write_registers(0x0889 + 17, [250])
    assert sim.meter.ct_primary(18) == 250
    assert await client.read_registers(0x0889, 18) == [
        sim.meter.ct_primary(n) for n in range(1, 19)
    ]


async def test_device_information(sim: Simulator, client: RawClient) -> None:
    regs = await client.read_registers(0x1000, 16)
    assert ascii_of(regs[:8]) == "AR2020-00001234"
    assert regs[8:12] == [2020, 211, 100, 2]
    hours = (regs[12] << 16 | regs[13]) / 100
    assert hours == pytest.approx(sim.meter.run_time_hours, abs=0.01)
    assert 2000 <= hours <= 20000
    assert await client.read_registers(0x0888, 1) == [1]  # vendor code 1 = 3LN
    assert await client.read_registers(0x080D, 1) == [120]  # vendor CT type code (not 333 mV)
    assert await client.read_registers(0x0882, 1) == [18]  # installed channels (designed)
    assert await client.read_registers(0x1010, 3) == [0b11, 1, 2]  # EM1+EM2, display, WEB


async def test_coils_and_inputs_read_as_bits(sim: Simulator, client: RawClient) -> None:
    assert await client.read_bits(1, 0, 8) == list(sim.meter.relays)
    assert await client.read_bits(2, 0, 8) == list(sim.meter.digital_inputs)
    assert await client.read_bits(2, 2, 1) == [sim.meter.digital_inputs[2]]


# Writable setting blocks (register-map.md section 6.2): start, registers.
WRITABLE_SETTINGS = [
    (0x0800, 4),
    (0x0805, 3),
    (0x080A, 4),
    (0x080F, 4),
    (0x0835, 2),
    (0x0840, 36),
    (0x0887, 20),
    (0x0900, 54),
    (0x1102, 10),
    (0x1120, 16),
    (0x1200, 1),
    (0x1210, 128),
    (0x1300, 0xB9),
    (0x1400, 7),
    (0x1410, 42),
    (0x1440, 336),
    (0x1590, 90),
    (0x3B00, 1),
    (0x3B02, 2),
]


async def test_every_setting_accepts_its_own_value_back(sim: Simulator, client: RawClient) -> None:
    """Factory settings are valid settings: reading and writing them back changes nothing."""
    for start, count in WRITABLE_SETTINGS:
        before = await client.read_many(start, count)
        offset = 0
        while offset < count:
            n = min(120, count - offset)  # 120: whole 8-register alarm channels
            await client.write_registers(start + offset, before[offset : offset + n])
            offset += n
        assert await client.read_many(start, count) == before, hex(start)


async def test_register_image_covers_the_map(sim: Simulator, client: RawClient) -> None:
    image = sim.meter.register_image()
    assert min(image) == 0x0800
    assert max(image) == 0x4047
    for start, count in ((0x1000, 16), (0x2000, 66), (0x2500, 56), (0x2D00, 96)):
        assert [image[a] for a in range(start, start + count)] == await client.read_many(
            start, count
        )
    assert 0x0936 not in image


async def test_a_2100_takes_its_wiring_types_on_the_wire() -> None:
    """The 2100 accepts 0x0888 = 4 (2LL) over FC16; its two-input users become nine."""
    async with Simulator(host=HOST, port=0, frozen=True, family="2100", wiring="3LN") as s:
        c = await RawClient.connect(s.port)
        try:
            assert s.meter.users() == (1, 2, 3, 4, 5, 6)
            await c.write_registers(0x0888, [4])
            assert await c.read_registers(0x0888, 1) == [4]
            assert s.meter.users() == tuple(range(1, 10))
            # user 9's record at 0x21D8 + 10 * 8 carries its inputs' power (kW float)
            regs = await c.read_registers(0x21D8 + 80, 2)
            power = struct.unpack(">f", struct.pack(">HH", *regs))[0]
            truth = s.meter.channel(9).active_power + s.meter.channel(18).active_power
            assert power == pytest.approx(truth, rel=1e-6)
            assert await c.exception_of(write_registers_pdu(0x0888, [6])) == 0x03
        finally:
            await c.close()

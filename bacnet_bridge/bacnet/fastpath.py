"""ReadProperty and ReadPropertyMultiple of the bridge's points without bacpypes3's object model.

Profiling showed a ReadPropertyMultiple of 80 properties spending most of its 25 ms in
bacpypes3 building, casting and encoding one object per value (``inspect.getattr_static`` per
property alone took a tenth). Nearly all BMS traffic is the same few reads of the point
objects: Present_Value, Status_Flags, Reliability, Units, Out_Of_Service, Event_State. This
module answers exactly those, from the objects' current attributes, with the response bytes
written directly.

It is an accelerator, not a second server: a request it does not fully understand (another
service, a segmented request, an NPDU with routing information, an array index, a property or
object outside the list, an answer longer than the client accepts) returns None and goes to
bacpypes3 unchanged, which also produces every error and reject. The answers are the same
bytes bacpypes3 sends (tests/bridge/test_bacnet_fastpath.py compares them).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from bacpypes3.basetypes import EventState, Reliability

# Object type codes (clause 21) of the objects this path serves.
ANALOG_INPUT, BINARY_INPUT, BINARY_OUTPUT = 0, 3, 4
READ_PROPERTY, READ_PROPERTY_MULTIPLE = 12, 14
# Property identifiers served here.
EVENT_STATE, OUT_OF_SERVICE, PRESENT_VALUE, RELIABILITY, STATUS_FLAGS, UNITS = (
    36,
    81,
    85,
    103,
    111,
    117,
)
# Max-APDU-length-accepted codes (clause 20.1.2.5).
MAX_APDU = {0: 50, 1: 128, 2: 206, 3: 480, 4: 1024, 5: 1476}
NO_FAULT = int(Reliability.noFaultDetected)
NORMAL = int(EventState.normal)


class _Decline(Exception):
    """Not for this path: bacpypes3 answers."""


def _unsigned(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")


def _app(tag: int, body: bytes) -> bytes:
    if len(body) > 4:
        raise _Decline
    return bytes([(tag << 4) | len(body)]) + body


def _context(tag: int, body: bytes) -> bytes:
    if len(body) > 4:
        raise _Decline
    return bytes([(tag << 4) | 0x08 | len(body)]) + body


def _enumerated(n: int) -> bytes:
    return _app(9, _unsigned(n))


def _encode_property(obj: Any, type_code: int, prop: int) -> bytes:
    """The application-tagged value of ``prop`` (raises _Decline for anything else)."""
    if prop == PRESENT_VALUE:
        value = obj.presentValue
        if type_code == ANALOG_INPUT:
            return b"\x44" + struct.pack(">f", float(value))
        return _enumerated(int(value))
    if prop == STATUS_FLAGS:
        bits = 0
        event_state = obj.eventState
        reliability = obj.reliability
        if event_state is not None and int(event_state) != NORMAL:
            bits |= 0x80
        if reliability is not None and int(reliability) != NO_FAULT:
            bits |= 0x40
        if obj.outOfService == 1:
            bits |= 0x10
        return bytes([0x82, 0x04, bits])
    if prop == RELIABILITY:
        return _enumerated(int(obj.reliability))
    if prop == UNITS and type_code == ANALOG_INPUT:
        return _enumerated(int(obj.units))
    if prop == OUT_OF_SERVICE:
        return b"\x11" if obj.outOfService else b"\x10"
    if prop == EVENT_STATE:
        return _enumerated(int(obj.eventState))
    raise _Decline


def _read_tag(data: bytes, pos: int) -> tuple[int, bool, int, int]:
    """(tag number, context?, start of the data, its length) of a non-extended tag."""
    byte = data[pos]
    number, context, length = byte >> 4, bool(byte & 0x08), byte & 0x07
    if number == 0x0F or length > 4:
        raise _Decline  # extended tag number or length, or an opening/closing tag
    return number, context, pos + 1, length


def _object_id(data: bytes, pos: int) -> tuple[int, int, int]:
    number, context, start, length = _read_tag(data, pos)
    if not context or number != 0 or length != 4:
        raise _Decline
    raw = int.from_bytes(data[start : start + 4], "big")
    return raw >> 22, raw & 0x3FFFFF, start + 4


def _property_id(data: bytes, pos: int, tag: int) -> tuple[int, int]:
    number, context, start, length = _read_tag(data, pos)
    if not context or number != tag or not 1 <= length <= 2:
        raise _Decline
    return int.from_bytes(data[start : start + length], "big"), start + length


class FastReader:
    """Answers plain RP/RPM datagrams for the objects ``lookup`` finds."""

    def __init__(self, lookup: Callable[[int, int], Any]) -> None:
        """``lookup(type code, instance)``: the bridge object, or None."""
        self.lookup = lookup
        self.answered = 0

    def answer(self, datagram: bytes) -> bytes | None:
        """The complete BVLL datagram to send back, or None for bacpypes3."""
        try:
            return self._answer(datagram)
        except (_Decline, IndexError, ValueError, TypeError, AttributeError):
            return None

    def _answer(self, data: bytes) -> bytes | None:
        # BVLC Original-Unicast-NPDU; NPDU version 1, expecting a reply, no addresses.
        if len(data) < 10 or data[0] != 0x81 or data[1] != 0x0A or data[4] != 0x01:
            return None
        if int.from_bytes(data[2:4], "big") != len(data) or data[5] & 0xFB != 0:
            return None
        apdu = 6
        # Confirmed request, not segmented (segmented-response-accepted is fine).
        if data[apdu] & 0xF8 != 0x00:
            return None
        max_apdu = MAX_APDU.get(data[apdu + 1] & 0x0F)
        if max_apdu is None:
            return None
        invoke, service = data[apdu + 2], data[apdu + 3]
        pos = apdu + 4
        if service == READ_PROPERTY:
            body = self._read_property(data, pos)
        elif service == READ_PROPERTY_MULTIPLE:
            body = self._read_property_multiple(data, pos)
        else:
            return None
        ack = bytes([0x30, invoke, service]) + body
        if len(ack) > max_apdu:
            return None  # bacpypes3 segments or aborts
        self.answered += 1
        npdu = b"\x01\x00" + ack
        return b"\x81\x0a" + struct.pack(">H", 4 + len(npdu)) + npdu

    def _object(self, type_code: int, instance: int) -> Any:
        if type_code not in (ANALOG_INPUT, BINARY_INPUT, BINARY_OUTPUT):
            raise _Decline
        obj = self.lookup(type_code, instance)
        if obj is None:
            raise _Decline  # unknown-object: bacpypes3's error
        return obj

    def _read_property(self, data: bytes, pos: int) -> bytes:
        type_code, instance, pos = _object_id(data, pos)
        prop, pos = _property_id(data, pos, 1)
        if pos != len(data):
            raise _Decline  # an array index (or trailing bytes)
        obj = self._object(type_code, instance)
        value = _encode_property(obj, type_code, prop)
        return (
            b"\x0c"
            + struct.pack(">I", (type_code << 22) | instance)
            + _context(1, _unsigned(prop))
            + b"\x3e"
            + value
            + b"\x3f"
        )

    def _read_property_multiple(self, data: bytes, pos: int) -> bytes:
        out = bytearray()
        if pos >= len(data):
            raise _Decline
        while pos < len(data):
            type_code, instance, pos = _object_id(data, pos)
            if data[pos] != 0x1E:
                raise _Decline
            pos += 1
            obj = self._object(type_code, instance)
            out += b"\x0c" + struct.pack(">I", (type_code << 22) | instance) + b"\x1e"
            refs = 0
            while data[pos] != 0x1F:
                prop, pos = _property_id(data, pos, 0)
                if pos < len(data) and data[pos] != 0x1F and (data[pos] >> 4) == 1:
                    raise _Decline  # an array index
                out += (
                    _context(2, _unsigned(prop)) + b"\x4e" + _encode_property(obj, type_code, prop)
                )
                out += b"\x4f"
                refs += 1
            if refs == 0:
                raise _Decline
            pos += 1
            out += b"\x1f"
        return bytes(out)

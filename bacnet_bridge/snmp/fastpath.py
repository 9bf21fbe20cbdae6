"""SNMPv2c reads without pysnmp's per-request object model.

Profiling a GETBULK of 50 variables showed three quarters of the agent's time in pyasn1:
building the response PDU object by object (``set_varbinds``) and BER-encoding it again.
For the one request shape that makes up nearly all monitoring traffic - an SNMPv2c GET,
GETNEXT or GETBULK with the configured read community - this module decodes the message
with a small BER reader, answers from the :class:`~bacnet_bridge.snmp.instrum.OidStore`
and writes the response bytes directly, reusing each instance's encoded variable binding
until its value changes.

It is an accelerator, not a second agent: anything else (another version or community, SET,
a message it cannot read completely, SNMPv3) returns None and takes pysnmp's path, which
also keeps the standard counters and refusals. The answers are the ones pysnmp gives for the
same requests (tests/bridge/test_snmp_fastpath.py compares them byte for byte after decoding),
following RFC 3416: noSuchObject / noSuchInstance for GET, endOfMibView at the end of the
view, GETBULK with non-repeaters and max-repetitions, and a GETBULK response cut to fit the
message size instead of tooBig (4.2.3).

The agent's read view is every instance the store holds (the store only holds the view's
subtrees: system, the standard entity MIBs, our enterprise subtree, snmpEngine), so no VACM
check per variable is needed here.
"""

from __future__ import annotations

import hmac
from typing import Any

from pyasn1.codec.ber import encoder  # type: ignore[import-untyped]

from .instrum import OidStore
from .oids import Oid

VERSION_2C = 1
GET, GETNEXT, RESPONSE, GETBULK = 0xA0, 0xA1, 0xA2, 0xA5
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW = b"\x80\x00", b"\x81\x00", b"\x82\x00"
MAX_MESSAGE = 65507  # what one UDP datagram carries (pysnmp's snmpEngineMaxMessageSize)
MAX_VARBINDS = 64  # repeated bindings per GETBULK response (pysnmp's bound, kept identical)


class _Malformed(Exception):
    """Not a message this path answers: pysnmp decides."""


def _length(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 3 or pos + count > len(data):
        raise _Malformed
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def _tlv(data: bytes, pos: int, tag: int | None = None) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the element at ``pos``."""
    if pos >= len(data):
        raise _Malformed
    found = data[pos]
    if tag is not None and found != tag:
        raise _Malformed
    length, start = _length(data, pos + 1)
    end = start + length
    if end > len(data):
        raise _Malformed
    return found, start, end


def _integer(data: bytes, pos: int) -> tuple[int, int]:
    _, start, end = _tlv(data, pos, 0x02)
    if not 0 < end - start <= 5:
        raise _Malformed
    return int.from_bytes(data[start:end], "big", signed=True), end


def _oid(data: bytes, start: int, end: int) -> Oid:
    if start >= end:
        raise _Malformed
    first = data[start]
    arcs = [first // 40, first % 40] if first < 80 else [2, first - 80]
    value = 0
    for byte in data[start + 1 : end]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if data[end - 1] & 0x80:
        raise _Malformed
    return tuple(arcs)


def _encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _wrap(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _encode_length(len(body)) + body


def _encode_oid(oid: Oid) -> bytes:
    body = bytearray([oid[0] * 40 + oid[1]])
    for arc in oid[2:]:
        rest = arc
        chunk = [rest & 0x7F]
        rest >>= 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(chunk))
    return _wrap(0x06, bytes(body))


class FastResponder:
    """Answers SNMPv2c GET/GETNEXT/GETBULK of the read community from an :class:`OidStore`."""

    def __init__(self, store: OidStore, community: str | None) -> None:
        """``community``: the v2c read community (None: v2c is off, nothing is answered)."""
        self.store = store
        self.community = community.encode() if community else None
        self._varbinds: dict[Oid, tuple[Any, bytes]] = {}  # value object -> encoded varbind
        self._oids: dict[Oid, bytes] = {}
        self.answered = 0

    def answer(self, data: bytes) -> bytes | None:
        """The response to ``data``, or None when pysnmp should handle it."""
        if self.community is None:
            return None
        try:
            return self._answer(data)
        except (_Malformed, IndexError, ValueError):
            return None

    def _answer(self, data: bytes) -> bytes | None:
        assert self.community is not None
        _, pos, end = _tlv(data, 0, 0x30)
        if end != len(data):
            raise _Malformed
        version, pos = _integer(data, pos)
        if version != VERSION_2C:
            return None
        _, c_start, pos = _tlv(data, pos, 0x04)
        if not hmac.compare_digest(data[c_start:pos], self.community):
            return None  # pysnmp counts snmpInBadCommunityNames and stays silent
        pdu_type, pos, pdu_end = _tlv(data, pos)
        if pdu_type not in (GET, GETNEXT, GETBULK) or pdu_end != end:
            return None
        req_start = pos
        _request_id, pos = _integer(data, pos)
        request_id_tlv = data[req_start:pos]
        first, pos = _integer(data, pos)
        second, pos = _integer(data, pos)
        _, pos, list_end = _tlv(data, pos, 0x30)
        if list_end != pdu_end:
            raise _Malformed
        names: list[Oid] = []
        while pos < list_end:
            _, vb_start, vb_end = _tlv(data, pos, 0x30)
            _, o_start, o_end = _tlv(data, vb_start, 0x06)
            _tlv(data, o_end)  # a value must follow (NULL in a request)
            names.append(_oid(data, o_start, o_end))
            pos = vb_end
        if pdu_type == GET:
            if first or second:
                return None
            varbinds = [self._get(name) for name in names]
        elif pdu_type == GETNEXT:
            if first or second:
                return None
            varbinds = [self._next(name)[1] for name in names]
        else:
            if first < 0 or second < 0:
                return None  # outside the PDU's INTEGER (0..max-bindings): pysnmp refuses it
            varbinds = self._bulk(names, first, second)
        return self._response(request_id_tlv, varbinds, cut=pdu_type == GETBULK)

    def _response(self, request_id_tlv: bytes, varbinds: list[bytes], cut: bool) -> bytes | None:
        assert self.community is not None
        head = b"\x02\x01\x01" + _wrap(0x04, self.community)
        size = len(head) + len(request_id_tlv) + 6 + 16  # error fields, tags and lengths
        kept: list[bytes] = []
        for vb in varbinds:
            size += len(vb)
            if size > MAX_MESSAGE:
                if not cut:
                    return None  # GET/GETNEXT: tooBig, pysnmp's answer
                break  # RFC 3416 4.2.3: a GETBULK response is cut, not tooBig
            kept.append(vb)
        pdu = _wrap(
            RESPONSE, request_id_tlv + b"\x02\x01\x00\x02\x01\x00" + _wrap(0x30, b"".join(kept))
        )
        self.answered += 1
        return _wrap(0x30, head + pdu)

    def _encoded_oid(self, oid: Oid) -> bytes:
        encoded = self._oids.get(oid)
        if encoded is None:
            encoded = self._oids[oid] = _encode_oid(oid)
        return encoded

    def _varbind(self, oid: Oid, value: Any) -> bytes:
        cached = self._varbinds.get(oid)
        if cached is not None and cached[0] is value:
            return cached[1]
        encoded = _wrap(0x30, self._encoded_oid(oid) + bytes(encoder.encode(value)))
        if len(self._varbinds) > 100_000:
            self._varbinds.clear()
        self._varbinds[oid] = (value, encoded)
        return encoded

    def _get(self, oid: Oid) -> bytes:
        value = self.store.get(oid)
        if value is not None:
            return self._varbind(oid, value)
        exception = NO_SUCH_INSTANCE if self.store.is_object(oid) else NO_SUCH_OBJECT
        return _wrap(0x30, self._encoded_oid(oid) + exception)

    def _next(self, oid: Oid) -> tuple[Oid | None, bytes]:
        item = self.store.at(self.store.next_from(oid))
        if item is None:
            return None, _wrap(0x30, self._encoded_oid(oid) + END_OF_MIB_VIEW)
        found, _name, value = item
        return found, self._varbind(found, value)

    def _bulk(self, names: list[Oid], non_repeaters: int, max_repetitions: int) -> list[bytes]:
        # As pysnmp's BulkCommandResponder: N, M, R of RFC 3416 4.2.3, at most MAX_VARBINDS
        # repeated bindings, and a variable past the end repeats endOfMibView under its name.
        n = min(max(non_repeaters, 0), len(names))
        r = len(names) - n
        m = max(max_repetitions, 0)
        if r:
            m = min(m, MAX_VARBINDS // r)
        out = [self._next(name)[1] for name in names[:n]]
        current = names[n:]
        for _ in range(m if r else 0):
            step: list[Oid] = []
            for oid in current:
                found, vb = self._next(oid)
                out.append(vb)
                step.append(oid if found is None else found)
            current = step
        return out

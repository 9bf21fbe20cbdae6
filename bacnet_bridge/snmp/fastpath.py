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

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
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
        pdu = self.respond_pdu(data, pos, end, MAX_MESSAGE - 16 - len(self.community))
        if pdu is None:
            return None
        self.answered += 1
        return _wrap(0x30, b"\x02\x01\x01" + _wrap(0x04, self.community) + pdu)

    def respond_pdu(self, data: bytes, pos: int, end: int, room: int) -> bytes | None:
        """The Response-PDU (encoded) to the request PDU at ``data[pos:end]``, or None.

        ``room``: the octets the PDU may take in the response message.
        """
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
        size = len(request_id_tlv) + 6 + 8  # error fields, tags and lengths
        kept: list[bytes] = []
        for vb in varbinds:
            size += len(vb)
            if size > room:
                if pdu_type != GETBULK:
                    return None  # GET/GETNEXT: tooBig, pysnmp's answer
                break  # RFC 3416 4.2.3: a GETBULK response is cut, not tooBig
            kept.append(vb)
        return _wrap(
            RESPONSE, request_id_tlv + b"\x02\x01\x00\x02\x01\x00" + _wrap(0x30, b"".join(kept))
        )

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


# --- SNMPv3 with the User-based Security Model, authPriv (HMAC-SHA-96, AES-128-CFB) -----------

USM = 3
FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE = 0x01, 0x02, 0x04
TIME_WINDOW = 150  # s (RFC 3414 3.2.7)
DIGEST_LENGTH = 12


def localized_sha_key(passphrase: str, engine_id: bytes) -> bytes:
    """RFC 3414 A.2.2: SHA-1 of 1,048,576 octets of the repeated passphrase, localized.

    One hashlib call over the whole megabyte (about a millisecond) instead of pysnmp's
    16,384-step Python loop, which blocked the event loop for a third of a second per key.
    """
    octets = passphrase.encode()
    ku = hashlib.sha1((octets * (1048576 // len(octets) + 1))[:1048576]).digest()
    return hashlib.sha1(ku + engine_id + ku).digest()


@dataclass(frozen=True, slots=True)
class UsmUser:
    """A user's keys, localized to this engine (RFC 3414 A.2)."""

    auth_key: bytes  # HMAC-SHA-1 key
    priv_key: bytes  # AES-128 key (the first 16 octets of the localized privacy key)


class FastUsm:
    """SNMPv3 authPriv reads for users of this engine, answered like :class:`FastResponder`.

    Only the ordinary case: a request to this engine ID, from a configured user, with
    authentication and privacy, in the time window, for the default context, whose digest is
    right. Anything else (discovery, a Report-worthy error, noAuthNoPriv, another context)
    returns None and pysnmp answers it, with the Report PDUs and usmStats counters the
    standard asks for. The response is built as pysnmp builds it: this engine's boots and
    time, a fresh 64-bit salt, flags auth+priv, and the digest over the whole message.
    """

    def __init__(
        self,
        pdus: FastResponder,
        engine_id: bytes,
        boots: int,
        engine_time: Callable[[], int],
        users: dict[bytes, UsmUser],
        cipher: Callable[[bytes, bytes], Any],
    ) -> None:
        """``cipher(key, iv)``: an AES-CFB128 cipher object (cryptography's ``Cipher``)."""
        self.pdus = pdus
        self.engine_id = engine_id
        self.boots = boots
        self.engine_time = engine_time
        self.users = users
        self.cipher = cipher
        self.salt = int.from_bytes(os.urandom(8), "big")
        self.answered = 0

    def answer(self, data: bytes) -> bytes | None:
        """The response to ``data``, or None when pysnmp should handle it."""
        try:
            return self._answer(data)
        except (_Malformed, IndexError, ValueError):
            return None

    def _answer(self, data: bytes) -> bytes | None:
        _, pos, end = _tlv(data, 0, 0x30)
        if end != len(data):
            raise _Malformed
        version, pos = _integer(data, pos)
        if version != 3:
            return None
        _, g_pos, g_end = _tlv(data, pos, 0x30)
        msg_id, g_pos = _integer(data, g_pos)
        max_size, g_pos = _integer(data, g_pos)
        _, f_start, f_end = _tlv(data, g_pos, 0x04)
        if f_end - f_start != 1:
            return None
        flags = data[f_start]
        model, g_pos = _integer(data, f_end)
        if model != USM or g_pos != g_end or flags & 0x03 != FLAG_AUTH | FLAG_PRIV:
            return None
        _, sp_start, sp_end = _tlv(data, g_end, 0x04)
        _, pos, params_end = _tlv(data, sp_start, 0x30)
        if params_end != sp_end:
            return None
        _, e_start, e_end = _tlv(data, pos, 0x04)
        boots, pos = _integer(data, e_end)
        when, pos = _integer(data, pos)
        _, u_start, u_end = _tlv(data, pos, 0x04)
        _, a_start, a_end = _tlv(data, u_end, 0x04)
        _, p_start, p_end = _tlv(data, a_end, 0x04)
        if p_end != sp_end or a_end - a_start != DIGEST_LENGTH or p_end - p_start != 8:
            return None
        if data[e_start:e_end] != self.engine_id:
            return None  # discovery or another engine: pysnmp reports unknownEngineID
        user_name = data[u_start:u_end]
        user = self.users.get(user_name)
        if user is None:
            return None
        if boots != self.boots or abs(when - self.engine_time()) > TIME_WINDOW:
            return None  # notInTimeWindow: pysnmp reports it
        signed = data[:a_start] + bytes(DIGEST_LENGTH) + data[a_end:]
        digest = hmac.new(user.auth_key, signed, hashlib.sha1).digest()[:DIGEST_LENGTH]
        if not hmac.compare_digest(digest, data[a_start:a_end]):
            return None  # wrongDigests: pysnmp counts and reports it
        _, c_start, c_end = _tlv(data, sp_end, 0x04)
        if c_end != end:
            return None
        iv = boots.to_bytes(4, "big") + when.to_bytes(4, "big") + data[p_start:p_end]
        decryptor = self.cipher(user.priv_key, iv).decryptor()
        scoped = decryptor.update(data[c_start:c_end]) + decryptor.finalize()
        # Read the ScopedPDU's SEQUENCE and ignore anything after it (padding).
        _, s_pos, s_end = _tlv(scoped, 0, 0x30)
        _, ce_start, ce_end = _tlv(scoped, s_pos, 0x04)
        _, cn_start, cn_end = _tlv(scoped, ce_end, 0x04)
        if scoped[ce_start:ce_end] != self.engine_id or cn_start != cn_end:
            return None  # another context engine or a named context
        room = min(max_size, MAX_MESSAGE) - 120 - len(self.engine_id) * 2 - len(user_name)
        pdu = self.pdus.respond_pdu(scoped, cn_end, s_end, room)
        if pdu is None:
            return None
        return self._response(msg_id, user_name, user, pdu)

    def _response(self, msg_id: int, user_name: bytes, user: UsmUser, pdu: bytes) -> bytes:
        boots, now = self.boots, self.engine_time()
        self.salt = (self.salt + 1) & 0xFFFFFFFFFFFFFFFF
        salt = self.salt.to_bytes(8, "big")
        scoped = _wrap(0x30, _wrap(0x04, self.engine_id) + _wrap(0x04, b"") + pdu)
        encryptor = self.cipher(
            user.priv_key, boots.to_bytes(4, "big") + now.to_bytes(4, "big") + salt
        ).encryptor()
        encrypted = encryptor.update(scoped) + encryptor.finalize()
        global_data = _wrap(
            0x30,
            _integer_tlv(msg_id)
            + _integer_tlv(MAX_MESSAGE)
            + _wrap(0x04, bytes([FLAG_AUTH | FLAG_PRIV]))
            + _integer_tlv(USM),
        )
        params = _wrap(
            0x30,
            _wrap(0x04, self.engine_id)
            + _integer_tlv(boots)
            + _integer_tlv(now)
            + _wrap(0x04, user_name)
            + _wrap(0x04, bytes(DIGEST_LENGTH))
            + _wrap(0x04, salt),
        )
        message = bytearray(
            _wrap(
                0x30, b"\x02\x01\x03" + global_data + _wrap(0x04, params) + _wrap(0x04, encrypted)
            )
        )
        digest = hmac.new(user.auth_key, bytes(message), hashlib.sha1).digest()[:DIGEST_LENGTH]
        # The zeroed digest field: the only run of 12 zero octets after the user name.
        marker = _wrap(0x04, user_name) + b"\x04\x0c" + bytes(DIGEST_LENGTH)
        at = bytes(message).index(marker) + len(marker) - DIGEST_LENGTH
        message[at : at + DIGEST_LENGTH] = digest
        self.answered += 1
        return bytes(message)


def _integer_tlv(n: int) -> bytes:
    return _wrap(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True))

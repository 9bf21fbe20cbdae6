"""The SNMP agent: a pysnmp 7 engine in the bridge's asyncio loop.

* Built inside the running loop (pitfall S2: a transport made outside it binds to another
  loop and every request times out).
* Engine ID and boots persisted in the state directory (S8, :mod:`.state`).
* Access: optional SNMPv2c read-only community; SNMPv3 users with SHA-1 + AES-128 at
  authPriv only (S11: no AES-192/256). Every principal reads the system group, the
  enterprise subtree and the snmpEngine group (S6); nothing is writable.
* The default context is served by :class:`.instrum.FlatInstrumentation` (S7, §4.3).
* Every ``acurev_alarm`` event becomes an acurevAlarmNotification trap or inform to each
  configured receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import time
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config as snmp_config
from pysnmp.entity import engine as snmp_engine
from pysnmp.entity.rfc3413 import cmdrsp, context, ntforg
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc2576 import SnmpV1MessageProcessingModel
from pysnmp.proto.secmod.rfc3826.priv import aes
from pysnmp.smi import error as smi_error

import bacnet_bridge
from pyacurev.keys import ROLE_LIMITS, Role

from ..config import Config, SnmpConfig, TrapReceiver
from ..garbage import GarbageCounter
from ..model import MeterEvent, Point, PointTable
from . import entity, oids
from .fastpath import FastResponder, FastUsm, UsmUser, localized_sha_key
from .instrum import Dynamic, FlatInstrumentation, Value
from .mapping import MibView, display
from .oids import Oid
from .state import EngineState, MeterIndexMap, next_engine_state

_LOGGER = logging.getLogger(__name__)

ALARM_EVENT = "acurev_alarm"
READ_VIEW = "acurev-read"
NOTIFY_VIEW = "acurev-notify"
V2C_GROUP = "acurev-v2c-ro"
V3_GROUP = "acurev-v3"
TRAP_GROUP = "acurev-trap"
COMMUNITY_INDEX = "acurev-ro"
SYS_SERVICES = 72  # applications (64) + end-to-end (8)
INFORM_TIMEOUT_CS = 300  # 3 s, in hundredths of a second (pysnmp's unit)
INFORM_RETRIES = 3


def bridge_version() -> str:
    """The bridge's version (``bacnet_bridge.__version__``, equal to pyproject's)."""
    return str(getattr(bacnet_bridge, "__version__", "unknown"))


class _BulkResponder(cmdrsp.BulkCommandResponder):  # type: ignore[misc]
    """GETBULK that answers an empty request (max-repetitions 0, no non-repeaters).

    pysnmp raises a bare ``SmiError`` for it, then fails with a TypeError while mapping that
    error, so the manager gets no answer and the loop logs a traceback per request. RFC 3416
    4.2.3 asks for an empty variable-binding list.
    """

    def handle_management_operation(
        self, snmpEngine: Any, stateReference: Any, contextName: Any, PDU: Any
    ) -> None:
        try:
            super().handle_management_operation(snmpEngine, stateReference, contextName, PDU)
        except smi_error.SmiError as err:
            if type(err) is not smi_error.SmiError:
                raise
            self.send_varbinds(snmpEngine, stateReference, 0, 0, [])
            self.release_state_information(stateReference)


class SnmpStartError(RuntimeError):
    """The agent could not start (port in use, no crypto, ...)."""


def ensure_aes() -> None:
    """Make pysnmp's AES privacy work, or fail loudly (pitfall S1).

    pysnmp 7.1 imports ``CFB`` from ``cryptography.hazmat.decrepit.ciphers.modes``, which
    exists only from cryptography 47 on; Home Assistant 2025.4 pins cryptography 44, where
    CFB is still ``cryptography.hazmat.primitives.ciphers.modes.CFB``. pysnmp then sets
    ``PysnmpCryptoError`` and every authPriv request fails with "Decryption error". Supply
    the same names from their older place (pysnmp looks them up at call time).
    """
    if not aes.PysnmpCryptoError:
        return
    try:
        from cryptography.hazmat.backends import default_backend
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError as err:
        raise SnmpStartError(
            "SNMPv3 privacy needs the 'cryptography' package (pip install cryptography)"
        ) from err
    aes.default_backend = default_backend
    aes.Cipher = Cipher
    aes.algorithms = algorithms
    aes.CFB = modes.CFB
    aes.PysnmpCryptoError = False


class SnmpAgent:
    """A running agent; :meth:`close` stops it."""

    def __init__(self, config: Config, table: PointTable) -> None:
        """Prepare (nothing is bound until :meth:`start`)."""
        self.config = config
        self.snmp: SnmpConfig = config.snmp
        self.table = table
        self.engine: Any = None
        self.engine_state: EngineState | None = None
        self.view: MibView | None = None
        self.address: tuple[str, int] = (self.snmp.address, self.snmp.port)
        self.alarms_sent = 0
        self.informs_confirmed = 0
        self.notifications_failed = 0
        self._started = time.monotonic()
        self._transport: Any = None
        self._originator: Any = None
        self._responders: list[Any] = []
        self._unsubscribe: list[Any] = []
        self._domain: tuple[int, ...] = udp.DOMAIN_NAME
        self._closed = False
        self.garbage = GarbageCounter(_LOGGER, "SNMP")
        self._fast: FastResponder | None = None
        self._usm: FastUsm | None = None

    # --- start ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Build the engine in the running loop, bind, and start answering."""
        ensure_aes()
        self.engine_state = next_engine_state(self.config.state_dir)
        eng = snmp_engine.SnmpEngine()
        self.engine = eng
        # No SNMPv1: a v1 message is discarded and counted in snmpInBadVersions (RFC 3412
        # 4.2.1.2), instead of pysnmp answering noSuchName for every variable (the community
        # entry is shared by v1 and v2c, the access entry is v2c only).
        eng.message_processing_subsystems.pop(
            SnmpV1MessageProcessingModel.MESSAGE_PROCESSING_MODEL_ID, None
        )
        self._set_engine_identity(eng, self.engine_state)
        sock = self._bind_socket()
        self.address = sock.getsockname()[:2]
        transport_cls = (
            udp6.Udp6AsyncioTransport if sock.family == socket.AF_INET6 else udp.UdpAsyncioTransport
        )
        self._domain = udp6.DOMAIN_NAME if sock.family == socket.AF_INET6 else udp.DOMAIN_NAME
        self._transport = transport_cls().open_server_mode(sock=sock)
        snmp_config.add_transport(eng, self._domain, self._transport)
        self._guard_datagrams(eng)
        lport = getattr(self._transport, "_lport", None)
        if lport is not None:
            await lport  # the datagram endpoint exists once this returns

        self._configure_access(eng)
        indexes = MeterIndexMap(self.config.state_dir)
        self.view = MibView(
            self.table, indexes, *self._static_instances(), uptime=self.uptime_centiseconds
        )
        self._fast = FastResponder(self.view.store, self.snmp.community)
        self._usm = self._fast_usm(eng, self._fast)
        snmp_context = context.SnmpContext(eng)
        snmp_context.unregister_context_name(b"")
        snmp_context.register_context_name(b"", FlatInstrumentation(self.view.store))
        self._responders = [
            cmdrsp.GetCommandResponder(eng, snmp_context),
            cmdrsp.NextCommandResponder(eng, snmp_context),
            _BulkResponder(eng, snmp_context),
            cmdrsp.SetCommandResponder(eng, snmp_context),
        ]
        self._configure_notifications(eng)
        self._unsubscribe = [
            self.table.on_point_change(self._on_point),
            self.table.on_structure_change(self._on_structure),
            self.table.on_event(self._on_event),
        ]
        _LOGGER.info(
            "SNMP agent on udp %s:%d (engine ID %s, boots %d; v2c %s, %d v3 user(s), "
            "%d trap receiver(s)); %d instances",
            self.address[0],
            self.address[1],
            self.engine_state.engine_id.hex(),
            self.engine_state.boots,
            "on" if self.snmp.community else "off",
            len(self.snmp.users),
            len(self.snmp.trap_receivers),
            self.view.instance_count(),
        )

    def _guard_datagrams(self, eng: Any) -> None:
        """Count bad datagrams instead of a traceback for each.

        pysnmp hands each datagram to its dispatcher in a loop callback; a message it cannot
        handle (e.g. a sequence with the wrong inner types) raises there, and asyncio logs
        the traceback. Messages it discards by the book only raise SNMPv2-MIB counters
        (snmpInASNParseErrs, snmpInBadVersions). Both become counts in ``self.garbage``,
        logged once per interval.
        """
        builder = eng.get_mib_builder()
        parse_errs, bad_versions = builder.import_symbols(
            "__SNMPv2-MIB", "snmpInASNParseErrs", "snmpInBadVersions"
        )
        transport = self._transport
        forward = transport._callback_function
        garbage = self.garbage

        def receive(tr: Any, address: Any, datagram: bytes) -> None:
            for fast in self._fast_paths:
                if (response := fast.answer(datagram)) is not None:
                    tr.send_message(response, address)
                    return
            before = int(parse_errs.syntax), int(bad_versions.syntax)
            peer = address[0] if address else None
            try:
                forward(tr, address, datagram)
            except Exception as err:
                garbage.count("undecodable", peer, repr(err))
                return
            if int(parse_errs.syntax) != before[0]:
                garbage.count("unparsable", peer, datagram[:32].hex())
            elif int(bad_versions.syntax) != before[1]:
                garbage.count("bad-version", peer, datagram[:32].hex())

        transport._callback_function = receive

    @property
    def _fast_paths(self) -> list[FastResponder | FastUsm]:
        return [p for p in (self._fast, self._usm) if p is not None]

    def _fast_usm(self, eng: Any, pdus: FastResponder) -> FastUsm | None:
        """The SNMPv3 fast path for the configured users (keys localized once, here)."""
        if not self.snmp.users or self.engine_state is None:
            return None
        engine_id = self.engine_state.engine_id
        users = {
            user.name.encode(): UsmUser(
                localized_sha_key(user.auth_key, engine_id),
                localized_sha_key(user.priv_key, engine_id)[:16],
            )
            for user in self.snmp.users
        }
        (engine_time,) = eng.get_mib_builder().import_symbols(
            "__SNMP-FRAMEWORK-MIB", "snmpEngineTime"
        )

        def cipher(key: bytes, iv: bytes) -> Any:
            return aes.Cipher(aes.algorithms.AES(key), aes.CFB(iv), aes.default_backend())

        return FastUsm(
            pdus,
            engine_id,
            self.engine_state.boots,
            lambda: int(engine_time.syntax.clone()),  # clone() computes the current time
            users,
            cipher,
        )

    def _bind_socket(self) -> socket.socket:
        host = self.snmp.address
        try:
            family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        except ValueError:
            family = socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((host, self.snmp.port))
        except OSError as err:
            sock.close()
            raise SnmpStartError(
                f"snmp: cannot bind UDP {host}:{self.snmp.port}: {err.strerror}"
            ) from err
        return sock

    @staticmethod
    def _set_engine_identity(eng: Any, state: EngineState) -> None:
        """Our persisted engine ID and boots (set before any user or context exists).

        Not passed to ``SnmpEngine(snmpEngineID=...)``: pysnmp would then keep its own boot
        counter under the system temp directory.
        """
        builder = eng.get_mib_builder()
        engine_id, boots = builder.import_symbols(
            "__SNMP-FRAMEWORK-MIB", "snmpEngineID", "snmpEngineBoots"
        )
        engine_id.syntax = engine_id.syntax.clone(state.engine_id)
        boots.syntax = boots.syntax.clone(state.boots)
        eng.snmpEngineID = engine_id.syntax

    def _configure_access(self, eng: Any) -> None:
        snmp_config.add_context(eng, "")
        for view in (READ_VIEW, NOTIFY_VIEW):
            for subtree in (*oids.VIEW_SUBTREES, *entity.SUBTREES):
                snmp_config.add_vacm_view(eng, view, "included", subtree, "")
        # The write view equals the read view on purpose: SET then reaches the
        # instrumentation, which refuses every variable with notWritable (RFC 3416 4.2.5),
        # the answer an NMS understands as "read-only object". No view: authorizationError.
        if self.snmp.community:
            snmp_config.add_v1_system(eng, COMMUNITY_INDEX, self.snmp.community)
            snmp_config.add_vacm_group(eng, V2C_GROUP, 2, COMMUNITY_INDEX)
            snmp_config.add_vacm_access(
                eng, V2C_GROUP, "", 2, "noAuthNoPriv", "exact", READ_VIEW, READ_VIEW, NOTIFY_VIEW
            )
        for user in self.snmp.users:
            snmp_config.add_v3_user(
                eng,
                user.name,
                snmp_config.USM_AUTH_HMAC96_SHA,
                user.auth_key,
                snmp_config.USM_PRIV_CFB128_AES,
                user.priv_key,
            )
            snmp_config.add_vacm_group(eng, V3_GROUP, 3, user.name)
        if self.snmp.users:
            # authPriv only: a request with less security finds no access entry.
            snmp_config.add_vacm_access(
                eng, V3_GROUP, "", 3, "authPriv", "exact", READ_VIEW, READ_VIEW, NOTIFY_VIEW
            )

    def _static_instances(self) -> tuple[dict[Oid, Value | Dynamic], set[Oid]]:
        eng = self.engine
        builder = eng.get_mib_builder()
        (engine_time,) = builder.import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineTime")
        (max_msg,) = builder.import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineMaxMessageSize")
        assert self.engine_state is not None
        state = self.engine_state
        snmp = self.snmp
        static: dict[Oid, Value | Dynamic] = {
            oids.SYS_DESCR: display(
                f"AcuRev bridge {bridge_version()}: Accuenergy AcuRev 2020 meters from "
                "Home Assistant (ACUREV-BRIDGE-MIB)"
            ),
            oids.SYS_OBJECT_ID: v2c.ObjectIdentifier(oids.PRODUCT),
            oids.SYS_UPTIME: lambda: v2c.TimeTicks(self.uptime_centiseconds()),
            oids.SYS_CONTACT: display(str(getattr(snmp, "sys_contact", "") or "")),
            oids.SYS_NAME: display(str(getattr(snmp, "sys_name", "") or socket.gethostname())),
            oids.SYS_LOCATION: display(str(getattr(snmp, "sys_location", "") or "")),
            oids.SYS_SERVICES: v2c.Integer32(SYS_SERVICES),
            oids.BRIDGE_VERSION: display(bridge_version()),
            oids.BRIDGE_HA_CONNECTED: lambda: v2c.Integer32(
                oids.TRUE if self.table.ha_connected else oids.FALSE
            ),
            oids.BRIDGE_METER_COUNT: lambda: v2c.Gauge32(
                len(self.view.meter_index) if self.view else 0
            ),
            oids.BRIDGE_ALARMS_SENT: lambda: v2c.Counter32(self.alarms_sent % 2**32),
            oids.SNMP_ENGINE_ID: v2c.OctetString(state.engine_id),
            oids.SNMP_ENGINE_BOOTS: v2c.Integer32(state.boots),
            # pysnmp's own USM clock (what it puts in reports and v3 traps).
            oids.SNMP_ENGINE_TIME: lambda: v2c.Integer32(int(engine_time.syntax.clone())),
            oids.SNMP_ENGINE_MAX_MSG: v2c.Integer32(int(max_msg.syntax)),
        }
        return static, {oid[:-1] for oid in static}

    def uptime_centiseconds(self) -> int:
        """sysUpTime: hundredths of a second since the agent started."""
        return int((time.monotonic() - self._started) * 100) % 2**32

    # --- notifications --------------------------------------------------------------------
    def _configure_notifications(self, eng: Any) -> None:
        self._originator = ntforg.NotificationOriginator()
        for i, rec in enumerate(self.snmp.trap_receivers):
            params, tag = f"acurev-trap-params-{i}", f"acurev-trap-tag-{i}"
            if rec.version == "v2c":
                community_index = f"acurev-trap-{i}"
                # The transport tag limits this community entry to the receiver's address,
                # and the group below has no read view: it cannot be used to read.
                snmp_config.add_v1_system(eng, community_index, rec.community, transportTag=tag)
                snmp_config.add_vacm_group(eng, TRAP_GROUP, 2, community_index)
                snmp_config.add_target_parameters(eng, params, community_index, "noAuthNoPriv", 1)
            else:
                snmp_config.add_target_parameters(eng, params, rec.user, "authPriv", 3)
            snmp_config.add_target_address(
                eng,
                f"acurev-trap-addr-{i}",
                self._domain,
                self._receiver_address(rec),
                params,
                timeout=INFORM_TIMEOUT_CS,
                retryCount=INFORM_RETRIES,
                tagList=tag,
            )
            snmp_config.add_notification_target(
                eng, f"acurev-notify-{i}", params, tag, "inform" if rec.inform else "trap"
            )
        if any(rec.version == "v2c" for rec in self.snmp.trap_receivers):
            snmp_config.add_vacm_access(
                eng, TRAP_GROUP, "", 2, "noAuthNoPriv", "exact", None, None, NOTIFY_VIEW
            )

    def _receiver_address(self, rec: TrapReceiver) -> tuple[str, int]:
        family = socket.AF_INET6 if self._domain == udp6.DOMAIN_NAME else socket.AF_INET
        try:
            info = socket.getaddrinfo(rec.host, rec.port, family, socket.SOCK_DGRAM)
            host = str(info[0][4][0])
        except OSError:
            _LOGGER.error(
                "snmp: trap receiver %s does not resolve for this agent's address "
                "family; notifications to it will fail",
                rec.host,
            )
            host = rec.host
        return host, rec.port

    def alarm_varbinds(self, event: MeterEvent) -> list[tuple[Oid, Value]]:
        """The variable bindings of the notification for one ``acurev_alarm`` event."""
        assert self.view is not None
        data = event.data
        serial = str(data.get("serial") or event.serial)
        meter_index = self.view.meter_index.get(serial) or self.view.indexes.get(serial)
        try:
            channel = max(0, min(int(data.get("channel") or 0), ROLE_LIMITS[Role.ALARM]))
        except (TypeError, ValueError):
            channel = 0
        value = data.get("value")
        state = str(data.get("state", "")).lower()
        return [
            (oids.SNMP_TRAP_OID, v2c.ObjectIdentifier(oids.ALARM_NOTIFICATION)),
            ((*oids.METER_ENTRY, oids.MeterCol.SERIAL, meter_index), display(serial)),
            ((*oids.ALARM_CHANNEL, 0), v2c.Unsigned32(channel)),
            ((*oids.ALARM_PARAMETER, 0), display(str(data.get("parameter", "")))),
            ((*oids.ALARM_VALUE, 0), display("" if value is None else _number_text(value))),
            (
                (*oids.ALARM_STATE, 0),
                v2c.Integer32(
                    oids.ALARM_RECOVERED if state == "recovered" else oids.ALARM_OCCURRED
                ),
            ),
        ]

    def send_alarm(self, event: MeterEvent) -> None:
        """Send the notification of ``event`` to every receiver (traps now, informs retried)."""
        if self._closed or self._originator is None:
            return
        varbinds = [(v2c.ObjectIdentifier(oid), value) for oid, value in self.alarm_varbinds(event)]
        # pysnmp takes sysUpTime.0 from its own SNMPv2-MIB instance; send ours explicitly.
        varbinds.insert(
            0, (v2c.ObjectIdentifier(oids.SYS_UPTIME), v2c.TimeTicks(self.uptime_centiseconds()))
        )
        self.alarms_sent += 1
        for i, rec in enumerate(self.snmp.trap_receivers):
            self._originator.send_varbinds(
                self.engine,
                f"acurev-notify-{i}",
                None,
                b"",
                varbinds,
                self._notification_done,
                (rec, event),
            )

    def _notification_done(
        self,
        _eng: Any,
        _handle: Any,
        error_indication: Any,
        error_status: Any,
        _error_index: Any,
        _varbinds: Any,
        cb_ctx: tuple[TrapReceiver, MeterEvent],
    ) -> None:
        rec, event = cb_ctx
        if error_indication or error_status:
            self.notifications_failed += 1
            _LOGGER.warning(
                "snmp: %s to %s:%d for meter %s failed: %s",
                "inform" if rec.inform else "trap",
                rec.host,
                rec.port,
                event.serial,
                error_indication or error_status,
            )
        elif rec.inform:
            self.informs_confirmed += 1

    # --- table listeners ------------------------------------------------------------------
    def _on_point(self, point: Point) -> None:
        if self.view is not None:
            self.view.point_changed(point)

    def _on_structure(self) -> None:
        if self.view is not None:
            self.view.rebuild()

    def _on_event(self, event: MeterEvent) -> None:
        if event.event_type == ALARM_EVENT:
            self.send_alarm(event)

    # --- stop -----------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop answering, release the port and the engine's timer task."""
        if self._closed:
            return
        self._closed = True
        self.garbage.close()
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(ValueError):
                unsubscribe()
        self._unsubscribe = []
        eng = self.engine
        if eng is None:
            return
        for responder in self._responders:
            with contextlib.suppress(Exception):
                responder.close(eng)
        self._responders = []
        dispatcher = eng.transport_dispatcher
        timer = getattr(dispatcher, "loopingcall", None) if dispatcher is not None else None
        with contextlib.suppress(Exception):
            eng.close_dispatcher()
        if isinstance(timer, asyncio.Future):
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await timer
        await asyncio.sleep(0)  # let the transport's close callbacks run
        _LOGGER.info("SNMP agent on udp %s:%d stopped", *self.address)


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


async def start_snmp(config: Config, table: PointTable) -> SnmpAgent:
    """Start the SNMP agent for ``config.snmp`` over ``table`` (call inside the running loop)."""
    agent = SnmpAgent(config, table)
    try:
        await agent.start()
    except BaseException:
        await agent.close()
        raise
    return agent

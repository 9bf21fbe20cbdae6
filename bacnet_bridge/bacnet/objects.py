"""bacpypes3 objects and application with the fixes the bridge needs.

bacpypes3 0.0.110 pitfalls handled here (see the project's BACnet notes, B3-B7):

* Every property of a local object is writable by default; here only the ones listed
  in ``_writable`` are, everything else answers property/write-access-denied.
* Status_Flags is computed from Reliability/Out_Of_Service, so changing those sends no
  COV notification (B5): ``set_reliability`` and out-of-service writes call the
  Status_Flags monitors themselves.
* Setting Present_Value on a commandable object writes priority 16 (B3); the relay
  object's Present_Value is the state Home Assistant confirmed and is set directly.
* Protocol_Object_Types_Supported is always empty and Protocol_Services_Supported maps
  unconfirmed services through the confirmed enumeration (B7): both are computed
  correctly by :class:`BridgeApplication`.
* Property_List lists Object_Identifier, Object_Name, Object_Type and Property_List itself,
  which clause 12.1.1.4.1 excludes: :class:`PropertyListMixin`.
* A WriteProperty of a property the object does not have dies in a TypeError (operational
  problem and a traceback); an Enumerated outside BinaryPV, a non-finite COV_Increment or
  priority 6 are stored as they come. :class:`BridgeApplication` and the objects answer them
  with the standard errors instead (unknown-property, value-out-of-range,
  write-access-denied).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from bacpypes3.apdu import (
    AbortPDU,
    APCISequence,
    RejectPDU,
    WritePropertyMultipleError,
    confirmed_request_types,
    unconfirmed_request_types,
)
from bacpypes3.app import Application
from bacpypes3.appservice import ServerSSM
from bacpypes3.basetypes import (
    BinaryPV,
    COVSubscription,
    DeviceAddress,
    EngineeringUnits,
    EventState,
    ListOfCOVSubscription,
    ObjectPropertyReference,
    ObjectTypesSupported,
    OptionalUnsigned,
    Polarity,
    PriorityValue,
    PropertyIdentifier,
    Recipient,
    RecipientProcess,
    Reliability,
    ServicesSupported,
)
from bacpypes3.errors import ExecutionError, PropertyError
from bacpypes3.local.analog import AnalogInputObject
from bacpypes3.local.binary import BinaryInputObject, BinaryOutputObject
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.primitivedata import Null

from ..logsafe import escape

_LOGGER = logging.getLogger(__name__)

# Object types this implementation can contain (the device reports these, B7).
SUPPORTED_OBJECT_TYPES = ("device", "networkPort", "analogInput", "binaryInput", "binaryOutput")

# Services the bridge answers, by the handler bacpypes3 dispatches to. Handlers of services
# the bridge does not offer are switched off so that the device rejects them
# (unrecognized-service) instead of half-answering, and so that Protocol_Services_Supported
# (computed from the handlers) tells the truth.
DISABLED_HANDLERS = (
    "do_ReadRangeRequest",  # no lists worth reading by range here
    "do_ConfirmedCOVNotificationRequest",  # the bridge is a COV server, not a subscriber
    "do_UnconfirmedCOVNotificationRequest",
    "do_IHaveRequest",
)


# Priority 6 is reserved for minimum on/off time (clause 19.2.1.1): never written by a peer.
MINIMUM_ON_OFF_PRIORITY = 6
# Clause 12.1.1.4.1: Property_List does not contain these four.
NOT_IN_PROPERTY_LIST = frozenset({"objectIdentifier", "objectName", "objectType", "propertyList"})


def property_name(obj: LocalObject, attr: int | str) -> str:
    """A property identifier (number, enum or name) as bacpypes3's attribute name.

    A property the object does not have is the peer's mistake: unknown-property.
    """
    if isinstance(attr, str) and not isinstance(attr, PropertyIdentifier):
        name: str = attr
    else:
        try:
            name = obj._property_identifier_class(int(attr)).attr
        except (TypeError, ValueError, AttributeError):
            raise PropertyError("unknownProperty") from None
    if name not in obj._elements:
        raise PropertyError("unknownProperty")
    return name


class PropertyListMixin:
    """Property_List without the four properties the standard leaves out of it."""

    @property
    def propertyList(self) -> Any:
        """Every present property but Object_Identifier/Name/Type and Property_List."""
        full = LocalObject.propertyList.fget(self)
        return type(full)([p for p in full if p.attr not in NOT_IN_PROPERTY_LIST])

    @propertyList.setter
    def propertyList(self, value: Any) -> None:
        """Computed; bacpypes3 sets None while initialising."""


class BridgeNetworkPort(PropertyListMixin, NetworkPortObject):  # type: ignore[misc]
    """The network-port object, read-only, with the APDU_Length the standard requires."""

    async def write_property(
        self, attr: int | str, value: Any, index: int | None = None, priority: int | None = None
    ) -> None:
        property_name(self, attr)  # unknown-property first
        raise PropertyError("writeAccessDenied")


def _notify_status_flags(obj: LocalObject, old: Any) -> None:
    """Tell the COV machinery that the computed Status_Flags changed (B5)."""
    new = obj.statusFlags
    if old == new:
        return
    for monitor in list(obj._property_monitors["statusFlags"]):
        monitor(old, new)


class _Guarded(PropertyListMixin):
    """Only the properties in ``_writable`` accept WriteProperty."""

    _writable: ClassVar[frozenset[str]] = frozenset()

    async def write_property(
        self, attr: int | str, value: Any, index: int | None = None, priority: int | None = None
    ) -> None:
        name = property_name(self, attr)
        if name not in self._writable:
            raise PropertyError("writeAccessDenied")
        await super().write_property(name, value, index, priority)  # type: ignore[misc]


class _Sourced(_Guarded):
    """An input whose value comes from Home Assistant unless the operator takes it out of service.

    While Out_Of_Service is TRUE the Present_Value (and Reliability) are decoupled from
    Home Assistant and Present_Value is writable, as the standard describes for testing and
    overrides; when it goes back to FALSE the last value from Home Assistant returns.
    """

    _writable = frozenset({"outOfService", "presentValue"})
    _on_written_cb: Callable[[LocalObject, str], None] | None = None
    _source: tuple[Any, bool] | None = None
    # The write policy (configuration): both off unless the operator allows them.
    _allow_out_of_service = False
    _allow_value_writes = False

    def apply_source(self, value: Any, available: bool) -> None:
        """A new value/availability from Home Assistant (``value`` None keeps the last)."""
        self._source = (value, available)
        if not self.outOfService:  # type: ignore[attr-defined]
            self._show(value, available)

    def _show(self, value: Any, available: bool) -> None:
        obj: Any = self
        if value is not None:
            obj.presentValue = value
        set_reliability(
            obj, Reliability.noFaultDetected if available else Reliability.communicationFailure
        )

    async def write_property(
        self, attr: int | str, value: Any, index: int | None = None, priority: int | None = None
    ) -> None:
        obj: Any = self
        name = property_name(obj, attr)
        if name == "outOfService" and not self._allow_out_of_service:
            raise PropertyError("writeAccessDenied")
        if name == "presentValue" and not (obj.outOfService and self._allow_value_writes):
            raise PropertyError("writeAccessDenied")
        # NaN would compare false with every change (silencing COV for every subscriber) and
        # is not JSON; infinity likewise never fires.
        if name == "covIncrement" and (not math.isfinite(float(value)) or float(value) < 0):
            raise PropertyError("valueOutOfRange")
        old_flags = obj.statusFlags
        await super().write_property(name, value, index, priority)
        if name == "outOfService":
            _notify_status_flags(obj, old_flags)
            if not obj.outOfService and self._source is not None:
                self._show(*self._source)
        if self._on_written_cb is not None:
            self._on_written_cb(obj, name)


def set_reliability(obj: Any, reliability: Reliability) -> None:
    """Change Reliability and send the COV notification its Status_Flags change implies."""
    if obj.reliability == reliability:
        return
    old_flags = obj.statusFlags
    obj.reliability = reliability
    _notify_status_flags(obj, old_flags)


class BridgeAnalogInput(_Sourced, AnalogInputObject):  # type: ignore[misc]
    """A measurement or counter (Present_Value in the units of ``units``)."""

    _writable = frozenset({"outOfService", "presentValue", "covIncrement"})


class BridgeBinaryInput(_Sourced, BinaryInputObject):  # type: ignore[misc]
    """A digital input (or an alarm state)."""


type RelayCommand = Callable[[bool], Awaitable[bool]]


class BridgeBinaryOutput(_Guarded, BinaryOutputObject):  # type: ignore[misc]
    """A relay: commandable through the priority array, Present_Value = confirmed state.

    A write at any priority (NULL relinquishes) computes the new effective value (the
    highest non-NULL priority, else Relinquish_Default) and, if commands are allowed,
    switches the relay through Home Assistant; only when Home Assistant confirms does
    the write succeed and the priority array change. Present_Value and Feedback_Value
    always show the state Home Assistant reports (a relay switched from Home Assistant
    shows here too). The priority array is not persisted: after a bridge restart it is
    empty and the relay stays where it is (nothing is commanded at start).
    """

    _writable = frozenset({"presentValue"})
    _command: RelayCommand | None = None
    _feedback: BinaryPV | None = None
    _lock: asyncio.Lock | None = None

    async def write_property(
        self, attr: int | str, value: Any, index: int | None = None, priority: int | None = None
    ) -> None:
        obj: Any = self
        name = property_name(obj, attr)
        if name != "presentValue":
            await super().write_property(name, value, index, priority)
            return
        if self._command is None:
            raise PropertyError("writeAccessDenied")
        if priority is None:
            priority = 16  # clause 19.2.1
        if not 1 <= priority <= 16 or index is not None:
            raise PropertyError("invalidArrayIndex" if index is not None else "valueOutOfRange")
        if priority == MINIMUM_ON_OFF_PRIORITY:
            raise PropertyError("writeAccessDenied")
        if isinstance(value, Null) or value is None:
            slot = PriorityValue(null=())
        else:
            # bacpypes3 casts any Enumerated to BinaryPV, 2 and 255 included.
            if int(value) not in (BinaryPV.inactive, BinaryPV.active):
                raise PropertyError("valueOutOfRange")
            slot = PriorityValue(enumerated=BinaryPV(value))
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            array = [obj.priorityArray[i] for i in range(16)]
            array[priority - 1] = slot
            effective = next(
                (getattr(pv, pv._choice) for pv in array if pv.null is None), obj.relinquishDefault
            )
            target = BinaryPV(effective) == BinaryPV.active
            if obj.reliability != Reliability.noFaultDetected:
                raise ExecutionError(errorClass="device", errorCode="operationalProblem")
            try:
                confirmed = await self._command(target)
            except Exception as err:
                _LOGGER.warning("relay command from BACnet failed: %s", escape(err))
                raise ExecutionError(errorClass="device", errorCode="operationalProblem") from err
            self.set_feedback(confirmed)
            obj.priorityArray[priority - 1] = slot  # recalculating() follows

    def recalculating(self) -> None:
        """Current_Command_Priority from the array; Present_Value stays the confirmed state."""
        obj: Any = self
        for i in range(16):
            if obj.priorityArray[i].null is None:
                LocalObject.__setattr__(
                    obj, "currentCommandPriority", OptionalUnsigned(unsigned=i + 1)
                )
                break
        else:
            LocalObject.__setattr__(obj, "currentCommandPriority", OptionalUnsigned(null=()))

    def set_feedback(self, on: bool | None) -> None:
        """The state Home Assistant reports (None: unknown, keep the last)."""
        if on is None:
            return
        value = BinaryPV.active if on else BinaryPV.inactive
        self._feedback = value
        # Directly, not through Commandable.__setattr__ (which would write priority 16, B3).
        LocalObject.__setattr__(self, "presentValue", value)
        LocalObject.__setattr__(self, "feedbackValue", value)

    def apply_source(self, value: Any, available: bool) -> None:
        """A new state/availability from Home Assistant."""
        self.set_feedback(value)
        set_reliability(
            self, Reliability.noFaultDetected if available else Reliability.communicationFailure
        )


def common_kwargs(name: str, description: str) -> dict[str, Any]:
    """Properties every bridge object has (Event_State is required for AI/BI/BO, B6)."""
    return {
        "objectName": name,
        "description": description,
        "eventState": EventState.normal,
        "outOfService": False,
        "reliability": Reliability.communicationFailure,
    }


def make_analog_input(
    instance: int, name: str, description: str, units: EngineeringUnits, cov_increment: float
) -> BridgeAnalogInput:
    """An AI, unreliable until Home Assistant gave it a value."""
    return BridgeAnalogInput(
        objectIdentifier=("analog-input", instance),
        presentValue=0.0,
        units=units,
        covIncrement=cov_increment,
        **common_kwargs(name, description),
    )


def make_binary_input(
    instance: int, name: str, description: str, texts: tuple[str, str]
) -> BridgeBinaryInput:
    """A BI (``texts``: inactive, active)."""
    return BridgeBinaryInput(
        objectIdentifier=("binary-input", instance),
        presentValue=BinaryPV.inactive,
        polarity=Polarity.normal,
        inactiveText=texts[0],
        activeText=texts[1],
        **common_kwargs(name, description),
    )


def make_binary_output(
    instance: int, name: str, description: str, texts: tuple[str, str]
) -> BridgeBinaryOutput:
    """A commandable BO with Relinquish_Default inactive (relay open)."""
    obj = BridgeBinaryOutput(
        objectIdentifier=("binary-output", instance),
        polarity=Polarity.normal,
        relinquishDefault=BinaryPV.inactive,
        inactiveText=texts[0],
        activeText=texts[1],
        **common_kwargs(name, description),
    )
    LocalObject.__setattr__(obj, "presentValue", BinaryPV.inactive)
    LocalObject.__setattr__(obj, "feedbackValue", BinaryPV.inactive)
    return obj


class BridgeDevice(_Guarded, DeviceObject):  # type: ignore[misc]
    """The device object (read-only), reporting the object types it really supports (B7)."""

    @property
    def protocolObjectTypesSupported(self) -> ObjectTypesSupported:
        """The object types this implementation can contain."""
        bits = ObjectTypesSupported([])
        for name in SUPPORTED_OBJECT_TYPES:
            bits[getattr(ObjectTypesSupported, name)] = 1
        return bits

    @protocolObjectTypesSupported.setter
    def protocolObjectTypesSupported(self, value: Any) -> None:
        """Computed; writes are ignored (the property is read-only over BACnet anyway)."""


class BridgeApplication(Application):  # type: ignore[misc]
    """bacpypes3's application with truthful services, no half-offered handlers, and
    COV notifications that cannot raise into the event loop."""

    # COV subscription limits (configuration; 0 refuses every new subscription).
    max_cov_subscriptions = 1000
    max_cov_subscriptions_per_peer = 200

    async def do_WritePropertyRequest(self, apdu: Any) -> None:
        """Refuse what bacpypes3 would answer with a traceback or store as it comes.

        unknown-property for a property the object lacks (bacpypes3: TypeError, operational
        problem), invalid-data-type for a value that is not of the property's type.
        """
        obj = self.get_object_id(apdu.objectIdentifier)
        if obj is not None:
            property_name(obj, apdu.propertyIdentifier)
            if obj.get_property_type(apdu.propertyIdentifier) is None:
                raise PropertyError("unknownProperty")
        try:
            await super().do_WritePropertyRequest(apdu)
        except (TypeError, ValueError, AttributeError) as err:
            # cast_out of a value of another type (a REAL to a BinaryPV, an opening tag ...).
            raise ExecutionError(errorClass="property", errorCode="invalidDataType") from err

    def cov_subscription_count(self, peer: Any = None) -> int:
        """Active COV subscriptions, of one peer address or in total."""
        detections: dict[Any, Any] = self._cov_detections
        return sum(
            1
            for detection in detections.values()
            for cov in detection.cov_subscriptions
            if peer is None or cov.client_addr == peer
        )

    async def do_SubscribeCOVRequest(self, apdu: Any) -> None:
        """bacpypes3's SubscribeCOV within the configured limits.

        A new subscription beyond a limit is refused with resources /
        no-space-to-add-list-element; renewals and cancellations always pass.
        """
        cancel = apdu.issueConfirmedNotifications is None and apdu.lifetime is None
        if not cancel and not self._is_renewal(apdu):
            peer = apdu.pduSource
            if (
                self.cov_subscription_count() >= self.max_cov_subscriptions
                or self.cov_subscription_count(peer) >= self.max_cov_subscriptions_per_peer
            ):
                raise ExecutionError(errorClass="resources", errorCode="noSpaceToAddListElement")
        await super().do_SubscribeCOVRequest(apdu)

    def _is_renewal(self, apdu: Any) -> bool:
        detection = self._cov_detections.get(apdu.monitoredObjectIdentifier)
        if detection is None:
            return False
        return any(
            cov.client_addr == apdu.pduSource and cov.proc_id == apdu.subscriberProcessIdentifier
            for cov in detection.cov_subscriptions
        )

    def get_services_supported(self) -> ServicesSupported:
        """Protocol_Services_Supported from the handlers really present (fixes B7)."""
        bits = ServicesSupported([])
        for request_types in (confirmed_request_types, unconfirmed_request_types):
            for request_class in request_types.values():
                if getattr(self, "do_" + request_class.__name__, None) is None:
                    continue
                service = request_class.__name__.removesuffix("Request")
                attr = service[0].lower() + service[1:]
                if hasattr(ServicesSupported, attr):
                    bits[getattr(ServicesSupported, attr)] = 1
        # The bridge initiates I-Am (on Who-Is) and COV notifications; PICS lists them too.
        for initiated in ("iAm",):
            bits[getattr(ServicesSupported, initiated)] = 1
        return bits

    async def do_WritePropertyMultipleRequest(self, apdu: Any) -> None:
        """bacpypes3 *raises* its WritePropertyMultiple-Error APDU, which derives from
        BaseException (B11) and escapes its dispatcher: no answer, an unhandled task error.
        Send it as the answer it is meant to be."""
        try:
            await super().do_WritePropertyMultipleRequest(apdu)
        except WritePropertyMultipleError as err:
            await self.response(
                WritePropertyMultipleError(
                    errorType=err.errorType,
                    firstFailedWriteAttempt=err.firstFailedWriteAttempt,
                    context=apdu,
                )
            )

    def cov_confirmation(self, cov: Any, future: asyncio.Future[Any]) -> None:
        """A confirmed COV notification was answered (or not): never raise from here."""
        with contextlib.suppress(BaseException):
            future.result()

    def close_subscriptions(self) -> None:
        """Cancel every COV subscription (their expiry timers) before the app closes."""
        detections: dict[Any, Any] = self._cov_detections
        for detection in list(detections.values()):
            for cov in list(detection.cov_subscriptions):
                with contextlib.suppress(Exception):
                    self.cancel_subscription(cov)

    def get_active_cov_subscriptions(self) -> Any:
        """Active_COV_Subscriptions of the device object (bacpypes3 has no such method, so
        the property was always empty)."""
        now = asyncio.get_running_loop().time()
        entries = []
        detections: dict[Any, Any] = self._cov_detections
        for detection in detections.values():
            for cov in detection.cov_subscriptions:
                remaining = 0
                if cov.cancel_handle is not None:
                    remaining = max(1, int(cov.cancel_handle.when() - now))
                address = cov.client_addr
                entries.append(
                    COVSubscription(
                        recipient=RecipientProcess(
                            recipient=Recipient(
                                address=DeviceAddress(
                                    networkNumber=address.addrNet or 0, macAddress=address.addrAddr
                                )
                            ),
                            processIdentifier=cov.proc_id,
                        ),
                        monitoredPropertyReference=ObjectPropertyReference(
                            objectIdentifier=cov.obj_id, propertyIdentifier="presentValue"
                        ),
                        issueConfirmedNotifications=bool(cov.confirmed),
                        timeRemaining=remaining,
                    )
                )
        return ListOfCOVSubscription(entries)

    def stop_transactions(self) -> None:
        """Stop the timers of requests in flight (e.g. a confirmed COV notification)."""
        for sap in (getattr(self, "asap", None), getattr(self, "smap", None)):
            for transaction in [
                *getattr(sap, "clientTransactions", []),
                *getattr(sap, "serverTransactions", []),
            ]:
                with contextlib.suppress(Exception):
                    transaction.stop_timer()

    def drop_object_subscriptions(self, obj: LocalObject) -> None:
        """Cancel the COV subscriptions of an object about to be deleted."""
        detection = self._cov_detections.get(obj.objectIdentifier)
        if detection is not None:
            for cov in list(detection.cov_subscriptions):
                with contextlib.suppress(Exception):
                    self.cancel_subscription(cov)


for _handler in DISABLED_HANDLERS:
    setattr(BridgeApplication, _handler, None)


async def _server_request(self: Any, apdu: Any) -> None:
    """ServerSSM.request that answers an undecodable confirmed request with a Reject.

    bacpypes3 (0.0.110) hands an AbortPDU *up* to the application instead (which drops it):
    the peer gets no answer and waits for its timeout, and nothing counts the datagram.
    Clause 18.8: a request with a missing or malformed parameter is rejected.
    """
    if isinstance(apdu, AbortPDU):
        await _original_server_request(self, apdu)
        return
    try:
        decoded = APCISequence.decode(apdu)
    except Exception as err:
        reason = "missingRequiredParameter" if "no more" in str(err) else "invalidTag"
        counter = getattr(self.ssmSAP, "bridge_garbage", None)
        if counter is not None:
            counter.count("rejected", self.pdu_address, repr(err))
        await self.confirmation(RejectPDU(invoke_id=apdu.apduInvokeID, reason=reason))
        return
    decoded.pduSource = self.pdu_address
    decoded.pduDestination = None
    await self.ssmSAP.sap_request(decoded)


_original_server_request = ServerSSM.request
ServerSSM.request = _server_request

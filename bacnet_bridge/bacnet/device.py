"""The BACnet/IP device: a view of the PointTable (bacpypes3, in the bridge's event loop).

Object model (PICS in docs/PICS.md):

* measurement and counter points -> Analog Input (units from :mod:`.units`, writable
  COV_Increment);
* digital inputs (and alarm states) -> Binary Input;
* relays -> commandable Binary Output (see :class:`.objects.BridgeBinaryOutput`);
* text points (enums, timestamps) are not exported over BACnet.

Object_Name is ``<serial>_<point key>`` (stable, unique, machine-like); the Home
Assistant friendly name goes to Description. Instance numbers come from the persistent
:class:`.state.InstanceMap`. The object list is cached in the state directory, so after a
restart every object exists at once (unreliable, communication-failure) before Home
Assistant has answered: a BMS polling during a restart gets faults, never unknown-object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from dataclasses import asdict, dataclass
from typing import Any

from bacpypes3.basetypes import BinaryPV, HostNPort, IPMode

from pyacurev.keys import Role

from .. import __version__
from ..config import Config
from ..garbage import CountingFilter, GarbageCounter
from ..model import Point, PointKind, PointTable
from .fastpath import FastReader
from .objects import (
    BridgeAnalogInput,
    BridgeApplication,
    BridgeBinaryInput,
    BridgeBinaryOutput,
    BridgeDevice,
    BridgeNetworkPort,
    make_analog_input,
    make_binary_input,
    make_binary_output,
)
from .state import DeviceState, InstanceMap, read_json, write_json
from .units import UnitMapping, bacnet_units

_LOGGER = logging.getLogger(__name__)

VENDOR_NAME = "AcuRev plugin set"
# The vendor identifier is configuration (bacnet.vendor_identifier): no ASHRAE identifier is
# registered for this project; the default 999 is the one bacpypes3 uses for samples.
MAX_APDU = 1476  # BACnet/IP (clause J.2): the device's and the network port's APDU length
MODEL_NAME = "AcuRev BACnet bridge"
OBJECTS_FILE = "bacnet-objects.json"
BIND_TIMEOUT = 5.0

AI, BI, BO = "analog-input", "binary-input", "binary-output"
OBJECT_TYPE_CODES = {"device": 8, AI: 0, BI: 3, BO: 4, "network-port": 56}
_NAME_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """Everything about a BACnet object that does not change with its value."""

    obj_type: str
    uid: str
    name: str
    description: str
    unit: str | None = None
    device_class: str | None = None
    inactive_text: str = "inactive"
    active_text: str = "active"
    entity_id: str = ""  # EDE vendor-specific address; not visible over BACnet

    @property
    def mapping(self) -> UnitMapping:
        """Units, scale and default COV increment (analog inputs)."""
        return bacnet_units(self.unit, self.device_class)


def object_name(point: Point) -> str:
    """Object_Name: ``<serial>_<key>``, restricted to characters every BMS accepts."""
    return _NAME_SAFE.sub("_", f"{point.serial}_{point.key}")


def _texts(point: Point) -> tuple[str, str]:
    if point.kind is PointKind.RELAY:
        return ("off", "on")
    if point.role is Role.DI:
        return ("open", "closed")  # "on while the input is closed"
    if point.role is Role.ALARM:
        return ("normal", "alarm")
    return ("inactive", "active")


def spec_for(point: Point) -> ObjectSpec | None:
    """The object a point becomes, or None when it is not exported over BACnet."""
    obj_type = {
        PointKind.MEASUREMENT: AI,
        PointKind.COUNTER: AI,
        PointKind.BINARY: BI,
        PointKind.RELAY: BO,
    }.get(point.kind)
    if obj_type is None:
        return None
    inactive, active = _texts(point)
    return ObjectSpec(
        obj_type=obj_type,
        uid=point.unique_id,
        name=object_name(point),
        description=point.name or point.entity_id,
        unit=point.unit,
        device_class=point.device_class,
        inactive_text=inactive,
        active_text=active,
        entity_id=point.entity_id,
    )


def sort_key(spec: ObjectSpec) -> tuple[str, list[tuple[int, str]]]:
    # Natural order (ch2 before ch10), so first-time numbering reads sensibly.
    parts = re.split(r"(\d+)", spec.name)
    return spec.obj_type, [(int(p), "") if p.isdigit() else (0, p) for p in parts]


def _check_bindable(address: str, port: int) -> None:
    """Fail now, with a clear message, if the BACnet/IP socket cannot be bound.

    bacpypes3 binds in a background task with SO_REUSEPORT and retries forever: a port
    held by another program or an address this machine does not have would otherwise
    leave a device that silently never answers (or shares its port and loses datagrams).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, port))
        except OSError as err:
            raise OSError(f"cannot bind BACnet/IP to {address}:{port}: {err.strerror}") from err


type BridgeObject = BridgeAnalogInput | BridgeBinaryInput | BridgeBinaryOutput


class BacnetDevice:
    """Owns the bacpypes3 application and keeps its objects in step with the table."""

    def __init__(self, config: Config, table: PointTable) -> None:
        """Load the persisted state; nothing binds before ``start()``."""
        self.config = config
        self.table = table
        state_dir = config.state_dir
        self.instances = InstanceMap(state_dir)
        self.device_state = DeviceState(state_dir)
        self._objects_path = state_dir / OBJECTS_FILE
        self.app: BridgeApplication | None = None
        self.device: BridgeDevice | None = None
        self.objects: dict[str, BridgeObject] = {}  # unique id -> object
        self.specs: dict[str, ObjectSpec] = {}
        self._unsubscribe: list[Any] = []
        self.garbage = GarbageCounter(_LOGGER, "BACnet")
        self._by_id: dict[tuple[int, int], BridgeObject] = {}
        self.fast: FastReader | None = FastReader(lambda t, i: self._by_id.get((t, i)))
        self._filter = CountingFilter(self.garbage, "failed")
        self._filtered: list[logging.Logger] = []

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind UDP, create the device object and the cached objects, follow the table."""
        bc = self.config.bacnet
        _check_bindable(bc.address, bc.port)
        self.device = BridgeDevice(
            objectIdentifier=("device", bc.device_instance),
            objectName=bc.device_name,
            vendorName=VENDOR_NAME,
            vendorIdentifier=bc.vendor_identifier,
            modelName=MODEL_NAME,
            firmwareRevision=__version__,
            applicationSoftwareVersion=f"acurev-bridge {__version__}",
            description="Accuenergy AcuRev meters, mirrored from Home Assistant",
            databaseRevision=self.device_state.database_revision,
            maxApduLengthAccepted=MAX_APDU,
            segmentationSupported="segmentedBoth",
            maxSegmentsAccepted=16,
        )
        port = BridgeNetworkPort(
            f"{bc.address}/{bc.netmask_bits}:{bc.port}",
            objectIdentifier=("network-port", 1),
            objectName="NetworkPort-1",
            apduLength=MAX_APDU,
        )
        fd = bc.foreign_device
        if fd is not None:
            port.bacnetIPMode = IPMode.foreign
            port.fdBBMDAddress = HostNPort(f"{fd.address}:{fd.port}")
            port.fdSubscriptionLifetime = fd.ttl_minutes * 60
        self.app = BridgeApplication.from_object_list([self.device, port])
        self.app.max_cov_subscriptions = bc.max_cov_subscriptions
        self.app.max_cov_subscriptions_per_peer = bc.max_cov_subscriptions_per_peer
        self._guard_datagrams()
        try:
            await self._wait_bound()
        except BaseException:
            await self.close()
            raise
        for spec in self._cached_specs():
            self._add(spec)
        self._unsubscribe = [
            self.table.on_structure_change(self.reconcile),
            self.table.on_point_change(self._on_point),
        ]
        if self.table.ready.is_set():
            self.reconcile()
        _LOGGER.info(
            "BACnet device %s (%d) on %s:%d%s with %d objects",
            bc.device_name,
            bc.device_instance,
            bc.address,
            bc.port,
            f", foreign device of {fd.address}:{fd.port}" if fd else "",
            len(self.objects),
        )

    def _guard_datagrams(self) -> None:
        """Count bad datagrams instead of logging a traceback for each.

        bacpypes3 logs every datagram it cannot decode, and every request a handler fails
        on, with a traceback at ERROR. The datagram server's entry point is wrapped so that
        a decoding error is counted with its sender; the library's remaining error records
        become counts too (``CountingFilter``). Either way the log gets one summary line per
        interval.
        """
        assert self.app is not None
        self.app.asap.bridge_garbage = self.garbage  # undecodable requests (objects.py)
        for layer in self.app.link_layers.values():
            server = layer.server
            forward = server.response

            async def confirmation(pdu: Any, forward: Any = forward, server: Any = server) -> None:
                if pdu.pduSource.addrTuple == server.local_address:
                    return  # our own broadcast, reflected
                fast = self.fast
                if fast is not None and (answer := fast.answer(bytes(pdu.pduData))) is not None:
                    server.local_transport.sendto(answer, pdu.pduSource.addrTuple)
                    return
                try:
                    await forward(pdu)
                except Exception as err:
                    self.garbage.count("undecodable", pdu.pduSource, repr(err))

            server.confirmation = confirmation
        for name in list(logging.Logger.manager.loggerDict):
            if name.startswith("bacpypes3"):
                logger = logging.getLogger(name)
                logger.addFilter(self._filter)
                self._filtered.append(logger)

    async def _wait_bound(self) -> None:
        # bacpypes3 binds in background tasks and retries forever on OSError (for an
        # interface that is not up yet); a wrong address should stop the start instead.
        assert self.app is not None
        servers = [layer.server for layer in self.app.link_layers.values()]
        try:
            async with asyncio.timeout(BIND_TIMEOUT):
                for server in servers:
                    await server._local_transport_ready.wait()
        except TimeoutError:
            bc = self.config.bacnet
            raise OSError(
                f"cannot bind BACnet/IP to {bc.address}:{bc.port} (is the address "
                "assigned to this machine?)"
            ) from None

    async def close(self) -> None:
        """Unsubscribe, cancel COV subscriptions, close the sockets."""
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(ValueError):
                unsubscribe()
        self._unsubscribe = []
        for logger in self._filtered:
            logger.removeFilter(self._filter)
        self._filtered = []
        self.garbage.close()
        app, self.app = self.app, None
        if app is None:
            return
        app.close_subscriptions()
        app.stop_transactions()
        for layer in app.link_layers.values():
            if hasattr(layer, "unregister") and self.config.bacnet.foreign_device:
                with contextlib.suppress(Exception):
                    layer.unregister()
                await asyncio.sleep(0.05)  # let the deregistration datagram leave
        for layer in app.link_layers.values():
            for task in getattr(layer.server, "_transport_tasks", []):
                task.cancel()
        app.close()
        # Objects schedule a _post_init task each; give them a turn to finish.
        await asyncio.sleep(0)

    # --- objects -----------------------------------------------------------------------------
    def _cached_specs(self) -> list[ObjectSpec]:
        try:
            data = read_json(self._objects_path) or {}
        except Exception:
            _LOGGER.warning("ignoring an unreadable %s", self._objects_path)
            return []
        specs = []
        for raw in data.get("objects") or []:
            with contextlib.suppress(TypeError):
                specs.append(ObjectSpec(**raw))
        return specs

    def _save_specs(self) -> None:
        write_json(
            self._objects_path,
            {
                "version": 1,
                "objects": [asdict(s) for s in sorted(self.specs.values(), key=sort_key)],
            },
        )

    def reconcile(self) -> None:
        """Make the objects match the table (added, removed and re-described points)."""
        if self.app is None:
            return
        wanted: dict[str, ObjectSpec] = {}
        for point in self.table.points.values():
            spec = spec_for(point)
            if spec is not None:
                wanted[spec.uid] = spec
        for uid in list(self.specs):
            if uid not in wanted or wanted[uid].obj_type != self.specs[uid].obj_type:
                self._remove(uid)
        for spec in sorted(wanted.values(), key=sort_key):
            if spec.uid not in self.specs:
                self._add(spec)
            elif spec != self.specs[spec.uid]:
                self._describe(spec)
        for uid, obj in self.objects.items():
            current = self.table.points.get(uid)
            if current is not None:
                self._apply(obj, current)
        self._save_specs()
        self._bump_revision()

    def _bump_revision(self) -> None:
        assert self.app is not None
        assert self.device is not None
        listing = [
            (str(oid[0]), int(oid[1]), str(obj.objectName))
            for oid, obj in self.app.objectIdentifier.items()
        ]
        if self.device_state.update(listing):
            self.device.databaseRevision = self.device_state.database_revision

    def _add(self, spec: ObjectSpec) -> None:
        assert self.app is not None
        instance = self.instances.assign(spec.obj_type, [spec.uid])[spec.uid]
        obj: BridgeObject
        if spec.obj_type == AI:
            mapping = spec.mapping
            increment = self.instances.cov_increment(AI, spec.uid)
            obj = make_analog_input(
                instance,
                spec.name,
                spec.description,
                mapping.units,
                mapping.cov_increment if increment is None else increment,
            )
            obj._on_written_cb = self._on_written
        elif spec.obj_type == BI:
            obj = make_binary_input(
                instance, spec.name, spec.description, (spec.inactive_text, spec.active_text)
            )
        else:
            obj = make_binary_output(
                instance, spec.name, spec.description, (spec.inactive_text, spec.active_text)
            )
            if self.config.bacnet.allow_relay_commands:
                uid = spec.uid
                obj._command = lambda on: self.table.command_relay(uid, on)
        if isinstance(obj, BridgeAnalogInput | BridgeBinaryInput):
            obj._allow_out_of_service = self.config.bacnet.allow_out_of_service
            obj._allow_value_writes = self.config.bacnet.allow_input_value_writes
        try:
            self.app.add_object(obj)
        except RuntimeError as err:  # a name clash (two meters with odd serials)
            _LOGGER.error("cannot add BACnet object %s: %s", spec.name, err)
            return
        self.objects[spec.uid] = obj
        self.specs[spec.uid] = spec
        self._by_id[(OBJECT_TYPE_CODES[spec.obj_type], instance)] = obj

    def _remove(self, uid: str) -> None:
        assert self.app is not None
        obj = self.objects.pop(uid, None)
        self.specs.pop(uid, None)
        self._by_id = {k: o for k, o in self._by_id.items() if o is not obj}
        if obj is not None:
            self.app.drop_object_subscriptions(obj)
            self.app.delete_object(obj)

    def _describe(self, spec: ObjectSpec) -> None:
        obj: Any = self.objects[spec.uid]
        old = self.specs[spec.uid]
        if spec.name != old.name:
            obj.objectName = spec.name
        obj.description = spec.description
        if spec.obj_type == AI:
            mapping = spec.mapping
            obj.units = mapping.units
            if self.instances.cov_increment(AI, spec.uid) is None:
                obj.covIncrement = mapping.cov_increment
        else:
            obj.inactiveText, obj.activeText = spec.inactive_text, spec.active_text
        self.specs[spec.uid] = spec

    # --- values ------------------------------------------------------------------------------
    def _on_point(self, point: Point) -> None:
        obj = self.objects.get(point.unique_id)
        if obj is not None:
            self._apply(obj, point)

    def _apply(self, obj: BridgeObject, point: Point) -> None:
        value: Any = None
        if isinstance(obj, BridgeAnalogInput):
            if isinstance(point.value, (int, float)) and not isinstance(point.value, bool):
                value = float(point.value) * self.specs[point.unique_id].mapping.scale
            obj.apply_source(value, point.available and value is not None)
        elif isinstance(obj, BridgeBinaryInput):
            if isinstance(point.value, bool):
                value = BinaryPV.active if point.value else BinaryPV.inactive
            obj.apply_source(value, point.available and value is not None)
        else:
            obj.apply_source(
                point.value if isinstance(point.value, bool) else None,
                point.available and isinstance(point.value, bool),
            )

    def _on_written(self, obj: Any, prop: str) -> None:
        if prop != "covIncrement":
            return
        uid = next((u for u, o in self.objects.items() if o is obj), None)
        if uid is not None:
            self.instances.set_cov_increment(AI, uid, float(obj.covIncrement))


async def start_bacnet(config: Config, table: PointTable) -> BacnetDevice:
    """Start the BACnet/IP device view (the app's entry point for this package)."""
    device = BacnetDevice(config, table)
    await device.start()
    return device

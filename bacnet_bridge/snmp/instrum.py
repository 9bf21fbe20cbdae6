"""Flat, sorted-OID instrumentation for the agent's default SNMP context.

pysnmp's own MIB-tree instrumentation walks its internal USM/VACM/target tables whenever a
GETNEXT falls off the end of a subtree (about 7 ms each; a GETBULK of 10 repetitions past
the end took about 40 ms instead of 1 ms: pitfall S7). Here every served instance lives in
one dict, with its OIDs in one sorted list: GET is a dict lookup, GETNEXT a ``bisect``, and
adding or removing an instance is a dict update plus an insertion. The VACM check of every
variable binding is kept (``acFun``, pysnmp's ``CommandResponderBase.verify_access``).

Nothing here is writable: every SET is refused with notWritable (noAccess outside the view).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable, Iterable
from typing import Any

from pysnmp.proto.api import v2c
from pysnmp.smi import error as smi_error
from pysnmp.smi import exval
from pysnmp.smi.instrum import AbstractMibInstrumController

from .oids import Oid

type Value = Any  # a pysnmp value object (v2c.Integer32(...), v2c.OctetString(...), ...)
type Dynamic = Callable[[], Value]


class OidStore:
    """Instance OID -> value (or zero-argument function giving it), with sorted keys."""

    def __init__(self) -> None:
        """Start empty."""
        self._values: dict[Oid, Value | Dynamic] = {}
        self._names: dict[Oid, Any] = {}  # cached v2c.ObjectIdentifier per instance
        self._keys: list[Oid] = []
        self._objects: set[Oid] = set()  # object (column/scalar) OIDs: noSuchInstance vs Object
        self._object_lengths: list[int] = []

    def __len__(self) -> int:
        """Number of instances."""
        return len(self._keys)

    def set(self, oid: Oid, value: Value | Dynamic) -> None:
        """Add or change an instance."""
        if oid not in self._values:
            insort(self._keys, oid)
            self._names[oid] = v2c.ObjectIdentifier(oid)
        self._values[oid] = value

    def delete(self, oid: Oid) -> None:
        """Remove an instance if present."""
        if self._values.pop(oid, None) is None:
            return
        del self._names[oid]
        pos = bisect_right(self._keys, oid) - 1
        del self._keys[pos]

    def replace(self, values: dict[Oid, Value | Dynamic], objects: Iterable[Oid]) -> None:
        """Swap in a complete new content (after the set of points changed)."""
        names = {oid: self._names.get(oid) or v2c.ObjectIdentifier(oid) for oid in values}
        self._values = dict(values)
        self._names = names
        self._keys = sorted(values)
        self._objects = set(objects)
        self._object_lengths = sorted({len(o) for o in self._objects}, reverse=True)

    def instances(self) -> list[Oid]:
        """The instance OIDs in order (a copy)."""
        return list(self._keys)

    def get(self, oid: Oid) -> Value | None:
        """The current value, or None when there is no such instance."""
        value = self._values.get(oid)
        if callable(value):
            return value()
        return value

    def is_object(self, oid: Oid) -> bool:
        """Whether ``oid`` lies under a known object (then a missing instance is noSuchInstance)."""
        return any(oid[:n] in self._objects for n in self._object_lengths if n < len(oid))

    def next_from(self, oid: Oid) -> int:
        """Position of the first instance after ``oid``."""
        return bisect_right(self._keys, oid)

    def at(self, pos: int) -> tuple[Oid, Any, Value] | None:
        """(oid, name object, value) at a position, None past the end."""
        if pos >= len(self._keys):
            return None
        oid = self._keys[pos]
        value = self._values[oid]
        return oid, self._names[oid], value() if callable(value) else value


class FlatInstrumentation(AbstractMibInstrumController):  # type: ignore[misc]
    """The read-only instrumentation of the default context, backed by an :class:`OidStore`."""

    def __init__(self, store: OidStore) -> None:
        """Serve ``store``."""
        self.store = store

    def read_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[Any]:
        """GET."""
        ac_fun = context.get("acFun")
        out: list[Any] = []
        for idx, (name, _value) in enumerate(var_binds):
            oid = tuple(name)
            context["idx"] = idx
            value = self.store.get(oid)
            if ac_fun is not None and ac_fun("read", (oid, value), **context):
                out.append((name, exval.noSuchObject))  # not in the view (RFC 3416 4.2.1)
            elif value is not None:
                out.append((name, value))
            elif self.store.is_object(oid):
                out.append((name, exval.noSuchInstance))
            else:
                out.append((name, exval.noSuchObject))
        return out

    def read_next_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[Any]:
        """GETNEXT (GETBULK calls this once per repetition)."""
        ac_fun = context.get("acFun")
        out: list[Any] = []
        store = self.store
        for idx, (name, _value) in enumerate(var_binds):
            context["idx"] = idx
            pos = store.next_from(tuple(name))
            while (item := store.at(pos)) is not None:
                oid, oid_name, value = item
                pos += 1
                if ac_fun is not None:
                    try:
                        if ac_fun("read", (oid, value), **context):
                            continue  # not in the view: skip
                    except smi_error.NoAccessError:
                        continue  # e.g. a Counter64 asked for over SNMPv1 (RFC 2576 4.1.2.1)
                out.append((oid_name, value))
                break
            else:
                out.append((name, exval.endOfMibView))
        return out

    def write_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[Any]:
        """SET: nothing is writable."""
        ac_fun = context.get("acFun")
        for idx, (name, value) in enumerate(var_binds):
            context["idx"] = idx
            if ac_fun is not None and ac_fun("write", (tuple(name), value), **context):
                raise smi_error.NoAccessError(name=name, idx=idx)
            raise smi_error.NotWritableError(name=name, idx=idx)
        return []

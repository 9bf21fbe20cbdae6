"""What the BACnet device must remember across restarts (JSON files in the state directory).

* ``bacnet-instances.json``: object instance number per point, per object type. A
  number, once given, belongs to that point forever: an entity that disappears keeps
  its number (reserved) and gets it back when it returns, and no other point ever
  receives it. BMS trend logs, graphics and alarms reference objects by instance, so a
  renumbering would silently re-wire a building's history.
* ``bacnet-device.json``: Database_Revision and a fingerprint of the object list it
  describes; the revision goes up whenever the list (identifiers and names) changes.
* COV increments a BMS wrote are kept with the instances (they belong to the object).

Files are replaced atomically and durably (write a temporary file, fsync it, rename it over
the old one, fsync the directory), so a crash or power cut mid-write leaves the previous
version, and a rename that was reported done survives the power cut. Values are strict JSON
(``allow_nan=False``): a NaN would make the file unreadable at the next start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..durable import fsync_dir

_LOGGER = logging.getLogger(__name__)

INSTANCES_FILE = "bacnet-instances.json"
DEVICE_FILE = "bacnet-device.json"
FORMAT_VERSION = 1
FIRST_INSTANCE = 1
MAX_INSTANCE = 4194302


class StateError(Exception):
    """A state file exists but cannot be used (refusing to renumber silently)."""


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` atomically and durably (see the module docstring)."""
    text = json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StateError(f"cannot read {path}: {err.strerror}") from err
    try:
        data = json.loads(text)
    except ValueError as err:
        raise StateError(
            f"{path} is corrupt ({err}); restore it from a backup, or delete "
            "it to renumber every object (BMS references will break)"
        ) from err
    if not isinstance(data, dict):
        raise StateError(f"{path}: unexpected content")
    return data


class InstanceMap:
    """Persistent, never-reused instance numbers per (object type, point unique id)."""

    def __init__(self, state_dir: Path) -> None:
        """Load the map (an absent file is an empty map)."""
        self.path = state_dir / INSTANCES_FILE
        data = read_json(self.path) or {}
        self._types: dict[str, dict[str, int]] = {}
        self._next: dict[str, int] = {}
        self._cov: dict[str, float] = {}
        for obj_type, entry in (data.get("types") or {}).items():
            assigned = {str(k): int(v) for k, v in (entry.get("instances") or {}).items()}
            self._types[obj_type] = assigned
            self._next[obj_type] = max(
                int(entry.get("next", FIRST_INSTANCE)), max(assigned.values(), default=0) + 1
            )
        self._cov = {str(k): float(v) for k, v in (data.get("cov_increments") or {}).items()}

    def get(self, obj_type: str, uid: str) -> int | None:
        """The instance of ``uid`` if it ever had one."""
        return self._types.get(obj_type, {}).get(uid)

    def assign(self, obj_type: str, uids: Iterable[str]) -> dict[str, int]:
        """Instances for ``uids`` (new ones get the next free numbers, in the given order)."""
        assigned = self._types.setdefault(obj_type, {})
        out: dict[str, int] = {}
        dirty = False
        for uid in uids:
            number = assigned.get(uid)
            if number is None:
                number = self._next.get(obj_type, FIRST_INSTANCE)
                if number > MAX_INSTANCE:
                    raise StateError(f"no {obj_type} instance numbers left")
                assigned[uid] = number
                self._next[obj_type] = number + 1
                dirty = True
            out[uid] = number
        if dirty:
            self.save()
        return out

    def cov_increment(self, obj_type: str, uid: str) -> float | None:
        """A COV increment a BMS wrote for this object, if any."""
        return self._cov.get(f"{obj_type}:{uid}")

    def set_cov_increment(self, obj_type: str, uid: str, value: float) -> None:
        """Remember a COV increment written over BACnet."""
        self._cov[f"{obj_type}:{uid}"] = value
        self.save()

    def save(self) -> None:
        """Write the file (atomically)."""
        write_json(
            self.path,
            {
                "version": FORMAT_VERSION,
                "comment": "BACnet instance numbers of the AcuRev bridge. Never edit a number: "
                "BMS references depend on it.",
                "types": {
                    t: {"next": self._next.get(t, FIRST_INSTANCE), "instances": m}
                    for t, m in sorted(self._types.items())
                },
                "cov_increments": dict(sorted(self._cov.items())),
            },
        )


class DeviceState:
    """Database_Revision, bumped (and persisted) when the object list changes."""

    def __init__(self, state_dir: Path) -> None:
        """Load the revision (1 for a new device)."""
        self.path = state_dir / DEVICE_FILE
        data = read_json(self.path) or {}
        self.database_revision = int(data.get("database_revision", 1))
        self._fingerprint = str(data.get("object_list_fingerprint", ""))

    @staticmethod
    def fingerprint(objects: Iterable[tuple[str, int, str]]) -> str:
        """A digest of (type, instance, name) for every object."""
        digest = hashlib.sha256()
        for obj_type, instance, name in sorted(objects):
            digest.update(f"{obj_type}:{instance}:{name}\n".encode())
        return digest.hexdigest()

    def update(self, objects: Iterable[tuple[str, int, str]]) -> bool:
        """Record the current object list; True (and a new revision) when it changed."""
        fingerprint = self.fingerprint(objects)
        if fingerprint == self._fingerprint:
            return False
        if self._fingerprint:
            self.database_revision += 1
        self._fingerprint = fingerprint
        write_json(
            self.path,
            {
                "version": FORMAT_VERSION,
                "database_revision": self.database_revision,
                "object_list_fingerprint": fingerprint,
            },
        )
        return True

"""What the SNMP agent persists in the bridge's state directory.

* ``snmp-engine.json``: the snmpEngineID (created once) and snmpEngineBoots (incremented on
  every start, RFC 3414 2.2). pysnmp's default engine ID contains the host name, the PID and
  an object id, so it changes on every start, and its boot counter always starts at 1
  (pitfall S8): an NMS that caches them, and every SNMPv3 trap receiver, would break.
* ``snmp-meter-index.json``: serial number -> acurevMeterIndex. An index is given once, the
  first time a serial is seen, and never reused, so an NMS's OIDs do not move across
  restarts or when meters come and go.

Both files are written atomically (temporary file + rename).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..durable import fsync_dir
from .oids import ENTERPRISE_NUMBER

_LOGGER = logging.getLogger(__name__)

ENGINE_FILE = "snmp-engine.json"
METER_INDEX_FILE = "snmp-meter-index.json"
MAX_BOOTS = 2147483647  # RFC 3414: stays here once reached (the engine ID must then change)
MAX_METER_INDEX = 65535


def new_engine_id() -> bytes:
    """An RFC 3411 engine ID: enterprise number with the top bit set, format 5 (octets), random."""
    return (0x80000000 | ENTERPRISE_NUMBER).to_bytes(4, "big") + b"\x05" + secrets.token_bytes(8)


@dataclass(frozen=True, slots=True)
class EngineState:
    """The persisted identity of the SNMP engine for this start."""

    engine_id: bytes
    boots: int


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
        fsync_dir(path.parent)  # the rename itself survives a power cut
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> Any:
    """The file's JSON, None when it does not exist; a broken file is set aside."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        broken = path.with_name(path.name + ".broken")
        _LOGGER.error("%s is unreadable (%s); moved to %s and starting afresh", path, err, broken)
        path.replace(broken)
        return None


def next_engine_state(state_dir: Path) -> EngineState:
    """Load the engine ID (creating it once) and count this start as one more boot."""
    path = state_dir / ENGINE_FILE
    raw = _read_json(path)
    engine_id: bytes | None = None
    boots = 0
    if isinstance(raw, dict):
        try:
            engine_id = bytes.fromhex(str(raw["engine_id"]))
            boots = int(raw["boots"])
        except (KeyError, ValueError, TypeError):
            _LOGGER.error("%s lacks a valid engine_id/boots; creating a new engine ID", path)
            engine_id, boots = None, 0
    if engine_id is None or not 5 <= len(engine_id) <= 32:
        engine_id, boots = new_engine_id(), 0
        _LOGGER.info("new SNMP engine ID %s", engine_id.hex())
    boots = min(max(boots, 0) + 1, MAX_BOOTS)
    _write_json(path, {"engine_id": engine_id.hex(), "boots": boots})
    return EngineState(engine_id, boots)


class MeterIndexMap:
    """Serial number -> stable acurevMeterIndex, persisted as soon as one is assigned."""

    def __init__(self, state_dir: Path) -> None:
        """Load the map (an absent file is an empty map)."""
        self._path = state_dir / METER_INDEX_FILE
        raw = _read_json(self._path)
        self._map: dict[str, int] = {}
        if isinstance(raw, dict):
            for serial, index in raw.items():
                if isinstance(index, int) and 1 <= index <= MAX_METER_INDEX:
                    self._map[str(serial)] = index

    def get(self, serial: str) -> int:
        """The serial's index, assigned (max + 1, never reused) and saved when new."""
        index = self._map.get(serial)
        if index is None:
            index = max(self._map.values(), default=0) + 1
            if index > MAX_METER_INDEX:
                raise ValueError("no acurevMeterIndex left")
            self._map[serial] = index
            _write_json(self._path, self._map)
        return index

    def as_dict(self) -> dict[str, int]:
        """A copy of the map."""
        return dict(self._map)

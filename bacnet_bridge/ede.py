"""EDE export: the engineering-data file set BMS tools import (BIG-EU EDE, layout 2.3).

Four semicolon-separated files, CRLF line ends, UTF-8, named after the project:

* ``<project>_EDE.csv``: five header lines (PROJECT_NAME, VERSION_OF_REFERENCEFILE,
  TIMESTAMP_OF_LAST_CHANGE, AUTHOR_OF_LAST_CHANGE, VERSION_OF_LAYOUT 2.3), the
  ``#mandatory;...`` line, the column-title line and one row per object (the device
  first): keyname; device obj.-instance; object-name; object-type (numeric code);
  object-instance; description; present-value-default; min-present-value;
  max-present-value; settable (Y/N); supports COV (Y/N); hi-limit; low-limit;
  state-text-reference; unit-code (numeric); vendor-specific-address (here: the Home
  Assistant entity id the object mirrors);
* ``<project>_StateTexts.csv``: reference number; inactive text; active text (for the
  binary objects' state-text-reference);
* ``<project>_ObjTypes.csv`` and ``<project>_Units.csv``: code -> text for every
  standard object type and engineering unit (some importers skip these, some need them).

The objects are the ones the bridge's BACnet device serves: the object list and
instance numbers persisted in the state directory. When the bridge has never run, the
export reads Home Assistant once and numbers the objects itself (the state it then
writes is what the bridge will use), so the files always match the device.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from bacpypes3.basetypes import EngineeringUnits
from bacpypes3.primitivedata import ObjectType

from . import __version__
from .bacnet.device import (
    AI,
    BI,
    BO,
    OBJECT_TYPE_CODES,
    OBJECTS_FILE,
    ObjectSpec,
    sort_key,
    spec_for,
)
from .bacnet.state import InstanceMap, read_json, write_json
from .config import Config

_LOGGER = logging.getLogger(__name__)

LAYOUT_VERSION = "2.3"
SEP = ";"
EOL = "\r\n"
COLUMNS = (
    "keyname",
    "device obj.-instance",
    "object-name",
    "object-type",
    "object-instance",
    "description",
    "present-value-default",
    "min-present-value",
    "max-present-value",
    "settable",
    "supports COV",
    "hi-limit",
    "low-limit",
    "state-text-reference",
    "unit-code",
    "vendor-specific-address",
)


class ExportError(Exception):
    """Nothing to export (or the state cannot be read)."""


@dataclass(frozen=True, slots=True)
class EdeObject:
    """One exported object (an ObjectSpec with its instance number)."""

    spec: ObjectSpec
    instance: int


def _clean(text: str) -> str:
    # A separator or a line break inside a field would shift every following column.
    return re.sub(r"[;\r\n]+", " ", text).strip()


def objects_from_state(config: Config) -> list[EdeObject]:
    """The objects as the bridge persisted them (object list and instance numbers)."""
    data = read_json(config.state_dir / OBJECTS_FILE) or {}
    instances = InstanceMap(config.state_dir)
    out: list[EdeObject] = []
    for raw in data.get("objects") or []:
        spec = ObjectSpec(**raw)
        instance = instances.get(spec.obj_type, spec.uid)
        if instance is not None:
            out.append(EdeObject(spec, instance))
    return sorted(out, key=lambda o: sort_key(o.spec))


async def objects_from_home_assistant(config: Config, timeout: float = 30.0) -> list[EdeObject]:  # noqa: ASYNC109
    """Read Home Assistant once and number the objects (first export before any bridge run)."""
    from .ha_client import HomeAssistantClient
    from .model import PointTable

    table = PointTable()
    client = HomeAssistantClient(config, table, min_backoff=1.0, max_backoff=5.0)
    await client.start()
    try:
        await client.wait_synced(timeout)
    except TimeoutError as err:
        raise ExportError(
            f"Home Assistant at {config.home_assistant.url} did not answer within {timeout:.0f} s"
        ) from err
    finally:
        await client.close()
    specs = sorted(
        (s for p in table.points.values() if (s := spec_for(p)) is not None), key=sort_key
    )
    instances = InstanceMap(config.state_dir)
    out = []
    for spec in specs:
        number = instances.assign(spec.obj_type, [spec.uid])[spec.uid]
        out.append(EdeObject(spec, number))
    write_json(
        config.state_dir / OBJECTS_FILE, {"version": 1, "objects": [asdict(o.spec) for o in out]}
    )
    return out


def project_name(config: Config) -> str:
    """A file-name-safe project name from the device name."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", config.bacnet.device_name).strip("_") or "acurev"


def write_ede(
    config: Config,
    objects: Sequence[EdeObject],
    out_dir: Path,
    *,
    project: str | None = None,
    now: datetime | None = None,
) -> list[Path]:
    """Write the four EDE files; return their paths."""
    if not objects:
        raise ExportError("no BACnet objects to export (no AcuRev entities found)")
    project = project or project_name(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now().astimezone()
    bc = config.bacnet
    state_texts: list[tuple[str, str]] = []

    def text_ref(spec: ObjectSpec) -> str:
        pair = (spec.inactive_text, spec.active_text)
        if pair not in state_texts:
            state_texts.append(pair)
        return str(state_texts.index(pair) + 1)

    rows: list[list[str]] = [
        [
            _clean(bc.device_name),
            str(bc.device_instance),
            _clean(bc.device_name),
            str(OBJECT_TYPE_CODES["device"]),
            str(bc.device_instance),
            f"AcuRev bridge {__version__}",
            "",
            "",
            "",
            "N",
            "N",
            "",
            "",
            "",
            "",
            "",
        ]
    ]
    for obj in objects:
        spec = obj.spec
        settable = spec.obj_type == BO and bc.allow_relay_commands
        rows.append(
            [
                _clean(spec.name),
                str(bc.device_instance),
                _clean(spec.name),
                str(OBJECT_TYPE_CODES[spec.obj_type]),
                str(obj.instance),
                _clean(spec.description),
                "0" if spec.obj_type == BO else "",
                "",
                "",
                "Y" if settable else "N",
                "Y",
                "",
                "",
                text_ref(spec) if spec.obj_type in (BI, BO) else "",
                str(spec.mapping.code) if spec.obj_type == AI else "",
                _clean(spec.entity_id or spec.uid),
            ]
        )
    header = [
        "# Engineering-Data-Exchange - B.I.G.-EU",
        f"PROJECT_NAME{SEP}{_clean(project)}",
        f"VERSION_OF_REFERENCEFILE{SEP}1",
        f"TIMESTAMP_OF_LAST_CHANGE{SEP}{now.strftime('%d.%m.%Y %H:%M:%S')}",
        f"AUTHOR_OF_LAST_CHANGE{SEP}AcuRev bridge {__version__}",
        f"VERSION_OF_LAYOUT{SEP}{LAYOUT_VERSION}",
        "#" + SEP.join(["mandatory"] * 5 + ["optional"] * 11),
        "# " + SEP.join(COLUMNS),
    ]
    files = {
        f"{project}_EDE.csv": header + [SEP.join(r) for r in rows],
        f"{project}_StateTexts.csv": [
            "#State Text Reference",
            f"#Reference Number{SEP}Text 1 or Inactive-Text{SEP}Text 2 or Active-Text",
            *(f"{i}{SEP}{_clean(a)}{SEP}{_clean(b)}" for i, (a, b) in enumerate(state_texts, 1)),
        ],
        f"{project}_ObjTypes.csv": [
            f"#Encoding of BACnet Object Types{SEP}",
            f"#Code{SEP}Object Type{SEP}",
            *(f"{code}{SEP}{name}{SEP}" for code, name in _enum_texts(ObjectType)),
        ],
        f"{project}_Units.csv": [
            f"#Encoding of BACnet Engineering Units{SEP}",
            f"#Code{SEP}Unit Text{SEP}",
            *(f"{code}{SEP}{name}{SEP}" for code, name in _enum_texts(EngineeringUnits)),
        ],
    }
    paths = []
    for name, lines in files.items():
        path = out_dir / name
        path.write_text(EOL.join(lines) + EOL, encoding="utf-8", newline="")
        paths.append(path)
    return paths


def _enum_texts(enum: type) -> list[tuple[int, str]]:
    """(code, standard hyphenated name) for every value of a bacpypes3 enumeration."""
    codes = sorted(set(enum._enum_map.values()))  # type: ignore[attr-defined]
    return [(code, str(enum(code))) for code in codes]


async def export(config: Config, out_dir: Path, project: str | None = None) -> list[Path]:
    """The ``ede`` command: persisted objects, else a one-off read of Home Assistant."""
    objects = objects_from_state(config)
    if not objects:
        _LOGGER.info("no BACnet state in %s yet; reading Home Assistant", config.state_dir)
        objects = await objects_from_home_assistant(config)
    return write_ede(config, objects, out_dir, project=project)

"""The point-key grammar: one place that spells and reads a point's key.

A point key (``ch01_import_energy``, ``user2_current_a``, ``relay_3``, ``di_4_count``,
``alarm_7``, ``voltage_a``, ``frequency``) is a public contract: Home Assistant unique ids are
``<serial>_<key>``, the bridge maps entities back to points by it, and BACnet object names and
SNMP table rows are derived from it. Every consumer (integration, device triggers, bridge, and
through the bridge's structured API fields the Node-RED palette) reads a key through
:func:`parse` and builds one through the helpers below, so the grammar cannot drift between them.

Roles:

* ``CHANNEL`` - ``ch`` + two digits + ``_`` + field (``ch01_current``); a channel field never
  carries a phase suffix (a channel is one CT).
* ``USER`` - ``user`` + number + ``_`` + field, optionally ``_a|_b|_c`` for a per-phase value of
  a multi-phase user circuit (``user2_active_power_b``).
* ``RELAY`` / ``DI`` / ``DI_COUNT`` / ``ALARM`` - ``relay_N``, ``di_N``, ``di_N_count``,
  ``alarm_N`` (N without leading zeros: ``relay_03`` is not a key).
* ``PHASE`` - a system field with a phase suffix (``current_a``).
* ``SYSTEM`` - anything else made of lower-case words (``frequency``, ``voltage_ab``).

Numbers are checked against the largest count of any supported model (``ROLE_LIMITS``, from
``registers`` and the model ``profiles``): a key for relay 9 or user 10 does not parse, because
no AcuRev has one; ``user9_...`` parses (an AcuRev 2100 has nine users), and which users one meter
has is its profile's business (``DeviceInfo.users``), not the grammar's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from .profiles import MAX_USER_COUNT
from .registers import ALARM_CHANNEL_COUNT, CHANNEL_COUNT, DI_COUNT, RELAY_COUNT


class Role(StrEnum):
    """What a point belongs to."""

    SYSTEM = "system"
    PHASE = "phase"
    CHANNEL = "channel"
    USER = "user"
    RELAY = "relay"
    DI = "di"
    DI_COUNT = "di_count"
    ALARM = "alarm"


PHASE_SUFFIXES = ("a", "b", "c")

# The highest number each numbered role can have on any supported meter.
ROLE_LIMITS: dict[Role, int] = {
    Role.CHANNEL: CHANNEL_COUNT,
    Role.USER: MAX_USER_COUNT,  # the AcuRev 2100's nine (profiles); a 2020 has six
    Role.RELAY: RELAY_COUNT,
    Role.DI: DI_COUNT,
    Role.DI_COUNT: DI_COUNT,
    Role.ALARM: ALARM_CHANNEL_COUNT,
}

_NUMBER = r"([1-9][0-9]*)"  # no leading zeros: one spelling per number
_FIELD = r"([a-z]+(?:_[a-z]+)*)"
_PATTERNS: tuple[tuple[Role, re.Pattern[str]], ...] = (
    (Role.CHANNEL, re.compile(rf"ch([0-9]{{2}})_{_FIELD}")),
    (Role.USER, re.compile(rf"user{_NUMBER}_{_FIELD}")),
    (Role.DI_COUNT, re.compile(rf"di_{_NUMBER}_count")),
    (Role.DI, re.compile(rf"di_{_NUMBER}")),
    (Role.RELAY, re.compile(rf"relay_{_NUMBER}")),
    (Role.ALARM, re.compile(rf"alarm_{_NUMBER}")),
)
# A key that starts like a numbered role but does not match that role's pattern is malformed,
# not a system field: "relay_03" must not become a system point called "relay_03".
_NUMBERED_PREFIX = re.compile(r"(ch[0-9]|user[0-9]|relay_|di_|alarm_)")
_PLAIN = re.compile(_FIELD)


def _split_phase(field: str) -> tuple[str, str | None]:
    head, _, tail = field.rpartition("_")
    if head and tail in PHASE_SUFFIXES:
        return head, tail
    return field, None


@dataclass(frozen=True, slots=True)
class PointRef:
    """A parsed point key: its role, number (channel, user, relay ...), field and phase."""

    role: Role
    field: str | None = None
    number: int | None = None
    phase: str | None = None

    @property
    def key(self) -> str:
        """The canonical key (``parse(ref.key) == ref`` for every valid reference)."""
        suffix = f"_{self.phase}" if self.phase else ""
        match self.role:
            case Role.CHANNEL:
                return f"ch{self.number:02d}_{self.field}"
            case Role.USER:
                return f"user{self.number}_{self.field}{suffix}"
            case Role.RELAY:
                return f"relay_{self.number}"
            case Role.DI:
                return f"di_{self.number}"
            case Role.DI_COUNT:
                return f"di_{self.number}_count"
            case Role.ALARM:
                return f"alarm_{self.number}"
            case _:
                return f"{self.field}{suffix}"

    @property
    def channel(self) -> int | None:
        """The CT channel the point measures (channel points and per-channel alarms)."""
        return self.number if self.role in (Role.CHANNEL, Role.ALARM) else None

    @property
    def user(self) -> int | None:
        """The user circuit the point measures."""
        return self.number if self.role is Role.USER else None


def parse(key: str) -> PointRef | None:
    """The reference a key spells, or None when the key is not in the grammar."""
    for role, pattern in _PATTERNS:
        if not (match := pattern.fullmatch(key)):
            continue
        number = int(match.group(1))
        if not 1 <= number <= ROLE_LIMITS[role]:
            return None
        if role is Role.CHANNEL:
            field = match.group(2)
            if _split_phase(field)[1] is not None:
                return None
            return PointRef(role, field, number)
        if role is Role.USER:
            field, phase = _split_phase(match.group(2))
            return PointRef(role, field, number, phase)
        return PointRef(role, None, number)
    if _NUMBERED_PREFIX.match(key) or not _PLAIN.fullmatch(key):
        return None
    field, phase = _split_phase(key)
    return PointRef(Role.PHASE, field, None, phase) if phase else PointRef(Role.SYSTEM, key)


def channel(number: int, field: str) -> str:
    """``ch01_<field>``."""
    return _checked(PointRef(Role.CHANNEL, field, number))


def user(number: int, field: str, phase: str | None = None) -> str:
    """``user2_<field>`` or, per phase, ``user2_<field>_b``."""
    return _checked(PointRef(Role.USER, field, number, phase))


def phase(field: str, phase: str) -> str:
    """``<field>_a``: a per-phase system value."""
    return _checked(PointRef(Role.PHASE, field, None, phase))


def system(field: str) -> str:
    """A system-wide value's key (the field itself)."""
    return _checked(PointRef(Role.SYSTEM, field))


def relay(number: int) -> str:
    """``relay_3``."""
    return _checked(PointRef(Role.RELAY, None, number))


def digital_input(number: int) -> str:
    """``di_4``: the input's state."""
    return _checked(PointRef(Role.DI, None, number))


def di_count(number: int) -> str:
    """``di_4_count``: the input's pulse counter."""
    return _checked(PointRef(Role.DI_COUNT, None, number))


def alarm(number: int) -> str:
    """``alarm_7``: the over-limit alarm of channel 7."""
    return _checked(PointRef(Role.ALARM, None, number))


def _checked(ref: PointRef) -> str:
    key = ref.key
    if parse(key) != ref:
        raise ValueError(f"not a valid point key: {key!r}")
    return key

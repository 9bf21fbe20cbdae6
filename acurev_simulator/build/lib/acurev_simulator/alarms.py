"""The alarm engine: 16 channels comparing one 0x2000 value each against a set-point.

A channel (0x1210 + 8(n-1)) is armed when it and ``alarm_global_enable`` are
1. Its parameter label is the index of the value in ``layouts.SYSTEM_FLOAT_KEYS``;
compare 0 means "alarm while value < set-point", 1 "while value > set-point".
The condition must hold for ``delay`` seconds of simulated time before the
alarm occurs; it recovers as soon as the condition no longer holds (or the
channel is disarmed). Both transitions write a record to the 20-record ring.
The engine runs when simulated time advances, not when a value is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pyacurev.codec import decode_float32
from pyacurev.layouts import ALARM_SETTING_SIZE, SYSTEM_FLOAT_KEYS
from pyacurev.models import AlarmRecord
from pyacurev.registers import ALARM_CHANNEL_COUNT

from .rings import Ring

US = 1_000_000
LESS, GREATER = 0, 1


@dataclass(frozen=True, slots=True)
class AlarmSetting:
    """One alarm channel's 8 setting registers, decoded."""

    channel: int
    enabled: bool
    label: int
    compare: int
    setpoint: float
    delay_s: int
    relay: int

    @classmethod
    def decode(cls, channel: int, regs: list[int], armed: bool = True) -> AlarmSetting:
        """From the 8 registers (+0 enable, +1 label, +2 compare, +3 set-point, +5 delay,
        +6 relay); ``armed`` False (alarm_global_enable = 0) disables every channel."""
        return cls(
            channel,
            armed and regs[0] == 1,
            regs[1],
            regs[2],
            decode_float32(regs[3:5]),
            regs[5],
            regs[6],
        )

    def condition(self, values: dict[str, float]) -> bool:
        """True while the compared value is beyond the set-point."""
        if not self.enabled or not 0 <= self.label < len(SYSTEM_FLOAT_KEYS):
            return False
        value = values[SYSTEM_FLOAT_KEYS[self.label]]
        return value > self.setpoint if self.compare == GREATER else value < self.setpoint


def decode_settings(regs: list[int], armed: bool = True) -> list[AlarmSetting]:
    """All 16 channels from the 128-register block (``armed``: alarm_global_enable)."""
    return [
        AlarmSetting.decode(
            n + 1, regs[n * ALARM_SETTING_SIZE : (n + 1) * ALARM_SETTING_SIZE], armed
        )
        for n in range(ALARM_CHANNEL_COUNT)
    ]


@dataclass(frozen=True, slots=True)
class Transition:
    """An alarm that just occurred or recovered (the meter drives its relay from this)."""

    setting: AlarmSetting
    occurred: bool


class AlarmEngine:
    """State of the 16 alarm channels and the alarm ring."""

    def __init__(self) -> None:
        """No alarm active, empty ring."""
        self.ring: Ring[AlarmRecord] = Ring()
        self.active = [False] * ALARM_CHANNEL_COUNT
        self._held_us = [0] * ALARM_CHANNEL_COUNT

    @property
    def bitmap(self) -> int:
        """active_alarm_bitmap: bit n-1 = channel n active."""
        return sum(1 << i for i, on in enumerate(self.active) if on)

    def hold(self, settings: list[AlarmSetting], values: dict[str, float], dt_us: int) -> None:
        """``dt_us`` of simulated time passed with ``values`` constant."""
        for s in settings:
            if s.condition(values) and not self.active[s.channel - 1]:
                self._held_us[s.channel - 1] += dt_us

    def next_trip_us(self, settings: list[AlarmSetting], values: dict[str, float]) -> int | None:
        """Microseconds until the first pending alarm would occur (None: none pending)."""
        waits = [
            max(0, s.delay_s * US - self._held_us[s.channel - 1])
            for s in settings
            if s.condition(values) and not self.active[s.channel - 1]
        ]
        return min(waits) if waits else None

    def evaluate(
        self, settings: list[AlarmSetting], values: dict[str, float], now: datetime
    ) -> list[Transition]:
        """Trip and recover alarms at ``now``; write their records."""
        changes = []
        for s in settings:
            i = s.channel - 1
            if not s.condition(values):
                self._held_us[i] = 0
                if self.active[i]:
                    self.active[i] = False
                    self._record(s, values, now, occurred=False)
                    changes.append(Transition(s, occurred=False))
            elif not self.active[i] and self._held_us[i] >= s.delay_s * US:
                self.active[i] = True
                self._record(s, values, now, occurred=True)
                changes.append(Transition(s, occurred=True))
        return changes

    def _record(
        self, s: AlarmSetting, values: dict[str, float], now: datetime, *, occurred: bool
    ) -> None:
        label = s.label if 0 <= s.label < len(SYSTEM_FLOAT_KEYS) else 0
        value = values[SYSTEM_FLOAT_KEYS[label]]
        self.ring.push(lambda slot: AlarmRecord(slot, occurred, s.channel, s.label, value, now))

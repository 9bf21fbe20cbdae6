"""The meter's settings as raw registers: what FC16 wrote is what FC03 reads back.

Every read/write block of the map that is a plain setting lives here, keyed by
its register-map key; the meter model reads its behaviour from these registers
(wiring, demand period, billing day, TOU programme, alarm set-points, ...), so
a setting changed over Modbus and one changed by a test are the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pyacurev.codec import decode_float32, decode_uint32
from pyacurev.registers import block


class ConfigStore:
    """Raw register values of the setting blocks."""

    def __init__(self, values: Mapping[str, Iterable[int]]) -> None:
        """Start from ``values`` (block key -> registers); every block must be complete."""
        self._regs: dict[str, list[int]] = {}
        for key, regs in values.items():
            self.set(key, list(regs))

    def __contains__(self, key: object) -> bool:
        """True for a block kept here."""
        return key in self._regs

    def keys(self) -> tuple[str, ...]:
        """Block keys kept here."""
        return tuple(self._regs)

    def get(self, key: str) -> list[int]:
        """A copy of the block's registers."""
        return list(self._regs[key])

    def set(self, key: str, regs: list[int]) -> None:
        """Replace a whole block (length and 16-bit range checked)."""
        size = block(key).count
        if len(regs) != size or any(not 0 <= r <= 0xFFFF for r in regs):
            raise ValueError(f"{key} needs {size} registers of 0..65535, got {regs!r}")
        self._regs[key] = list(regs)

    def value(self, key: str, index: int = 0) -> int:
        """One register of a block."""
        return self._regs[key][index]

    def set_value(self, key: str, value: int, index: int = 0) -> None:
        """Change one register of a block."""
        regs = self.get(key)
        regs[index] = value
        self.set(key, regs)

    def uint32(self, key: str, index: int = 0) -> int:
        """A 32-bit value at register ``index`` of a block."""
        return decode_uint32(self._regs[key][index : index + 2])

    def float32(self, key: str, index: int = 0) -> float:
        """A float at register ``index`` of a block."""
        return decode_float32(self._regs[key][index : index + 2])

"""A sparse copy of the meter's registers and bits, filled by one poll's reads.

Decoders read only from an image, never from the network, so a decoder that
asks for a register the poll did not fetch fails loudly (a planning bug)
instead of decoding a default 0 as if the meter had said it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .registers import Space, block


class MissingRegistersError(LookupError):
    """The image does not hold registers a decoder asked for (a planning bug)."""


class RegisterImage:
    """Registers (FC03) and bits (FC01/FC02) by address."""

    __slots__ = ("_bits", "_regs")

    def __init__(self) -> None:
        """Start empty."""
        self._regs: dict[int, int] = {}
        self._bits: dict[Space, dict[int, bool]] = {
            Space.COIL: {},
            Space.DISCRETE_INPUT: {},
        }

    def add(self, address: int, values: Sequence[int]) -> None:
        """Store registers read from ``address`` onward."""
        regs = self._regs
        for offset, value in enumerate(values):
            regs[address + offset] = value

    def add_bits(self, space: Space, address: int, values: Iterable[bool]) -> None:
        """Store coils or discrete inputs read from ``address`` onward."""
        store = self._bits[space]
        for offset, value in enumerate(values):
            store[address + offset] = bool(value)

    def merge(self, other: RegisterImage) -> None:
        """Take every register and bit ``other`` holds."""
        self._regs.update(other._regs)
        for space, store in other._bits.items():
            self._bits[space].update(store)

    def has(self, address: int, count: int = 1) -> bool:
        """True when every register of the range was read."""
        regs = self._regs
        return all(a in regs for a in range(address, address + count))

    def has_block(self, key: str) -> bool:
        """True when the whole block was read (registers or bits)."""
        blk = block(key)
        if blk.space is Space.HOLDING:
            return self.has(blk.address, blk.count)
        store = self._bits[blk.space]
        return all(a in store for a in range(blk.address, blk.end))

    def words(self, address: int, count: int) -> list[int]:
        """Registers ``[address, address + count)``; MissingRegistersError if any was not read."""
        regs = self._regs
        try:
            return [regs[a] for a in range(address, address + count)]
        except KeyError as exc:
            raise MissingRegistersError(
                f"register 0x{exc.args[0]:04X} was not read (asked for 0x{address:04X} x{count})"
            ) from None

    def word(self, address: int) -> int:
        """One register."""
        return self.words(address, 1)[0]

    def bits(self, space: Space, address: int, count: int) -> list[bool]:
        """Coils or discrete inputs; MissingRegistersError if any was not read."""
        store = self._bits[space]
        try:
            return [store[a] for a in range(address, address + count)]
        except KeyError as exc:
            raise MissingRegistersError(f"{space} 0x{exc.args[0]:04X} was not read") from None

    def block_words(self, key: str) -> list[int]:
        """All registers of a holding block."""
        blk = block(key)
        return self.words(blk.address, blk.count)

    @property
    def register_count(self) -> int:
        """Registers held."""
        return len(self._regs)

    def __len__(self) -> int:
        """Registers plus bits held."""
        return len(self._regs) + sum(len(s) for s in self._bits.values())

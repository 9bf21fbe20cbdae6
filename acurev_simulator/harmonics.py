"""Power-quality values of the 333 mV build: fixed, seeded spectra that are self-consistent.

Each spectrum gives harmonic orders 2..31 in % of the fundamental; THD is
sqrt(sum of squares), the K-factor is sum(I_h^2 h^2) / sum(I_h^2) over orders
1..31 with I_1 = 100 %. A channel without current reads 0 for THD and K-factor.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from pyacurev.registers import CHANNEL_COUNT

ORDERS: tuple[int, ...] = tuple(range(2, 32))


def thd(spectrum: tuple[float, ...]) -> float:
    """Total harmonic distortion in % from orders 2..31 in %."""
    return math.sqrt(sum(h * h for h in spectrum))


def k_factor(spectrum: tuple[float, ...]) -> float:
    """K-factor of a current spectrum (orders 2..31 in %, fundamental 100 %)."""
    num = 1.0 + sum((h / 100) ** 2 * order**2 for h, order in zip(spectrum, ORDERS, strict=True))
    den = 1.0 + sum((h / 100) ** 2 for h in spectrum)
    return num / den


def crest_factor(thd_percent: float) -> float:
    """A plausible crest factor for a voltage with this much distortion."""
    return math.sqrt(2) * (1 + 0.5 * thd_percent / 100)


def _spectrum(rng: random.Random, level: float) -> tuple[float, ...]:
    return tuple(
        level * 3.0 / order * rng.uniform(0.8, 1.2) if order % 2 else 0.05 * level / 10
        for order in ORDERS
    )


@dataclass(frozen=True, slots=True)
class Harmonics:
    """Voltage spectra per phase and current spectra per channel."""

    voltage: tuple[tuple[float, ...], ...]
    channel: tuple[tuple[float, ...], ...]

    @classmethod
    def seeded(cls, seed: int) -> Harmonics:
        """Voltage THD around 2-3 %, channel current THD between 5 and 40 %."""
        rng = random.Random(seed ^ 0x5EED)
        voltage = tuple(_spectrum(rng, 1.8) for _ in range(3))
        channel = tuple(_spectrum(rng, rng.uniform(4.0, 30.0)) for _ in range(CHANNEL_COUNT))
        return cls(voltage, channel)


def odd_thd(spectrum: tuple[float, ...]) -> float:
    """THD of the odd orders 3..31 in %."""
    return math.sqrt(sum(h * h for h, order in zip(spectrum, ORDERS, strict=True) if order % 2))


def even_thd(spectrum: tuple[float, ...]) -> float:
    """THD of the even orders 2..30 in %."""
    return math.sqrt(sum(h * h for h, order in zip(spectrum, ORDERS, strict=True) if not order % 2))

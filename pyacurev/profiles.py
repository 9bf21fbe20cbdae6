"""Model profiles: what an AcuRev 2020 and an AcuRev 2100 have, read from the one register table.

The 2100 is the 2020's successor with the same map (the evidence of
``docs/reference/register-map.md`` is its vendor workbook), plus rows only it
has: user records 7-9 at 0x2214 and their energy at 0x2538, 0x2B70 and 0x2B76
(``Block.model == "2100"``). A profile is therefore not a second map: it is the
subset of ``registers.REGISTER_MAP`` a model's rows carry, and everything
counted from it (users, the key grammar's limits, the bridge's and palette's
tables) follows the table. The wiring types come from 0x0888's vendor codes
(S10): codes 3-5 (high-leg delta, 2LL, 2LN network) are the 2100's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .layouts import Wiring, circuits
from .registers import REGISTER_MAP, Block, block


class MeterModel(StrEnum):
    """A supported meter family (the number the identity block and the model name carry)."""

    ACUREV_2020 = "2020"
    ACUREV_2100 = "2100"


# Rows holding user records, in user order (a model has the ones tagged for it).
USER_RECORD_ROWS: tuple[str, ...] = ("user_record", "user_record_2100")


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """One model: its name, wiring types and the rows of the table it has."""

    model: MeterModel
    wirings: tuple[Wiring, ...]
    evidence: str

    @property
    def name(self) -> str:
        """'AcuRev 2100'."""
        return f"AcuRev {self.model}"

    def has(self, blk: Block) -> bool:
        """True when this model's map has the row."""
        return blk.on_model(self.model)

    @property
    def rows(self) -> tuple[Block, ...]:
        """The table's rows this model has."""
        return tuple(b for b in REGISTER_MAP if self.has(b))

    @property
    def user_count(self) -> int:
        """User records the model's map holds (6 on the 2020, 9 on the 2100)."""
        return sum(
            block(k).count // block(k).record for k in USER_RECORD_ROWS if self.has(block(k))
        )

    def users(self, wiring: Wiring, installed_channels: int) -> tuple[int, ...]:
        """User circuits of this model in ``wiring`` (none in 1LN)."""
        if wiring is Wiring.ONE_LN:
            return ()
        return circuits(wiring, installed_channels, self.user_count)


PROFILES: dict[MeterModel, ModelProfile] = {
    MeterModel.ACUREV_2020: ModelProfile(
        MeterModel.ACUREV_2020,
        (Wiring.ONE_LN, Wiring.TWO_LN, Wiring.THREE_LN),
        "2000 manual (S1) for energy, log and the 0x2000 floats; the rest from the 2100 map "
        "(same layout wherever both could be checked)",
    ),
    MeterModel.ACUREV_2100: ModelProfile(
        MeterModel.ACUREV_2100,
        (
            Wiring.ONE_LN,
            Wiring.TWO_LN,
            Wiring.THREE_LN,
            Wiring.HIGH_LEG_DELTA,
            Wiring.TWO_LL,
            Wiring.TWO_LN_NETWORK,
        ),
        "vendor workbook v1.02 (S9) and a live FW v1.20 settings test (S10)",
    ),
}
# The most user circuits any supported model has (the key grammar's limit).
MAX_USER_COUNT = max(p.user_count for p in PROFILES.values())


def profile_for(model: int | str | None) -> ModelProfile:
    """The profile of a model number; anything but 2100 (0 = unidentified) is a 2020."""
    if str(model) == MeterModel.ACUREV_2100:
        return PROFILES[MeterModel.ACUREV_2100]
    return PROFILES[MeterModel.ACUREV_2020]


__all__ = [
    "MAX_USER_COUNT",
    "PROFILES",
    "USER_RECORD_ROWS",
    "MeterModel",
    "ModelProfile",
    "profile_for",
]

"""Field layouts inside the map's records, and the meter's wiring tables.

Kept beside the register table (and as data) for the same reason: the record
layouts are DESIGNED, so they must be correctable in one place that both the
decoders and the simulator's encoder use.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from .registers import CHANNEL_COUNT, REGISTER_MAP, USER_COUNT, DataType, block

# Most user circuits any supported model has: the 2100's nine two-input pairs of 18 CTs.
MAX_USERS = CHANNEL_COUNT // 2

# The 0x2000 system float table in address order (its position is the alarm parameter label).
SYSTEM_FLOAT_KEYS: tuple[str, ...] = tuple(
    b.key
    for b in REGISTER_MAP
    if b.dtype is DataType.FLOAT32
    and block("f").address <= b.address < block("reserved_system").address
)

# Input-channel record: 6 floats, 12 registers.
CHANNEL_FIELDS: tuple[str, ...] = (
    "current",
    "active_power",
    "reactive_power",
    "apparent_power",
    "power_factor",
    "load_nature",
)

# User (2LN/3LN circuit) record: 5 floats, 10 registers (vendor map: totals only;
# per-phase user values are the member channels' own records).
USER_FIELDS: tuple[str, ...] = (
    "active_power",
    "reactive_power",
    "apparent_power",
    "power_factor",
    "load_nature",
)


class DemandOffset(IntEnum):
    """Register offsets inside one 9-register demand record (one quantity)."""

    DEMAND = 0
    PREDICTED = 2
    PEAK = 4
    PEAK_TIME = 6  # 3-register packed time


DEMAND_RECORD_SIZE = 9


class DemandQuantity(StrEnum):
    """Quantities a demand group holds, each one 9-register record, in map order."""

    CURRENT = "current"
    ACTIVE = "active"
    REACTIVE = "reactive"
    APPARENT = "apparent"


# Which quantities each demand block's groups carry (system has no current demand).
DEMAND_POWER: tuple[DemandQuantity, ...] = (
    DemandQuantity.ACTIVE,
    DemandQuantity.REACTIVE,
    DemandQuantity.APPARENT,
)
DEMAND_FULL: tuple[DemandQuantity, ...] = (DemandQuantity.CURRENT, *DEMAND_POWER)

# Max/min statistics: 16 parameters, 10 registers each (+0 max, +2 time3, +5 min, +7 time3).
MAX_MIN_PARAMS: tuple[str, ...] = (
    "u1",
    "u2",
    "u3",
    "u12",
    "u23",
    "u31",
    "il1",
    "il2",
    "il3",
    "psum",
    "qsum",
    "ssum",
    "pfsum",
    "f",
    "u_unbalance",
    "i_unbalance",
)
MAX_MIN_RECORD_SIZE = 10

# Alarm record (12 regs): +0 status bit0 occurred, +1 channel, +2 label, +3 value f32, +5 time7.
ALARM_RECORD_SIZE = 12
# SOE record (10 regs): +0 DI states after, +1 changed DIs, +2 time7, +9 reserved.
SOE_RECORD_SIZE = 10
# Alarm channel setting (8 regs): +0 enable, +1 label, +2 compare (0 <, 1 >), +3 set-point f32,
# +5 delay s, +6 relay 0-8, +7 reserved.
ALARM_SETTING_SIZE = 8


class Wiring(StrEnum):
    """User wiring mode; register 0x0888 holds its code.

    The last three are AcuRev 2100 types (S10); the 2020 profile does not offer them.
    """

    ONE_LN = "1LN"
    TWO_LN = "2LN"
    THREE_LN = "3LN"
    HIGH_LEG_DELTA = "HLD"
    TWO_LL = "2LL"
    TWO_LN_NETWORK = "2LN-NET"

    @property
    def inputs_per_user(self) -> int:
        """CT inputs one user circuit takes: 1 (1LN: every channel its own circuit), 2 or 3."""
        if self is Wiring.ONE_LN:
            return 1
        if self in (Wiring.THREE_LN, Wiring.HIGH_LEG_DELTA):
            return 3
        return 2


# Vendor codes (S10): 0 = 1LN, 1 = 3LN, 2 = 2LN; 3 = high-leg delta, 4 = 2LL and
# 5 = 2LN network are AcuRev 2100 types (which model offers which: ``profiles``).
WIRING_CODES: dict[int, Wiring] = {
    0: Wiring.ONE_LN,
    1: Wiring.THREE_LN,
    2: Wiring.TWO_LN,
    3: Wiring.HIGH_LEG_DELTA,
    4: Wiring.TWO_LL,
    5: Wiring.TWO_LN_NETWORK,
}
WIRING_CODE: dict[Wiring, int] = {w: c for c, w in WIRING_CODES.items()}
# CT type register 0x080D (2100 codes; the 2000's are unknown): 333 = 333 mV input.
CT_TYPE_333MV = 333
CT_TYPE_RCT = 120

# Power-quality scales (vendor map): THD and harmonics 0.01 %, K factor 0.1, crest 0.001.
PQ_PERCENT_SCALE = 0.01
K_FACTOR_SCALE = 0.1
CREST_FACTOR_SCALE = 0.001
# Offsets in the per-phase voltage THD detail record (4 regs) and per-channel record (3 regs).
VOLTAGE_DETAIL_CREST = 2
CHANNEL_DETAIL_K = 2


class LoadNature(StrEnum):
    """Load nature; the meter stores the ASCII code as a float (INFERRED encoding)."""

    INDUCTIVE = "inductive"
    CAPACITIVE = "capacitive"
    RESISTIVE = "resistive"


LOAD_NATURE_CODES: dict[int, LoadNature] = {
    ord("L"): LoadNature.INDUCTIVE,
    ord("C"): LoadNature.CAPACITIVE,
    ord("R"): LoadNature.RESISTIVE,
}


class Phase(StrEnum):
    """Supply phase."""

    A = "a"
    B = "b"
    C = "c"


def channel_phase(channel: int) -> Phase:
    """Phase of input channel 1..18: 1-3 and 10-12 on A, 4-6 and 13-15 on B, the rest on C."""
    if not 1 <= channel <= CHANNEL_COUNT:
        raise ValueError(f"channel out of range: {channel}")
    return (Phase.A, Phase.B, Phase.C)[((channel - 1) % 9) // 3]


def user_inputs(user: int, wiring: Wiring) -> tuple[int, ...]:
    """Input channels of user circuit 1..9 in phase order (A, B[, C]).

    The manual's table: user n uses inputs (n, n+3, n+6) for n = 1-3 and
    (n+6, n+9, n+12) for n = 4-6; a two-input circuit (2LN, 2LL, 2LN network)
    uses only the first two. Users 7-9 exist only for two-input circuits on the
    AcuRev 2100, whose 18 inputs make nine pairs: user n uses the inputs the first
    six leave free, (n, n+9) - DESIGNED, no source gives the 2100's pairing. Those
    are both phase-C inputs; a user's "phase A/B" values are its first/second input.
    """
    if not 1 <= user <= MAX_USERS:
        raise ValueError(f"user out of range: {user}")
    per_user = wiring.inputs_per_user
    if user > USER_COUNT:
        if per_user != 2:
            raise ValueError(f"user {user} needs a two-input wiring, not {wiring}")
        return (user, user + 9)
    base = user if user <= 3 else user + 6
    members = (base, base + 3, base + 6)
    return members[:per_user] if per_user == 2 else members


def circuits(
    wiring: Wiring, installed_channels: int, user_count: int = USER_COUNT
) -> tuple[int, ...]:
    """The circuits a meter has: channel numbers in 1LN, user numbers otherwise.

    ``user_count`` is the model's (``profiles``: 6 on the 2020, 9 on the 2100); a
    three-input wiring never has more than six. A user circuit exists only if all
    its inputs are installed (a 9-channel build has users 1-3 only).
    """
    if wiring is Wiring.ONE_LN:
        return tuple(range(1, installed_channels + 1))
    if wiring.inputs_per_user == 3:
        user_count = min(user_count, USER_COUNT)
    return tuple(
        u for u in range(1, user_count + 1) if max(user_inputs(u, wiring)) <= installed_channels
    )

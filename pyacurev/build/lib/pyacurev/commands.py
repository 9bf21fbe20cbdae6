"""The meter's one-shot commands (the 0x1030-0x1039 "clear" registers).

Each command is the key of its register in ``registers.py``, so a corrected
address there moves the command with it.
"""

from __future__ import annotations

from enum import StrEnum

from .registers import COMMAND_MAGIC, DI_COUNT, Access, block


class Command(StrEnum):
    """A command register; the value is its key in the register map."""

    CLEAR_DEMAND = "clear_demand"
    CLEAR_ENERGY = "clear_energy"
    CLEAR_MAX_MIN = "clear_max_min"
    CLEAR_ALARM_RECORDS = "clear_alarm_records"
    CLEAR_RUN_TIME = "clear_run_time"
    CLEAR_DI_COUNTERS = "clear_di_counters"
    CLEAR_SOE_RECORDS = "clear_soe_records"
    CLEAR_EVENT_LOG = "clear_event_log"
    DEMAND_SYNC = "demand_sync_command"
    REBOOT = "reboot_meter"

    @property
    def address(self) -> int:
        """Holding register the command is written to."""
        return block(self.value).address


# Fail at import, not at the first service call, if the map and this enum drift apart.
for _cmd in Command:
    if block(_cmd.value).access is not Access.W:
        raise RuntimeError(f"{_cmd.value} is not a write-only command register")

ALL_DI_MASK = (1 << DI_COUNT) - 1


def command_value(command: Command, di_mask: int = ALL_DI_MASK) -> int:
    """The register value that triggers ``command``.

    CLEAR_DI_COUNTERS takes a DI bitmask (bit0 = DI1) instead of the magic
    value; the caller range-checks it (see ``AcuRevClient.run_command``).
    """
    if command is Command.CLEAR_DI_COUNTERS:
        return di_mask
    return COMMAND_MAGIC

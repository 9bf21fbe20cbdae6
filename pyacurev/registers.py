"""The AcuRev 2020 register map: one declarative table, one place to correct it.

No complete vendor map is public. Every entry carries the provenance tag of
``docs/reference/register-map.md``; the core (system floats, channel and user
records, energy banks, demand, power quality, main settings) follows the AcuRev
2100 vendor map (VERIFIED-2100), the rest is still DESIGNED (our choice), so a user with a real meter who finds a wrong address corrects the row
here and both the integration and the simulator follow, because both read this
table. Rows mirror ``pyacurev/data/register-map.csv`` one for one (a test keeps
them in step), reserved rows included: the meter answers a reserved register
with 0 but an address outside every row with exception 02, and the read planner
needs to know the difference.
"""
# One map row per line, notes verbatim from the CSV, so the two diff line by line.
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType


class Space(StrEnum):
    """Modbus data space of a block."""

    COIL = "coil"
    DISCRETE_INPUT = "di"
    HOLDING = "hr"


class DataType(StrEnum):
    """Element type of a block; RECORD blocks are decoded field by field."""

    BIT = "bit"
    UINT16 = "uint16"
    BITMAP16 = "bitmap16"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    ASCII = "ascii"
    BYTES = "bytes"
    TIME3 = "time3"
    RECORD = "record"
    RESERVED = "reserved"


class Access(StrEnum):
    """R: read only. RW: read/write. W: write-only command register (reads 0)."""

    R = "R"
    RW = "RW"
    W = "W"


class Provenance(StrEnum):
    """How far an address can be trusted (see docs/reference/register-map.md).

    VERIFIED-2100 comes from the successor model's vendor map (same layout where
    both could be checked) and is kept distinct from VERIFIED (AcuRev 2000
    documents); a row backed by both carries the combined tag. UNKNOWN rows were
    contradicted by the evidence with nothing to replace them: mapped, never polled.
    """

    SEED = "SEED"
    VERIFIED = "VERIFIED"
    VERIFIED_2100 = "VERIFIED-2100"
    SEED_2100 = "SEED+VERIFIED-2100"
    VERIFIED_AND_2100 = "VERIFIED+VERIFIED-2100"
    VERIFIED_3P_2100 = "VERIFIED-3P+VERIFIED-2100"
    DESIGNED = "DESIGNED"
    UNKNOWN = "UNKNOWN"

    @property
    def evidence_backed(self) -> bool:
        """True for an address some document or vendor source gives (not our design)."""
        return self not in (Provenance.DESIGNED, Provenance.UNKNOWN)


class WordOrder(StrEnum):
    """Order of the 16-bit words of a 32-bit value (the manual: high word first)."""

    HIGH_FIRST = "high_first"
    LOW_FIRST = "low_first"


@dataclass(frozen=True, slots=True)
class Block:
    """One row of the register map.

    ``count`` is in registers (coils/inputs: bits). ``record`` is the size in
    registers of one repeated record (0 when the block is not a record array).
    ``scale`` turns a raw integer into ``unit`` (energy counts are 0.1 kWh).
    """

    key: str
    space: Space
    address: int
    count: int
    dtype: DataType
    access: Access
    provenance: Provenance
    unit: str = ""
    scale: float = 1.0
    record: int = 0
    word_order: WordOrder = WordOrder.HIGH_FIRST
    note: str = ""
    # "" : every model has the row; otherwise the one model whose map has it ("2100").
    model: str = ""

    def on_model(self, model: str) -> bool:
        """True when a meter of ``model`` ("2020", "2100") has this row."""
        return not self.model or self.model == model

    @property
    def end(self) -> int:
        """First address after the block."""
        return self.address + self.count

    @property
    def reserved(self) -> bool:
        """Reserved rows exist on the meter (they read 0) but carry nothing."""
        return self.dtype is DataType.RESERVED


def _b(
    key: str,
    space: Space,
    address: int,
    count: int,
    dtype: DataType,
    access: Access,
    provenance: Provenance,
    *,
    unit: str = "",
    scale: float = 1.0,
    record: int = 0,
    note: str = "",
    model: str = "",
) -> Block:
    return Block(
        key,
        space,
        address,
        count,
        dtype,
        access,
        provenance,
        unit,
        scale,
        record,
        WordOrder.HIGH_FIRST,
        note,
        model,
    )


# fmt: off
REGISTER_MAP: tuple[Block, ...] = (
    _b("relay_1", Space.COIL, 0x0000, 1, DataType.BIT, Access.RW, Provenance.SEED,
       note="1=on 0=off | FC05 value FF00=on, 0000=off, other values illegal"),
    _b("relay_2", Space.COIL, 0x0001, 1, DataType.BIT, Access.RW, Provenance.SEED,
       note="1=on 0=off | FC05 value FF00=on, 0000=off, other values illegal"),
    _b("relay_3", Space.COIL, 0x0002, 1, DataType.BIT, Access.RW, Provenance.SEED,
       note="1=on 0=off | FC05 value FF00=on, 0000=off, other values illegal"),
    _b("relay_4", Space.COIL, 0x0003, 1, DataType.BIT, Access.RW, Provenance.SEED,
       note="1=on 0=off | FC05 value FF00=on, 0000=off, other values illegal"),
    _b("relay_5", Space.COIL, 0x0004, 1, DataType.BIT, Access.RW, Provenance.SEED,
       note="1=on 0=off | FC05 value FF00=on, 0000=off, other values illegal"),
    _b("relay_6", Space.COIL, 0x0005, 1, DataType.BIT, Access.RW, Provenance.SEED,
       note="1=on 0=off | FC05 value FF00=on, 0000=off, other values illegal"),
    _b("relay_7", Space.COIL, 0x0006, 1, DataType.BIT, Access.RW, Provenance.SEED,
       note="1=on 0=off | FC05 value FF00=on, 0000=off, other values illegal"),
    _b("relay_8", Space.COIL, 0x0007, 1, DataType.BIT, Access.RW, Provenance.SEED,
       note="1=on 0=off | FC05 value FF00=on, 0000=off, other values illegal"),
    _b("di_1", Space.DISCRETE_INPUT, 0x0000, 1, DataType.BIT, Access.R, Provenance.SEED,
       note="1=on 0=off"),
    _b("di_2", Space.DISCRETE_INPUT, 0x0001, 1, DataType.BIT, Access.R, Provenance.SEED,
       note="1=on 0=off"),
    _b("di_3", Space.DISCRETE_INPUT, 0x0002, 1, DataType.BIT, Access.R, Provenance.SEED,
       note="1=on 0=off"),
    _b("di_4", Space.DISCRETE_INPUT, 0x0003, 1, DataType.BIT, Access.R, Provenance.SEED,
       note="1=on 0=off"),
    _b("di_5", Space.DISCRETE_INPUT, 0x0004, 1, DataType.BIT, Access.R, Provenance.SEED,
       note="1=on 0=off"),
    _b("di_6", Space.DISCRETE_INPUT, 0x0005, 1, DataType.BIT, Access.R, Provenance.SEED,
       note="1=on 0=off"),
    _b("di_7", Space.DISCRETE_INPUT, 0x0006, 1, DataType.BIT, Access.R, Provenance.SEED,
       note="1=on 0=off"),
    _b("di_8", Space.DISCRETE_INPUT, 0x0007, 1, DataType.BIT, Access.R, Provenance.SEED,
       note="1=on 0=off"),
    _b("meter_password", Space.HOLDING, 0x0800, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0-9999"),
    _b("modbus_address", Space.HOLDING, 0x0801, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="1-247, default 1 | RS-485 slave address; also answered as TCP unit id"),
    _b("rs485_baud", Space.HOLDING, 0x0802, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="1200,2400,4800,9600,19200,38400 | literal baud value (AcuRev 1300 convention)"),
    _b("rs485_parity", Space.HOLDING, 0x0803, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0 even,1 odd,2 none+2stop,3 none+1stop | codes copied from AcuRev 1300 map"),
    _b("unknown_0804", Space.HOLDING, 0x0804, 1, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | was rated_voltage (DESIGNED); AcuRev 2100 puts Rated Voltage at 0x0887 (S10); content of 0x0804 unknown"),
    _b("pt_primary", Space.HOLDING, 0x0805, 2, DataType.UINT32, Access.RW, Provenance.DESIGNED, unit="V",
       note="V | PT support on the real meter is UNKNOWN; default = pt_secondary (ratio 1)"),
    _b("pt_secondary", Space.HOLDING, 0x0807, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED, unit="V",
       note="V"),
    _b("unknown_0808", Space.HOLDING, 0x0808, 2, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | was demand_method/demand_period (DESIGNED); sibling has demand settings at 0x080A-0x080C"),
    _b("demand_method", Space.HOLDING, 0x080A, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100,
       note="0 sliding,1 rolling,2 fixed,3 thermal | S10 asserts 1 = rolling, 2 = fixed on a live 2100 (FW v1.20); 0/3 extrapolated from the four methods of the 2000 manual (S1 p.86)"),
    _b("demand_interval", Space.HOLDING, 0x080B, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100,
       note="min 1-30 | S10; UI label Averaging Interval Window"),
    _b("demand_subinterval", Space.HOLDING, 0x080C, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100,
       note="min 1-30 | S10; only used by the rolling window; the device requires interval >= 2 x sub-interval"),
    _b("ct_type", Space.HOLDING, 0x080D, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100,
       note="2100 codes: 120 = RCT, 333 = 333 mV | S10 (UI label CT2); AcuRev 2000 code values unknown"),
    _b("unknown_080e", Space.HOLDING, 0x080E, 1, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | was pf_convention (DESIGNED); sibling has VAR/PF convention at 0x0836"),
    _b("billing_day", Space.HOLDING, 0x080F, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="1-28, default 1 | monthly energy rollover day; range VERIFIED"),
    _b("billing_hour", Space.HOLDING, 0x0810, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0-23, default 0"),
    _b("tou_enable", Space.HOLDING, 0x0811, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0 off,1 on"),
    _b("backlight_timeout", Space.HOLDING, 0x0812, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="min, 0 = always on"),
    _b("reserved_0813", Space.HOLDING, 0x0813, 34, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0 | content unknown"),
    _b("var_calc_method", Space.HOLDING, 0x0835, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100,
       note="0 true (sinusoidal),1 generalized | S10"),
    _b("var_pf_convention", Space.HOLDING, 0x0836, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100,
       note="0 IEC,1 IEEE | S10"),
    _b("reserved_0837", Space.HOLDING, 0x0837, 9, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0 | content unknown"),
    _b("user_channel_code", Space.HOLDING, 0x0840, 18, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0 unused,101-118,201-206,301-306 | codes VERIFIED (vendor support page); address DESIGNED"),
    _b("user_display_enable", Space.HOLDING, 0x0852, 18, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0/1"),
    _b("reserved_0864", Space.HOLDING, 0x0864, 28, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("unknown_0880", Space.HOLDING, 0x0880, 2, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | was user_wiring_mode / ct_input_type (DESIGNED); sibling: wiring at 0x0888, CT type at 0x080D"),
    _b("installed_channels", Space.HOLDING, 0x0882, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="9 (EM1) or 18 (EM1+EM2) | 9/18 channel split VERIFIED (manual 2012 wiring chapter)"),
    _b("reserved_0883", Space.HOLDING, 0x0883, 4, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0 | content unknown"),
    _b("rated_voltage", Space.HOLDING, 0x0887, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100, unit="V",
       note="V, 10-400 | S10"),
    _b("wiring_mode", Space.HOLDING, 0x0888, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100,
       note="0=1LN,1=3LN,2=2LN (2100 adds 3 high-leg delta,4 2LL,5 2LN network) | S10; codes 3-5 are 2100 wiring types the 2000 does not list"),
    _b("ct_primary_ch1", Space.HOLDING, 0x0889, 1, DataType.UINT16, Access.RW, Provenance.SEED_2100, unit="A",
       note="A, 5-50000 | CT primary (full-scale) of input channel 1; seed FC16 example; same address in S10 (channels 1-18 at 0x0889-0x089A, one register each)"),
    _b("ct_primary_ch2_18", Space.HOLDING, 0x088A, 17, DataType.UINT16, Access.RW, Provenance.VERIFIED_2100, unit="A",
       note="A, 5-50000; channel n at 0x0889+(n-1) | S10; contradicts our designed primary/secondary pairs (0x088A is channel 2, not a CT secondary)"),
    _b("reserved_089b", Space.HOLDING, 0x089B, 21, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0 | content unknown"),
    _b("user_name", Space.HOLDING, 0x0900, 54, DataType.ASCII, Access.RW, Provenance.DESIGNED, record=3,
       note="6 chars, 2 per reg, high byte first | 6-char limit VERIFIED (vendor support page)"),
    _b("serial_number", Space.HOLDING, 0x1000, 8, DataType.ASCII, Access.R, Provenance.DESIGNED,
       note="NUL padded"),
    _b("device_model", Space.HOLDING, 0x1008, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="2010 or 2020"),
    _b("firmware_version", Space.HOLDING, 0x1009, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="e.g. 211 = V2.11"),
    _b("hardware_version", Space.HOLDING, 0x100A, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="e.g. 100 = V1.00"),
    _b("map_version", Space.HOLDING, 0x100B, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="2 = post-2014 layout | lets a client refuse the 2012 layout (energy at 0x4600)"),
    _b("meter_run_time", Space.HOLDING, 0x100C, 2, DataType.UINT32, Access.R, Provenance.DESIGNED, scale=0.01,
       note="x0.01 h | x0.01 h scaling copied from AcuRev 1300"),
    _b("reserved_100e", Space.HOLDING, 0x100E, 2, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("io_module_status", Space.HOLDING, 0x1010, 1, DataType.BITMAP16, Access.R, Provenance.DESIGNED,
       note="bit0 IO module 1, bit1 IO module 2"),
    _b("display_module_present", Space.HOLDING, 0x1011, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="0/1"),
    _b("comm_module_type", Space.HOLDING, 0x1012, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="0 none,1 RS-485,2 WEB (Ethernet/Wi-Fi)"),
    _b("reserved_1013", Space.HOLDING, 0x1013, 13, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("latest_alarm_record", Space.HOLDING, 0x1020, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="0 none, 1-20 | ring pointer into 0x3800 block"),
    _b("latest_soe_record", Space.HOLDING, 0x1021, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="0 none, 1-20 | ring pointer into 0x3900 block"),
    _b("active_alarm_bitmap", Space.HOLDING, 0x1022, 1, DataType.BITMAP16, Access.R, Provenance.DESIGNED,
       note="bit n-1 = alarm channel n active"),
    _b("reserved_1023", Space.HOLDING, 0x1023, 13, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("clear_demand", Space.HOLDING, 0x1030, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A (also clears peak demand) | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("clear_energy", Space.HOLDING, 0x1031, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A (all energy, monthly and TOU banks) | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("clear_max_min", Space.HOLDING, 0x1032, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("clear_alarm_records", Space.HOLDING, 0x1033, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("clear_run_time", Space.HOLDING, 0x1034, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("clear_di_counters", Space.HOLDING, 0x1035, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write bitmask bit0..bit7 = DI1..DI8 | per-DI bitmask, like the AcuDC 240 'clear DI count' register"),
    _b("clear_soe_records", Space.HOLDING, 0x1036, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("clear_event_log", Space.HOLDING, 0x1037, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("demand_sync_command", Space.HOLDING, 0x1038, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A = start a new demand interval | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("reboot_meter", Space.HOLDING, 0x1039, 1, DataType.UINT16, Access.W, Provenance.DESIGNED,
       note="write 0x000A | 0x0A magic value follows Acuvim II / AcuDC convention"),
    _b("reserved_103a", Space.HOLDING, 0x103A, 26, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("clock_year", Space.HOLDING, 0x1054, 1, DataType.UINT16, Access.RW, Provenance.SEED,
       note="full year, e.g. 2006 = 0x07D6 | read VERIFIED by seed example; write with one FC16 of all 6 regs is INFERRED"),
    _b("clock_month", Space.HOLDING, 0x1055, 1, DataType.UINT16, Access.RW, Provenance.SEED,
       note="1-12 | read VERIFIED by seed example; write with one FC16 of all 6 regs is INFERRED"),
    _b("clock_day", Space.HOLDING, 0x1056, 1, DataType.UINT16, Access.RW, Provenance.SEED,
       note="1-31 | read VERIFIED by seed example; write with one FC16 of all 6 regs is INFERRED"),
    _b("clock_hour", Space.HOLDING, 0x1057, 1, DataType.UINT16, Access.RW, Provenance.SEED,
       note="0-23 | read VERIFIED by seed example; write with one FC16 of all 6 regs is INFERRED"),
    _b("clock_minute", Space.HOLDING, 0x1058, 1, DataType.UINT16, Access.RW, Provenance.SEED,
       note="0-59 | read VERIFIED by seed example; write with one FC16 of all 6 regs is INFERRED"),
    _b("clock_second", Space.HOLDING, 0x1059, 1, DataType.UINT16, Access.RW, Provenance.SEED,
       note="0-59 | read VERIFIED by seed example; write with one FC16 of all 6 regs is INFERRED"),
    _b("di_status_bitmap", Space.HOLDING, 0x1100, 1, DataType.BITMAP16, Access.R, Provenance.DESIGNED,
       note="bit0 = DI1 | mirror of FC02"),
    _b("relay_status_bitmap", Space.HOLDING, 0x1101, 1, DataType.BITMAP16, Access.R, Provenance.DESIGNED,
       note="bit0 = relay 1 | mirror of FC01"),
    _b("di_mode_bitmap", Space.HOLDING, 0x1102, 1, DataType.BITMAP16, Access.RW, Provenance.DESIGNED,
       note="bit=0 status, bit=1 pulse counter | both DI modes VERIFIED (manual 2014 p.82)"),
    _b("relay_mode_bitmap", Space.HOLDING, 0x1103, 1, DataType.BITMAP16, Access.RW, Provenance.DESIGNED,
       note="bit=0 remote control, bit=1 alarm/event output"),
    _b("relay_output_time", Space.HOLDING, 0x1104, 8, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="s, 1-60000 | 1-60000 s latch range VERIFIED (manual 2014 p.82)"),
    _b("reserved_110c", Space.HOLDING, 0x110C, 4, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("di_pulse_count", Space.HOLDING, 0x1110, 16, DataType.UINT32, Access.RW, Provenance.DESIGNED,
       note="counts; DI n at 0x1110+2(n-1)"),
    _b("di_pulse_constant", Space.HOLDING, 0x1120, 8, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="pulses per count"),
    _b("di_unit_code", Space.HOLDING, 0x1128, 8, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0 s,1 m3,2 kWh,3 RMB,4 $ | unit list VERIFIED (manual 2014 p.82); codes DESIGNED"),
    _b("alarm_global_enable", Space.HOLDING, 0x1200, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0/1"),
    _b("reserved_1201", Space.HOLDING, 0x1201, 15, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("alarm_channel", Space.HOLDING, 0x1210, 128, DataType.RECORD, Access.RW, Provenance.DESIGNED, record=8,
       note="+0 enable,+1 parameter label,+2 compare (0 <,1 >),+3..+4 setpoint float,+5 delay s,+6 relay 0-8,+7 reserved | parameter label numbering from the 0x2000 table (labels 0-10 VERIFIED)"),
    _b("datalog_enable", Space.HOLDING, 0x1300, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0/1 | true address UNKNOWN"),
    _b("datalog_interval", Space.HOLDING, 0x1301, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="min 0-1440, 0 = disabled | semantics VERIFIED (manual 2014 p.191); address UNKNOWN"),
    _b("datalog_register_list", Space.HOLDING, 0x1302, 117, DataType.UINT16, Access.RW, Provenance.VERIFIED,
       note="Modbus addresses to log; unused = 0000 or FFFF | manual 2014 p.191"),
    _b("datalog_descriptors", Space.HOLDING, 0x1377, 59, DataType.BYTES, Access.RW, Provenance.VERIFIED,
       note="1, 2 or 3 registers per logged item | manual 2014 p.191-192; byte order inside a register INFERRED high byte first"),
    _b("datalog_mode", Space.HOLDING, 0x13B2, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED,
       note="0 log1 interval/overwrite,1 log2 timed window stop-when-full,2 log3 start-at-time/overwrite | manual 2014 p.192"),
    _b("datalog_start_time", Space.HOLDING, 0x13B3, 3, DataType.TIME3, Access.RW, Provenance.VERIFIED,
       note="packed time (see conventions) | address VERIFIED; byte packing INFERRED"),
    _b("datalog_end_time", Space.HOLDING, 0x13B6, 3, DataType.TIME3, Access.RW, Provenance.VERIFIED,
       note="packed time | address VERIFIED (manual text also shows a typo 11B7H)"),
    _b("datalog_record_count", Space.HOLDING, 0x13B9, 1, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="records kept in the data log (window offsets 0..count-1) | address and meaning DESIGNED; the probe reports whether it answers"),
    _b("datalog_record_total", Space.HOLDING, 0x13BA, 2, DataType.UINT32, Access.R, Provenance.DESIGNED,
       note="records taken since power-up, wraps at 2^32 | DESIGNED: tells a reader how many records are new even when the full ring overwrites"),
    _b("tou_season_count", Space.HOLDING, 0x1400, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="1-14 | limit VERIFIED (vendor page)"),
    _b("tou_schedule_count", Space.HOLDING, 0x1401, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="1-8 | limit VERIFIED"),
    _b("tou_segment_count", Space.HOLDING, 0x1402, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="1-14 | limit VERIFIED"),
    _b("tou_tariff_count", Space.HOLDING, 0x1403, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="1-4 | limit VERIFIED"),
    _b("tou_weekend_schedule", Space.HOLDING, 0x1404, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0 = not used, 1-8"),
    _b("tou_holiday_count", Space.HOLDING, 0x1405, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0-30 | limit VERIFIED"),
    _b("tou_weekend_days", Space.HOLDING, 0x1406, 1, DataType.BITMAP16, Access.RW, Provenance.DESIGNED,
       note="bit0 Sunday..bit6 Saturday"),
    _b("reserved_1407", Space.HOLDING, 0x1407, 9, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_season", Space.HOLDING, 0x1410, 42, DataType.RECORD, Access.RW, Provenance.DESIGNED, record=3,
       note="month, day, schedule id 1-8 | MM-DD-ID format VERIFIED"),
    _b("reserved_143a", Space.HOLDING, 0x143A, 6, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_schedule_segment", Space.HOLDING, 0x1440, 336, DataType.RECORD, Access.RW, Provenance.DESIGNED, record=3,
       note="hour, minute, tariff 1-4 (1 sharp,2 peak,3 valley,4 normal); schedule s segment g at 0x1440+42(s-1)+3(g-1) | HH-MM-ID format and tariff numbering VERIFIED"),
    _b("tou_holiday", Space.HOLDING, 0x1590, 90, DataType.RECORD, Access.RW, Provenance.DESIGNED, record=3,
       note="month, day, schedule id"),
    _b("f", Space.HOLDING, 0x2000, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="Hz",
       note="Hz | alarm parameter label 0; same address/order in S9 and S11"),
    _b("u1", Space.HOLDING, 0x2002, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="V",
       note="V | alarm parameter label 1; same address/order in S9 and S11"),
    _b("u2", Space.HOLDING, 0x2004, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="V",
       note="V | alarm parameter label 2; same address/order in S9 and S11"),
    _b("u3", Space.HOLDING, 0x2006, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="V",
       note="V | alarm parameter label 3; same address/order in S9 and S11"),
    _b("uavg", Space.HOLDING, 0x2008, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="V",
       note="V | alarm parameter label 4; same address/order in S9 and S11"),
    _b("u12", Space.HOLDING, 0x200A, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="V",
       note="V | alarm parameter label 5; same address/order in S9 and S11"),
    _b("u23", Space.HOLDING, 0x200C, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="V",
       note="V | alarm parameter label 6; same address/order in S9 and S11"),
    _b("u31", Space.HOLDING, 0x200E, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="V",
       note="V | alarm parameter label 7; same address/order in S9 and S11"),
    _b("ulavg", Space.HOLDING, 0x2010, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="V",
       note="V | alarm parameter label 8; same address/order in S9 and S11"),
    _b("il1", Space.HOLDING, 0x2012, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="A",
       note="A | alarm parameter label 9; same address/order in S9 and S11"),
    _b("il2", Space.HOLDING, 0x2014, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_AND_2100, unit="A",
       note="A | alarm parameter label 10; same address/order in S9 and S11"),
    _b("il3", Space.HOLDING, 0x2016, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="A",
       note="A | confirms our INFERRED row; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("ilavg", Space.HOLDING, 0x2018, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="A",
       note="A | confirms our INFERRED row; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("psum", Space.HOLDING, 0x201A, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kW",
       note="kW | was In (INFERRED from Acuvim II order, contradicted); order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("qsum", Space.HOLDING, 0x201C, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kvar",
       note="kvar | was Pa; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("ssum", Space.HOLDING, 0x201E, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kVA",
       note="kVA | was Pb; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("pfsum", Space.HOLDING, 0x2020, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100,
       note="-1..1 | was Pc; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("load_nature_sum", Space.HOLDING, 0x2022, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100,
       note="code | was Psum; encoding unknown (S9 skips it); order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("pa", Space.HOLDING, 0x2024, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kW",
       note="kW | was Qa; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("pb", Space.HOLDING, 0x2026, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kW",
       note="kW | was Qb; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("pc", Space.HOLDING, 0x2028, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kW",
       note="kW | was Qc; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("qa", Space.HOLDING, 0x202A, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kvar",
       note="kvar | was Qsum; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("qb", Space.HOLDING, 0x202C, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kvar",
       note="kvar | was Sa; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("qc", Space.HOLDING, 0x202E, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kvar",
       note="kvar | was Sb; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("sa", Space.HOLDING, 0x2030, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kVA",
       note="kVA | was Sc; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("sb", Space.HOLDING, 0x2032, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kVA",
       note="kVA | was Ssum; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("sc", Space.HOLDING, 0x2034, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100, unit="kVA",
       note="kVA | was PFa; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("pfa", Space.HOLDING, 0x2036, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100,
       note="-1..1 | was PFb; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("pfb", Space.HOLDING, 0x2038, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100,
       note="-1..1 | was PFc; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("pfc", Space.HOLDING, 0x203A, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100,
       note="-1..1 | was PFsum; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("load_nature_a", Space.HOLDING, 0x203C, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100,
       note="code | was U_unbalance; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("load_nature_b", Space.HOLDING, 0x203E, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100,
       note="code | was I_unbalance; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("load_nature_c", Space.HOLDING, 0x2040, 2, DataType.FLOAT32, Access.R, Provenance.VERIFIED_2100,
       note="code | was load_nature_sum; order 0x2000-0x2041 = F,U1-3,Uavg,U12,U23,U31,ULavg,IL1-3,ILavg,Psum,Qsum,Ssum,PFsum,LNsum,Pa-c,Qa-c,Sa-c,PFa-c,LNa-c (S9, S11)"),
    _b("reserved_system", Space.HOLDING, 0x2042, 190, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0 | sibling 0x2000 table ends at 0x2041; In and U/I unbalance floats do not exist there"),
    _b("channel_record", Space.HOLDING, 0x2100, 216, DataType.RECORD, Access.R, Provenance.VERIFIED_3P_2100, record=12,
       note="+0 I (A), +2 P (kW), +4 Q (kvar), +6 S (kVA), +8 PF, +10 load nature; channel n at 0x2100+12(n-1) | UDM.EnergyDaq C# preset (start 8448, 18 ch x 12 words) and S9 (vendor xlsx v1.02); kW per S9 naming and cloud cross-check"),
    _b("user_record", Space.HOLDING, 0x21D8, 60, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, record=10,
       note="+0 P kW,+2 Q kvar,+4 S kVA,+6 PF,+8 load nature; user u at 0x21D8+10(u-1) | S9, S11; no per-phase user values and no user current in the sibling; the 2100 has users 7-9 at 0x2214"),
    _b("user_record_2100", Space.HOLDING, 0x2214, 30, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, record=10, model="2100",
       note="users 7-9, same record as 0x21D8; user u at 0x21D8+10(u-1) | S9 (s007-s009); AcuRev 2100 only (the 2020 profile never polls it)"),
    _b("reserved_2232", Space.HOLDING, 0x2232, 2, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | content unknown"),
    _b("reserved_2234", Space.HOLDING, 0x2234, 716, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | our DESIGNED float harmonics block at 0x2300-0x2497 removed (the sibling keeps PQ as uint16 at 0x3200); content of 0x2234-0x24FF unknown"),
    _b("import_active_energy_phases", Space.HOLDING, 0x2500, 8, DataType.UINT32, Access.RW, Provenance.VERIFIED_AND_2100, unit="kWh", scale=0.1,
       note="x0.1 kWh; +0 A,+2 B,+4 C,+6 system | A/B/C VERIFIED (S1 p.120); system total VERIFIED-2100 (S9, S11)"),
    _b("import_active_energy_channels", Space.HOLDING, 0x2508, 36, DataType.UINT32, Access.RW, Provenance.VERIFIED_AND_2100, unit="kWh", scale=0.1,
       note="x0.1 kWh; channel n at 0x2508+2(n-1) | channel 1 VERIFIED incl. FC16 preset (S1 p.122); channels 2-18 S9, S11"),
    _b("import_active_energy_users", Space.HOLDING, 0x252C, 12, DataType.UINT32, Access.RW, Provenance.VERIFIED_2100, unit="kWh", scale=0.1,
       note="x0.1 kWh; user u at 0x252C+2(u-1) | S9, S11 (2100: users 1-9 to 0x253D)"),
    _b("import_active_energy_users_2100", Space.HOLDING, 0x2538, 6, DataType.UINT32, Access.RW, Provenance.VERIFIED_2100, unit="kWh", scale=0.1, model="2100",
       note="x0.1 kWh; users 7-9 at 0x2538+2(u-7) (0x252C+2(u-1) continued) | S9 (EP_IMP_s007-s009); AcuRev 2100 only"),
    _b("reserved_253e", Space.HOLDING, 0x253E, 2, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | content unknown"),
    _b("export_active_energy_bank", Space.HOLDING, 0x2540, 56, DataType.UINT32, Access.RW, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh | no evidence; the 2100 sibling publishes import energies only"),
    _b("reserved_2578", Space.HOLDING, 0x2578, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("unknown_2580", Space.HOLDING, 0x2580, 56, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | was import_reactive_energy bank (DESIGNED); sibling puts import reactive energy at 0x2B00"),
    _b("reserved_25b8", Space.HOLDING, 0x25B8, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("export_reactive_energy_bank", Space.HOLDING, 0x25C0, 56, DataType.UINT32, Access.RW, Provenance.DESIGNED, unit="kvarh", scale=0.1,
       note="x0.1 kvarh | no evidence; sibling publishes import reactive only (0x2B00)"),
    _b("reserved_25f8", Space.HOLDING, 0x25F8, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("unknown_2600", Space.HOLDING, 0x2600, 56, DataType.RESERVED, Access.R, Provenance.UNKNOWN,
       note="reads 0 | was apparent_energy bank (DESIGNED); sibling puts apparent energy at 0x2B38"),
    _b("reserved_2638", Space.HOLDING, 0x2638, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("reserved_2640", Space.HOLDING, 0x2640, 192, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("this_month_import_kwh_bank", Space.HOLDING, 0x2700, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh | monthly rollover on billing day (2-month storage VERIFIED)"),
    _b("reserved_2738", Space.HOLDING, 0x2738, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("last_month_import_kwh_bank", Space.HOLDING, 0x2740, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh | monthly rollover on billing day (2-month storage VERIFIED)"),
    _b("reserved_2778", Space.HOLDING, 0x2778, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("this_month_import_kvarh_bank", Space.HOLDING, 0x2780, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kvarh", scale=0.1,
       note="x0.1 kvarh | monthly rollover on billing day (2-month storage VERIFIED)"),
    _b("reserved_27b8", Space.HOLDING, 0x27B8, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("last_month_import_kvarh_bank", Space.HOLDING, 0x27C0, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kvarh", scale=0.1,
       note="x0.1 kvarh | monthly rollover on billing day (2-month storage VERIFIED)"),
    _b("reserved_27f8", Space.HOLDING, 0x27F8, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("this_month_kvah_bank", Space.HOLDING, 0x2800, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kVAh", scale=0.1,
       note="x0.1 kVAh | monthly rollover on billing day (2-month storage VERIFIED)"),
    _b("reserved_2838", Space.HOLDING, 0x2838, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("last_month_kvah_bank", Space.HOLDING, 0x2840, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kVAh", scale=0.1,
       note="x0.1 kVAh | monthly rollover on billing day (2-month storage VERIFIED)"),
    _b("reserved_2878", Space.HOLDING, 0x2878, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("reserved_2880", Space.HOLDING, 0x2880, 128, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_this_month_sharp_import_kwh_bank", Space.HOLDING, 0x2900, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh"),
    _b("reserved_2938", Space.HOLDING, 0x2938, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_this_month_peak_import_kwh_bank", Space.HOLDING, 0x2940, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh"),
    _b("reserved_2978", Space.HOLDING, 0x2978, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_this_month_valley_import_kwh_bank", Space.HOLDING, 0x2980, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh"),
    _b("reserved_29b8", Space.HOLDING, 0x29B8, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_this_month_normal_import_kwh_bank", Space.HOLDING, 0x29C0, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh"),
    _b("reserved_29f8", Space.HOLDING, 0x29F8, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_last_month_sharp_import_kwh_bank", Space.HOLDING, 0x2A00, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh"),
    _b("reserved_2a38", Space.HOLDING, 0x2A38, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_last_month_peak_import_kwh_bank", Space.HOLDING, 0x2A40, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh"),
    _b("reserved_2a78", Space.HOLDING, 0x2A78, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_last_month_valley_import_kwh_bank", Space.HOLDING, 0x2A80, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh"),
    _b("reserved_2ab8", Space.HOLDING, 0x2AB8, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("tou_last_month_normal_import_kwh_bank", Space.HOLDING, 0x2AC0, 56, DataType.UINT32, Access.R, Provenance.DESIGNED, unit="kWh", scale=0.1,
       note="x0.1 kWh"),
    _b("reserved_2af8", Space.HOLDING, 0x2AF8, 8, DataType.RESERVED, Access.R, Provenance.DESIGNED,
       note="reads 0"),
    _b("import_reactive_energy_bank", Space.HOLDING, 0x2B00, 56, DataType.UINT32, Access.R, Provenance.VERIFIED_2100, unit="kvarh", scale=0.1,
       note="x0.1 kvarh; +0 A,+2 B,+4 C,+6 total,+8 ch1..18,+44 user1..6 | S9, S11; 28 entries = the 2000 layout (6 users); writability unknown"),
    _b("apparent_energy_bank", Space.HOLDING, 0x2B38, 56, DataType.UINT32, Access.R, Provenance.VERIFIED_2100, unit="kVAh", scale=0.1,
       note="x0.1 kVAh; same 28-entry layout | S9, S11"),
    _b("import_reactive_energy_users_2100", Space.HOLDING, 0x2B70, 6, DataType.UINT32, Access.R, Provenance.VERIFIED_2100, unit="kvarh", scale=0.1, model="2100",
       note="x0.1 kvarh; users 7-9 at 0x2B70+2(u-7) | S9 (EQ_IMP_s007-s009); AcuRev 2100 only"),
    _b("apparent_energy_users_2100", Space.HOLDING, 0x2B76, 6, DataType.UINT32, Access.R, Provenance.VERIFIED_2100, unit="kVAh", scale=0.1, model="2100",
       note="x0.1 kVAh; users 7-9 at 0x2B76+2(u-7) | S9 (ES_s007-s009); AcuRev 2100 only"),
    _b("demand_system", Space.HOLDING, 0x2D00, 27, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, unit="kW", record=27,
       note="P kW at 0x2D00, Q kvar 0x2D09, S kVA 0x2D12; record: +0 demand,+2 predicted,+4 max,+6..8 max time | S9, S11; 3-register peak time matches S1 p.191; max-time packing unknown"),
    _b("demand_phase", Space.HOLDING, 0x2D1B, 108, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, record=36,
       note="phase A at 0x2D1B, B 0x2D3F, C 0x2D63; each I,P,Q,S record of 9 regs as above | S9, S11 (S9 notes the EPICS sheet labels 0x2D1B phase-A current demand)"),
    _b("demand_channel", Space.HOLDING, 0x2D87, 648, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, record=36,
       note="channel n at 0x2D87+36(n-1); I,P,Q,S x 9 regs | S9, S11"),
    _b("demand_user", Space.HOLDING, 0x300F, 162, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, record=27,
       note="user u at 0x300F+27(u-1); P,Q,S x 9 regs | S9, S11 (2100: 9 users to 0x3103)"),
    _b("voltage_unbalance", Space.HOLDING, 0x3200, 1, DataType.UINT16, Access.R, Provenance.VERIFIED_2100, unit="%", scale=0.1,
       note="x0.1 % | S9, S11; 333 mV model only on the 2000 (seed)"),
    _b("thd_voltage", Space.HOLDING, 0x3201, 4, DataType.UINT16, Access.R, Provenance.VERIFIED_2100, unit="%", scale=0.01,
       note="x0.01 %; Ua, Ub, Uc, Uavg | S9, S11"),
    _b("ua_harmonic", Space.HOLDING, 0x3205, 30, DataType.UINT16, Access.R, Provenance.VERIFIED_2100, unit="%", scale=0.01,
       note="x0.01 %; order h at 0x3205+(h-2) | S9, S11"),
    _b("ub_harmonic", Space.HOLDING, 0x3223, 30, DataType.UINT16, Access.R, Provenance.VERIFIED_2100, unit="%", scale=0.01,
       note="x0.01 % | S9, S11"),
    _b("uc_harmonic", Space.HOLDING, 0x3241, 30, DataType.UINT16, Access.R, Provenance.VERIFIED_2100, unit="%", scale=0.01,
       note="x0.01 % | S9, S11"),
    _b("current_unbalance", Space.HOLDING, 0x325F, 1, DataType.UINT16, Access.R, Provenance.VERIFIED_2100, unit="%", scale=0.1,
       note="x0.1 % (S9 code, S11) | S9's comment says x0.01; both sources' code use x0.1"),
    _b("voltage_thd_detail", Space.HOLDING, 0x3260, 12, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, record=4,
       note="per phase a,b,c: odd THD, even THD (x0.01 %), crest factor (x0.001), THFF (x0.01); phase p at 0x3260+4p | S9, S11"),
    _b("channel_thd_detail", Space.HOLDING, 0x32A0, 54, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, record=3,
       note="channel n at 0x32A0+3(n-1): odd THD, even THD (x0.01 %), K factor (x0.1) | S9, S11"),
    _b("channel_harmonic", Space.HOLDING, 0x3300, 558, DataType.RECORD, Access.R, Provenance.VERIFIED_2100, record=31,
       note="x0.01 %; channel n at 0x3300+31(n-1), THD first, then orders 2-31 | S9, S11"),
    _b("user_current_unbalance", Space.HOLDING, 0x352E, 6, DataType.UINT16, Access.R, Provenance.VERIFIED_2100, unit="%",
       note="x0.01 % (S9) / x0.1 % (S11) | S9, S11; 2100: 9 users to 0x3536; scale unsettled, not decoded"),
    _b("phase_angle", Space.HOLDING, 0x3600, 20, DataType.UINT16, Access.R, Provenance.VERIFIED_2100, unit="deg", scale=0.1,
       note="x0.1 deg, 0-3600; 0x3600 Ub, 0x3601 Uc, 0x3602+(n-1) In | S9, S11; 2100 feature, presence on 2000 unknown"),
    _b("alarm_record", Space.HOLDING, 0x3800, 240, DataType.RECORD, Access.R, Provenance.DESIGNED, record=12,
       note="+0 status (bit0 1=occurred 0=recovered),+1 alarm channel 1-16,+2 parameter label,+3..4 value float,+5..11 time y,m,d,h,mi,s,ms; record r at 0x3800+12(r-1) | 20-record ring VERIFIED (seed); field set modelled on Acuvim II alarm record"),
    _b("soe_record", Space.HOLDING, 0x3900, 200, DataType.RECORD, Access.R, Provenance.DESIGNED, record=10,
       note="+0 DI state bitmap after event,+1 changed-DI bitmap,+2..8 time y,m,d,h,mi,s,ms,+9 reserved; record r at 0x3900+10(r-1) | 20-record ring VERIFIED (seed)"),
    _b("log_select", Space.HOLDING, 0x3B00, 1, DataType.UINT16, Access.RW, Provenance.DESIGNED,
       note="0 data log, 1 system event log"),
    _b("log_window_status", Space.HOLDING, 0x3B01, 1, DataType.UINT16, Access.RW, Provenance.VERIFIED,
       note="write: high byte = records per window; read: low byte 0x0B ready / 0xFF not ready | address + example 0x0A0B + status codes VERIFIED (manual 2014 p.198); byte split INFERRED"),
    _b("log_window_offset", Space.HOLDING, 0x3B02, 2, DataType.UINT32, Access.RW, Provenance.VERIFIED,
       note="record offset of first record in window | start address VERIFIED; width (1 or 2 regs) UNKNOWN, designed as 2"),
    _b("log_window_data", Space.HOLDING, 0x3B04, 123, DataType.UINT16, Access.R, Provenance.DESIGNED,
       note="records packed back to back | Acuvim II uses the same 4-header + 123-word window"),
    _b("alias_system_floats", Space.HOLDING, 0x4000, 72, DataType.FLOAT32, Access.R, Provenance.DESIGNED,
       note="same values as 0x2000-0x2047 | optional: makes the seed's generic FC03 example frame (start 0x4000, 72 regs, an Acuvim II copy) return data"),
)
# fmt: on

BLOCKS: MappingProxyType[str, Block] = MappingProxyType({b.key: b for b in REGISTER_MAP})

# A write of this value to a command register performs the command (Accuenergy convention).
COMMAND_MAGIC = 0x000A
# Largest FC03 read and FC16 write the meter accepts (Modbus limits).
MAX_READ_REGISTERS = 125
MAX_WRITE_REGISTERS = 123
# Relays (coils) and digital inputs (discrete inputs).
RELAY_COUNT = 8
DI_COUNT = 8
# Input channels, user circuits, alarm channels, ring sizes.
CHANNEL_COUNT = 18
USER_COUNT = 6
ALARM_CHANNEL_COUNT = 16
LOG_RING_SIZE = 20
# Entries of a 28-entry energy/demand bank: phases A-C, system, channels 1-18, users 1-6.
BANK_ENTRIES = 28
ENTRY_SYSTEM = 3
FIRST_CHANNEL_ENTRY = 4
FIRST_USER_ENTRY = 22


def block(key: str) -> Block:
    """Return the block named ``key`` (KeyError names the key)."""
    return BLOCKS[key]


@cache
def mapped_segments(space: Space = Space.HOLDING) -> tuple[tuple[int, int], ...]:
    """Contiguous runs ``(start, end)`` of addresses that the meter answers.

    Adjacent rows (reserved ones included) merge into one run: a read may cross
    them. A read that touches an address outside every run gets exception 02.
    """
    runs: list[list[int]] = []
    for blk in sorted((b for b in REGISTER_MAP if b.space is space), key=lambda b: b.address):
        if runs and blk.address <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], blk.end)
        else:
            runs.append([blk.address, blk.end])
    return tuple((start, end) for start, end in runs)


@cache
def plan_segments(space: Space = Space.HOLDING) -> tuple[tuple[int, int], ...]:
    """Runs a single read may cover: never an UNKNOWN row, never evidence mixed with design.

    A real meter answers a whole request with exception 02 when one address in it
    is not on its map. Keeping evidence-backed rows and DESIGNED rows in separate
    requests means a meter that refuses our designed blocks still delivers every
    evidence-backed value; UNKNOWN rows are never read at all.
    """
    runs: list[list[int]] = []
    last_class: bool | None = None
    for blk in sorted((b for b in REGISTER_MAP if b.space is space), key=lambda b: b.address):
        if blk.provenance is Provenance.UNKNOWN:
            last_class = None
            continue
        cls = blk.provenance.evidence_backed
        if runs and blk.address <= runs[-1][1] and cls == last_class:
            runs[-1][1] = max(runs[-1][1], blk.end)
        else:
            runs.append([blk.address, blk.end])
        last_class = cls
    return tuple((start, end) for start, end in runs)


def is_mapped(address: int, count: int = 1, space: Space = Space.HOLDING) -> bool:
    """True when every address of ``[address, address + count)`` lies in one run."""
    return any(start <= address and address + count <= end for start, end in mapped_segments(space))


def bank_entry_channel(channel: int) -> int:
    """Bank entry (energy/demand) of input channel 1..18."""
    return FIRST_CHANNEL_ENTRY + channel - 1


def bank_entry_user(user: int) -> int:
    """Bank entry (energy/demand) of user circuit 1..6."""
    return FIRST_USER_ENTRY + user - 1

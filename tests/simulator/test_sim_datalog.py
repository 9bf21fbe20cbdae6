"""The simulator's data log: history from before start, the record counters, the ring."""

from __future__ import annotations

import itertools
from datetime import timedelta

from acurev_simulator.logs import DATA_LOG_SIZE
from acurev_simulator.meter import MeterModel
from pyacurev.codec import decode_time3, decode_uint32

from .conftest import START

ENERGY_AT = 3 + 6 + 2  # channel 1's import kWh in a factory record (after time, floats, system)


def channel_counts(record: list[int], channel: int) -> int:
    i = ENERGY_AT + 2 * (channel - 1)
    return decode_uint32(record[i : i + 2])


def test_history_is_on_the_interval_and_ends_at_the_present_counter() -> None:
    start = START + timedelta(minutes=7)
    meter = MeterModel(clock=start, seed=3, log_history_hours=72)
    records = list(meter.logs.data)
    assert len(records) == 72 * 4 == meter.logs.data_total
    times = [decode_time3(r[:3]) for r in records]
    assert times[-1] == START  # the last multiple of 15 min before the clock
    assert times[0] == START - timedelta(minutes=15 * (len(records) - 1))
    for channel in (1, 5, 18):
        power_kw = max(0.0, meter.channel(channel).power.active)
        counts = [channel_counts(r, channel) for r in records]
        # 15 minutes of the present power per record, in 0.1 kWh counts (floor: +-1).
        for a, b in itertools.pairwise(counts):
            assert abs((b - a) - power_kw * 0.25 * 10) <= 1
        now = meter.energy_counts("import_active", 3 + channel)
        assert abs(now - counts[-1] - power_kw * (7 / 60) * 10) <= 1


def test_counters_and_the_ring_overwrite_the_oldest() -> None:
    meter = MeterModel(clock=START, seed=1)
    meter.set_setting("datalog_interval", 1)
    meter.advance((DATA_LOG_SIZE + 5) * 60)
    count, *total = meter.read_registers(0x13B9, 3)
    assert count == DATA_LOG_SIZE
    assert decode_uint32(total) == DATA_LOG_SIZE + 5
    assert decode_time3(meter.logs.data[0][:3]) == START + timedelta(minutes=6)
    # The window reads the ring oldest first: offset 0 is the sixth record ever taken.
    meter.write_registers(0x3B00, [0, 0x0100, 0, 0])
    window = meter.read_registers(0x3B04, 3)
    assert decode_time3(window) == START + timedelta(minutes=6)


def test_history_is_off_by_default_and_counters_start_at_zero() -> None:
    meter = MeterModel(clock=START, seed=1)
    assert meter.read_registers(0x13B9, 3) == [0, 0, 0]

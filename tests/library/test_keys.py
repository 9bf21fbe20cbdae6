"""The point-key grammar: every catalogue key parses, round-trips, and one spelling per point."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyacurev import keys
from pyacurev.keys import ROLE_LIMITS, PointRef, Role, parse
from pyacurev.layouts import Wiring
from pyacurev.models import DeviceInfo
from pyacurev.points import Option, PointOptions, build_points
from pyacurev.registers import ALARM_CHANNEL_COUNT, DI_COUNT, RELAY_COUNT


def _catalogue(wiring: Wiring, channels: int) -> list:
    device = DeviceInfo("AR2020-KEYS", 1, 1, 1, 1, wiring, 2, channels, 0.0)
    return list(
        build_points(
            device,
            PointOptions(frozenset(Option)),
            (True,) * DI_COUNT,
            tuple(range(1, ALARM_CHANNEL_COUNT + 1)),
        )
    )


@pytest.mark.parametrize("wiring", list(Wiring))
@pytest.mark.parametrize("channels", [9, 18])
def test_every_catalogue_key_parses_to_what_the_catalogue_says(
    wiring: Wiring, channels: int
) -> None:
    points = _catalogue(wiring, channels)
    assert len(points) > 100
    roles: set[Role] = set()
    for point in points:
        ref = parse(point.key)
        assert ref is not None, point.key
        assert ref.key == point.key
        roles.add(ref.role)
        # The catalogue sets channel/user/phase by hand; the grammar must agree with it.
        if ref.role is Role.CHANNEL:
            assert ref.number == point.channel, point.key
        if ref.role is Role.USER:
            assert ref.number == point.user, point.key
            assert ref.phase == (point.phase and str(point.phase)), point.key
        if ref.role is Role.PHASE:
            assert ref.phase == str(point.phase), point.key
    expected = {Role.SYSTEM, Role.PHASE, Role.CHANNEL, Role.RELAY, Role.DI, Role.DI_COUNT}
    expected.add(Role.ALARM)
    if wiring is not Wiring.ONE_LN:
        expected.add(Role.USER)
    assert roles == expected


def test_counts_come_from_the_register_table() -> None:
    points = _catalogue(Wiring.THREE_LN, 18)
    refs = [r for p in points if (r := parse(p.key))]
    assert max(r.number or 0 for r in refs if r.role is Role.RELAY) == RELAY_COUNT
    assert max(r.number or 0 for r in refs if r.role is Role.DI) == DI_COUNT
    assert ROLE_LIMITS[Role.RELAY] == RELAY_COUNT
    assert parse(f"relay_{RELAY_COUNT + 1}") is None
    assert parse(f"alarm_{ALARM_CHANNEL_COUNT + 1}") is None


@pytest.mark.parametrize(
    ("key", "ref"),
    [
        ("ch01_import_energy", PointRef(Role.CHANNEL, "import_energy", 1)),
        ("ch18_current", PointRef(Role.CHANNEL, "current", 18)),
        ("user2_current_a", PointRef(Role.USER, "current", 2, "a")),
        ("user6_active_power", PointRef(Role.USER, "active_power", 6)),
        ("user9_active_power", PointRef(Role.USER, "active_power", 9)),  # AcuRev 2100
        ("relay_3", PointRef(Role.RELAY, None, 3)),
        ("di_4", PointRef(Role.DI, None, 4)),
        ("di_4_count", PointRef(Role.DI_COUNT, None, 4)),
        ("alarm_7", PointRef(Role.ALARM, None, 7)),
        ("voltage_a", PointRef(Role.PHASE, "voltage", None, "a")),
        ("voltage_ab", PointRef(Role.SYSTEM, "voltage_ab")),
        ("frequency", PointRef(Role.SYSTEM, "frequency")),
    ],
)
def test_parse(key: str, ref: PointRef) -> None:
    assert parse(key) == ref
    assert ref.key == key


def test_channel_and_user_properties() -> None:
    assert parse("ch05_current").channel == 5  # type: ignore[union-attr]
    assert parse("alarm_5").channel == 5  # type: ignore[union-attr]
    assert parse("relay_5").channel is None  # type: ignore[union-attr]
    assert parse("user3_import_energy").user == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "relay_03",
        "relay_0",
        "relay_9",
        "alarm_0",
        "alarm_17",
        "user0_active_power",
        "user10_active_power",
        "user1",
        "user1_",
        "ch1_current",
        "ch00_current",
        "ch19_current",
        "ch01_current_a",
        "ch01",
        "di_4_count_a",
        "di_",
        "di_x",
        "Frequency",
        "frequency ",
        "voltage__a",
        "_voltage",
        "voltage_a\n",
        "relay_\u0663",
        "relay_\uff13",
        "relay_+3",
    ],
)
def test_malformed_keys_do_not_parse(key: str) -> None:
    assert parse(key) is None


def test_builders_refuse_what_does_not_parse() -> None:
    assert keys.channel(1, "current") == "ch01_current"
    assert keys.user(2, "active_power", "b") == "user2_active_power_b"
    assert keys.relay(RELAY_COUNT) == f"relay_{RELAY_COUNT}"
    assert keys.di_count(1) == "di_1_count"
    assert keys.digital_input(2) == "di_2"
    assert keys.alarm(16) == "alarm_16"
    assert keys.phase("voltage", "c") == "voltage_c"
    assert keys.system("frequency") == "frequency"
    for bad in (
        lambda: keys.relay(RELAY_COUNT + 1),
        lambda: keys.channel(0, "current"),
        lambda: keys.channel(1, "current_a"),
        lambda: keys.system("voltage_a"),  # that is a phase key
        lambda: keys.system("relay_1"),
    ):
        with pytest.raises(ValueError, match="not a valid point key"):
            bad()


@given(st.text(alphabet="abcdehlnorsuy_0123456789", max_size=24))
def test_one_spelling_per_point(text: str) -> None:
    """Whatever parses is the canonical spelling of its reference (no aliases)."""
    ref = parse(text)
    if ref is not None:
        assert ref.key == text
        assert parse(ref.key) == ref

"""Model profiles: counts come from the one register table, never from a second copy."""

from __future__ import annotations

import pytest

from pyacurev.keys import ROLE_LIMITS, Role, parse
from pyacurev.layouts import Wiring, user_inputs
from pyacurev.profiles import PROFILES, MeterModel, profile_for
from pyacurev.registers import REGISTER_MAP

pytestmark = pytest.mark.protocol

P2020 = PROFILES[MeterModel.ACUREV_2020]
P2100 = PROFILES[MeterModel.ACUREV_2100]


def test_user_counts_follow_the_tagged_rows() -> None:
    assert (P2020.user_count, P2100.user_count) == (6, 9)
    assert ROLE_LIMITS[Role.USER] == 9
    assert parse("user9_import_energy") is not None
    assert parse("user10_import_energy") is None
    only_2100 = {b.key for b in REGISTER_MAP if b.model == "2100"}
    assert only_2100 == {b.key for b in P2100.rows} - {b.key for b in P2020.rows}
    assert len(only_2100) == 4


def test_wiring_types_per_model() -> None:
    assert set(P2100.wirings) == set(Wiring)
    assert set(P2020.wirings) == {Wiring.ONE_LN, Wiring.TWO_LN, Wiring.THREE_LN}
    assert profile_for(2100) is P2100
    assert profile_for(0) is profile_for(2020) is P2020


@pytest.mark.parametrize("wiring", [w for w in Wiring if w.inputs_per_user == 2])
def test_nine_two_input_users_use_every_channel_once(wiring: Wiring) -> None:
    users = P2100.users(wiring, 18)
    assert users == tuple(range(1, 10))
    inputs = [ch for u in users for ch in user_inputs(u, wiring)]
    assert sorted(inputs) == list(range(1, 19))
    if wiring in P2020.wirings:
        assert P2020.users(wiring, 18) == tuple(range(1, 7))


@pytest.mark.parametrize("wiring", [Wiring.THREE_LN, Wiring.HIGH_LEG_DELTA])
def test_three_input_wirings_keep_six_users(wiring: Wiring) -> None:
    assert P2100.users(wiring, 18) == tuple(range(1, 7))
    assert P2100.users(wiring, 9) == (1, 2, 3)
    with pytest.raises(ValueError, match="two-input wiring"):
        user_inputs(7, wiring)

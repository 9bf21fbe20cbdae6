"""Simulator tests: a frozen simulator on a free loopback port and a raw client.

Loopback sockets are unblocked for every test by ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from acurev_simulator import Simulator

from .raw_modbus import HOST, RawClient

# A Tuesday, noon: weekday TOU schedule, tariff "peak" (11:00-17:00) in the default programme.
START = datetime(2026, 3, 10, 12, 0, 0)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A frozen 3LN, 18-channel meter at ``START``."""
    async with Simulator(host=HOST, port=0, frozen=True, clock=START, seed=1) as s:
        yield s


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[RawClient]:
    """A raw client connected to ``sim``."""
    c = await RawClient.connect(sim.port)
    yield c
    await c.close()

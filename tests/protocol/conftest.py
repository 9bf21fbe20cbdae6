"""Shared fixtures for the protocol-layer tests: ``pyacurev`` against the simulator.

Neither imports Home Assistant, so these tests run in the newest-pymodbus venv too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from acurev_simulator import Simulator
from pyacurev.client import AcuRevClient

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"  # phcc's socket guard allows only this address (tests/conftest.py)

# A Tuesday, noon (weekday TOU schedule): a fixed clock makes peak times comparable.
START = datetime(2026, 3, 10, 12, 0, 0)

type SimFactory = Callable[..., Awaitable[Simulator]]
type ClientFactory = Callable[..., AcuRevClient]


@pytest.fixture
def make_sim(make_simulator: SimFactory) -> SimFactory:
    """Frozen simulators whose clock starts at ``START`` (exact timestamps in assertions)."""

    async def factory(**kwargs: Any) -> Simulator:
        kwargs.setdefault("clock", START)
        return await make_simulator(**kwargs)

    return factory


@pytest.fixture
async def sim(make_sim: SimFactory) -> Simulator:
    """An 18-channel 3LN CT meter."""
    return await make_sim(wiring="3LN", channels=18)


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """Clients that are closed after the test (small timeout unless given)."""
    made: list[AcuRevClient] = []

    def factory(target: Simulator | int, **kwargs: Any) -> AcuRevClient:
        port = target if isinstance(target, int) else target.port
        kwargs.setdefault("timeout", 0.5)
        client = AcuRevClient(HOST, port, **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.close()

"""Shared test set-up.

pytest-homeassistant-custom-component (phcc) disables sockets for every test and
allows only 127.0.0.1 once a test asks for ``socket_enabled``. Every test here
talks to the simulator over real loopback TCP, so all of them ask for it; in an
environment without phcc (the newest-pymodbus venv) there is nothing to lift.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from acurev_simulator import Simulator

HOST = "127.0.0.1"
type SimFactory = Callable[..., Awaitable[Simulator]]


@pytest.fixture(autouse=True)
def _loopback_sockets(request: pytest.FixtureRequest) -> None:
    with contextlib.suppress(pytest.FixtureLookupError):
        request.getfixturevalue("socket_enabled")


@pytest.fixture
async def make_simulator() -> AsyncIterator[SimFactory]:
    """Start simulators on free loopback ports (frozen unless told); stop them all afterwards."""
    started: list[Simulator] = []

    async def factory(**kwargs: Any) -> Simulator:
        kwargs.setdefault("frozen", True)
        sim = Simulator(host=HOST, port=kwargs.pop("port", 0), **kwargs)
        await sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        await sim.stop()

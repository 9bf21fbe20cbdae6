"""Shared setup for the protocol-layer tests (no Home Assistant needed).

``custom_components/acurev/__init__.py`` is the Home Assistant integration and
imports Home Assistant; Python runs it before any ``custom_components.acurev.*``
submodule. Where Home Assistant is not installed (the newest-pymodbus env), the
package is registered bare so only the HA-free protocol subpackage is loaded.
With Home Assistant installed nothing is changed, so these tests import the
very modules the integration uses.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

_PACKAGE = "custom_components.acurev"
ROOT = Path(__file__).resolve().parents[2]


def _bootstrap() -> None:
    if _PACKAGE in sys.modules or importlib.util.find_spec("homeassistant") is not None:
        return
    spec = importlib.machinery.ModuleSpec(_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(ROOT / "custom_components" / "acurev")]
    sys.modules[_PACKAGE] = importlib.util.module_from_spec(spec)


_bootstrap()

HOST = "127.0.0.1"  # phcc's socket guard allows only this address (tests/conftest.py)

# --------------------------------------------------------------------------- fixtures
# (below the bootstrap: these imports need it)

from collections.abc import AsyncIterator, Awaitable, Callable  # noqa: E402
from datetime import datetime  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from acurev_simulator import Simulator  # noqa: E402
from custom_components.acurev.protocol.client import AcuRevClient  # noqa: E402

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

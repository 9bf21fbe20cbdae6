"""Shared test set-up.

pytest-homeassistant-custom-component (phcc) disables sockets for every test and
allows only 127.0.0.1 once a test asks for ``socket_enabled``. Every test here
talks to the simulator over real loopback TCP, so all of them ask for it; in an
environment without phcc (the newest-pymodbus venv) there is nothing to lift.
"""

from __future__ import annotations

import contextlib

import pytest


@pytest.fixture(autouse=True)
def _loopback_sockets(request: pytest.FixtureRequest) -> None:
    with contextlib.suppress(pytest.FixtureLookupError):
        request.getfixturevalue("socket_enabled")

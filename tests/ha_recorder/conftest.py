"""Home Assistant with the real recorder: the database must exist before ``hass`` does.

phcc's recorder fixtures refuse to start after the ``hass`` fixture, and the
autouse fixtures of tests/ha/ would create it first, hence this separate folder.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.recorder import Recorder

from tests.ha.conftest import fast_timeouts, simulator  # noqa: F401  (re-exported fixtures)


@pytest.fixture(autouse=True)
def recorder_first(recorder_mock: Recorder) -> Recorder:
    """The recorder, set up before anything else touches ``hass``."""
    return recorder_mock


@pytest.fixture(autouse=True)
def custom_integrations(recorder_first: Recorder, enable_custom_integrations: Any) -> None:
    """Let Home Assistant load custom_components/acurev (after the recorder)."""

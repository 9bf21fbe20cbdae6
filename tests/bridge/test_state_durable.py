"""State files are replaced durably: the data and the directory entry are fsync'd.

A real file system is used; ``os.fsync`` is wrapped (not replaced) to see which files it is
called for, since a power cut cannot be simulated in a test.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from bacnet_bridge.bacnet.state import write_json
from bacnet_bridge.snmp.state import next_engine_state


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def test_bacnet_state_file_and_directory_are_synced(tmp_path: Path, synced: list[str]) -> None:
    path = tmp_path / "state" / "bacnet-instances.json"
    write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert str(path.parent) in synced  # the rename
    assert any(p.startswith(str(path)) for p in synced)  # the data (written to path.tmp)
    assert not (path.parent / "bacnet-instances.json.tmp").exists()


def test_bacnet_state_refuses_nan(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    write_json(path, {"cov": 1.0})
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_json(path, {"cov": math.nan})
    assert json.loads(path.read_text()) == {"cov": 1.0}  # the old file is untouched


def test_snmp_engine_state_is_synced(tmp_path: Path, synced: list[str]) -> None:
    state = next_engine_state(tmp_path)
    assert state.boots == 1
    assert str(tmp_path) in synced

"""Durable file replacement: the rename of a state file survives a power cut."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Flush ``directory``'s entries (the rename just done in it) to disk.

    POSIX makes a rename atomic but not durable: without this, a power cut shortly after
    a state file was replaced can bring back the old one, or (on some file systems) none.
    A no-op where a directory cannot be opened (Windows).
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

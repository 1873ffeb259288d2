"""The crash net: each running window autosaves its model after every finished epoch.

Files are named after the process (`session-PID.pt`) so two windows never overwrite each
other. A window deletes its own file when it closes normally; a file whose process is gone
therefore means that session crashed, and the next launch offers to restore it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .settings import state_dir

_NAME = re.compile(r"^session-(\d+)\.pt$")


def autosave_dir() -> Path:
    path = state_dir() / "autosave"
    path.mkdir(parents=True, exist_ok=True)
    return path


def own_autosave_path() -> Path:
    return autosave_dir() / f"session-{os.getpid()}.pt"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return False  # no cheap check: treat other sessions' files as left behind
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned_autosaves() -> list[Path]:
    """Autosaves left by sessions that are no longer running, newest first."""
    found = []
    for p in autosave_dir().iterdir():
        m = _NAME.match(p.name)
        if m and not _pid_alive(int(m.group(1))):
            found.append(p)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def adopt(path: Path) -> Path:
    """Make a left-behind autosave this session's own (so a second crash still keeps it)."""
    target = own_autosave_path()
    os.replace(path, target)
    return target


def discard(path: Path) -> None:
    try:
        Path(path).unlink()
    except FileNotFoundError:
        pass

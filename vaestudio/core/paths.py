"""Where VAE Studio keeps caches and looks for data, overridable by environment variables."""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


def cache_dir() -> Path:
    """Generated and converted data sets ($VAESTUDIO_CACHE, else ~/.cache/vaestudio)."""
    p = os.environ.get("VAESTUDIO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "vaestudio")
    path = Path(p)
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_data_root() -> Path:
    """Where real data sets are looked for when no --data-root is given ($VAESTUDIO_DATA)."""
    p = os.environ.get("VAESTUDIO_DATA") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "vaestudio", "data")
    return Path(p)


TEMP_MARK = ".tmp"
STALE_TEMP_S = 24 * 3600  # a temp file this old is a leftover whatever its process


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def sweep_temp_files(path: str | os.PathLike) -> int:
    """Remove the leftovers of killed writers of `path` (`.NAME.tmpPID-...` beside it whose
    process is gone, or older than a day); returns how many went. Links are removed, never
    followed."""
    path = Path(path)
    prefix = f".{path.name}{TEMP_MARK}"
    removed = 0
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid_text = entry.name[len(prefix):].split("-", 1)[0]
        try:
            st = entry.stat(follow_symlinks=False)
            old = now - st.st_mtime > STALE_TEMP_S
            if old or not pid_text.isdigit() or not _pid_alive(int(pid_text)):
                os.unlink(entry.path)
                removed += 1
        except (OSError, ValueError):
            continue
    return removed


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Write `path` all or nothing: yields a file open (mode "wb" or "w", UTF-8) on a new temp
    file beside it, created exclusively (`mkstemp`: O_CREAT | O_EXCL, so a planted file or link
    of that name is never written through) and named `.NAME.tmpPID-RANDOM`; on success flushes,
    fsyncs and renames it over `path`; on any exception removes the temp file and leaves an
    existing `path` as it was. Leftovers of killed writers of `path` are swept first."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write writes with mode 'wb' or 'w', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_temp_files(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARK}{os.getpid()}-", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with open(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` all or nothing (see `atomic_write`)."""
    with atomic_write(path, "wb") as f:
        f.write(data)

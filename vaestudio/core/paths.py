"""Where VAE Studio keeps caches and looks for data, overridable by environment variables."""
from __future__ import annotations

import os
import threading
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


def temp_path(path: str | os.PathLike) -> Path:
    """A temporary name beside `path` (`.NAME.tmpPID-THREAD`), private to this process and thread,
    so a rename over `path` stays on one file system."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Write `path` all or nothing: yields a file open (mode "wb" or "w", UTF-8) on a temp file
    beside it (`temp_path`); on success flushes, fsyncs and renames it over `path`; on any
    exception removes the temp file and leaves an existing `path` as it was."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write writes with mode 'wb' or 'w', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
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

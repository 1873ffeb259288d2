"""Where VAE Studio keeps caches and looks for data, overridable by environment variables."""
from __future__ import annotations

import os
from pathlib import Path


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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file beside `path`, fsync, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

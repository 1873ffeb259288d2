"""One writer per run folder, and a writable folder before any training starts.

`vaestudio train` holds RUN/.vaestudio-lock while it trains into RUN: a small file holding its
PID and host, created exclusively (O_CREAT | O_EXCL, so of two processes exactly one creates it)
and removed when the process ends, normally or by an exception. A second process on the same
folder is refused with the PID holding it. A lock left by a killed process (its PID is gone) is
stale and is taken over. `checkpoint.write_run` refuses to write into a folder that another
live process holds, so the window's File > Save cannot overwrite a run being trained either.

`prepare_run_folder` creates the folder and proves a file can be made in it, so a read-only or
impossible --out is refused in one line before a data set is opened or an epoch is trained.
"""
from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .errors import FileProblem

LOCK_NAME = ".vaestudio-lock"
_YOUNG_S = 2.0  # an empty lock file this fresh is being written: wait instead of taking it over
_HOST = socket.gethostname()
_held: set[str] = set()  # lock files this process holds
_held_guard = threading.Lock()


class RunFolderError(FileProblem):
    """A run folder cannot be made or written."""


class RunFolderLocked(RunFolderError):
    """Another process is training into the run folder."""


@dataclass(frozen=True)
class LockOwner:
    pid: int
    host: str

    @property
    def ours(self) -> bool:
        return self.pid == os.getpid() and self.host == _HOST

    def alive(self) -> bool:
        if self.host != _HOST:
            return True  # another machine's process (a shared folder): no way to tell, so respect it
        return _pid_alive(self.pid)

    def describe(self) -> str:
        return f"PID {self.pid}" + ("" if self.host == _HOST else f" on {self.host}")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # someone else's process (or a PID this system cannot signal): alive
    try:  # a killed child its parent has not reaped yet is a zombie: gone for our purposes
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def lock_path(folder: str | os.PathLike) -> Path:
    return Path(folder) / LOCK_NAME


def _parse(data: bytes) -> Optional[LockOwner]:
    parts = data.decode("utf-8", "replace").split()
    if not parts or not parts[0].isdigit() or len(parts[0]) > 12:
        return None
    return LockOwner(int(parts[0]), parts[1] if len(parts) > 1 else _HOST)


def _read(path: Path) -> Optional[bytes]:
    """The lock file's bytes; None when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError:
        return b""  # a link or an unreadable file: not a lock anyone could own
    try:
        return os.read(fd, 256)
    finally:
        os.close(fd)


def owner(folder: str | os.PathLike) -> Optional[LockOwner]:
    """The live process (not this one) that holds `folder`, or None when it is free or stale."""
    data = _read(lock_path(folder))
    who = None if data is None else _parse(data)
    if who is None or who.ours or not who.alive():
        return None
    return who


def check_not_locked(folder: str | os.PathLike, what: str = "written") -> None:
    """Refuse (RunFolderLocked) when another live process trains into `folder`."""
    who = owner(folder)
    if who is not None:
        raise RunFolderLocked(folder, f"is in use by another VAE Studio process ({who.describe()}) that is "
                                      f"training into it; it cannot be {what} until that process ends")


def prepare_run_folder(folder: str | os.PathLike, *, create: bool = True) -> bool:
    """Make sure `folder` exists (made when `create`) and a file can be made in it; one clear
    RunFolderError otherwise. Returns True when this call created the folder."""
    folder = Path(folder)
    created = False
    if not folder.is_dir():
        if folder.exists():
            raise RunFolderError(folder, "is a file, not a folder: choose another run folder")
        if not create:
            raise RunFolderError(folder, "no such folder")
        try:
            folder.mkdir(parents=True)
            created = True
        except FileExistsError:
            if not folder.is_dir():
                raise RunFolderError(folder, "is a file, not a folder: choose another run folder") from None
        except NotADirectoryError:
            raise RunFolderError(folder, "cannot be made: part of its path is a file, not a folder") from None
        except OSError as e:
            raise RunFolderError(folder, f"cannot be made ({e.strerror or e})") from None
    try:
        fd, name = tempfile.mkstemp(prefix=".vaestudio-write-test-", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as e:
        if created:
            _remove_empty(folder)
        raise RunFolderError(folder, f"is not writable ({e.strerror or e}): choose another run folder") from None
    return created


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


class RunLock:
    """Hold `folder` for this process: `with RunLock(folder): ...` (or acquire / release)."""

    def __init__(self, folder: str | os.PathLike, *, remove_if_empty: bool = False):
        self.folder = Path(folder)
        self.path = lock_path(folder)
        self.remove_if_empty = remove_if_empty  # a folder made for this run that stayed empty goes too
        self._content = f"{os.getpid()} {_HOST}\n".encode()
        self.held = False

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        key = str(self.path.absolute())
        for _ in range(200):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
            except FileExistsError:
                pass
            except OSError as e:
                raise RunFolderError(self.folder, f"cannot be locked for writing ({e.strerror or e})") from None
            else:
                try:
                    os.write(fd, self._content)
                finally:
                    os.close(fd)
                with _held_guard:
                    _held.add(key)
                self.held = True
                return
            data = _read(self.path)
            if data is None:
                continue  # released meanwhile: try again
            who = _parse(data)
            if who is not None and who.ours:
                with _held_guard:
                    mine = key in _held
                if mine:
                    raise RunFolderLocked(self.folder, "is already being trained by this process")
            elif who is not None and who.alive():
                raise RunFolderLocked(
                    self.folder, f"is in use by another VAE Studio process ({who.describe()}) that is training "
                                 f"into it; wait for it to end, or choose another run folder (if no such process "
                                 f"trains it, remove {LOCK_NAME} there)")
            elif who is None and self._young():
                time.sleep(0.01)  # its creator is between creating and writing it
                continue
            self._take_over(data)
        raise RunFolderLocked(self.folder, "is being locked and unlocked by other processes; try again")

    def _young(self) -> bool:
        try:
            return time.time() - os.lstat(self.path).st_mtime < _YOUNG_S
        except OSError:
            return False

    def _take_over(self, stale: bytes) -> None:
        """Move the stale lock aside (atomic rename: of several processes one gets it); if what
        was moved is not the lock that was judged stale, put it back."""
        aside = self.path.with_name(f"{LOCK_NAME}.stale-{os.getpid()}-{time.monotonic_ns()}")
        try:
            os.rename(self.path, aside)
        except OSError:
            return
        try:
            if _read(aside) != stale:  # another process's fresh lock: restore it unless one exists again
                try:
                    os.link(aside, self.path)
                except OSError:
                    pass
        finally:
            try:
                os.unlink(aside)
            except OSError:
                pass

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        with _held_guard:
            _held.discard(str(self.path.absolute()))
        if _read(self.path) == self._content:
            try:
                os.unlink(self.path)
            except OSError:
                pass
        if self.remove_if_empty:
            _remove_empty(self.folder)

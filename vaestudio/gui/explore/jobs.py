"""Background decoding and encoding for the latent tools: one worker, latest request wins.

Every request has a key ("lattice", "encode", ...). A new request for a key supersedes the
older one: a queued one is skipped, a running one sees `cancel()` turn true and its result is
dropped. Results arrive in the GUI thread through a queued signal of this object.

A `QThreadPool` (one thread) rather than a bare `QThread`: its destructor waits for the job
in hand, so no thread outlives the window and Qt never aborts on a running thread.
"""
from __future__ import annotations

import threading
from typing import Callable, Optional

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from ..workers import describe_exception

JobFn = Callable[[Callable[[], bool]], object]  # fn(cancel) -> result


class _Job(QRunnable):
    def __init__(self, runner: "JobRunner", key: str, token: int, fn: JobFn):
        super().__init__()
        self.setAutoDelete(True)
        self.runner, self.key, self.token, self.fn = runner, key, token, fn

    def run(self) -> None:
        runner, key, token = self.runner, self.key, self.token
        cancel = lambda: not runner.is_current(key, token)  # noqa: E731
        if cancel():
            return
        try:
            result = self.fn(cancel)
        except BaseException as e:  # noqa: BLE001 - reported, never lost in the pool
            self._report(runner._failed, describe_exception(e)[0])
            return
        self._report(runner._done, result)

    def _report(self, signal, payload) -> None:
        if self.runner.is_current(self.key, self.token):
            try:
                signal.emit(self.key, self.token, payload)
            except RuntimeError:  # the window closed while this ran: nobody is listening
                pass


class JobRunner(QObject):
    """Runs `fn(cancel)` off the GUI thread; `finished(key, result)` only for the latest request."""

    finished = Signal(str, object)
    failed = Signal(str, str)  # key, message
    _done = Signal(str, int, object)
    _failed = Signal(str, int, str)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._lock = threading.Lock()
        self._tokens: dict[str, int] = {}
        self._next = 0
        self._closed = False
        self._done.connect(self._deliver)
        self._failed.connect(self._deliver_failure)

    def submit(self, key: str, fn: JobFn) -> int:
        """Queue `fn` under `key`, superseding any earlier request for that key."""
        with self._lock:
            if self._closed:
                return -1
            self._next += 1
            token = self._tokens[key] = self._next
        self.pool.start(_Job(self, key, token, fn))
        return token

    def discard(self, key: str) -> None:
        """Forget `key`'s pending request: its result will not be delivered."""
        with self._lock:
            self._tokens.pop(key, None)

    def is_current(self, key: str, token: int) -> bool:
        with self._lock:
            return not self._closed and self._tokens.get(key) == token

    def pending(self, key: str) -> bool:
        with self._lock:
            return key in self._tokens

    @property
    def idle(self) -> bool:
        """No request is waiting for its result."""
        with self._lock:
            return not self._tokens

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the worker is idle (tests and shutdown)."""
        return bool(self.pool.waitForDone(timeout_ms))

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            self._tokens.clear()
        self.pool.clear()
        self.pool.waitForDone()

    @Slot(str, int, object)
    def _deliver(self, key: str, token: int, result) -> None:
        if self.is_current(key, token):
            with self._lock:
                self._tokens.pop(key, None)
            self.finished.emit(key, result)

    @Slot(str, int, str)
    def _deliver_failure(self, key: str, token: int, message: str) -> None:
        if self.is_current(key, token):
            with self._lock:
                self._tokens.pop(key, None)
            self.failed.emit(key, message)

"""Long work off the GUI thread, with a progress dialog that can cancel it.

The dialog appears only when the work is still running after `SHOW_AFTER_MS`, so quick jobs
(a cached data set) never flash one on screen.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget
from shiboken6 import isValid

from .workers import TaskWorker

SHOW_AFTER_MS = 400


class ProgressTask(QObject):
    """One run of `fn(progress, cancel)`; emits exactly one of succeeded / failed / cancelled,
    then `ended`. The owner keeps a reference until `ended` (the task has no Qt parent)."""

    succeeded = Signal(object)
    failed = Signal(object, str, str)  # exception, message, details
    cancelled = Signal()
    ended = Signal()

    def __init__(self, parent: QWidget, title: str, fn: Callable, *, show_after_ms: int = SHOW_AFTER_MS):
        super().__init__()
        self.title = title
        self.worker = TaskWorker(fn)
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_succeeded)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.done.connect(self._on_done)
        self.dialog = QProgressDialog(title, "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(2**31 - 1)  # never shows itself; `_show_timer` decides
        self.dialog.canceled.connect(self.cancel)
        self.dialog.destroyed.connect(self._forget_dialog)  # its parent window may go first
        self.dialog.hide()
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_dialog)
        self._show_after_ms = show_after_ms
        self.running = False

    def start(self) -> None:
        self.running = True
        self.dialog.reset()
        self.dialog.hide()  # QProgressDialog shows itself after reset(); we decide when
        self._show_timer.start(self._show_after_ms)
        self.worker.start()

    def cancel(self) -> None:
        self.worker.request_stop()
        if self.dialog is not None:
            self.dialog.setLabelText("Cancelling...")

    def shutdown(self) -> None:
        """Cancel and wait for the thread (closing the window)."""
        self.worker.stop_and_wait()
        self._close_dialog()
        self.running = False

    @Slot()
    def _forget_dialog(self) -> None:
        self.dialog = None

    @Slot()
    def _show_dialog(self) -> None:
        if self.running and self.dialog is not None:
            self.dialog.show()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        if self.dialog is None:
            return
        if total > 0:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))
        else:
            self.dialog.setMaximum(0)
        if message:
            self.dialog.setLabelText(message)

    def _close_dialog(self) -> None:
        self._show_timer.stop()
        if self.dialog is None or not isValid(self.dialog):
            self.dialog = None
            return
        self.dialog.blockSignals(True)  # hide() must not read as a click on Cancel
        self.dialog.hide()
        self.dialog.blockSignals(False)

    @Slot(object)
    def _on_succeeded(self, result) -> None:
        self._close_dialog()
        self.succeeded.emit(result)

    @Slot(object, str, str)
    def _on_failed(self, exc, message: str, details: str) -> None:
        self._close_dialog()
        self.failed.emit(exc, message, details)

    @Slot()
    def _on_cancelled(self) -> None:
        self._close_dialog()
        self.cancelled.emit()

    @Slot()
    def _on_done(self) -> None:
        self.worker.join()
        self.running = False
        self._close_dialog()
        if self.dialog is not None:
            self.dialog.destroyed.disconnect(self._forget_dialog)
            self.dialog.deleteLater()
            self.dialog = None
        self.ended.emit()


"""Opens data sets off the GUI thread (generation, conversion and downloads can take long),
with a cancellable progress dialog; the newest request wins over one still running."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from ..core.data.base import DatasetSpec
from .progress_task import ProgressTask


def _open(spec: DatasetSpec, download: bool):
    from ..core.data.registry import open_dataset

    def work(progress, cancel):
        return open_dataset(spec, download=download, progress=progress, cancel=cancel)
    return work


class DatasetLoader(QObject):
    loaded = Signal(object)  # ImageDataset
    failed = Signal(object, str, str)  # DatasetSpec, message, details ('' for expected errors)
    not_found = Signal(object, str)  # DatasetSpec, message: its files are missing
    cancelled = Signal(object)  # DatasetSpec

    def __init__(self, parent_widget: QWidget):
        super().__init__(parent_widget)
        self.parent_widget = parent_widget
        self.task: Optional[ProgressTask] = None  # the one whose result counts
        self._tasks: list[ProgressTask] = []  # every task whose thread may still run
        self.spec: Optional[DatasetSpec] = None
        self.download = False

    @property
    def busy(self) -> bool:
        return self.task is not None

    def load(self, spec: DatasetSpec, *, download: bool = False) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.succeeded.disconnect(self._on_loaded)
            self.task.failed.disconnect(self._on_failed)
            self.task.cancelled.disconnect(self._on_cancelled)
        self.spec, self.download = spec, download
        title = f"Opening {spec.name}" + (" (downloading)" if download else "")
        self.task = ProgressTask(self.parent_widget, title, _open(spec, download))
        self.task.succeeded.connect(self._on_loaded)
        self.task.failed.connect(self._on_failed)
        self.task.cancelled.connect(self._on_cancelled)
        self.task.ended.connect(self._prune)
        self._tasks.append(self.task)
        self.task.start()

    def shutdown(self) -> None:
        """Cancel everything and wait for the threads (closing the window)."""
        for task in self._tasks:
            task.shutdown()
        self._tasks.clear()
        self.task = None

    @Slot()
    def _prune(self) -> None:
        self._tasks = [t for t in self._tasks if t.running]

    @Slot(object)
    def _on_loaded(self, dataset) -> None:
        self.task = None
        self.loaded.emit(dataset)

    @Slot(object, str, str)
    def _on_failed(self, exc, message: str, details: str) -> None:
        from ..core.errors import DataNotFoundError

        self.task = None
        if isinstance(exc, DataNotFoundError):
            self.not_found.emit(self.spec, message)
        else:
            self.failed.emit(self.spec, message, details)

    @Slot()
    def _on_cancelled(self) -> None:
        self.task = None
        self.cancelled.emit(self.spec)

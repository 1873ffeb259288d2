"""Starts, pauses and stops training for the window, and turns the worker's reports into
session updates. It lives in the GUI thread, so the worker's queued signals land here.

"Start" trains the session's run toward its total number of epochs (the run's own target,
which the window sets from its Epochs control). "Stop" ends within one batch; the run keeps
exactly what was trained, the step inside the epoch included, and the next Start continues
from there.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from ..core.errors import ConfigError
from . import autosave
from .session import Session
from .workers import TrainWorker


class TrainingController(QObject):
    step = Signal(object)  # the worker's step dict, plus "start_x": epochs done when Start was pressed
    device_changed = Signal(str)
    preparing = Signal(int, int, str)  # done, total, what: e.g. a DFC-VAE's feature network training
    failed = Signal(str, str)  # message, details
    finished = Signal(object)  # the worker's result dict

    def __init__(self, session: Session, parent: Optional[QObject] = None, *, autosave_enabled: bool = True):
        super().__init__(parent)
        self.session = session
        self.autosave_enabled = autosave_enabled
        self.worker: Optional[TrainWorker] = None
        self.start_x = 0.0
        self.samples_per_s = 0.0
        self.cuda_graph = False  # the next Start replays steps as a CUDA graph where it can (the form's choice)

    @property
    def autosave_path(self):
        return autosave.own_autosave_path() if self.autosave_enabled else None

    # -- commands -------------------------------------------------------------------------
    def start(self, allow_dataset_switch: bool = False) -> None:
        """Train the session's run on the session's data set toward the run's target.

        Raises ConfigError for what cannot start (`DatasetSwitchError` when the data set is not
        the one the run trained on and `allow_dataset_switch` is False)."""
        from .torch_setup import prepare_torch

        prepare_torch()
        s = self.session
        if self.worker is not None:
            raise ConfigError("training is already running")
        if s.dataset is None:
            raise ConfigError("open a data set first (File > Open Dataset)")
        run = s.run
        if run is None:
            raise ConfigError("there is no model yet: choose its settings and start")
        if run.finished:
            raise ConfigError(f"the model has trained {run.epochs_done:g} of {run.target_epochs} epochs: "
                              f"raise Epochs (total) to train more")
        run.use_dataset(s.dataset, allow_switch=allow_dataset_switch)
        self.start_x = run.epochs_done
        worker = TrainWorker(run, s.dataset, autosave_path=self.autosave_path, cuda_graph=self.cuda_graph)
        for signal, slot in ((worker.device_ready, self._on_device), (worker.preparing, self._on_preparing),
                             (worker.step, self._on_step),
                             (worker.epoch_done, self._on_epoch), (worker.finished, self._on_finished),
                             (worker.failed, self._on_failed), (worker.done, self._on_done)):
            signal.connect(slot)
        self.worker = worker
        s.set_state("running")
        s.set_dirty(True)
        worker.start()

    def pause(self) -> None:
        if self.worker is not None and self.session.state == "running":
            self.worker.pause()
            self.session.set_state("paused")

    def resume(self) -> None:
        if self.worker is not None and self.session.state == "paused":
            self.worker.resume()
            self.session.set_state("running")

    def stop(self) -> None:
        """Ask the worker to stop after the current batch; `finished` follows."""
        if self.worker is not None:
            self.worker.request_stop()

    def shutdown(self) -> None:
        """Stop and wait (for closing the window): returns with the thread ended and the
        session holding the run exactly as it stopped."""
        worker = self.worker
        if worker is None:
            return
        worker.stop_and_wait()
        # Deliver the worker's last queued reports now, so the session is complete.
        QCoreApplication.sendPostedEvents(self, 0)
        if self.worker is worker:  # its `done` had not been queued yet
            self._on_done_from(worker)

    # -- the worker's reports (queued into the GUI thread) -------------------------------
    def _current(self) -> bool:
        return self.worker is not None and self.sender() is self.worker

    @Slot(str)
    def _on_device(self, text: str) -> None:
        if self._current():
            self.device_changed.emit(text)

    @Slot(int, int, str)
    def _on_preparing(self, done: int, total: int, what: str) -> None:
        if self._current():
            self.preparing.emit(done, total, what)

    @Slot(object)
    def _on_step(self, ev: dict) -> None:
        if self._current():
            self.samples_per_s = ev["samples_per_s"]
            self.step.emit(dict(ev, start_x=self.start_x))

    @Slot(object, object)
    def _on_epoch(self, record: dict, saved_state) -> None:
        if self._current():
            self.samples_per_s = record.get("samples_per_s", self.samples_per_s)
            self.session.epoch_finished(record, saved_state)

    @Slot(object)
    def _on_finished(self, result: dict) -> None:
        if not self._current():
            return
        if result["status"] == "diverged":
            self.failed.emit(result["message"], "")
        self.finished.emit(result)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        if self._current():
            self.failed.emit(message, details)

    @Slot()
    def _on_done(self) -> None:
        if self._current():
            self._on_done_from(self.worker)

    def _on_done_from(self, worker: TrainWorker) -> None:
        worker.join()
        self.worker = None
        self.session.training_ended()
        self.session.set_state("idle")

"""Starts, pauses and stops training for the window, and turns the worker's reports into
session updates. It lives in the GUI thread, so the worker's queued signals land here.

"Start" trains the current model for the configured number of further epochs (or a new model
first, when asked); "Stop" ends within one batch and keeps the weights as they are.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from ..core.errors import ConfigError
from . import autosave
from .session import Session
from .workers import TrainWorker


class TrainingController(QObject):
    step = Signal(object)  # dict of a StepEvent's numbers, plus run_start_epoch / run_epochs
    device_changed = Signal(str)
    failed = Signal(str, str)  # message, details
    finished = Signal(object)  # the worker's result dict

    def __init__(self, session: Session, parent: Optional[QObject] = None, *, autosave_enabled: bool = True):
        super().__init__(parent)
        self.session = session
        self.autosave_enabled = autosave_enabled
        self.worker: Optional[TrainWorker] = None
        self.run_start_epoch = 0
        self.samples_per_s = 0.0

    @property
    def autosave_path(self):
        return autosave.own_autosave_path() if self.autosave_enabled else None

    # -- commands -------------------------------------------------------------------------
    def start(self, new_model_config=None, train_config=None) -> None:
        """Train for `train_config.epochs` more epochs; build a model from `new_model_config` first
        when given (or when there is none). Raises ConfigError for what cannot start."""
        from ..core.config import TrainConfig
        from ..core.models import build_model
        from .torch_setup import prepare_torch

        prepare_torch()
        import torch

        s = self.session
        if self.worker is not None:
            raise ConfigError("training is already running")
        if s.dataset is None:
            raise ConfigError("open a data set first (File > Open Dataset)")
        tcfg = train_config or s.train_config or TrainConfig()
        if new_model_config is None and s.model is None:
            raise ConfigError("there is no model yet: choose its settings and start")
        cfg = new_model_config or s.model_config
        if tuple(cfg.image_shape) != tuple(s.dataset.image_shape):
            raise ConfigError(
                f"the model takes images of shape {tuple(cfg.image_shape)}, but '{s.dataset.name}' has "
                f"{tuple(s.dataset.image_shape)}: choose Train > New Model... to build one for this data set")
        if new_model_config is not None:
            torch.manual_seed(tcfg.seed)
            s.set_model(build_model(new_model_config), train_config=tcfg)
        start = s.epoch
        run_cfg = dataclasses.replace(tcfg, epochs=start + tcfg.epochs)
        s.train_config = tcfg
        self.run_start_epoch = start
        worker = TrainWorker(
            s.model, s.dataset, run_cfg, history=s.history, optimizer_state=_with_lr(s.optimizer_state, tcfg.lr),
            start_epoch=start, autosave_path=self.autosave_path,
            save_kwargs={"dataset_spec": s.dataset.spec},
        )
        for signal, slot in ((worker.device_ready, self._on_device), (worker.step, self._on_step),
                             (worker.epoch_done, self._on_epoch), (worker.finished, self._on_finished),
                             (worker.failed, self._on_failed), (worker.done, self._on_done)):
            signal.connect(slot)
        self.worker = worker
        s.set_state("running")
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
        session updated with the final weights and history."""
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

    @Slot(object)
    def _on_step(self, ev: dict) -> None:
        if self._current():
            self.samples_per_s = ev["samples_per_s"]
            self.step.emit(dict(ev, run_start_epoch=self.run_start_epoch))

    @Slot(object, object)
    def _on_epoch(self, record: dict, snapshot) -> None:
        if self._current():
            self.samples_per_s = record.get("samples_per_s", self.samples_per_s)
            self.session.add_epoch(record, snapshot)

    @Slot(object)
    def _on_finished(self, result: dict) -> None:
        if not self._current():
            return
        self.session.optimizer_state = result["optimizer_state"]
        self.session.epoch = result["epochs_done"]
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
        self.session.set_state("idle")


def _with_lr(optimizer_state: Optional[dict], lr: float) -> Optional[dict]:
    """Adam's saved state carries its learning rate; the one chosen now should win."""
    if not optimizer_state:
        return optimizer_state
    groups = [dict(g, lr=lr) for g in optimizer_state.get("param_groups", [])]
    return dict(optimizer_state, param_groups=groups)

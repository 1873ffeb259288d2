"""The one object that holds the window's state, shared by every panel.

Panels never talk to each other: they read the session's attributes and listen to its
signals. The training model itself belongs to the worker while it trains; panels only ever
see `snapshot`, a frozen CPU copy (`AutoEncoder.cpu_copy()`) that is safe to use from the
GUI thread while training goes on.

Signals
-------
dataset_changed(ImageDataset)  a data set was opened.
model_changed(ModelConfig)     a model was created or opened: the old snapshot is obsolete
                               (`snapshot` is None until the new model's first epoch ends,
                               or set at once for an opened model).
snapshot_changed(AutoEncoder)  a fresh CPU copy after every finished epoch and on open.
training_state_changed(str)    "idle" | "running" | "paused".
history_changed()              the epoch history was replaced (model opened or created).
epoch_added(dict)              one epoch record appended to `history`.
dirty_changed(bool)            the model has (or no longer has) unsaved training.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, Signal

STATES = ("idle", "running", "paused")


class Session(QObject):
    dataset_changed = Signal(object)
    model_changed = Signal(object)
    snapshot_changed = Signal(object)
    training_state_changed = Signal(str)
    history_changed = Signal()
    epoch_added = Signal(object)
    dirty_changed = Signal(bool)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.dataset = None  # ImageDataset
        self.model_config = None  # ModelConfig of the current model
        self.snapshot = None  # latest AutoEncoder CPU copy
        self.history: list[dict] = []  # EpochEvent.to_dict() records
        self.state = "idle"
        # The current model and what is needed to save or continue it. `model` is the live
        # training model: only the training controller touches it, and only while idle.
        self.model = None
        self.train_config = None
        self.epoch = 0  # finished epochs
        self.optimizer_state: Optional[dict] = None
        self.path: Optional[Path] = None  # the file it was opened from or saved to
        self.dirty = False

    # -- data -----------------------------------------------------------------------------
    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.dataset_changed.emit(dataset)

    # -- model ----------------------------------------------------------------------------
    def set_model(self, model, *, train_config=None, history=(), epoch: int = 0, optimizer_state=None,
                  path: Optional[Path] = None, dirty: bool = False, snapshot=None) -> None:
        """Make `model` the current one (a new or an opened model)."""
        self.model = model
        self.model_config = model.config
        self.train_config = train_config
        self.history = list(history)
        self.epoch = int(epoch)
        self.optimizer_state = optimizer_state
        self.path = None if path is None else Path(path)
        self.snapshot = snapshot
        self.model_changed.emit(self.model_config)
        self.history_changed.emit()
        if snapshot is not None:
            self.snapshot_changed.emit(snapshot)
        self.set_dirty(dirty)

    def add_epoch(self, record: dict, snapshot) -> None:
        """One more finished epoch, with the CPU copy of the weights at its end."""
        self.history.append(dict(record))
        self.epoch = int(record.get("epoch", self.epoch + 1))
        self.snapshot = snapshot
        self.epoch_added.emit(record)
        self.snapshot_changed.emit(snapshot)
        self.set_dirty(True)

    def set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)

    def mark_saved(self, path: Path) -> None:
        self.path = Path(path)
        self.dirty = False
        self.dirty_changed.emit(False)  # always: the title shows the new file name

    # -- training -------------------------------------------------------------------------
    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown training state {state!r}")
        if state != self.state:
            self.state = state
            self.training_state_changed.emit(state)

    @property
    def training(self) -> bool:
        return self.state != "idle"

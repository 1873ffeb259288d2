"""The window's state, shared by every panel: the open data set and the current `Run`.

The run (a core object) is the one source of truth for the model, its settings, history and
progress; the session only points at it and turns changes into signals. Panels never keep
their own copy of history or settings: they read `session.run` and listen here.

While training, the run belongs to the worker thread. The GUI then reads only what is safe:
`snapshot` (a frozen CPU copy of the model, refreshed after every epoch) for exploring, and
`saved_state` (a frozen copy of the whole run at the last epoch end) for File > Save. The
run's history list only grows, so reading it from the GUI thread is safe too.

Signals
-------
dataset_changed(ImageDataset)  a data set was opened.
run_changed(object)            the run was replaced (new, opened, discarded: then None). Every
                               view starts over from `session.run`.
snapshot_changed(object)       a fresh CPU copy of the model after an epoch, or on open.
epoch_added(dict)              one history record was appended to `run.history`.
training_state_changed(str)    "idle" | "running" | "paused".
dirty_changed(bool)            the run has (or no longer has) unsaved training.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, Signal

STATES = ("idle", "running", "paused")


class Session(QObject):
    dataset_changed = Signal(object)
    run_changed = Signal(object)
    snapshot_changed = Signal(object)
    epoch_added = Signal(object)
    training_state_changed = Signal(str)
    dirty_changed = Signal(bool)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.dataset = None  # ImageDataset
        self.run = None  # core Run, or None before a model exists
        self.snapshot = None  # CPU copy of the run's model, for exploring
        self.saved_state = None  # Run copy at the last finished epoch while training, else None
        self.state = "idle"
        self.dirty = False
        self.unsaved: set[str] = set()  # what is not saved: "training", "groups" (the close question names it)

    # -- reading ---------------------------------------------------------------------------
    @property
    def model_config(self):
        return None if self.run is None else self.run.model_config

    @property
    def history(self) -> list:
        return [] if self.run is None else self.run.history

    @property
    def path(self):
        return None if self.run is None else self.run.path

    @property
    def training(self) -> bool:
        return self.state != "idle"

    # -- data -----------------------------------------------------------------------------
    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.dataset_changed.emit(dataset)

    # -- the run --------------------------------------------------------------------------
    def set_run(self, run, *, dirty: bool = False) -> None:
        """Make `run` the current one (new, opened or restored), or None to discard the model."""
        self.run = run
        self.saved_state = None
        self.snapshot = None if run is None else run.model.cpu_copy()
        self.run_changed.emit(run)
        if self.snapshot is not None:
            self.snapshot_changed.emit(self.snapshot)
        self.set_dirty(dirty)

    def epoch_finished(self, record: dict, saved_state) -> None:
        """The worker finished an epoch; `saved_state` is the run's frozen copy at its end."""
        self.saved_state = saved_state
        self.snapshot = saved_state.model
        self.epoch_added.emit(record)
        self.snapshot_changed.emit(self.snapshot)
        self.set_dirty(True)

    def training_ended(self) -> None:
        """The worker gave the run back: views take the weights exactly as they stopped."""
        self.saved_state = None
        if self.run is not None:
            self.snapshot = self.run.model.cpu_copy()
            self.snapshot_changed.emit(self.snapshot)

    def set_dirty(self, dirty: bool, what: str = "training") -> None:
        """`what` is unsaved now (True), or nothing is (False)."""
        if dirty:
            self.unsaved.add(what)
        else:
            self.unsaved.clear()
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)

    def mark_saved(self) -> None:
        self.dirty = False
        self.unsaved.clear()
        self.dirty_changed.emit(False)  # always: the title shows the new file name

    # -- training -------------------------------------------------------------------------
    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown training state {state!r}")
        if state != self.state:
            self.state = state
            self.training_state_changed.emit(state)

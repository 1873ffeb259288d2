"""Help > About This Model: what the current run is, and its blur measures on demand.

The measures (`core.quality`: sharpness of reconstructions and prior samples, and a Frechet
distance in a small classifier's features) take seconds, and the first time on a data set the
classifier trains first (about 20 s on the built-in digits), so they run only when asked, in a
worker, with a progress dialog that can cancel. The result is kept in the run (`quality.record`),
so it is saved with the model and `vaestudio info` shows it too.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QVBoxLayout, QWidget)

from . import dialogs
from .progress_task import ProgressTask


class ModelInfoDialog(QDialog):
    """Shows `run.describe()`; "Measure Blur" measures `run` on `dataset` (its test split)."""

    def __init__(self, parent: QWidget, run, dataset, *, training: bool = False, measurable: bool = True):
        super().__init__(parent)
        self.setObjectName("modelInfoDialog")
        self.setWindowTitle("About this model")
        self.run_ = run
        self.dataset = dataset
        self.training = training
        self.measurable = measurable
        self.task: Optional[ProgressTask] = None
        self.last_error = ""

        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.measure_button = QPushButton("&Measure Blur")
        self.measure_button.setObjectName("measureBlurButton")
        self.measure_button.setToolTip(
            "Sharpness of reconstructions and prior samples (1 = as sharp as the real test images) and a "
            "Frechet distance of prior samples to real images in a small classifier's features (lower is "
            "closer; not comparable with Inception FID)")
        self.measure_button.clicked.connect(self.measure)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.measure_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.note)
        layout.addLayout(row)
        self.resize(760, 420)
        # Modal to the window: nothing can start training the model while it is being measured.
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.refresh()

    def why_not_measurable(self) -> str:
        """'' when Measure Blur can run, else why not (shown under the facts)."""
        from ..core.run import describe_spec, same_data

        run, ds = self.run_, self.dataset
        if not self.measurable:
            return "Measure Blur works from the end of the first epoch on."
        if not run.trained:
            return "Train the model to measure its blur."
        if ds is None or run.dataset_spec is None or not same_data(run.dataset_spec, ds.spec):
            return (f"To measure its blur, open the data set it trained on "
                    f"({describe_spec(run.dataset_spec) if run.dataset_spec else 'unknown'}).")
        if len(ds.test) == 0:
            return f"The data set {ds.name} has no test images to measure against."
        return ""

    def refresh(self) -> None:
        text = self.run_.describe()
        if self.training:
            text += "\n\n(Training is running: these are the facts at the last finished epoch.)"
        self.text.setPlainText(text)
        why = self.why_not_measurable()
        busy = self.task is not None
        self.measure_button.setEnabled(not why and not busy)
        self.note.setText(why or ("Measuring..." if busy else
                                  "Measure Blur compares decodes with up to 2,000 of the test images."))

    @Slot()
    def measure(self) -> None:
        if self.task is not None or self.why_not_measurable():
            return
        from ..core import quality

        model, ds = self.run_.model, self.dataset

        def work(progress, cancel):
            return quality.measure(model, ds, progress=progress, cancel=cancel)

        self.task = ProgressTask(self, "Measuring blur", work)
        self.task.succeeded.connect(self._on_measured)
        self.task.failed.connect(self._on_failed)
        self.task.ended.connect(self._on_ended)
        self.task.start()
        self.refresh()

    @Slot(object)
    def _on_measured(self, res: dict) -> None:
        from ..core import quality

        quality.record(self.run_, res, self.dataset)

    @Slot(object, str, str)
    def _on_failed(self, exc, message: str, details: str) -> None:
        self.last_error = message
        dialogs.show_error(self, "Cannot measure blur", exc if exc is not None else message, details)

    @Slot()
    def _on_ended(self) -> None:
        self.task = None
        self.refresh()

    def done(self, result: int) -> None:  # closing: cancel and wait for a measurement in flight
        if self.task is not None:
            self.task.shutdown()
            self.task = None
        super().done(result)

"""The docks of training: settings with Start / Pause / Stop and two progress bars, and the
live loss curves. They only display; the window wires them to the session and controller."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QDockWidget, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QScrollArea,
                               QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from ..core.units import likelihood_bits_per_dim
from .loss_plot import LossPlot
from .model_form import ModelSettingsForm


def _button(action: QAction) -> QToolButton:
    b = QToolButton()
    b.setDefaultAction(action)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return b


class TrainingDock(QDockWidget):
    def __init__(self, start: QAction, pause: QAction, stop: QAction, parent=None):
        super().__init__("Training", parent)
        self.setObjectName("trainingDock")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 6)

        # Controls and progress stay in view; the settings below them scroll.
        buttons = QHBoxLayout()
        self.start_button, self.pause_button, self.stop_button = _button(start), _button(pause), _button(stop)
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.plan = QLabel("")
        self.plan.setObjectName("startPlan")
        self.plan.setWordWrap(True)
        layout.addWidget(self.plan)

        progress = QGroupBox("Progress")
        pbox = QVBoxLayout(progress)
        pform = QFormLayout()
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setObjectName("epochProgress")
        self.overall_bar = QProgressBar()
        self.overall_bar.setObjectName("overallProgress")
        for bar in (self.epoch_bar, self.overall_bar):
            bar.setRange(0, 1000)
            bar.setValue(0)
            bar.setTextVisible(True)
            bar.setFormat("")
        pform.addRow("Epoch", self.epoch_bar)
        pform.addRow("Overall", self.overall_bar)
        pbox.addLayout(pform)
        self.status = QLabel("Not trained yet")
        self.status.setObjectName("trainingStatus")
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        pbox.addWidget(self.status)
        layout.addWidget(progress)

        self.form = ModelSettingsForm()
        scroll = QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(scroll, 1)
        body.setMinimumWidth(300)
        self.setWidget(body)

    def show_plan(self, text: str) -> None:
        """What Start will do, in words (e.g. "Start trains to 30 epochs")."""
        self.plan.setText(text)

    def show_step(self, ev: dict, terms) -> None:
        """Progress from a step report (see TrainingController.step); `terms` are the kind's."""
        frac = ev["step"] / max(ev["steps_per_epoch"], 1)
        start, total = ev["start_x"], ev["epochs"]
        overall = (ev["x"] - start) / max(total - start, 1e-9)
        self.epoch_bar.setValue(int(frac * 1000))
        self.epoch_bar.setFormat(f"{ev['epoch']} of {total}: {frac:.0%}")
        self.overall_bar.setValue(int(overall * 1000))
        self.overall_bar.setFormat(f"{overall:.0%}")
        parts = ", ".join(f"{t.title.split(' (')[0].lower()} {ev['terms'][t.name]:.2f}" for t in terms)
        beta = ev["extras"].get("beta")
        self.status.setText(f"Epoch {ev['epoch']}: {parts}" + (f" (KL weight β {beta:.2g})" if beta is not None else ""))

    def show_preparing(self, done: int, total: int, what: str) -> None:
        """A kind's one-off work before the first step (a DFC-VAE's feature network): the epoch
        bar shows its progress, the overall bar has not begun."""
        frac = done / total if total > 0 else 0.0
        self.epoch_bar.setValue(int(frac * 1000))
        self.epoch_bar.setFormat(f"before epoch 1: {frac:.0%}")
        what = what or "preparing"
        self.status.setText(f"{what[:1].upper()}{what[1:]} (step {done:,} of {total:,}), then the model trains."
                            if total > 0 else f"{what[:1].upper()}{what[1:]}...")

    def show_epoch(self, record: dict, model_config=None) -> None:
        """The epoch's losses; for a Gaussian likelihood (`model_config`) also bits/dim, since
        its nats can be negative and do not compare with a Bernoulli run's."""
        val = record.get("val_loss")
        text = f"Epoch {record['epoch']}: train loss {record['train_loss']:.2f}"
        if val is not None:
            text += f", validation {val:.2f}"
        text += " nats per image"
        figure = likelihood_bits_per_dim(model_config, record) if model_config is not None else None
        if figure is not None:
            text += f" (≈ {figure[1]:.2f} bits/dim, {figure[0]})"
        self.status.setText(text + f", {record['seconds']:.1f} s")

    def show_finished(self, result: dict) -> None:
        if result["status"] == "finished":
            self.epoch_bar.setValue(1000)
            self.overall_bar.setValue(1000)
            self.overall_bar.setFormat("done")
        elif result["status"] == "cancelled":
            self.overall_bar.setFormat("stopped")
            self.status.setText(result["message"][:1].upper() + result["message"][1:] + ".")

    def reset_progress(self, text: str) -> None:
        for bar in (self.epoch_bar, self.overall_bar):
            bar.setValue(0)
            bar.setFormat("")
        self.status.setText(text)


class LossDock(QDockWidget):
    def __init__(self, parent=None):
        super().__init__("Loss", parent)
        self.setObjectName("lossDock")
        self.plot = LossPlot()
        self.plot.setMinimumHeight(180)
        self.setWidget(self.plot)

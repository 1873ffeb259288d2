"""The questions an export asks: where to write a PNG, and for an animation also its format,
frame count, frame duration, loop and size. An animation's frame count is its panel's steps: the
dialog starts from them and says so, and the controller sets the panel to the count exported.
Tests replace `choose_png_path` and `ask_animation_options` (monkeypatch), as the window's tests
do with its dialogs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QSpinBox, QToolButton, QWidget)

PNG_FILTER = "PNG images (*.png)"
FORMATS = (("gif", "GIF (animated image)"), ("mp4", "MP4 (H.264 video)"))
LOOPS = (("forever", "Loop forever"), ("once", "Play once"), ("times", "Repeat"))


@dataclass(frozen=True)
class AnimationOptions:
    path: str  # .gif or .mp4
    frames: int
    frame_ms: float
    loop: Optional[int] = 0  # GIF: 0 forever, n: n more times, None: play once; MP4 ignores it
    scale: int = 1


def choose_png_path(parent: QWidget, title: str, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, PNG_FILTER)
    if path and not path.lower().endswith(".png"):
        path += ".png"
    return path


class AnimationDialog(QDialog):
    def __init__(self, parent: Optional[QWidget], title: str, suggested: str, frames: int = 24, scale: int = 1):
        """`frames`: the panel's steps, where the frame count starts."""
        super().__init__(parent)
        self.panel_steps = frames
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.format = QComboBox()
        for key, text in FORMATS:
            self.format.addItem(text, key)
        form.addRow("Format", self.format)
        self.frames = QSpinBox()
        self.frames.setRange(2, 600)
        self.frames.setValue(frames)
        self.frames.setToolTip("The same path as the panel's strip, cut into this many frames")
        self.frames_hint = QLabel()
        self.frames_hint.setObjectName("framesHint")
        self.frames_hint.setWordWrap(True)
        self.frames_hint.setEnabled(False)  # drawn greyed, as a note
        self.frames.valueChanged.connect(self._on_frames)
        self._on_frames()
        form.addRow("Frames (steps)", self.frames)
        form.addRow("", self.frames_hint)
        self.frame_ms = QSpinBox()
        self.frame_ms.setRange(20, 5000)
        self.frame_ms.setSingleStep(10)
        self.frame_ms.setValue(100)
        self.frame_ms.setSuffix(" ms per frame")
        form.addRow("Duration", self.frame_ms)
        loop_row = QHBoxLayout()
        self.loop = QComboBox()
        for key, text in LOOPS:
            self.loop.addItem(text, key)
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 100)
        self.repeats.setSuffix(" times")
        loop_row.addWidget(self.loop, 1)
        loop_row.addWidget(self.repeats)
        form.addRow("Loop", loop_row)
        self.scale = QSpinBox()
        self.scale.setRange(1, 16)
        self.scale.setValue(scale)
        self.scale.setPrefix("×")
        form.addRow("Enlarge", self.scale)
        path_row = QHBoxLayout()
        self.path = QLineEdit(suggested)
        browse = QToolButton()
        browse.setText("…")
        browse.clicked.connect(self._browse)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form.addRow("File", path_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentIndexChanged.connect(self._on_format)
        self.loop.currentIndexChanged.connect(self._on_format)
        self._on_format()

    def options(self) -> AnimationOptions:
        fmt = self.format.currentData()
        path = str(Path(self.path.text()).with_suffix(f".{fmt}"))
        loop = {"forever": 0, "once": None, "times": self.repeats.value()}[self.loop.currentData()]
        return AnimationOptions(path=path, frames=self.frames.value(), frame_ms=float(self.frame_ms.value()),
                                loop=loop, scale=self.scale.value())

    def _on_frames(self, *_) -> None:
        n = self.frames.value()
        self.frames_hint.setText(
            f"The panel's {n} steps, one frame each." if n == self.panel_steps else
            f"The panel has {self.panel_steps} steps; exporting sets it to {n} (as far as its range allows).")

    def _on_format(self, *_) -> None:
        gif = self.format.currentData() == "gif"
        self.loop.setEnabled(gif)
        self.repeats.setEnabled(gif and self.loop.currentData() == "times")
        text = self.path.text()
        if text:
            self.path.setText(str(Path(text).with_suffix(f".{self.format.currentData()}")))

    def _browse(self) -> None:
        fmt = self.format.currentData()
        path, _ = QFileDialog.getSaveFileName(self, self.windowTitle(), self.path.text(),
                                              f"{fmt.upper()} files (*.{fmt})")
        if path:
            self.path.setText(path)


def ask_animation_options(parent: QWidget, title: str, suggested: str, frames: int = 24,
                          scale: int = 1) -> Optional[AnimationOptions]:
    """The dialog, modal, starting from `frames` (the panel's steps); None when cancelled."""
    dialog = AnimationDialog(parent, title, suggested, frames, scale)
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.path.text().strip():
        return None
    return dialog.options()


def suggested_path(folder: str, stem: str, suffix: str) -> str:
    return os.path.join(folder, f"{stem}{suffix}")

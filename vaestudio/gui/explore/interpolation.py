"""The interpolation panel: a path between two images (or pinned points), straight or along the
great circle (slerp), drawn on the canvas while the panel is open and decoded into a strip.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QToolButton, QVBoxLayout, QWidget

from ...core.errors import VaeStudioError
from ...core.latent import interpolate
from .explorer import Explorer
from .image_picker import ImagePicker
from .image_view import ImageView
from .grids import decode_grid, wrap_columns
from .panel import Panel
from .preview import caption_label

METHODS = (("linear", "Straight line"), ("slerp", "Great circle (slerp)"))
DEFAULT_STEPS = 10


class InterpolationPanel(Panel):
    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.strip_images: Optional[np.ndarray] = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        self.start = ImagePicker(explorer, "From", index=0, seed=2)
        self.end = ImagePicker(explorer, "To", index=1, seed=3)
        layout.addWidget(self.start)
        layout.addWidget(self.end)

        row = QHBoxLayout()
        self.method = QComboBox()
        for key, text in METHODS:
            self.method.addItem(text, key)
        self.method.setToolTip("Slerp keeps the path away from the origin, where the prior has little mass")
        row.addWidget(self.method, 1)
        self.steps = QSpinBox()
        self.steps.setRange(2, 64)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setSuffix(" steps")
        row.addWidget(self.steps)
        layout.addLayout(row)

        self.strip_view = ImageView("Train or open a model to interpolate", min_side=64)
        self.strip_view.setObjectName("interpolationStrip")
        layout.addWidget(self.strip_view, 1)
        self.caption = caption_label()
        layout.addWidget(self.caption)

        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Export"))
        buttons.addStretch(1)
        self.export_strip_button = QToolButton()
        self.export_strip_button.setText("PNG…")
        self.export_anim_button = QToolButton()
        self.export_anim_button.setText("GIF / MP4…")
        buttons.addWidget(self.export_strip_button)
        buttons.addWidget(self.export_anim_button)
        layout.addLayout(buttons)

        for picker in (self.start, self.end):
            picker.changed.connect(self.refresh)
        self.method.currentIndexChanged.connect(self.refresh)
        self.steps.valueChanged.connect(self.refresh)
        explorer.view_changed.connect(self.refresh)
        explorer.decoder_changed.connect(self.refresh)
        explorer.runner.finished.connect(self._on_job)

    # -- public ---------------------------------------------------------------------------
    @property
    def method_key(self) -> str:
        return self.method.currentData()

    def path_latents(self, steps: int) -> Optional[np.ndarray]:
        """(steps, D) codes from the first endpoint to the second, or None without encodings."""
        a, b = self.start.latent(), self.end.latent()
        if a is None or b is None:
            return None
        return interpolate(a, b, steps, self.method_key)

    def path_labels(self, steps: int) -> list[str]:
        return [f"{t:.2f}" for t in np.linspace(0, 1, steps)]

    # -- reactions ------------------------------------------------------------------------
    @Slot()
    def refresh(self, *_) -> None:
        e = self.explorer
        steps = self.steps.value()
        try:
            z = self.path_latents(steps)
            self.caption.setText(f"{self.start.describe()} → {self.end.describe()}, {steps} steps")
        except VaeStudioError as err:
            z = None
            self.caption.setText(str(err))
        self._sync_overlay(z)
        if z is None or e.model is None:
            e.runner.discard("interpolation")
            self.strip_view.set_image(None)
            return
        model = e.model
        e.runner.submit("interpolation", lambda cancel: decode_grid(model, z, wrap_columns(len(z)), cancel=cancel))

    def on_screen_changed(self) -> None:
        self.refresh()

    @Slot(str, object)
    def _on_job(self, key: str, result) -> None:
        if key == "interpolation" and result is not None:
            self.strip_images, strip = result
            self.strip_view.set_image(strip)

    def _sync_overlay(self, z) -> None:
        e = self.explorer
        shown = self.on_screen and z is not None and e.projection is not None
        e.set_path_overlay(e.projection.to_view(z) if shown else None)

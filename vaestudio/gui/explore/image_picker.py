"""Choosing a starting point for the mixer and the interpolation: an image of the validation
split (by number, or at random) or the newest pinned point.

An image's latent vector is its row of the explorer's encodings, so it follows the model as it
trains; a pinned point keeps the latent vector it was pinned with.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QSpinBox, QToolButton, QWidget

from .explorer import Explorer
from .image_view import ImageView


class ImagePicker(QWidget):
    changed = Signal()

    def __init__(self, explorer: Explorer, title: str, index: int = 0, seed: int = 0,
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.pinned_z: Optional[np.ndarray] = None  # set: the pinned point is the source
        self._rng = np.random.default_rng(seed)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.thumb = ImageView("", min_side=56)
        self.thumb.setFixedSize(64, 64)
        grid.addWidget(self.thumb, 0, 0, 3, 1)
        heading = QLabel(title)
        heading.setStyleSheet("font-weight: 600;")
        grid.addWidget(heading, 0, 1, 1, 3)
        self.index_spin = QSpinBox()
        self.index_spin.setPrefix("image #")
        self.index_spin.setRange(0, 0)
        self.index_spin.setValue(index)
        self.index_spin.setToolTip("An image of the validation split")
        self.index_spin.valueChanged.connect(self._on_index)
        grid.addWidget(self.index_spin, 1, 1)
        self.random_button = QToolButton()
        self.random_button.setText("Random")
        self.random_button.clicked.connect(self.pick_random)
        grid.addWidget(self.random_button, 1, 2)
        self.pin_button = QToolButton()
        self.pin_button.setText("Pinned")
        self.pin_button.setToolTip("Use the point pinned last on the latent canvas")
        self.pin_button.clicked.connect(self.use_pin)
        grid.addWidget(self.pin_button, 1, 3)
        self.caption = QLabel("")
        self.caption.setStyleSheet("color: #5f6368;")
        grid.addWidget(self.caption, 2, 1, 1, 3)
        grid.setColumnStretch(4, 1)
        self._wanted_index = index
        explorer.encodings_changed.connect(self._on_encodings)
        explorer.pins_changed.connect(self._on_pins)
        explorer.decoder_changed.connect(self._refresh)
        self._on_encodings()
        self._on_pins()

    # -- what users of the picker read -----------------------------------------------------
    def latent(self) -> Optional[np.ndarray]:
        """The chosen latent vector (D,), or None before there are encodings."""
        if self.pinned_z is not None:
            return self.pinned_z
        enc = self.explorer.encodings
        if enc is None or len(enc) == 0:
            return None
        return enc.codes[min(self.index_spin.value(), len(enc) - 1)]

    def describe(self) -> str:
        return "pinned point" if self.pinned_z is not None else self.explorer.describe_image(self.index_spin.value())

    # -- choices ---------------------------------------------------------------------------
    def set_index(self, index: int) -> None:
        self.pinned_z = None
        self._wanted_index = int(index)
        if self.index_spin.value() != index:
            self.index_spin.setValue(int(index))  # -> _on_index
        else:
            self._refresh()
            self.changed.emit()

    def pick_random(self) -> None:
        enc = self.explorer.encodings
        if enc is not None and len(enc):
            self.set_index(int(self._rng.integers(len(enc))))

    def use_pin(self) -> None:
        if self.explorer.pins:
            self.pinned_z = self.explorer.pins[-1].z.copy()
            self._refresh()
            self.changed.emit()

    # -- reactions -------------------------------------------------------------------------
    @Slot(int)
    def _on_index(self, index: int) -> None:
        self._wanted_index = index
        self.pinned_z = None
        self._refresh()
        self.changed.emit()

    @Slot()
    def _on_encodings(self) -> None:
        enc = self.explorer.encodings
        self.index_spin.blockSignals(True)
        self.index_spin.setRange(0, max(0, len(enc) - 1) if enc is not None else 0)
        self.index_spin.setValue(min(self._wanted_index, self.index_spin.maximum()))
        self.index_spin.blockSignals(False)
        enabled = enc is not None
        for w in (self.index_spin, self.random_button):
            w.setEnabled(enabled)
        self._refresh()
        self.changed.emit()

    @Slot()
    def _on_pins(self) -> None:
        self.pin_button.setEnabled(bool(self.explorer.pins))

    @Slot()
    def _refresh(self) -> None:
        e = self.explorer
        if self.pinned_z is not None and e.model is not None:
            self.thumb.set_image(e.decode(self.pinned_z))
            self.caption.setText("pinned point (decoded)")
        elif e.encodings is not None and e.dataset is not None:
            i = self.index_spin.value()
            self.thumb.set_image(e.image(i))
            self.caption.setText(e.describe_image(i))
        else:
            self.thumb.set_image(None)
            self.caption.setText("")

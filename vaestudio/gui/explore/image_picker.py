"""Choosing a starting point for the mixer and the interpolation: an image of the validation
split (by number, or at random), the newest pinned point, or a picture the user brought.

An image's latent vector is its row of the explorer's encodings, so it follows the model as it
trains, as does a picture's (re-encoded with each snapshot); a pinned point keeps the latent
vector it was pinned with.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QMenu, QSpinBox, QToolButton, QWidget

from ...core.latent.own_images import OwnImage
from .explorer import Explorer
from .image_view import ImageView


class ImagePicker(QWidget):
    changed = Signal()

    def __init__(self, explorer: Explorer, title: str, index: int = 0, seed: int = 0,
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.pinned_z: Optional[np.ndarray] = None  # set: the pinned point is the source
        self.own: Optional[OwnImage] = None  # set: this picture of `explorer.own_images` is the source
        self._rng = np.random.default_rng(seed)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.thumb = ImageView("", min_side=56)
        self.thumb.setFixedSize(64, 64)
        grid.addWidget(self.thumb, 0, 0, 4, 1, Qt.AlignmentFlag.AlignTop)
        heading = QLabel(title)
        heading.setStyleSheet("font-weight: 600;")
        grid.addWidget(heading, 0, 1, 1, 3)
        self.index_spin = QSpinBox()
        self.index_spin.setPrefix("image #")
        self.index_spin.setRange(0, 0)
        self.index_spin.setValue(index)
        self.index_spin.setToolTip("An image of the validation split")
        self.index_spin.valueChanged.connect(self._on_index)
        grid.addWidget(self.index_spin, 1, 1, 1, 3)
        self.random_button = QToolButton()
        self.random_button.setText("Random")
        self.random_button.clicked.connect(self.pick_random)
        grid.addWidget(self.random_button, 2, 1)
        self.pin_button = QToolButton()
        self.pin_button.setText("Pinned")
        self.pin_button.setToolTip("Use the point pinned last on the latent canvas")
        self.pin_button.clicked.connect(self.use_pin)
        grid.addWidget(self.pin_button, 2, 2)
        self.own_button = QToolButton()
        self.own_button.setText("Yours")
        self.own_button.setToolTip("Use a picture you dropped on the window or opened with File > Encode Images")
        self.own_menu = QMenu(self.own_button)
        self.own_button.setMenu(self.own_menu)
        self.own_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        grid.addWidget(self.own_button, 2, 3)
        self.caption = QLabel("")
        self.caption.setStyleSheet("color: #5f6368;")
        grid.addWidget(self.caption, 3, 1, 1, 3)
        grid.setColumnStretch(4, 1)
        self._wanted_index = index
        explorer.encodings_changed.connect(self._on_encodings)
        explorer.pins_changed.connect(self._on_pins)
        explorer.decoder_changed.connect(self._refresh)
        explorer.own_images.changed.connect(self._on_own_images)
        self._on_encodings()
        self._on_pins()
        self._on_own_images()

    # -- what users of the picker read -----------------------------------------------------
    def latent(self) -> Optional[np.ndarray]:
        """The chosen latent vector (D,), or None before there are encodings."""
        if self.pinned_z is not None:
            return self.pinned_z
        if self.own is not None:
            return self.explorer.own_images.code_of(self.own)
        enc = self.explorer.encodings
        if enc is None or len(enc) == 0:
            return None
        return enc.codes[min(self.index_spin.value(), len(enc) - 1)]

    def describe(self) -> str:
        if self.own is not None:
            return self.own.name
        return "pinned point" if self.pinned_z is not None else self.explorer.describe_image(self.index_spin.value())

    # -- choices ---------------------------------------------------------------------------
    def set_index(self, index: int) -> None:
        self.pinned_z = self.own = None
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
            self.own = None
            self._refresh()
            self.changed.emit()

    def use_own(self, index: int) -> None:
        """Start from picture `index` of the explorer's own images (the one the user brought)."""
        own = self.explorer.own_images
        if 0 <= index < len(own):
            self.own, self.pinned_z = own.items[index], None
            self._refresh()
            self.changed.emit()

    # -- reactions -------------------------------------------------------------------------
    @Slot(int)
    def _on_index(self, index: int) -> None:
        self._wanted_index = index
        self.pinned_z = self.own = None
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
    def _on_own_images(self) -> None:
        """New pictures: list them; the chosen one re-encoded or forgotten: follow it."""
        own = self.explorer.own_images
        self.own_menu.clear()
        for i, item in enumerate(own.items):
            self.own_menu.addAction(item.name, lambda i=i: self.use_own(i))
        self.own_button.setEnabled(len(own) > 0)
        if self.own is not None:
            if own.index_of(self.own) < 0:
                self.own = None
            self._refresh()
            self.changed.emit()

    @Slot()
    def _refresh(self) -> None:
        e = self.explorer
        if self.pinned_z is not None and e.model is not None:
            self.thumb.set_image(e.decode(self.pinned_z))
            self.caption.setText("pinned point (decoded)")
        elif self.own is not None:
            self.thumb.set_image(self.own.image)
            self.caption.setText(f"{self.own.name} (your picture)")
        elif e.encodings is not None and e.dataset is not None:
            i = self.index_spin.value()
            self.thumb.set_image(e.image(i))
            self.caption.setText(e.describe_image(i))
        else:
            self.thumb.set_image(None)
            self.caption.setText("")

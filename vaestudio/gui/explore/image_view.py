"""Showing decoded images: numpy -> QImage, and a widget that fits one image to its space.

Decodes are tiny (28x28) and grids are large: the view fills its space, enlarging with
nearest-neighbour so pixels stay crisp and shrinking smoothly. It keeps the uint8 array it shows (`array`), which
is what tests compare with the expected decode. A double-click on a picture emits `double_clicked` (the
lattice panel opens the grid enlarged).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PIL import Image
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.render import to_uint8_hwc


def to_hwc(image) -> np.ndarray:
    """A model image (C, H, W) float or uint8, a PIL image or an (H, W, C) uint8 -> uint8 (H, W, C)."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    a = np.asarray(image)
    if a.ndim == 3 and a.dtype == np.uint8 and a.shape[-1] in (1, 3) and a.shape[0] not in (1, 3):
        return a
    return to_uint8_hwc(a)[0]


def to_qimage(hwc: np.ndarray) -> QImage:
    """uint8 (H, W, 1|3) -> a QImage that owns its pixels (bytesPerLine given: no shearing)."""
    a = np.ascontiguousarray(hwc)
    h, w, c = a.shape
    fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
    return QImage(a.data, w, h, int(a.strides[0]), fmt).copy()


class ImageView(QWidget):
    """One image scaled to fit (aspect kept), centred, with a placeholder text when empty."""

    double_clicked = Signal()

    def __init__(self, placeholder: str = "", min_side: int = 64, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.placeholder = placeholder
        self.array: Optional[np.ndarray] = None  # uint8 (H, W, C) being shown
        self._qimage: Optional[QImage] = None
        self._min_side = min_side
        self.setMinimumSize(min_side, min_side)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image) -> None:
        """Show `image` (see `to_hwc`), or clear with None."""
        if image is None:
            self.array = self._qimage = None
        else:
            self.array = to_hwc(image)
            self._qimage = to_qimage(self.array)
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:
        if self._qimage is not None and event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            self.double_clicked.emit()
        else:
            super().mouseDoubleClickEvent(event)

    def sizeHint(self) -> QSize:
        return QSize(2 * self._min_side, 2 * self._min_side)

    def image_rect(self) -> QRectF:
        """Where the image is drawn, in widget coordinates."""
        if self._qimage is None:
            return QRectF()
        iw, ih = self._qimage.width(), self._qimage.height()
        s = min(self.width() / iw, self.height() / ih)
        w, h = iw * s, ih * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        if self._qimage is None:
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        rect = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, rect.width() < self._qimage.width())
        p.drawImage(rect, self._qimage)
        p.setPen(QColor(0, 0, 0, 40))
        p.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))

"""The user's pictures on the latent canvas: a ring where each code lies in the view, with the
picture as the model sees it above the ring.

Thumbnails ignore the view's zoom (`ItemIgnoresTransformations`), so they keep their size on
screen and stay upright in pyqtgraph's flipped y axis; they take no mouse buttons, so a click
on one still pins the point under it.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Slot
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem

from .image_view import to_hwc, to_qimage
from .plot_items import InertScatter, clear_item

THUMB_SIDE = 44  # screen pixels
GAP = 9  # between the ring and the thumbnail
MARK_COLOUR = (255, 127, 14)
Z = 28  # above the cloud and the circle, below the pins


def thumbnail_pixmap(image, side: int = THUMB_SIDE) -> QPixmap:
    """A model image (C, H, W) as a framed square pixmap (crisp pixels when enlarged)."""
    qimage = to_qimage(to_hwc(image))
    mode = Qt.TransformationMode.FastTransformation if qimage.width() < side else Qt.TransformationMode.SmoothTransformation
    inner = QPixmap.fromImage(qimage).scaled(side - 4, side - 4, Qt.AspectRatioMode.KeepAspectRatio, mode)
    pix = QPixmap(side, side)
    pix.fill(QColor(*MARK_COLOUR))
    p = QPainter(pix)
    p.drawPixmap((side - inner.width()) // 2, (side - inner.height()) // 2, inner)
    p.end()
    return pix


class Thumbnail(QGraphicsPixmapItem):
    def __init__(self, pixmap: QPixmap):
        super().__init__(pixmap)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setOffset(-pixmap.width() / 2, -pixmap.height() - GAP)
        self.setZValue(Z)


class OwnImageMarks:
    """Draws `explorer.own_images` on a plot item; redrawn when the pictures or the view change."""

    def __init__(self, explorer, plot_item: pg.PlotItem):
        self.explorer = explorer
        self.plot_item = plot_item
        self.rings = InertScatter(size=12, symbol="o", pen=pg.mkPen(MARK_COLOUR, width=3),
                                  brush=pg.mkBrush(255, 255, 255, 160))
        self.rings.setZValue(Z)
        plot_item.addItem(self.rings, ignoreBounds=True)
        self.thumbs: list[Thumbnail] = []
        self._shown_for: list = []  # the OwnImage each thumbnail shows
        explorer.view_changed.connect(self.redraw)
        explorer.own_images.changed.connect(self.redraw)
        self.redraw()

    def positions(self) -> np.ndarray:
        """(N, 2) view coordinates of the marks on screen (empty when none are shown)."""
        if not self.rings.isVisible():
            return np.zeros((0, 2))
        x, y = self.rings.getData()
        return np.column_stack([x, y]) if x is not None and len(x) else np.zeros((0, 2))

    def thumbnail_images(self) -> list:
        """The OwnImage each visible thumbnail shows, in order."""
        return [it for it, th in zip(self._shown_for, self.thumbs) if th.isVisible()]

    @Slot()
    def redraw(self) -> None:
        own = self.explorer.own_images
        points: Optional[np.ndarray] = own.view_points() if self.explorer.ready else None
        if points is None:
            clear_item(self.rings)
            self.rings.setVisible(False)
            for th in self.thumbs:
                th.setVisible(False)
            return
        self.rings.setData(points[:, 0], points[:, 1])
        self.rings.setVisible(True)
        if [id(it) for it in self._shown_for] != [id(it) for it in own.items]:
            self._rebuild(own.items)
        for th, (x, y) in zip(self.thumbs, points):
            th.setPos(QPointF(float(x), float(y)))
            th.setVisible(True)

    def _rebuild(self, items) -> None:
        for th in self.thumbs:
            self.plot_item.removeItem(th)
        self.thumbs = [Thumbnail(thumbnail_pixmap(it.image)) for it in items]
        for th in self.thumbs:
            self.plot_item.addItem(th, ignoreBounds=True)
        self._shown_for = list(items)

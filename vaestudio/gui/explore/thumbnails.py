"""Thumbnails on the latent canvas: with the canvas's "Thumbnails" toggle on and the view zoomed in
so that at most `MAX_THUMBS` codes lie in the visible range, each of those points shows its image
as a small picture at its position, a fixed `THUMB_PX` on screen whatever the zoom.

Bounded on 200,000 points: each rebuild (at most once per `REBUILD_MS` after the range changes)
counts the visible points with one vectorised mask (a few ms) and builds nothing when there are
more than `MAX_THUMBS`; the pixmap items are a pool of at most `MAX_THUMBS`, reused, and the
pixmaps of recently shown images are cached (at most `CACHE_LIMIT`).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem, QToolButton

from .image_view import to_hwc, to_qimage

MAX_THUMBS = 300
THUMB_PX = 40  # the longer side on screen: a 28x28 digit drawn at 40 px reads well
REBUILD_MS = 120
CACHE_LIMIT = 2000
SHORTCUT = "Ctrl+Shift+I"
TOGGLE_TIP = (f"Thumbnails: zoomed in to at most {MAX_THUMBS} points, each point shows its image ({SHORTCUT})")
Z_VALUE = 25  # above the cloud and the density image, below the circle's labels, lattice, path and pins


def thumb_pixmap(image) -> QPixmap:
    """`image` (C, H, W) as a pixmap whose longer side is THUMB_PX (nearest-neighbour when enlarging)."""
    pix = QPixmap.fromImage(to_qimage(to_hwc(image)))
    mode = (Qt.TransformationMode.FastTransformation if max(pix.width(), pix.height()) <= THUMB_PX
            else Qt.TransformationMode.SmoothTransformation)
    return pix.scaled(THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio, mode)


class CanvasThumbnails(QObject):
    """The thumbnail layer of one view box; off until `set_enabled(True)`."""

    rebuilt = Signal()

    def __init__(self, explorer, view_box, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.view_box = view_box
        self.enabled = False
        self.items: list[QGraphicsPixmapItem] = []  # the pool (at most MAX_THUMBS)
        self.rows = np.zeros(0, np.int64)  # the points whose thumbnails are shown
        self.visible_count = 0  # points in the visible range at the last rebuild
        self._cache: dict[int, QPixmap] = {}
        self.row_filter = lambda: None  # -> a bool mask of the points that may show (hidden classes not), or None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REBUILD_MS)
        self._timer.timeout.connect(self.rebuild)
        view_box.sigRangeChanged.connect(self._schedule)
        explorer.view_changed.connect(self._on_points)
        explorer.encodings_changed.connect(self._on_points)

    @property
    def shown(self) -> int:
        return len(self.rows)

    @property
    def too_many(self) -> bool:
        """On, but more than MAX_THUMBS points in view: zoom in to see them."""
        return self.enabled and self.visible_count > MAX_THUMBS

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        for toggle in (getattr(self, "action", None), getattr(self, "button", None)):
            if toggle is not None and toggle.isChecked() != self.enabled:
                toggle.setChecked(self.enabled)
        self.rebuild()

    # -- the toggles ---------------------------------------------------------------------------
    def make_action(self, parent: QObject) -> QAction:
        """View > Canvas Thumbnails, checkable, Ctrl+Shift+I."""
        self.action = QAction("Canvas &Thumbnails", parent)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setToolTip(TOGGLE_TIP)
        self.action.toggled.connect(self.set_enabled)
        return self.action

    def make_corner_button(self, plot) -> QToolButton:
        """A small checkable "Images" button in the plot's bottom-left corner (left of the x axis,
        below the y axis), kept there as the plot resizes."""
        self.button = QToolButton(plot.viewport())
        self.button.setObjectName("thumbnailsButton")
        self.button.setText("Images")
        self.button.setCheckable(True)
        self.button.setToolTip(TOGGLE_TIP)
        self.button.toggled.connect(self.set_enabled)
        self._corner = plot.viewport()
        self._corner.installEventFilter(self)
        self._place_button()
        return self.button

    def eventFilter(self, watched, event) -> bool:
        if watched is getattr(self, "_corner", None) and event.type() == QEvent.Type.Resize:
            self._place_button()
        return super().eventFilter(watched, event)

    def _place_button(self) -> None:
        b, w = self.button, self._corner
        b.adjustSize()
        b.move(4, max(0, w.height() - b.height() - 4))

    @Slot()
    def _on_points(self) -> None:
        self._cache.clear()  # other encodings (or a new data set): other images per row
        self._schedule()

    @Slot()
    def schedule(self, *_) -> None:
        """Rebuild soon (at most once per REBUILD_MS)."""
        self._schedule()

    @Slot()
    def _schedule(self, *_) -> None:
        if self.enabled and not self._timer.isActive():
            self._timer.start()

    @Slot()
    def rebuild(self) -> None:
        """Show a thumbnail for each point in the visible range, when there are at most MAX_THUMBS."""
        self._timer.stop()
        e = self.explorer
        pts = e.points if self.enabled and e.ready else None
        rows = np.zeros(0, np.int64)
        self.visible_count = 0
        if pts is not None and len(pts):
            (x0, x1), (y0, y1) = self.view_box.viewRange()
            inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
            allowed = self.row_filter()
            if allowed is not None and len(allowed) == len(pts):
                inside &= allowed
            self.visible_count = int(np.count_nonzero(inside))
            if self.visible_count <= MAX_THUMBS:
                rows = np.flatnonzero(inside)
        self.rows = rows
        while len(self.items) < len(rows):
            item = QGraphicsPixmapItem()
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)  # fixed size on screen
            item.setZValue(Z_VALUE)
            self.view_box.addItem(item, ignoreBounds=True)
            self.items.append(item)
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
        for item, row in zip(self.items, rows):
            r = int(row)
            pix = self._cache.get(r)
            if pix is None:
                pix = self._cache[r] = thumb_pixmap(e.image(r))
            item.setPixmap(pix)
            item.setOffset(-pix.width() / 2, -pix.height() / 2)
            item.setPos(float(pts[r, 0]), float(pts[r, 1]))
            item.setVisible(True)
        for item in self.items[len(rows):]:
            item.setVisible(False)
        self.rebuilt.emit()

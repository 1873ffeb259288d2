"""A grid enlarged in its own window: a 25x25 lattice shows ~11-pixel tiles in the dock, too small
to read. The dialog fits the picture on opening and zooms with the wheel, Ctrl+= / Ctrl+- (Ctrl+0
fits again); scaling is nearest-neighbour, so tiles stay crisp at any zoom. `set_image` replaces
the picture in place (the lattice panel calls it when its grid changes), keeping the zoom.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (QDialog, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QLabel, QVBoxLayout,
                               QWidget)

from .image_view import to_hwc, to_qimage

STEP = 1.25  # zoom factor per wheel notch or key press
MIN_ZOOM, MAX_ZOOM = 0.05, 64.0


class ZoomGraphicsView(QGraphicsView):
    """A graphics view that zooms around the cursor with the wheel, within [MIN_ZOOM, MAX_ZOOM]."""

    fit_requested = Signal()

    def __init__(self, scene: QGraphicsScene, parent: Optional[QWidget] = None):
        super().__init__(scene, parent)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(Qt.GlobalColor.white)

    @property
    def zoom(self) -> float:
        return float(self.transform().m11())

    def zoom_by(self, factor: float) -> None:
        target = min(max(self.zoom * factor, MIN_ZOOM), MAX_ZOOM)
        self.scale(target / self.zoom, target / self.zoom)

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(STEP ** steps)
        event.accept()

    def keyPressEvent(self, event) -> None:
        """Ctrl+= (or Ctrl++, the platform's zoom-in key) and Ctrl+- zoom; Ctrl+0 fits. Keys, not
        QShortcuts: they work whenever the view has the focus, active window or not."""
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        key = event.key()
        if event.matches(QKeySequence.StandardKey.ZoomIn) or (ctrl and key in (Qt.Key.Key_Equal, Qt.Key.Key_Plus)):
            self.zoom_by(STEP)
        elif event.matches(QKeySequence.StandardKey.ZoomOut) or (ctrl and key == Qt.Key.Key_Minus):
            self.zoom_by(1 / STEP)
        elif ctrl and key == Qt.Key.Key_0:
            self.fit_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


class ZoomDialog(QDialog):
    def __init__(self, title: str, image, caption: str = "", parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("zoomDialog")
        self.array: Optional[np.ndarray] = None  # uint8 (H, W, C) on show
        self.scene = QGraphicsScene(self)
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.FastTransformation)  # nearest
        self.scene.addItem(self.pixmap_item)
        self.view = ZoomGraphicsView(self.scene)
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #5f6368;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self.view.fit_requested.connect(self.fit)
        self.view.setFocus()
        self._fitted = False
        self.resize(720, 760)
        self.set_image(image, caption)

    def set_image(self, image, caption: Optional[str] = None) -> None:
        """Show `image` (see `image_view.to_hwc`), keeping the zoom; None leaves it as it is."""
        if caption is not None:
            self.caption.setText(caption)
        if image is None:
            return
        self.array = to_hwc(image)
        self.pixmap_item.setPixmap(QPixmap.fromImage(to_qimage(self.array)))
        self.scene.setSceneRect(self.pixmap_item.boundingRect())

    def zoom_in(self) -> None:
        self.view.zoom_by(STEP)

    def zoom_out(self) -> None:
        self.view.zoom_by(1 / STEP)

    def fit(self) -> None:
        self.view.fitInView(self.pixmap_item, Qt.AspectRatioMode.KeepAspectRatio)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._fitted:  # the first show: the view has its size now
            self._fitted = True
            self.fit()

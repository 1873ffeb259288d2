"""The Neighbours dock: the k real images of the explored split whose codes lie nearest (Euclidean
distance in the whole latent space) to the point under the cursor, or, with the mouse off the
canvas, to the chosen pin (the newest unless one is chosen in the decoder panel). Each tile shows
the image, its label and its distance; clicking a tile pins that image's code.

The search (`core.latent.neighbours.nearest_codes`, chunked: ~0.1-0.25 s for 200,000 x 100-D
codes on a 2-core CPU) runs in the explorer's worker (key "neighbours", latest request wins), at
most once per `INTERVAL_MS` while the mouse moves, and only while the dock is on screen.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from ...core.latent.neighbours import nearest_codes
from ..elided_label import ElidedLabel
from .explorer import Explorer, pin_name
from .image_view import ImageView
from .panel import Panel

KEY = "neighbours"
DEFAULT_K = 8
MAX_K = 32
INTERVAL_MS = 16  # the canvas's hover rate: one search per frame at most
TILE_SIDE = 64
EMPTY_TEXT = "Move the mouse over the latent space, or pin a point, to see its nearest images."


class NeighbourTile(QWidget):
    """One neighbour: its image, "#index · label" and the latent distance; a click pins its code."""

    clicked = Signal(int)  # the row (image index in the split)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.row = -1
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        self.view = ImageView("", min_side=TILE_SIDE)
        self.view.setFixedSize(TILE_SIDE, TILE_SIDE)
        layout.addWidget(self.view, 0, Qt.AlignmentFlag.AlignHCenter)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.distance = QLabel()
        self.distance.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.distance.setStyleSheet("color: #5f6368;")
        for w in (self.label, self.distance):
            w.setFixedWidth(TILE_SIDE + 16)
            layout.addWidget(w)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to pin this image's code")

    def show_neighbour(self, row: int, image, label: str, distance: float) -> None:
        self.row = row
        self.view.set_image(image)
        self.label.setText(label)
        self.distance.setText(f"d = {distance:.2f}")

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.row >= 0:
            event.accept()
            self.clicked.emit(self.row)
        else:
            super().mousePressEvent(event)


class NeighbourStrip(Panel):
    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.pin_index: Callable[[], int] = lambda: -1  # the chosen pin (the decoder panel's); -1: the newest
        self.rows = np.zeros(0, np.int64)  # the neighbours on show, nearest first
        self.distances = np.zeros(0)
        self.query: Optional[np.ndarray] = None  # the latent point they are nearest to
        self.source = ""  # "cursor", "pin A", ... or "" when there is nothing to search around
        self.searches = 0  # searches delivered (tests wait on it)
        self._on_canvas = False  # the mouse is over the canvas: the cursor's point is the query
        self._dirty = True

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        head = QHBoxLayout()
        head.addWidget(QLabel("Nearest"))
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, MAX_K)
        self.k_spin.setValue(DEFAULT_K)
        self.k_spin.setSuffix(" images")
        self.k_spin.setToolTip("How many real images to show, nearest first")
        self.k_spin.valueChanged.connect(self.invalidate)
        head.addWidget(self.k_spin)
        self.caption = ElidedLabel(EMPTY_TEXT)  # a long caption never widens the window
        self.caption.setObjectName("neighboursCaption")
        self.caption.setStyleSheet("color: #5f6368;")
        head.addWidget(self.caption, 1)
        layout.addLayout(head)

        self.tiles_box = QWidget()
        self.tiles_row = QHBoxLayout(self.tiles_box)
        self.tiles_row.setContentsMargins(0, 0, 0, 0)
        self.tiles_row.setSpacing(6)
        self.tiles_row.addStretch(1)
        self.tiles: list[NeighbourTile] = []
        self.area = QScrollArea()
        self.area.setWidget(self.tiles_box)
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.area.setMinimumHeight(TILE_SIDE + 56)
        layout.addWidget(self.area, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer)
        self._pending = False

        explorer.hover_changed.connect(self._on_hover)
        explorer.pins_changed.connect(self.invalidate)
        explorer.encodings_changed.connect(self.invalidate)
        explorer.decoder_changed.connect(self.invalidate)
        explorer.runner.finished.connect(self._on_job)
        explorer.runner.failed.connect(self._on_failed)

    # -- wiring ---------------------------------------------------------------------------------------
    def track_canvas(self, widget: QWidget) -> None:
        """The mouse leaving `widget` (the canvas's plot) hands the query to the chosen pin."""
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event) -> bool:
        if event.type() == QEvent.Type.Leave and self._on_canvas:
            self._on_canvas = False
            self.invalidate()
        return super().eventFilter(watched, event)

    def leave_canvas(self) -> None:
        """As the mouse leaving the canvas (tests; a Leave event does the same)."""
        self._on_canvas = False
        self.invalidate()

    # -- what it searches around --------------------------------------------------------------------
    def query_point(self) -> tuple[Optional[np.ndarray], str]:
        """(the latent point, what it is): the cursor's while the mouse is on the canvas, else the
        chosen pin, else (None, "")."""
        e = self.explorer
        if self._on_canvas and e.hover_z is not None:
            return np.asarray(e.hover_z, dtype=np.float64), "the cursor"
        if e.pins:
            i = self.pin_index()
            i = i if 0 <= i < len(e.pins) else len(e.pins) - 1
            return np.asarray(e.pins[i].z, dtype=np.float64), f"pin {pin_name(i)}"
        return None, ""

    @property
    def idle(self) -> bool:
        """Nothing waits: no change unsearched, no search running (what is shown is up to date)."""
        return not self._dirty and not self._pending and not self.explorer.runner.pending(KEY)

    @Slot()
    def invalidate(self, *_) -> None:
        self._dirty = True
        self._schedule()

    def on_screen_changed(self) -> None:
        self._schedule()

    # -- reactions -----------------------------------------------------------------------------------
    @Slot()
    def _on_hover(self) -> None:
        self._on_canvas = self.explorer.hover_z is not None
        self.invalidate()

    def _schedule(self) -> None:
        """The first change searches at once, later ones at most once per interval."""
        if not self._dirty or not self.on_screen:
            return
        if self._timer.isActive():
            self._pending = True
            return
        self._search()
        self._timer.start()

    @Slot()
    def _on_timer(self) -> None:
        if self._pending:
            self._pending = False
            self._schedule()

    def _search(self) -> None:
        self._dirty = False
        e = self.explorer
        enc = e.encodings
        z, source = self.query_point()
        if enc is None or z is None or z.shape != (enc.dim,) or not len(enc):
            e.runner.discard(KEY)
            self.query, self.source = None, ""
            self._show(np.zeros(0, np.int64), np.zeros(0))
            self.caption.setText(EMPTY_TEXT if enc is not None or e.model is None else "Encoding...")
            return
        codes, k = enc.codes, self.k_spin.value()
        self.query, self.source = z, source

        def job(cancel):
            return nearest_codes(codes, z, k, cancel=cancel)  # None when a newer search came

        e.runner.submit(KEY, job)

    @Slot(str, object)
    def _on_job(self, key: str, result) -> None:
        if key != KEY or result is None:
            return
        self.searches += 1
        self._show(result.rows[0], result.distances[0])
        e = self.explorer
        self.caption.setText(f"the {len(self.rows)} {e.split_name} image{'' if len(self.rows) == 1 else 's'} "
                             f"nearest {self.source} in the {e.latent_dim}-D latent space; click one to pin it")

    @Slot(str, str)
    def _on_failed(self, key: str, message: str) -> None:
        if key == KEY:
            self.caption.setText(f"Finding the neighbours failed: {message}")

    @Slot(int)
    def _on_tile(self, row: int) -> None:
        enc = self.explorer.encodings
        if enc is not None and 0 <= row < len(enc):
            self.explorer.pin_latent(enc.codes[row])

    def _show(self, rows: np.ndarray, distances: np.ndarray) -> None:
        self.rows, self.distances = np.asarray(rows), np.asarray(distances)
        e = self.explorer
        while len(self.tiles) < len(rows):
            tile = NeighbourTile()
            tile.clicked.connect(self._on_tile)
            self.tiles_row.insertWidget(len(self.tiles), tile)
            self.tiles.append(tile)
        for tile in self.tiles[len(rows):]:
            self.tiles_row.removeWidget(tile)
            tile.deleteLater()
        del self.tiles[len(rows):]
        for tile, row, dist in zip(self.tiles, rows, distances):
            r = int(row)
            tile.show_neighbour(r, e.image(r), e.describe_image(r), float(dist))

"""The latent canvas: the encodings of the validation split, coloured by label, with the
circle holding 99% of them, the lattice sites and interpolation path of the open panels, and
the pinned points. Moving the mouse decodes the point under it; clicking pins it.

Built for 200,000 points: one scatter item per class with one shared brush and no outline
(one item per point takes ~12 s to build, one per class ~0.23 s), never hoverable (the first
`points()` call of a hoverable item builds 200,000 SpotItems, ~0.3 s); above
`AUTO_DENSITY_ABOVE` points (or on request) a density image replaces the scatter. The
cursor maps to a latent vector through the view box and the projection's inverse -- no
hit-testing -- at most once per `HOVER_INTERVAL_MS`.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QStackedWidget, QToolButton, QVBoxLayout,
                               QWidget)

from ...core.render import CIRCLE_COLOUR, PALETTE, SPHERE_COLOUR
from ..elided_label import ElidedLabel
from .class_legend import ClassLegend
from .density import class_density, density_bounds, density_rgba
from .explorer import Explorer
from .own_marks import OwnImageMarks

AUTO_DENSITY_ABOVE = 100_000
HOVER_INTERVAL_MS = 16  # the screen's rate: a decode per frame at most
MODES = (("auto", "Auto"), ("points", "Points"), ("density", "Density"))
OVERLAY_COLOUR = (30, 30, 30)
EMPTY_TEXT = "Train or open a model to see its latent space"


def class_colour(k: int) -> tuple[int, int, int]:
    return PALETTE[k % len(PALETTE)]


def point_size(n: int) -> float:
    """Smaller dots for bigger clouds: 6 px for 1,000 points, 3 px for 200,000."""
    return float(np.clip(6.0 - 1.3 * math.log10(max(n, 1) / 1000.0), 2.5, 6.0))


def circle_xy(centre, radius: float, n: int = 241) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, n)
    return centre[0] + radius * np.cos(t), centre[1] + radius * np.sin(t)


def lattice_square(lattice) -> np.ndarray:
    """(5, 2): the corners of the rectangle the lattice fills, closed (the last is the first)."""
    return lattice.corners()


class InertScatter(pg.ScatterPlotItem):
    """A scatter that ignores clicks: pyqtgraph's would look up the spots under the cursor
    (building a SpotItem per point, ~0.3 s at 200,000) and swallow the click meant for pinning."""

    def mouseClickEvent(self, ev) -> None:
        ev.ignore()


class CloudScatter(InertScatter):
    """One class of the cloud: every point has the item's style, so the symbol is looked up in
    pyqtgraph's atlas once instead of once per point (200,000 points: ~0.35 s -> ~0.09 s)."""

    def updateSpots(self, dataSet=None) -> None:
        data = self.data if dataSet is None else dataSet
        if not (self.opts["pxMode"] and self.opts["useCache"] and len(data)):
            super().updateSpots(dataSet)
            return
        missing = data["sourceRect"]["w"] == 0
        if missing.any():
            style = (self.opts["symbol"], self.opts["size"], self.opts["pen"], self.opts["brush"])
            data["sourceRect"][missing] = self.fragmentAtlas[[style]][0]
        self._maybeRebuildAtlas()
        self._updateMaxSpotSizes(data=data)
        self.invalidate()


class PinViewBox(pg.ViewBox):
    """A view box whose left click reports the point clicked (panning and zoom unchanged)."""

    clicked = Signal(QPointF)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and not ev.double():
            ev.accept()
            self.clicked.emit(self.mapSceneToView(ev.scenePos()))
        else:
            super().mouseClickEvent(ev)


class LatentCanvas(QWidget):
    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.mode = "auto"
        self.class_items: list[pg.ScatterPlotItem] = []
        self._class_rows: list[np.ndarray] = []  # row indices of each class in the encodings
        self._density = None
        self._follow = True  # fit the view to each new cloud until the user pans or zooms
        self._pending_hover: Optional[QPointF] = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._make_toolbar())
        self.stack = QStackedWidget()
        self.message = QLabel(EMPTY_TEXT)
        self.message.setObjectName("latentMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: palette(mid); font-size: 15px;")
        self.stack.addWidget(self.message)
        self.stack.addWidget(self._make_plot())
        layout.addWidget(self.stack, 1)

        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(HOVER_INTERVAL_MS)
        self._throttle.timeout.connect(self._on_throttle)

        e = explorer
        e.encodings_changed.connect(self._on_encodings)
        e.view_changed.connect(self._on_view)
        e.pins_changed.connect(self._draw_pins)
        e.lattice_overlay_changed.connect(self._draw_lattice)
        e.path_overlay_changed.connect(self._draw_path)
        e.busy_changed.connect(self._update_status)
        e.message.connect(self._on_message)
        e.decoder_changed.connect(self._on_decoder)
        self._on_encodings()
        self._on_view()

    # ===================================================================== construction
    def _make_toolbar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("latentToolbar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 4, 8, 4)
        self.plane_label = QLabel("Plane")
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        self.x_combo.setToolTip("Latent coordinate on the horizontal axis")
        self.y_combo.setToolTip("Latent coordinate on the vertical axis; the others are held at the centre")
        self.pca_check = QCheckBox("PCA")
        self.pca_check.setToolTip("Show the plane of the two principal components instead")
        for w in (self.plane_label, self.x_combo, self.y_combo, self.pca_check):
            row.addWidget(w)
        self.x_combo.activated.connect(self._on_plane_chosen)
        self.y_combo.activated.connect(self._on_plane_chosen)
        self.pca_check.toggled.connect(self._on_plane_chosen)
        row.addSpacing(12)
        row.addWidget(QLabel("Show"))
        self.mode_combo = QComboBox()
        for key, text in MODES:
            self.mode_combo.addItem(text, key)
        self.mode_combo.setToolTip(f"Points, or a density image (automatic above {AUTO_DENSITY_ABOVE:,} points)")
        self.mode_combo.currentIndexChanged.connect(lambda _: self.set_mode(self.mode_combo.currentData()))
        row.addWidget(self.mode_combo)
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Fit the view to the circle (and follow the cloud as it trains)")
        self.fit_button.clicked.connect(self.fit_view)
        row.addWidget(self.fit_button)
        row.addStretch(1)
        self.status = ElidedLabel("")
        self.status.setObjectName("latentStatus")
        self.status.setStyleSheet("color: #5f6368;")
        row.addWidget(self.status)
        self._show_plane_controls(0)
        return bar

    def _make_plot(self) -> pg.PlotWidget:
        self.view_box = PinViewBox()
        self.plot = pg.PlotWidget(viewBox=self.view_box, background="w")
        self.plot.setObjectName("latentPlot")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        # No grid: its translucent lines cost ~12 ms a frame at 1000x800, more than the density image.
        for axis in ("left", "bottom"):
            item.getAxis(axis).setPen("#888")
            item.getAxis(axis).setTextPen("#333")
        self.view_box.setAspectLocked(True)
        self.view_box.setMouseEnabled(True, True)
        self.view_box.sigRangeChangedManually.connect(self._on_manual_range)
        self.view_box.clicked.connect(self._on_click)

        self.density_item = pg.ImageItem(axisOrder="row-major")
        self.density_item.setZValue(-10)
        self.circle_item = pg.PlotCurveItem(pen=pg.mkPen(CIRCLE_COLOUR, width=2))
        self.circle_item.setZValue(20)
        # For D > 2 the D-sphere's great circle, dashed and labelled (the solid one is the view's own).
        self.sphere_item = pg.PlotCurveItem(pen=pg.mkPen(SPHERE_COLOUR, width=1.5, style=Qt.PenStyle.DashLine))
        self.sphere_item.setZValue(19)
        self.sphere_label = pg.TextItem("", color=SPHERE_COLOUR, anchor=(0.5, 1))  # above its top
        self.sphere_label.setZValue(19)
        self.lattice_square = pg.PlotCurveItem(pen=pg.mkPen(OVERLAY_COLOUR, width=1, style=Qt.PenStyle.DashLine))
        self.lattice_sites = InertScatter(size=4, symbol="s", pen=None, brush=pg.mkBrush(*OVERLAY_COLOUR, 200))
        self.path_line = pg.PlotCurveItem(pen=pg.mkPen(OVERLAY_COLOUR, width=2))
        self.path_dots = InertScatter(size=7, symbol="o", pen=pg.mkPen("w", width=1),
                                            brush=pg.mkBrush(*OVERLAY_COLOUR))
        self.pin_marks = InertScatter(size=15, symbol="o", pen=pg.mkPen(OVERLAY_COLOUR, width=2.5),
                                            brush=pg.mkBrush(255, 255, 255, 90))
        self.pin_labels = [pg.TextItem(t, color=OVERLAY_COLOUR, anchor=(-0.45, 1.25)) for t in ("A", "B")]
        for z, it in enumerate((self.lattice_square, self.lattice_sites, self.path_line, self.path_dots,
                                self.pin_marks, *self.pin_labels)):
            it.setZValue(30 + z)
        for it in (self.density_item, self.circle_item, self.sphere_item, self.sphere_label, self.lattice_square,
                   self.lattice_sites, self.path_line, self.path_dots, self.pin_marks, *self.pin_labels):
            item.addItem(it, ignoreBounds=True)
        self.own_marks = OwnImageMarks(self.explorer, item)  # the user's pictures, with thumbnails
        self.legend = ClassLegend(item)
        self.legend.toggled.connect(self._on_class_toggled)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        return self.plot

    # ===================================================================== public
    @property
    def effective_mode(self) -> str:
        """"points" or "density": what is on screen now."""
        n = 0 if self.explorer.points is None else len(self.explorer.points)
        if self.mode == "auto":
            return "density" if n > AUTO_DENSITY_ABOVE else "points"
        return self.mode

    def set_mode(self, mode: str) -> None:
        if mode not in dict(MODES):
            raise ValueError(f"unknown canvas mode {mode!r}")
        self.mode = mode
        i = self.mode_combo.findData(mode)
        if i != self.mode_combo.currentIndex():
            self.mode_combo.setCurrentIndex(i)
        self._draw_cloud()

    def visible_classes(self) -> list[bool]:
        return self.legend.visible()

    def fit_view(self) -> None:
        """Frame the circle and follow the cloud again."""
        self._follow = True
        circle = self.explorer.circle
        if circle is None:
            return
        c, r = circle.centre, circle.radius * 1.08
        self.view_box.setRange(QRectF(c[0] - r, c[1] - r, 2 * r, 2 * r), padding=0)

    def view_to_widget(self, x: float, y: float) -> QPointF:
        """Where view point (x, y) is in the plot's viewport (tests move the mouse there)."""
        return QPointF(self.plot.mapFromScene(self.view_box.mapViewToScene(QPointF(x, y))))

    # ===================================================================== explorer reactions
    @Slot()
    def _on_decoder(self) -> None:
        if self.explorer.model is None:
            self._show_message(EMPTY_TEXT)

    @Slot(str)
    def _on_message(self, text: str) -> None:
        if not self.explorer.ready:
            self._show_message(text)

    @Slot()
    def _on_encodings(self) -> None:
        """New encodings: group rows by class and rebuild the legend."""
        enc = self.explorer.encodings
        self._class_rows = []
        names: list[str] = []
        if enc is not None:
            if enc.labels is None:
                self._class_rows = [np.arange(len(enc))]
            else:
                labels = np.asarray(enc.labels, dtype=np.int64)
                k = int(labels.max()) + 1 if len(labels) else 1
                order = np.argsort(labels, kind="stable")
                cuts = np.searchsorted(labels[order], np.arange(1, k))
                self._class_rows = np.split(order, cuts)
                ln = enc.label_names
                names = [ln[i] if ln and i < len(ln) else str(i) for i in range(k)]
        old = [p.isVisible() for p in self.legend.proxies]
        self.legend.set_classes(names, [class_colour(i) for i in range(len(names))])
        if len(old) == len(names):  # the same classes: keep what the user hid
            for i, v in enumerate(old):
                if not v:
                    self.legend.set_visible(i, False)
        while len(self.class_items) < len(self._class_rows):
            it = CloudScatter(pen=None, symbol="o", antialias=False)
            self.plot.getPlotItem().addItem(it, ignoreBounds=True)
            self.class_items.append(it)
        for it in self.class_items[len(self._class_rows):]:
            it.clear()
            it.setVisible(False)

    @Slot()
    def _on_view(self) -> None:
        e = self.explorer
        if e.model is None:
            self._show_message(EMPTY_TEXT)
        elif e.encodings is not None and e.encodings.dim < 2:
            self._show_message("A 1-D latent space has no plane to show: train a model with 2 or more dimensions")
        elif not e.ready:
            self._show_message("Encoding the validation images...")
        else:
            self.stack.setCurrentIndex(1)
        self._show_plane_controls(e.latent_dim if e.ready else 0)
        if e.ready:
            x, y = e.projection.axis_labels()
            item = self.plot.getPlotItem()
            item.setLabel("bottom", x)
            item.setLabel("left", y)
            self.circle_item.setData(*circle_xy(e.circle.centre, e.circle.radius))
        else:
            self.circle_item.setData([], [])
        self._draw_sphere()
        self._density = None
        self._draw_cloud()
        self._draw_path()
        if e.ready and self._follow:
            self.fit_view()
        self._update_status()

    # ===================================================================== drawing
    def _draw_cloud(self) -> None:
        e = self.explorer
        points_mode = e.ready and self.effective_mode == "points"
        visible = self.legend.visible() or [True]
        for k, it in enumerate(self.class_items):
            shown = points_mode and k < len(self._class_rows) and visible[min(k, len(visible) - 1)]
            if points_mode and k < len(self._class_rows):
                rows = self._class_rows[k]
                if getattr(it, "_drawn_for", None) is not e.points:
                    colour = class_colour(k) if len(self._class_rows) > 1 else PALETTE[0]
                    it.setSize(point_size(len(e.points)), update=False)
                    it.setBrush(pg.mkBrush(*colour, 200), update=False)
                    it.setData(x=e.points[rows, 0], y=e.points[rows, 1])
                    it._drawn_for = e.points
            it.setVisible(bool(shown))
        density_mode = e.ready and self.effective_mode == "density"
        self.density_item.setVisible(density_mode)
        if density_mode:
            if self._density is None:
                labels = None if e.encodings.labels is None else e.encodings.labels
                k = max(len(self._class_rows), 1)
                self._density = class_density(e.points, labels, k, density_bounds(e.points, e.circle))
            self._paint_density()
        self._update_status()

    def _paint_density(self) -> None:
        d = self._density
        k = d.counts.shape[0]
        visible = self.legend.visible() if len(self.legend.proxies) == k else [True] * k
        colours = [class_colour(i) if k > 1 else PALETTE[0] for i in range(k)]
        self.density_item.setImage(density_rgba(d, colours, visible), autoLevels=False)
        self.density_item.setRect(QRectF(d.x0, d.y0, d.width, d.height))

    @Slot(int, bool)
    def _on_class_toggled(self, index: int, visible: bool) -> None:
        if self.effective_mode == "points":
            if index < len(self.class_items):
                self.class_items[index].setVisible(visible and self.explorer.ready)
        elif self._density is not None:
            self._paint_density()

    @Slot()
    def _draw_lattice(self) -> None:
        lat = self.explorer.lattice_overlay
        if lat is None or not self.explorer.ready:
            self.lattice_sites.setData([], [])
            self.lattice_square.setData([], [])
            self._update_status()
            return
        self.lattice_sites.setData(pos=lat.points)
        square = lattice_square(lat)
        self.lattice_square.setData(square[:, 0], square[:, 1])
        self._update_status()

    def _draw_sphere(self) -> None:
        e = self.explorer
        sphere = e.sphere_circle if e.ready else None
        self.sphere_label.setVisible(sphere is not None)
        if sphere is None:
            self.sphere_item.setData([], [])
            return
        self.sphere_item.setData(*circle_xy(sphere.centre, sphere.radius))
        self.sphere_label.setText(f"{e.encodings.dim}-D sphere {e.coverage:.0%}")
        self.sphere_label.setPos(float(sphere.centre[0]), float(sphere.centre[1] + sphere.radius))

    @Slot()
    def _draw_path(self) -> None:
        pts = self.explorer.path_overlay
        if pts is None or not self.explorer.ready:
            self.path_line.setData([], [])
            self.path_dots.setData([], [])
            return
        self.path_line.setData(pts[:, 0], pts[:, 1])
        self.path_dots.setData(pos=pts)

    @Slot()
    def _draw_pins(self) -> None:
        pins = self.explorer.pins if self.explorer.ready else []
        self.pin_marks.setData(pos=np.array([p.view for p in pins]).reshape(-1, 2))
        names = "AB" if len(pins) > 1 else "A"
        for label, pin, name in zip(self.pin_labels, pins, names):
            label.setText(name)
            label.setPos(float(pin.view[0]), float(pin.view[1]))
        for i, label in enumerate(self.pin_labels):
            label.setVisible(i < len(pins))

    # ===================================================================== user input
    @Slot(object)
    def _on_mouse_moved(self, scene_pos) -> None:
        """Throttle: the first move decodes at once, later ones at most once per interval."""
        self._pending_hover = QPointF(scene_pos)
        if not self._throttle.isActive():
            self._flush_hover()
            self._throttle.start()

    @Slot()
    def _on_throttle(self) -> None:
        if self._pending_hover is not None:
            self._flush_hover()
            self._throttle.start()

    def _flush_hover(self) -> None:
        pos, self._pending_hover = self._pending_hover, None
        if pos is None or not self.explorer.ready or not self.view_box.sceneBoundingRect().contains(pos):
            return
        p = self.view_box.mapSceneToView(pos)
        self.explorer.hover_at((p.x(), p.y()))

    @Slot(QPointF)
    def _on_click(self, point: QPointF) -> None:
        if self.explorer.ready:
            self.explorer.pin_at((point.x(), point.y()))

    @Slot()
    def _on_manual_range(self, *_) -> None:
        self._follow = False

    def _on_plane_chosen(self, *_) -> None:
        pca = self.pca_check.isChecked()
        self.x_combo.setEnabled(not pca)
        self.y_combo.setEnabled(not pca)
        i, j = self.x_combo.currentIndex(), self.y_combo.currentIndex()
        if not pca and i == j:  # keep two different coordinates: move the other one along
            j = (i + 1) % self.y_combo.count()
            self.y_combo.setCurrentIndex(j)
        self._follow = True
        self.explorer.set_view(dims=(i, j), pca=pca)

    # ===================================================================== status
    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentIndex(0)

    def _show_plane_controls(self, dim: int) -> None:
        show = dim > 2
        for w in (self.plane_label, self.x_combo, self.y_combo, self.pca_check):
            w.setVisible(show)
        if show and self.x_combo.count() != dim:
            for combo in (self.x_combo, self.y_combo):
                combo.blockSignals(True)
                combo.clear()
                combo.addItems([f"z{i}" for i in range(dim)])
                combo.blockSignals(False)
        if show:
            e = self.explorer
            for combo, v in ((self.x_combo, e.dims[0]), (self.y_combo, e.dims[1])):
                combo.blockSignals(True)
                combo.setCurrentIndex(v)
                combo.blockSignals(False)
            self.pca_check.blockSignals(True)
            self.pca_check.setChecked(e.pca)
            self.pca_check.blockSignals(False)
            self.x_combo.setEnabled(not e.pca)
            self.y_combo.setEnabled(not e.pca)

    @Slot()
    def _update_status(self, *_) -> None:
        e = self.explorer
        parts = []
        if e.ready:
            parts.append(f"{len(e.points):,} {e.split_name} codes · {e.coverage:.0%} circle r = {e.circle.radius:.2f}")
            lat = e.lattice_overlay
            if lat is not None:
                parts.append(f"lattice in {lat.circle_text()}")
            if self.effective_mode == "density":
                parts.append("density")
        if e.busy:
            parts.append("encoding…")
        self.status.setText("  ·  ".join(parts))

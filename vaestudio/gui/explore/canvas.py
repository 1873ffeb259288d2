"""The latent canvas: the encodings of the validation split, coloured by label, with the
circle holding 99% of them, the lattice sites and interpolation path of the open panels, and
the pinned points. Moving the mouse decodes the point under it; clicking pins it, Ctrl+click
on a pin removes it. With the plot focused the keys in `KEYS_HELP` move a probe point (decoded
like the cursor's), zoom, fit and clear.

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
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QMenu, QStackedWidget, QToolButton,
                               QVBoxLayout, QWidget)

from ...core.render import CIRCLE_COLOUR, PALETTE, SPHERE_COLOUR
from ..elided_label import ElidedLabel
from .class_legend import ClassLegend
from .density import class_density, density_bins, density_bounds, density_rgba, scale_colours, top_count
from .explorer import MAX_PINS, Explorer, pin_name
from .own_marks import OwnImageMarks
from .plot_items import CloudScatter, InertScatter, clear_item
from .thumbnails import CanvasThumbnails
from ...core.latent.selection import points_in_polygon, rect_polygon
from ...core.latent import embedding as maps

AUTO_DENSITY_ABOVE = 100_000
HOVER_INTERVAL_MS = 16  # the screen's rate: a decode per frame at most
MODES = (("auto", "Auto"), ("points", "Points"), ("density", "Density"))
OVERLAY_COLOUR = (30, 30, 30)
HIGHLIGHT_COLOUR = (214, 39, 40)  # points a group or filter marks (the selection is OVERLAY_COLOUR)
SELECT_PALETTE_AT = (60, 6)  # the Lasso/Rectangle buttons' place over the plot, right of the y axis
EMPTY_TEXT = "Train or open a model to see its latent space"
FOLLOW_TOLERANCE = 0.05  # of the frame: a followed cloud that moved less keeps the frame
PROBE_STEP = 0.04  # an arrow key moves the probe this fraction of the circle's radius
PROBE_BIG_STEP = 0.2  # with Shift
ZOOM_STEP = 1.25  # + and - zoom by this factor about the view's centre
PIN_HIT_PX = 12  # Ctrl+click this close to a pin removes it
CLEAR_PINS_SHORTCUT = "Ctrl+Shift+X"
DENSITY_MAP = "viridis"  # the sequential map of a cloud without classes
MAP_TIP = ("A t-SNE or UMAP map of the codes (for more than 2 dimensions): near codes stay near, but a map "
           "has no inverse, so hovering decodes the code of the nearest real point and there is no lattice. "
           "Computed in the background (Cancel stops it) and kept for the model until the next epoch.")
KEYS_HELP = ("Click the plot, then: arrow keys move a probe point and decode it (Shift: bigger steps), "
             "Enter pins it, + and - zoom, Home fits the circle, Esc clears the preview, "
             f"Delete or {CLEAR_PINS_SHORTCUT} clears the pins. Ctrl+click a pin to remove it.")


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


class PinViewBox(pg.ViewBox):
    """A view box whose left click reports the point clicked (panning and zoom unchanged);
    with Ctrl held it reports `ctrl_clicked` instead (removing a pin)."""

    clicked = Signal(QPointF)
    ctrl_clicked = Signal(QPointF)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and not ev.double():
            ev.accept()
            point = self.mapSceneToView(ev.scenePos())
            if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.ctrl_clicked.emit(point)
            else:
                self.clicked.emit(point)
        else:
            super().mouseClickEvent(ev)

    drag_handler = None  # set by the canvas while a selection tool is on: left drags draw, not pan

    def mouseDragEvent(self, ev, axis=None) -> None:
        if self.drag_handler is not None and axis is None and ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.drag_handler(ev)
        else:
            super().mouseDragEvent(ev, axis)


class LatentCanvas(QWidget):
    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.class_items: list[pg.ScatterPlotItem] = []
        self._axis_labels = None  # (bottom, left) as last set
        self._class_rows: list[np.ndarray] = []  # row indices of each class in the encodings
        self._legend_names: Optional[list[str]] = None  # the classes the legend shows
        self._density = None
        self._follow = True  # fit the view to each new cloud until the user pans or zooms
        self._pending_hover: Optional[QPointF] = None
        self.probe: Optional[np.ndarray] = None  # the keyboard's point (view coordinates), or None

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

        self.clear_pins_action = QAction("Clear Pins", self)
        self.clear_pins_action.setShortcut(QKeySequence(CLEAR_PINS_SHORTCUT))
        self.clear_pins_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.clear_pins_action.setToolTip(f"Remove every pinned point ({CLEAR_PINS_SHORTCUT} or Delete on the canvas)")
        self.clear_pins_action.triggered.connect(explorer.clear_pins)
        self.addAction(self.clear_pins_action)

        e = explorer
        e.encodings_changed.connect(self._on_encodings)
        e.view_changed.connect(self._on_view)
        e.pins_changed.connect(self._draw_pins)
        e.hover_changed.connect(self._draw_probe)
        e.lattice_overlay_changed.connect(self._draw_lattice)
        e.path_overlay_changed.connect(self._draw_path)
        e.busy_changed.connect(self._update_status)
        e.message.connect(self._on_message)
        e.decoder_changed.connect(self._on_decoder)
        e.selection_changed.connect(self._draw_selection)
        e.highlight_changed.connect(self._draw_selection)
        e.view_changed.connect(self._draw_selection)
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
        self._make_map_controls(row)
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
        self.fit_button.setToolTip("Fit the view to the circle (and follow the cloud as it trains); Home on the canvas")
        self.fit_button.clicked.connect(self.fit_view)
        row.addWidget(self.fit_button)
        self.keys_button = QToolButton()
        self.keys_button.setText("Keys")
        self.keys_button.setToolTip(KEYS_HELP)
        self.keys_button.clicked.connect(lambda: self.plot.setFocus(Qt.FocusReason.OtherFocusReason))
        row.addWidget(self.keys_button)
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
        self.plot.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # click or Tab: the keys below work
        self.plot.setWhatsThis(KEYS_HELP)
        self.plot.setAccessibleDescription(KEYS_HELP)
        self.plot.installEventFilter(self)
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
        self.view_box.ctrl_clicked.connect(self._on_ctrl_click)

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
        self.pin_labels = [pg.TextItem(pin_name(i), color=OVERLAY_COLOUR, anchor=(-0.45, 1.25))
                           for i in range(MAX_PINS)]
        # The keyboard's probe: a ring with a cross, unlike the pins' filled discs.
        self.probe_mark = InertScatter(size=17, symbol="crosshair", pen=pg.mkPen((214, 39, 40), width=2),
                                       brush=pg.mkBrush(0, 0, 0, 0))
        self.probe_mark.setVisible(False)
        for z, it in enumerate((self.lattice_square, self.lattice_sites, self.path_line, self.path_dots,
                                self.pin_marks, *self.pin_labels, self.probe_mark)):
            it.setZValue(30 + z)
        for it in (self.density_item, self.circle_item, self.sphere_item, self.sphere_label, self.lattice_square,
                   self.lattice_sites, self.path_line, self.path_dots, self.pin_marks, *self.pin_labels,
                   self.probe_mark):
            item.addItem(it, ignoreBounds=True)
        # What the density image's colours mean: counts per pixel, drawn right of the plot.
        self.colour_bar = pg.ColorBarItem(values=(0, 1), width=12, interactive=False,
                                          colorMap=pg.colormap.get(DENSITY_MAP), pen="#888", colorMapMenu=False)
        bar_axis = self.colour_bar.getAxis("right")
        bar_axis.setTextPen("#333")
        bar_axis.setPen("#888")
        bar_axis.setLabel("points per pixel", color="#333")
        bar_axis.setWidth(56)  # the ticks and the label side by side, not over the bar
        item.layout.addItem(self.colour_bar, 2, 5)
        self.colour_bar.setVisible(False)
        self.own_marks = OwnImageMarks(self.explorer, item)  # the user's pictures, with thumbnails
        self.legend = ClassLegend(item)
        self.legend.toggled.connect(self._on_class_toggled)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._make_selection_items(item)
        self._make_select_tools(self.plot)
        self._make_thumbnails_toggle()
        return self.plot

    # ===================================================================== thumbnails
    def _make_thumbnails_toggle(self) -> None:
        """The thumbnails toggle (off by default): a checkable action (View menu, Ctrl+Shift+I) and
        a small button in the plot's corner, not in the toolbar, whose width sets the canvas's least
        width at 1280x800. The layer itself lives in thumbnails.py."""
        self.thumbnails = CanvasThumbnails(self.explorer, self.view_box, self)
        self.thumbnails_action = self.thumbnails.make_action(self)
        self.addAction(self.thumbnails_action)
        self.thumbnails_button = self.thumbnails.make_corner_button(self.plot)
        self.thumbnails.row_filter = self._thumbnail_rows
        self.legend.toggled.connect(self.thumbnails.schedule)

    def _thumbnail_rows(self) -> Optional[np.ndarray]:
        """The points whose class the legend shows (None: all of them)."""
        visible = self.legend.visible()
        if self.explorer.points is None or len(self._class_rows) < 2 or all(visible):
            return None
        mask = np.zeros(len(self.explorer.points), dtype=bool)
        for rows, shown in zip(self._class_rows, visible):
            if shown:
                mask[rows] = True
        return mask

    # ===================================================================== public
    @property
    def mode(self) -> str:
        """The Show choice: "auto", "points" or "density" (kept per model by the explorer)."""
        return self.explorer.show_mode

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
        self.explorer.set_show_mode(mode)
        i = self.mode_combo.findData(mode)
        if i != self.mode_combo.currentIndex():
            self.mode_combo.setCurrentIndex(i)
        self._draw_cloud()

    def visible_classes(self) -> list[bool]:
        return self.legend.visible()

    def fit_view(self, *, tolerance: float = 0.0) -> None:
        """Frame the circle and follow the cloud again. With a `tolerance` (a fraction of the
        frame), a frame that moved less than that stays as it is: while training, each epoch's
        cloud shifts a little, and re-ranging redraws both axes and every item on the plot."""
        self._follow = True
        circle = self.explorer.circle
        if circle is None:
            return
        c, r = circle.centre, circle.radius * 1.08
        if tolerance > 0:
            (x0, x1), (y0, y1) = self.view_box.viewRange()
            size = max(min(x1 - x0, y1 - y0), 1e-12)  # the locked aspect widens the other side
            edge = circle.radius * 1.04  # the circle stays whole, with room (a fit leaves 8%)
            inside = x0 <= c[0] - edge and c[0] + edge <= x1 and y0 <= c[1] - edge and c[1] + edge <= y1
            if inside and size <= (1 + tolerance) * 2 * r:
                return
        self.view_box.setRange(QRectF(c[0] - r, c[1] - r, 2 * r, 2 * r), padding=0)

    def zoom(self, factor: float) -> None:
        """Zoom about the view's centre: `factor` > 1 shows more."""
        self._follow = False
        self.view_box.scaleBy((factor, factor))

    def move_probe(self, dx: int, dy: int, big: bool = False) -> None:
        """Move the keyboard's probe by (dx, dy) steps and decode it like the cursor's point; it
        starts where the cursor last was, or at the circle's centre."""
        e = self.explorer
        if not e.ready:
            return
        if self.probe is None:
            self.probe = (np.array(e.hover_view, dtype=np.float64) if e.hover_view is not None
                          else np.array(e.circle.centre, dtype=np.float64))
        step = e.circle.radius * (PROBE_BIG_STEP if big else PROBE_STEP)
        self.probe = self.probe + step * np.array([dx, dy], dtype=np.float64)
        e.hover_at(self.probe.copy())

    def clear_hover(self) -> None:
        """Forget the probe and the point under the cursor (the preview empties)."""
        self.probe = None
        self.explorer.clear_hover()

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
        if names != self._legend_names:  # rebuilding the legend costs the GUI thread ~10 ms: not every epoch
            old = [p.isVisible() for p in self.legend.proxies]
            self.legend.set_classes(names, [class_colour(i) for i in range(len(names))])
            self._legend_names = list(names)
            if len(old) == len(names):  # the same number of classes: keep what the user hid
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
        i = self.mode_combo.findData(self.mode)  # another model's mode, restored by the explorer
        if i != self.mode_combo.currentIndex():
            self.mode_combo.blockSignals(True)
            self.mode_combo.setCurrentIndex(i)
            self.mode_combo.blockSignals(False)
        if not e.ready:
            self.probe = None
        if e.ready:
            x, y = e.projection.axis_labels()
            item = self.plot.getPlotItem()
            if (x, y) != self._axis_labels:  # setting a label lays the axis out again
                self._axis_labels = (x, y)
                item.setLabel("bottom", x)
                item.setLabel("left", y)
            self.circle_item.setData(*circle_xy(e.circle.centre, e.circle.radius))
        else:
            clear_item(self.circle_item)
        self._draw_sphere()
        self._density = None
        self._draw_cloud()
        self._draw_path()
        if e.ready and self._follow:
            self.fit_view(tolerance=FOLLOW_TOLERANCE)
        self._sync_map()  # the Map button, and no circles or lattice on a t-SNE/UMAP map (updates the status)

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
                    style = (point_size(len(e.points)), colour)
                    x, y = e.points[rows, 0], e.points[rows, 1]
                    if getattr(it, "_style", None) != style or not it.move_points(x, y):
                        it.setSize(style[0], update=False)
                        it.setBrush(pg.mkBrush(*colour, 200), update=False)
                        it.setData(x=x, y=y)
                        it._style = style
                    it._drawn_for = e.points
            it.setVisible(bool(shown))
        density_mode = e.ready and self.effective_mode == "density"
        self.density_item.setVisible(density_mode)
        self.colour_bar.setVisible(density_mode)
        # Over the density the lattice sites step back: smaller and lighter.
        self.lattice_sites.setSize(3 if density_mode else 4)
        self.lattice_sites.setBrush(pg.mkBrush(*OVERLAY_COLOUR, 110 if density_mode else 200))
        if density_mode:
            if self._density is None:
                labels = None if e.encodings.labels is None else e.encodings.labels
                k = max(len(self._class_rows), 1)
                self._density = class_density(e.points, labels, k, density_bounds(e.points, e.circle),
                                              bins=density_bins(len(e.points)))
            self._paint_density()
        self._update_status()

    def _paint_density(self) -> None:
        d = self._density
        k = d.counts.shape[0]
        visible = self.legend.visible() if len(self.legend.proxies) == k else [True] * k
        colours = [class_colour(i) if k > 1 else PALETTE[0] for i in range(k)]
        lut = pg.colormap.get(DENSITY_MAP).getLookupTable(0.0, 1.0, 256, alpha=False) if k == 1 else None
        self.density_item.setImage(density_rgba(d, colours, visible, lut), autoLevels=False)
        self.density_item.setRect(QRectF(d.x0, d.y0, d.width, d.height))
        # The bar runs linearly in counts; its colours are those the image gives each count.
        top = max(top_count(d), 1)
        pos = np.linspace(0.0, 1.0, 65)
        self.colour_bar.setColorMap(pg.ColorMap(pos, scale_colours(pos, lut)))
        self.colour_bar.setLevels((0, top))
        self.colour_bar.setToolTip("Full colour: the fullest pixel, " + f"{top:,} points"
                                   + ("" if k == 1 else "; each pixel takes the colours of its classes"))

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
            clear_item(self.lattice_sites)
            clear_item(self.lattice_square)
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
            clear_item(self.sphere_item)
            return
        self.sphere_item.setData(*circle_xy(sphere.centre, sphere.radius))
        self.sphere_label.setText(f"{e.encodings.dim}-D sphere {e.coverage:.0%}")
        self.sphere_label.setPos(float(sphere.centre[0]), float(sphere.centre[1] + sphere.radius))

    @Slot()
    def _draw_path(self) -> None:
        pts = self.explorer.path_overlay
        if pts is None or not self.explorer.ready:
            clear_item(self.path_line)
            clear_item(self.path_dots)
            return
        self.path_line.setData(pts[:, 0], pts[:, 1])
        self.path_dots.setData(pos=pts)

    @Slot()
    def _draw_pins(self) -> None:
        pins = self.explorer.pins if self.explorer.ready else []
        if pins:
            self.pin_marks.setData(pos=np.array([p.view for p in pins]).reshape(-1, 2))
        else:
            clear_item(self.pin_marks)
        for i, (label, pin) in enumerate(zip(self.pin_labels, pins)):
            label.setText(pin_name(i))
            label.setPos(float(pin.view[0]), float(pin.view[1]))
        for i, label in enumerate(self.pin_labels):
            label.setVisible(i < len(pins))

    @Slot()
    def _draw_probe(self) -> None:
        """The probe's mark, where the keyboard put it (gone once the mouse or Esc moves on)."""
        e = self.explorer
        if e.hover_view is None or not e.ready:
            self.probe = None
        shown = self.probe is not None and bool(np.allclose(e.hover_view, self.probe))
        self.probe_mark.setVisible(shown)
        if shown:
            self.probe_mark.setData(pos=self.probe.reshape(1, 2))

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
        self.probe = None  # the mouse takes over from the keyboard
        self.explorer.hover_at((p.x(), p.y()))

    @Slot(QPointF)
    def _on_click(self, point: QPointF) -> None:
        if self.explorer.ready:
            self.explorer.pin_at((point.x(), point.y()))

    @Slot(QPointF)
    def _on_ctrl_click(self, point: QPointF) -> None:
        """Remove the pin under the click (within `PIN_HIT_PX` on screen), if there is one."""
        pins = self.explorer.pins if self.explorer.ready else []
        if not pins:
            return
        here = self.view_box.mapViewToScene(point)
        dist = []
        for p in pins:
            there = self.view_box.mapViewToScene(QPointF(float(p.view[0]), float(p.view[1])))
            dist.append(math.hypot(there.x() - here.x(), there.y() - here.y()))
        i = int(np.argmin(dist))
        if dist[i] <= PIN_HIT_PX:
            self.explorer.remove_pin(i)

    def eventFilter(self, watched, event) -> bool:
        """The canvas's keys (`KEYS_HELP`) while the plot has the focus; claimed at
        ShortcutOverride too, so no window shortcut takes them."""
        if watched is self.plot and event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            handler = self._key_handler(event)
            if handler is not None:
                if event.type() == QEvent.Type.KeyPress:
                    handler()
                event.accept()
                return True
        return super().eventFilter(watched, event)

    def _key_handler(self, event):
        """What a key does on the canvas, or None for keys it leaves alone."""
        key, mods = event.key(), event.modifiers()
        big = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        M = Qt.KeyboardModifier
        if mods & (M.ControlModifier | M.AltModifier | M.MetaModifier):
            return None  # Ctrl+Shift+X and the window's shortcuts go their own way
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, 1), Qt.Key.Key_Down: (0, -1)}
        if key in arrows:
            return lambda: self.move_probe(*arrows[key], big=big)
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            return lambda: self.zoom(1 / ZOOM_STEP)
        if key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            return lambda: self.zoom(ZOOM_STEP)
        if key == Qt.Key.Key_Home:
            return self.fit_view
        if key == Qt.Key.Key_Escape:
            return self._escape
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            return self.explorer.clear_pins
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.probe is not None and self.explorer.ready:
            return lambda: self.explorer.pin_at(self.probe.copy())
        return None

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
        self.explorer.leave_map()  # a plane chosen: off the t-SNE/UMAP map
        self.explorer.set_view(dims=(i, j), pca=pca)

    # ===================================================================== selection
    def _make_select_tools(self, plot) -> None:
        """Lasso and Rectangle: while one is on, a left drag on the plot draws its outline (no
        panning) and, on release, selects the visible points inside; Esc clears. A small palette
        over the plot's top-left corner: the toolbar above has no width to spare at 1280x800."""
        self.select_palette = QWidget(plot)
        self.select_palette.setObjectName("selectTools")
        row = QHBoxLayout(self.select_palette)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.select_buttons: dict[str, QToolButton] = {}
        for tool, text, tip in (("lasso", "Lasso", "Draw around points to select them (the wheel still zooms)"),
                                ("rect", "Rectangle", "Drag a rectangle to select the points in it")):
            b = QToolButton()
            b.setText(text)
            b.setObjectName(f"select_{tool}")
            b.setCheckable(True)
            b.setToolTip(tip + "; hidden classes are left out; Esc clears the selection")
            b.toggled.connect(lambda on, t=tool: self.set_select_tool(t if on else None))
            row.addWidget(b)
            self.select_buttons[tool] = b
        self.select_palette.adjustSize()
        self.select_palette.move(SELECT_PALETTE_AT[0], SELECT_PALETTE_AT[1])
        self.select_palette.raise_()
        self._select_tool: Optional[str] = None
        self._outline: list = []  # view points of the outline being drawn

    def _make_selection_items(self, item) -> None:
        self.selection_item = CloudScatter(pen=pg.mkPen(OVERLAY_COLOUR, width=1.2), brush=None, symbol="o",
                                           antialias=False)
        self.highlight_item = CloudScatter(pen=pg.mkPen(*HIGHLIGHT_COLOUR, width=1.6), brush=None, symbol="o",
                                           antialias=False)
        self.outline_item = pg.PlotCurveItem(pen=pg.mkPen(OVERLAY_COLOUR, width=1.5, style=Qt.PenStyle.DashLine))
        for z, it in ((24, self.highlight_item), (25, self.selection_item), (60, self.outline_item)):
            it.setZValue(z)
            item.addItem(it, ignoreBounds=True)

    @property
    def select_tool(self) -> Optional[str]:
        """"lasso", "rect" or None (left drags pan)."""
        return self._select_tool

    def set_select_tool(self, tool: Optional[str]) -> None:
        if tool not in (None, "lasso", "rect"):
            raise ValueError(f"unknown selection tool {tool!r}")
        self._select_tool = tool
        for t, b in self.select_buttons.items():
            if b.isChecked() != (t == tool):
                b.blockSignals(True)
                b.setChecked(t == tool)
                b.blockSignals(False)
        self.view_box.drag_handler = None if tool is None else self._on_select_drag
        self._cancel_outline()

    def visible_rows_mask(self) -> np.ndarray:
        """Boolean (N,): the points of the classes shown (the legend can hide classes)."""
        n = 0 if self.explorer.points is None else len(self.explorer.points)
        visible = self.legend.visible()
        if not self._class_rows or len(visible) != len(self._class_rows) or all(visible):
            return np.ones(n, dtype=bool)
        mask = np.zeros(n, dtype=bool)
        for rows, shown in zip(self._class_rows, visible):
            if shown:
                mask[rows] = True
        return mask

    def select_polygon(self, polygon) -> np.ndarray:
        """Select the visible points inside `polygon` ((K, 2) view coordinates); their rows."""
        e = self.explorer
        if not e.ready:
            return np.zeros(0, dtype=np.int64)
        inside = points_in_polygon(e.points, polygon) & self.visible_rows_mask()
        rows = np.flatnonzero(inside).astype(np.int64)
        e.set_selection(rows)
        return rows

    def _on_select_drag(self, ev) -> None:
        p = self.view_box.mapSceneToView(ev.scenePos())
        here = (p.x(), p.y())
        if ev.isStart():
            q = self.view_box.mapSceneToView(ev.buttonDownScenePos())
            self._outline = [(q.x(), q.y())]
        if not self._outline:
            return
        if self._select_tool == "rect":
            self._outline = [self._outline[0], here]
            poly = rect_polygon(*self._outline)
        else:
            self._outline.append(here)
            poly = np.array(self._outline + self._outline[:1])
        self.outline_item.setData(poly[:, 0], poly[:, 1])
        if ev.isFinish():
            self._cancel_outline()
            self.select_polygon(poly)

    def _cancel_outline(self) -> None:
        self._outline = []
        clear_item(self.outline_item)

    def _escape(self) -> None:
        """Esc: the preview empties, an outline being drawn goes, the selection clears."""
        self.clear_hover()
        self._cancel_outline()
        self.explorer.clear_selection()

    @Slot()
    def _draw_selection(self) -> None:
        e = self.explorer
        for it, rows, extra in ((self.selection_item, e.selection, 4), (self.highlight_item, e.highlight, 6)):
            rows = rows[rows < len(e.points)] if e.ready else rows[:0]
            if rows.size:
                it.setSize(point_size(len(e.points)) + extra, update=False)
                it.setData(x=e.points[rows, 0], y=e.points[rows, 1])
            else:
                it.clear()
            it.setVisible(bool(rows.size))
        self._update_status()

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
            parts.append(e.projection.describe() if e.on_map else
                         f"{len(e.points):,} {e.split_name} codes · {e.coverage:.0%} circle r = {e.circle.radius:.2f}")
            lat = e.lattice_overlay
            if lat is not None:
                parts.append(f"lattice in {lat.circle_text()}")
            if self.effective_mode == "density":
                parts.append("density")
        if e.busy:
            parts.append("encoding…")
        if e.ready and e.selection.size:
            parts.append(f"{e.selection.size:,} selected")
        parts += self._map_status_parts()
        self.status.setText("  ·  ".join(parts))

    # ===================================================================== t-SNE and UMAP maps
    def _make_map_controls(self, row) -> None:
        """The Map button (shown for D > 2; a narrow menu, as the toolbar is full at 1280 px), the
        Cancel of a map being computed, and the actions the View menu shares (`add_map_actions`)."""
        self.map_actions: dict[str, QAction] = {}
        for m, keys in (("tsne", "Ctrl+Shift+T"), ("umap", "Ctrl+Shift+U")):
            act = QAction(f"{maps.TITLES[m]} Map", self)
            act.setObjectName(f"{m}MapAction")
            act.setCheckable(True)
            act.setShortcut(QKeySequence(keys))
            act.triggered.connect(lambda checked, m=m: self.show_map(m if checked else None))
            self.map_actions[m] = act
        self.plane_action = QAction("Plane (no map)", self)
        self.plane_action.setCheckable(True)
        self.plane_action.setToolTip("The coordinate pair or PCA plane chosen beside")
        self.plane_action.triggered.connect(lambda: self.show_map(None))
        self.map_menu = QMenu(self)
        self.map_menu.setToolTipsVisible(True)
        self.map_menu.addAction(self.plane_action)
        self.map_menu.addSeparator()
        self.map_menu.addActions(list(self.map_actions.values()))
        self.map_menu.aboutToShow.connect(self._sync_map_availability)
        self.map_button = QToolButton()
        self.map_button.setObjectName("mapButton")
        self.map_button.setText("Map")
        self.map_button.setToolTip(MAP_TIP)
        self.map_button.setMenu(self.map_menu)
        self.map_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        row.addWidget(self.map_button)
        self.map_cancel_button = QToolButton()
        self.map_cancel_button.setObjectName("mapCancel")
        self.map_cancel_button.setText("Cancel")
        self.map_cancel_button.setToolTip("Stop computing the map; the view on show stays (View > t-SNE Map and "
                                          "UMAP Map still switch)")
        self.map_cancel_button.clicked.connect(self.explorer.cancel_map)
        self.map_cancel_button.setVisible(False)
        row.addWidget(self.map_cancel_button)
        self.explorer.map_changed.connect(self._sync_map)  # and `_on_view` calls it
        self.explorer.map_failed.connect(self._on_map_failed)
        self._sync_map_availability()

    def add_map_actions(self, menu) -> None:
        """View > t-SNE Map (Ctrl+Shift+T) and UMAP Map (Ctrl+Shift+U), before the menu's first
        separator; disabled, saying how to enable them, when their package is missing."""
        first_separator = next((a for a in menu.actions() if a.isSeparator()), None)
        added = [QAction(menu)]
        added[0].setSeparator(True)
        added += list(self.map_actions.values())
        if first_separator is None:
            menu.addActions(added)
        else:
            menu.insertActions(first_separator, added)
        menu.setToolTipsVisible(True)
        menu.aboutToShow.connect(self._sync_map_availability)
        self._sync_map_availability()
        self._sync_map()

    def show_map(self, method: Optional[str]) -> bool:
        """Switch to the t-SNE ("tsne") or UMAP ("umap") map, or back to the plane (None)."""
        self._follow = True
        ok = self.explorer.set_map(method)
        self._sync_map()
        if not ok:  # the package went missing since the menu was filled
            self._on_map_failed(maps.missing_message(method))
        return ok

    @Slot(str)
    def _on_map_failed(self, text: str) -> None:
        from .. import dialogs  # the window's non-blocking error box

        dialogs.show_error(self.window(), "Map", text)

    def _sync_map_availability(self) -> None:
        """Grey out a map whose package is missing, saying how to get it (checked each time a
        menu opens, so an install while the window runs shows up)."""
        for m, act in self.map_actions.items():
            ok = maps.available(m)
            act.setEnabled(ok)
            act.setText(f"{maps.TITLES[m]} Map" + ("" if ok else f" (needs {maps.INSTALL_COMMAND})"))
            tip = MAP_TIP if ok else maps.missing_message(m)
            act.setToolTip(tip)
            act.setStatusTip(tip)

    @Slot()
    def _sync_map(self) -> None:
        """The Map menu follows the explorer; on a map the circles and the lattice go (a map has
        no inverse, so they would stand for nothing)."""
        e = self.explorer
        # Cancel takes the Map button's place while a map is computed (the toolbar has no room for both).
        self.map_button.setVisible(e.ready and e.latent_dim > 2 and not e.map_computing)
        shown = e.map_method
        self.plane_action.setChecked(shown is None)
        for m, act in self.map_actions.items():
            act.blockSignals(True)
            act.setChecked(shown == m)
            act.blockSignals(False)
        self.map_cancel_button.setVisible(e.map_computing)
        if getattr(self, "circle_item", None) is not None:
            on_map = e.on_map
            for it in (self.circle_item, self.sphere_item, self.lattice_square, self.lattice_sites):
                it.setVisible(not on_map)
            if on_map:
                self.sphere_label.setVisible(False)
        self._update_status()

    def _map_status_parts(self) -> list[str]:
        """The map's progress while it is computed (for the status line)."""
        e = self.explorer
        if getattr(e, "map_progress", None) is None:
            return []
        done, total, text = e.map_progress
        return [f"{text} ({done / total:.0%})" if total else text]

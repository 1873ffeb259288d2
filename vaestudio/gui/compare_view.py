"""View > Compare Runs: two to four runs side by side, one column each, rows aligned.

Rows: the latent scatter with its 99% circle, the decode of the point under the mouse, the
lattice, the same test images and their reconstructions, prior samples with the same seed,
an attribute sweep when the data set has attributes, then a metrics table and the loss
curves overlaid. The work (reading runs, encoding, decoding, measuring) is
`core.compare.compare_runs`, run in a worker with a progress dialog; this window only shows
its columns.

Hovering a scatter maps the mouse to that column's latent space and decodes the same latent
point in every column whose latent dimension is the same (others say why they cannot).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QMenu, QPushButton, QScrollArea, QSizePolicy,
                               QSplitter, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from ..core.render import PALETTE, image_grid
from . import dialogs
from .explore.image_view import ImageView
from .progress_task import ProgressTask

MIN_RUNS, MAX_RUNS = 2, 4
CIRCLE_PEN = pg.mkPen((20, 20, 20), width=2, style=Qt.PenStyle.DashLine)
CURVE_COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]
# rows of the metrics table: key of core.compare.metrics_row, label, format
METRICS = (("kind", "Kind", "{}"), ("latent_dim", "Latent dimension", "{}"), ("epochs", "Epochs", "{:g}"),
           ("test_recon", "Test reconstruction (nats)", "{:.2f}"), ("neg_elbo", "Test -ELBO (nats)", "{:.2f}"),
           ("iwae_nll", "IWAE NLL (nats)", "{:.2f}"),
           ("sharpness_recon", "Sharpness, reconstructions", "{:.3f}"),
           ("sharpness_prior", "Sharpness, prior samples", "{:.3f}"),
           ("frechet", "Frechet (LeNet features)", "{:.1f}"), ("active_units", "Active latent units", "{}"),
           ("seconds_per_epoch", "Seconds per epoch", "{:.1f}"))


def metric_text(value, fmt: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    try:
        return fmt.format(value)
    except (TypeError, ValueError):
        return str(value)


class Entry:
    """A run chosen for comparison: the window's current model (a frozen copy) or a file."""

    def __init__(self, label: str, run=None, path: Optional[str] = None):
        self.label, self.run, self.path = label, run, path


class CompareWindow(QWidget):
    """A separate top-level window; the main window keeps one and raises it."""

    compared = Signal()  # the columns on screen were replaced

    def __init__(self, main_window):
        super().__init__(main_window, Qt.WindowType.Window)
        self.setObjectName("compareWindow")
        self.setWindowTitle("Compare Runs - VAE Studio")
        self.main_window = main_window
        self.entries: list[Entry] = []
        self.columns: list = []  # core.compare.RunColumn, on screen
        self.task: Optional[ProgressTask] = None
        self.last_error = ""
        self.scatters: list[pg.PlotWidget] = []
        self.hover_views: list[ImageView] = []
        self.hover_z: Optional[np.ndarray] = None

        # -- the choice of runs --------------------------------------------------------------
        self.run_list = QListWidget()
        self.run_list.setObjectName("compareRunList")
        self.run_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.run_list.setMaximumHeight(96)
        self.add_current_button = QPushButton("Add &Current Model")
        self.add_current_button.clicked.connect(self.add_current)
        self.add_file_button = QPushButton("Add &File…")
        self.add_file_button.clicked.connect(self.add_file_dialog)
        self.recent_button = QToolButton()
        self.recent_button.setText("Add &Recent")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self.recent_button)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.recent_button.setMenu(self.recent_menu)
        self.remove_button = QPushButton("Re&move")
        self.remove_button.clicked.connect(self.remove_selected)
        self.sites = QComboBox()
        self.sites.setObjectName("compareSites")
        self.sites.addItem("Each run's own circle", "own")
        self.sites.addItem("Shared sites", "shared")
        self.sites.setToolTip("Lattice sites: inside each run's own 99% circle (as the Lattice tab places them), or the same "
                              "view coordinates for every run")
        self.compare_button = QPushButton("Co&mpare")
        self.compare_button.setObjectName("compareButton")
        self.compare_button.setDefault(True)
        self.compare_button.clicked.connect(self.compare)
        compare_action = QAction(self)
        compare_action.setShortcut(QKeySequence("Ctrl+Return"))
        compare_action.triggered.connect(self.compare)
        self.addAction(compare_action)
        self.hint = QLabel()
        self.hint.setWordWrap(True)

        buttons = QVBoxLayout()
        for b in (self.add_current_button, self.add_file_button, self.recent_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        options = QVBoxLayout()
        options.addWidget(QLabel("Lattice sites"))
        options.addWidget(self.sites)
        options.addStretch(1)
        options.addWidget(self.compare_button)
        top = QHBoxLayout()
        top.addWidget(self.run_list, 1)
        top.addLayout(buttons)
        top.addLayout(options)

        # -- the columns -----------------------------------------------------------------------
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(6)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.grid_host)
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("compareMetrics")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.loss_plot = pg.PlotWidget(background="w")
        self.loss_plot.setObjectName("compareLoss")
        self.loss_plot.setLabel("bottom", "epoch")
        self.loss_plot.setLabel("left", "loss per image")
        self.loss_plot.addLegend(offset=(-8, 8))
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.table)
        bottom.addWidget(self.loss_plot)
        bottom.setSizes([500, 500])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.scroll)
        body.addWidget(bottom)
        body.setSizes([620, 220])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(body, 1)
        self.resize(1200, 900)
        self._update_controls()

    # -- choosing runs ------------------------------------------------------------------------
    def add_current(self) -> bool:
        """The main window's model as it is now (a frozen copy: training may go on)."""
        s = self.main_window.session
        run = s.saved_state if s.training else s.run
        if run is None:
            self._error("There is no current model to add: train or open one.")
            return False
        run = run.snapshot() if not s.training else run
        name = Path(run.path).parent.name if run.path else "current model"
        if run.path is not None and Path(run.path).name != "model.pt":
            name = Path(run.path).stem
        return self._add(Entry(f"{name} (current, epoch {run.epochs_done:g})", run=run))

    def add_file_dialog(self) -> bool:
        folder = str(Path(self.main_window.session.path).parent) if self.main_window.session.path else ""
        path = dialogs.choose_open_model(self, folder)
        return bool(path) and self.add_file(path)

    def add_file(self, path: str) -> bool:
        """A run file or folder; read when Compare is pressed (a bad file then names itself)."""
        p = Path(path)
        label = p.name if p.name != "model.pt" else p.parent.name
        return self._add(Entry(f"{label} ({p})", path=str(p)))

    def _add(self, entry: Entry) -> bool:
        if len(self.entries) >= MAX_RUNS:
            self._error(f"At most {MAX_RUNS} runs can be compared: remove one first.")
            return False
        if entry.path is not None and any(e.path == entry.path for e in self.entries):
            self.hint.setText(f"{entry.path} is already in the list.")
            return False
        self.entries.append(entry)
        self.run_list.addItem(QListWidgetItem(entry.label))
        self._update_controls()
        return True

    def remove_selected(self) -> None:
        for row in sorted((self.run_list.row(i) for i in self.run_list.selectedItems()), reverse=True):
            self.run_list.takeItem(row)
            del self.entries[row]
        self._update_controls()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.main_window.settings.recent_models()
        if not recent:
            act = self.recent_menu.addAction("No recent models")
            act.setEnabled(False)
        for path in recent:
            self.recent_menu.addAction(path, lambda p=path: self.add_file(p))

    def _update_controls(self) -> None:
        n = len(self.entries)
        busy = self.task is not None
        self.compare_button.setEnabled(MIN_RUNS <= n <= MAX_RUNS and not busy)
        for b in (self.add_current_button, self.add_file_button, self.recent_button):
            b.setEnabled(n < MAX_RUNS and not busy)
        self.remove_button.setEnabled(n > 0 and not busy)
        if busy:
            self.hint.setText("Comparing...")
        elif n < MIN_RUNS:
            self.hint.setText(f"Add {MIN_RUNS - n} more run{'s' if MIN_RUNS - n > 1 else ''} to compare "
                              f"(2 to {MAX_RUNS}): the current model, recent models or files.")
        elif not self.columns:
            self.hint.setText("Press Compare.")

    # -- comparing ---------------------------------------------------------------------------
    @Slot()
    def compare(self) -> None:
        if self.task is not None or not MIN_RUNS <= len(self.entries) <= MAX_RUNS:
            return
        from ..core.compare import compare_runs
        from ..core.data.registry import open_dataset
        from ..core.errors import VaeStudioError
        from ..core.run import Run, same_data

        self.last_error = ""
        entries = list(self.entries)
        session_ds = self.main_window.session.dataset
        sites = self.sites.currentData()

        def work(progress, cancel):
            runs = []
            for e in entries:
                runs.append(e.run if e.run is not None else Run.load(e.path).require_finite())
            first = runs[0]
            # the first run's own data set (the window's when it is that one), so the numbers are
            # the ones `vaestudio compare` prints for the same runs
            ds = session_ds
            spec = first.dataset_spec
            if spec is not None and (ds is None or not same_data(ds.spec, spec)):
                ds = open_dataset(spec, progress=progress, cancel=cancel)
            elif ds is None:
                raise VaeStudioError(f"{entries[0].label} records no data set: open one of its shape first")
            return compare_runs(runs, ds, sites=sites, progress=progress, cancel=cancel)

        self.task = ProgressTask(self, "Comparing runs", work)
        self.task.succeeded.connect(self._on_compared)
        self.task.failed.connect(self._on_failed)
        self.task.ended.connect(self._on_ended)
        self.task.start()
        self._update_controls()

    @Slot(object)
    def _on_compared(self, columns) -> None:
        from ..core.compare import unique_names

        # the window's own model has no file name of its own: call it what it is
        entries = self.entries[:len(columns)]
        if any(e.run is not None and e.run.path is None for e in entries):
            names = ["current model" if e.run is not None and e.run.path is None else c.name
                     for e, c in zip(entries, columns)]
            for c, name in zip(columns, unique_names(names)):
                c.name = name
        self.show_columns(columns)
        self.hint.setText(f"{len(columns)} runs on {len(columns[0].originals)} test images. Hover a scatter "
                          f"to decode that latent point in every run of the same latent dimension.")
        self.compared.emit()

    @Slot(object, str, str)
    def _on_failed(self, exc, message: str, details: str) -> None:
        self._error(exc if exc is not None else message, details)

    @Slot()
    def _on_ended(self) -> None:
        self.task = None
        self._update_controls()

    def _error(self, error, details: str = "") -> None:
        from .workers import describe_exception

        self.last_error = describe_exception(error)[0] if isinstance(error, BaseException) else str(error)
        dialogs.show_error(self, "Cannot compare", error, details)

    # -- showing ------------------------------------------------------------------------------
    def _clear(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            w = item.widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        self.scatters, self.hover_views = [], []
        self.table.clear()
        self.loss_plot.clear()

    def show_columns(self, columns) -> None:
        self._clear()
        self.columns = list(columns)
        self.hover_z = None
        rows = [("", None), ("Latent space", 250), ("Decode under the mouse", 96), ("Lattice", 250),
                ("Test images, reconstructed", 110), ("Prior samples (same seed)", 64)]
        if any(c.sweep_images is not None for c in columns):
            rows.append(("Attribute sweep", 64))
        for r, (title, _) in enumerate(rows):
            if title:
                label = QLabel(f"<b>{title}</b>")
                label.setWordWrap(True)
                label.setFixedWidth(110)
                self.grid.addWidget(label, r, 0, Qt.AlignmentFlag.AlignTop)
        for c, col in enumerate(columns, start=1):
            run = col.run
            head = QLabel(f"<b>{col.name}</b><br>{run.kind.title}, latent {run.model_config.latent_dim}, "
                          f"{run.epochs_done:g} epochs")
            head.setWordWrap(True)
            self.grid.addWidget(head, 0, c)
            self.grid.addWidget(self._scatter(c - 1, col), 1, c)
            hover = ImageView("Hover a scatter", min_side=90)
            hover.setObjectName(f"compareHover{c - 1}")
            self.hover_views.append(hover)
            self.grid.addWidget(hover, 2, c)
            n = col.lattice.n
            self.grid.addWidget(self._image(image_grid(col.lattice_images, ncols=n, padding=1), 200,
                                            f"compareLattice{c - 1}"), 3, c)
            k = len(col.originals)
            pairs = np.concatenate([col.originals, col.recons])
            self.grid.addWidget(self._image(image_grid(pairs, ncols=k, padding=1), 100, f"compareRecon{c - 1}"), 4, c)
            prior = (self._image(image_grid(col.prior_images, ncols=len(col.prior_images), padding=1), 100,
                                 f"comparePrior{c - 1}") if col.prior_images is not None else
                     self._placeholder(f"{run.kind.a_title()[:1].upper()}{run.kind.a_title()[1:]} has no prior to "
                                       f"sample from."))
            self.grid.addWidget(prior, 5, c)
            if len(rows) > 6:
                sweep = (self._image(image_grid(col.sweep_images, ncols=len(col.sweep_images), padding=1), 70,
                                     f"compareSweep{c - 1}") if col.sweep_images is not None else
                         self._placeholder("No attribute sweep."))
                self.grid.addWidget(sweep, 6, c)
            self.grid.setColumnStretch(c, 1)
        for r, (_, height) in enumerate(rows):  # fixed heights: the rows stay aligned and scroll
            for c in range(1, len(columns) + 1):
                item = self.grid.itemAtPosition(r, c)
                if height and item is not None and item.widget() is not None:
                    item.widget().setFixedHeight(height)
                    item.widget().setMinimumWidth(120)
        self._fill_table(columns)
        self._fill_losses(columns)

    def _image(self, array, min_side: int, name: str) -> ImageView:
        view = ImageView("", min_side=min_side)
        view.setObjectName(name)
        view.set_image(array)
        return view

    def _placeholder(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("color: #777;")
        return label

    def _scatter(self, index: int, col) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setObjectName(f"compareScatter{index}")
        plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        plot.setAspectLocked(True)
        plot.hideButtons()
        pts = np.asarray(col.points)
        labels = col.encodings.labels
        if labels is not None and len(labels) == len(pts):
            for k in np.unique(labels):
                rows = labels == k
                colour = PALETTE[int(k) % len(PALETTE)]
                plot.addItem(pg.ScatterPlotItem(pts[rows, 0], pts[rows, 1], size=3, pen=None,
                                                brush=pg.mkBrush(*colour, 160)))
        else:
            plot.addItem(pg.ScatterPlotItem(pts[:, 0], pts[:, 1], size=3, pen=None, brush=pg.mkBrush(*PALETTE[0], 160)))
        t = np.linspace(0, 2 * np.pi, 241)
        cx, cy = np.asarray(col.circle.centre, dtype=float)[:2]
        r = float(col.circle.radius)
        plot.plot(cx + r * np.cos(t), cy + r * np.sin(t), pen=CIRCLE_PEN)
        lp = np.asarray(col.lattice.points)
        plot.addItem(pg.ScatterPlotItem(lp[:, 0], lp[:, 1], size=4, symbol="+", pen=pg.mkPen(60, 60, 60)))
        plot.scene().sigMouseMoved.connect(lambda pos, i=index: self._on_mouse(i, pos))
        self.scatters.append(plot)
        return plot

    def _fill_table(self, columns) -> None:
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(METRICS))
        self.table.setHorizontalHeaderLabels([c.name for c in columns])
        self.table.setVerticalHeaderLabels([label for _, label, _ in METRICS])
        for c, col in enumerate(columns):
            for r, (key, _, fmt) in enumerate(METRICS):
                item = QTableWidgetItem(metric_text(col.metrics.get(key), fmt))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)

    def _fill_losses(self, columns) -> None:
        for i, col in enumerate(columns):
            hist = [h for h in col.run.history if isinstance(h.get("train_loss"), (int, float))]
            if not hist:
                continue
            x = [float(h.get("epoch", j + 1)) for j, h in enumerate(hist)]
            y = [float(h["train_loss"]) for h in hist]
            self.loss_plot.plot(x, y, pen=pg.mkPen(CURVE_COLOURS[i % len(CURVE_COLOURS)], width=2),
                                symbol="o", symbolSize=5, symbolBrush=CURVE_COLOURS[i % len(CURVE_COLOURS)],
                                name=col.name)

    # -- hover ----------------------------------------------------------------------------
    def _on_mouse(self, index: int, scene_pos) -> None:
        plot = self.scatters[index] if index < len(self.scatters) else None
        vb = plot.getPlotItem().vb if plot is not None else None
        if vb is None or not vb.sceneBoundingRect().contains(scene_pos):
            return
        p = vb.mapSceneToView(scene_pos)
        self.hover_at(index, (p.x(), p.y()))

    def hover_at(self, index: int, view_point) -> None:
        """Decode the latent point under `view_point` of column `index` in every column of the
        same latent dimension."""
        from ..core.latent import decode_batch

        col = self.columns[index]
        z = np.asarray(col.lattice.projection.to_latent(np.asarray([view_point], dtype=np.float64)),
                       dtype=np.float32)
        self.hover_z = z[0]
        dim = z.shape[1]
        for j, other in enumerate(self.columns):
            view = self.hover_views[j]
            if int(other.run.model_config.latent_dim) != dim:
                view.set_image(None)
                view.placeholder = f"latent dimension {other.run.model_config.latent_dim}, not {dim}"
                view.update()
                continue
            view.set_image(decode_batch(other.run.model, z)[0])

    def shutdown(self) -> None:
        if self.task is not None:
            self.task.shutdown()
            self.task = None

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

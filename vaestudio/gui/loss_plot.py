"""Live loss curves: one plot per loss term the run's model kind declares as plotted (a VAE:
the objective, reconstruction and KL; an autoencoder: reconstruction only), each with the
training curve and the validation points (one per epoch).

The plots draw the run itself: its in-epoch curve (`run.curve`) and its history, never a copy
of their own, so what is on screen is exactly what was trained (after Stop and Start the line
goes on from where it stopped). Terms sit in separate plots because their scales differ by an
order of magnitude. X is in epochs. Repaints must stay cheap while training reports ten times
a second: redraws are coalesced to `REDRAW_HZ` a second, there is no grid (pyqtgraph draws it
with the axes, which tripled the cost) and the x range moves once an epoch at most.

While training, the plots are redrawn one at a time, `STAGGER_MS` apart: Qt paints everything
that changed in one window in one event, and three plots with their axes in one event kept the
GUI thread busy 25-70 ms at a time (timers and input waited that long). The validation points,
pyqtgraph scatter items that cost more to set than the curves, are set only when an epoch ends.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ..core.units import NEGATIVE_NATS_NOTE, likelihood_bits_per_dim

TRAIN_COLOUR = (31, 119, 180)
VAL_COLOUR = (214, 39, 40)
BOUNDARY_COLOUR = (120, 120, 120)
REDRAW_HZ = 3
STAGGER_MS = 60  # between the plots of one redraw (3 plots: 120 ms, inside the 333 ms period)


class LossPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self.run = None
        self.terms: list = []  # the LossTerms on show
        self.plots: dict[str, pg.PlotWidget] = {}
        self._train_curves: dict = {}
        self._val_curves: dict = {}
        self._boundaries: list = []
        self._first = None
        self._x_range = None
        self._tips_for = None  # (id of the run, epochs in its history) the tooltips were written for
        self._val_for: dict = {}  # term -> (id of the run, epochs in its history) its points show
        self._pending: list = []  # the terms still to redraw in this staggered redraw
        self.empty = QLabel("Train or open a model to see its loss curves")
        self.empty.setStyleSheet("color: palette(mid);")
        self._layout.addWidget(self.empty)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(1000 // REDRAW_HZ)
        self._redraw_timer.timeout.connect(self._redraw_next)

    # -- what to show -------------------------------------------------------------------------
    def set_run(self, run) -> None:
        """Show `run` (None: nothing). Rebuilds the plots when the kind's terms differ."""
        self.run = run
        terms = [] if run is None else run.kind.plotted_terms()
        if [t.name for t in terms] != [t.name for t in self.terms]:
            self._build(terms)
        self._x_range = None
        self._tips_for = None
        self._val_for = {}
        self._redraw()

    def schedule(self) -> None:
        """The run moved on (a step or an epoch): redraw soon, one plot at a time."""
        if not self._redraw_timer.isActive() and not self._pending:
            self._redraw_timer.start(1000 // REDRAW_HZ)

    def _build(self, terms) -> None:
        for w in self.plots.values():
            self._layout.removeWidget(w)
            w.hide()  # off screen now, not when the deferred delete runs
            w.deleteLater()
        self.plots, self._train_curves, self._val_curves, self._boundaries = {}, {}, {}, []
        self._tips_for = None
        self._val_for, self._pending = {}, []
        self.terms = list(terms)
        self.empty.setVisible(not terms)
        first = None
        for i, term in enumerate(terms):
            w = pg.PlotWidget(background="w")
            w.setObjectName(f"lossPlot_{term.name}")
            item = w.getPlotItem()
            item.setTitle(term.title, color="#333", size="9pt")
            item.setLabel("bottom", "epoch")
            item.enableAutoRange(x=False)
            if i == 0:
                item.setLabel("left", term.unit.replace(" per ", " / "))
            for axis in ("left", "bottom"):
                item.getAxis(axis).setPen("#888")
                item.getAxis(axis).setTextPen("#333")
            item.setMenuEnabled(False)
            legend = item.addLegend(offset=(-6, 6), labelTextColor="#333") if i == 0 else None
            self._train_curves[term.name] = item.plot([], [], pen=pg.mkPen(TRAIN_COLOUR, width=2), name="train")
            self._val_curves[term.name] = item.plot([], [], pen=pg.mkPen(VAL_COLOUR, width=2), symbol="o",
                                                    symbolSize=6, symbolBrush=VAL_COLOUR, symbolPen=None,
                                                    name="validation")
            if legend is not None:
                legend.setBrush(pg.mkBrush(255, 255, 255, 200))
            if first is None:
                first = item
            else:
                item.setXLink(first)
            self.plots[term.name] = w
            self._layout.addWidget(w)
        self._first = first

    # -- drawing ------------------------------------------------------------------------------
    def series(self, name: str, which: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of a term as drawn: the run's in-epoch curve, or its validation points."""
        run = self.run
        if run is None:
            return np.zeros(0), np.zeros(0)
        if which == "train":
            points = list(run.curve)  # a copy: the worker thread appends to the run's list
            if not points and run.history:  # a run saved without a curve: one point per epoch
                points = [{"x": h["epoch"], name: h.get(f"train_{name}")} for h in list(run.history)]
        else:
            points = [{"x": h["epoch"], name: h.get(f"val_{name}")} for h in list(run.history)]
        pts = [(p["x"], p[name]) for p in points if p.get(name) is not None]
        if not pts:
            return np.zeros(0), np.zeros(0)
        xy = np.asarray(pts, dtype=float)
        return xy[:, 0], xy[:, 1]

    def _redraw(self) -> None:
        """Every plot now (a new run, or a test that wants the picture at once)."""
        self._redraw_timer.stop()
        self._pending = []
        if not self.terms:
            return
        self._redraw_shared()
        for term in self.terms:
            self._redraw_term(term)

    def _redraw_next(self) -> None:
        """One plot of a staggered redraw; the first also moves what the plots share."""
        if not self._pending:
            if not self.terms:
                return
            self._pending = list(self.terms)
            self._redraw_shared()
        term = self._pending.pop(0)
        if term.name in self.plots:
            self._redraw_term(term)
        if self._pending:
            self._redraw_timer.start(STAGGER_MS)

    def _redraw_term(self, term) -> None:
        self._train_curves[term.name].setData(*self.series(term.name, "train"))
        run = self.run
        key = (id(run), len(run.history) if run is not None else 0)
        if self._val_for.get(term.name) != key:  # validation points change once an epoch
            self._val_for[term.name] = key
            self._val_curves[term.name].setData(*self.series(term.name, "val"))

    def _redraw_shared(self) -> None:
        """The data set boundaries, the tooltips and the linked x range."""
        self._mark_boundaries()
        self._update_tips()
        run = self.run
        xs = [p["x"] for p in list(run.curve)] if run is not None else []
        xs += [h["epoch"] for h in list(run.history)] if run is not None else []
        lo = math.floor(float(min(xs))) if xs else 0
        hi = max(1, math.ceil(float(max(xs)))) if xs else 1
        if (lo, hi) != self._x_range:  # the x axes (linked) change once an epoch at most
            self._x_range = (lo, hi)
            self._first.setXRange(lo, hi, padding=0.02)

    def _update_tips(self) -> None:
        """Each plot's tooltip: what its term is and, for a Gaussian likelihood, why the nats can
        be negative and the last epoch in bits/dim (rewritten once an epoch at most)."""
        run = self.run
        key = (id(run), len(run.history) if run is not None else 0)
        if key == self._tips_for:
            return
        self._tips_for = key
        note = ""
        if run is not None and getattr(run.model_config, "likelihood", None) == "gaussian":
            note = "\n\n" + NEGATIVE_NATS_NOTE
            figure = likelihood_bits_per_dim(run.model_config, run.history[-1]) if run.history else None
            if figure is not None:
                note += f"\nEpoch {run.history[-1].get('epoch')}: {figure[0]} ≈ {figure[1]:.2f} bits/dim."
        for term in self.terms:
            base = f"{term.title}, {term.unit}: {term.help}" if term.help else term.title
            self.plots[term.name].setToolTip(base + note)

    def _mark_boundaries(self) -> None:
        """A dashed line where the run changed data set, labelled with the new one's name."""
        starts = [] if self.run is None else [(s.start_epoch, s.spec.name) for s in self.run.segments[1:]]
        if [b[0] for b in self._boundaries] == [x for x, _ in starts]:
            return
        for _x, lines in self._boundaries:
            for plot, line in lines:
                plot.getPlotItem().removeItem(line)
        self._boundaries = []
        for x, name in starts:
            lines = []
            for plot in self.plots.values():
                line = pg.InfiniteLine(pos=x, angle=90, label=name, labelOpts={"position": 0.9, "color": "#555"},
                                       pen=pg.mkPen(BOUNDARY_COLOUR, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
                plot.getPlotItem().addItem(line)
                lines.append((plot, line))
            self._boundaries.append((x, lines))

    # -- reading (tests, status) ----------------------------------------------------------------
    def point_count(self, series: str = "train", key: Optional[str] = None) -> int:
        """Points drawn for a term (the first plotted one by default)."""
        if not self.terms:
            return 0
        curves = self._train_curves if series == "train" else self._val_curves
        x, _ = curves[key or self.terms[0].name].getData()
        return 0 if x is None else len(x)

    def titles(self) -> list[str]:
        return [t.title for t in self.terms]

"""Live loss curves: the total, the reconstruction term and the KL term side by side, each
with the training curve (updated during the epoch) and the validation points (one per epoch).

The three parts live in separate plots because their scales differ by an order of magnitude:
in one plot the KL would be a flat line near zero. X is in epochs, fractional during one.
Repaints must stay cheap, as training reports ten times a second: redraws are coalesced to
`REDRAW_HZ` a second, there is no grid (pyqtgraph draws it with the axes, which tripled the
cost) and the x range moves once an epoch instead of on every point, so the axes are not
rebuilt each time.
"""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

PARTS = (("loss", "Loss (−ELBO)"), ("recon", "Reconstruction"), ("kl", "KL divergence"))
TRAIN_COLOUR = (31, 119, 180)
VAL_COLOUR = (214, 39, 40)
REDRAW_HZ = 3


class _Series:
    def __init__(self):
        self.x: list[float] = []
        self.y: list[float] = []

    def clear(self) -> None:
        self.x.clear()
        self.y.clear()

    def add(self, x: float, y) -> None:
        if y is not None:
            self.x.append(float(x))
            self.y.append(float(y))


class LossPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.train = {key: _Series() for key, _ in PARTS}
        self.val = {key: _Series() for key, _ in PARTS}
        self._train_curves = {}
        self._val_curves = {}
        first = None
        for key, title in PARTS:
            w = pg.PlotWidget(background="w")
            w.setObjectName(f"lossPlot_{key}")
            item = w.getPlotItem()
            item.setTitle(title, color="#333", size="9pt")
            item.setLabel("bottom", "epoch")
            item.enableAutoRange(x=False)
            if key == "loss":
                item.setLabel("left", "nats / image")
            for axis in ("left", "bottom"):
                item.getAxis(axis).setPen("#888")
                item.getAxis(axis).setTextPen("#333")
            item.setMenuEnabled(False)
            legend = item.addLegend(offset=(-6, 6), labelTextColor="#333") if key == "loss" else None
            self._train_curves[key] = item.plot([], [], pen=pg.mkPen(TRAIN_COLOUR, width=2), name="train")
            self._val_curves[key] = item.plot([], [], pen=pg.mkPen(VAL_COLOUR, width=2), symbol="o", symbolSize=6,
                                              symbolBrush=VAL_COLOUR, symbolPen=None, name="validation")
            if legend is not None:
                legend.setBrush(pg.mkBrush(255, 255, 255, 200))
            if first is None:
                first = item
            else:
                item.setXLink(first)
            self.plots[key] = w
            layout.addWidget(w)
        self._first = first
        self._x_range = None
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(1000 // REDRAW_HZ)
        self._redraw_timer.timeout.connect(self._redraw)

    # -- feeding ----------------------------------------------------------------------------
    def clear(self) -> None:
        for series in (*self.train.values(), *self.val.values()):
            series.clear()
        self._redraw()

    def set_history(self, history: list) -> None:
        """Draw a finished run: one train and one validation point per epoch."""
        for series in (*self.train.values(), *self.val.values()):
            series.clear()
        for rec in history:
            self._add_epoch(rec, with_train=True)
        self._redraw()

    def add_step(self, ev: dict) -> None:
        x = ev["epoch"] - 1 + ev["step"] / max(ev["steps_per_epoch"], 1)
        for key, _ in PARTS:
            self.train[key].add(x, ev[key])
        self._schedule()

    def add_epoch(self, record: dict) -> None:
        self._add_epoch(record, with_train=False)
        self._schedule()

    def _schedule(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _add_epoch(self, rec: dict, with_train: bool) -> None:
        x = rec["epoch"]
        for key, _ in PARTS:
            if with_train:
                self.train[key].add(x, rec.get(f"train_{key}"))
            self.val[key].add(x, rec.get(f"val_{key}"))

    def _redraw(self) -> None:
        self._redraw_timer.stop()
        for key, _ in PARTS:
            self._train_curves[key].setData(self.train[key].x, self.train[key].y)
            self._val_curves[key].setData(self.val[key].x, self.val[key].y)
        xs = self.train["loss"].x + self.val["loss"].x
        x_range = (math.floor(min(xs, default=0.0)), max(1, math.ceil(max(xs, default=1.0))))
        if x_range != self._x_range:  # the x axes (linked) change once an epoch at most
            self._x_range = x_range
            self._first.setXRange(*x_range, padding=0.02)

    # -- reading (tests, status) ------------------------------------------------------------
    def point_count(self, series: str = "train", key: str = "loss") -> int:
        return len((self.train if series == "train" else self.val)[key].x)

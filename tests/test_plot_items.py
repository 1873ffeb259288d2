"""The canvas's scatter and curve helpers: what they draw and what they leave alone."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from vaestudio.gui.explore.plot_items import CloudScatter, clear_item


def test_clear_item_empties_a_full_item_and_leaves_an_empty_one_alone(qtbot):
    curve, scatter = pg.PlotCurveItem(), CloudScatter()
    changes = []
    for it in (curve, scatter):
        it.sigPlotChanged.connect(lambda item: changes.append(item))
    curve.setData([0.0, 1.0], [0.0, 1.0])
    scatter.setData(x=[0.0, 1.0], y=[0.0, 1.0])
    changes.clear()
    clear_item(curve)
    clear_item(scatter)
    assert changes == [curve, scatter]
    assert len(curve.xData) == 0 and len(scatter.data) == 0
    changes.clear()
    clear_item(curve)
    clear_item(scatter)
    clear_item(pg.PlotCurveItem())  # never set: xData is None
    assert changes == []  # nothing redrawn where an empty item sits


def painted_pixels(item, exposed: QRectF) -> int:
    """Paint `item` into a white 200x200 image with no clipping, at 1 pixel per data unit, with
    `exposed` (item coordinates) as the part being repainted; the pixels that changed."""
    img = QImage(200, 200, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    option = QStyleOptionGraphicsItem()
    option.exposedRect = exposed
    item.paint(p, option, None)
    p.end()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(200, 200, 4)
    return int((arr[:, :, :3] != 255).any(axis=2).sum())


def test_the_cloud_draws_only_the_points_in_the_repainted_part(qtbot, monkeypatch):
    view = pg.PlotWidget()
    qtbot.addWidget(view)
    xs = np.array([20.0, 100.0, 180.0])
    item = CloudScatter(pen=None, symbol="s", size=6, brush=pg.mkBrush(0, 0, 255))
    item.setData(x=xs, y=np.full(3, 100.0))
    view.addItem(item)
    view.getViewBox().setRange(QRectF(0, 0, 200, 200), padding=0)
    # no window is shown here: the whole image is the view
    monkeypatch.setattr(pg.ScatterPlotItem, "viewRect", lambda self: QRectF(0, 0, 200, 200))
    whole = painted_pixels(item, QRectF(0, 0, 200, 200))
    one = painted_pixels(item, QRectF(95, 95, 10, 10))
    assert whole >= 3 * 25  # three 6-pixel squares
    assert one >= 25 and abs(3 * one - whole) <= 6  # the middle one alone
    assert painted_pixels(item, QRectF(40, 40, 5, 5)) == 0  # nothing there


def test_a_partial_repaint_draws_the_same_pixels_as_a_whole_one(qtbot):
    """In a real view (zoomed, offset): repainting a small part of the viewport gives exactly
    that part of the whole picture, so the culling reads the repainted part in the right
    coordinates (and it does cull: the part is a small share of the view)."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QRegion

    class Counting(CloudScatter):
        def paint(self, p, option, widget):
            exposed.append(QRectF(option.exposedRect))
            super().paint(p, option, widget)

    exposed = []
    view = pg.PlotWidget(background="w")
    qtbot.addWidget(view)
    view.resize(400, 300)
    rng = np.random.default_rng(0)
    item = Counting(pen=None, symbol="o", size=5, brush=pg.mkBrush(200, 30, 30))
    item.setData(x=rng.normal(3.0, 1.0, 3000), y=rng.normal(-2.0, 0.5, 3000))
    view.addItem(item)
    view.getViewBox().setRange(QRectF(1.0, -3.0, 4.0, 2.0), padding=0)
    view.show()
    qtbot.waitExposed(view)
    port = view.viewport()

    def render(rect: QRect) -> np.ndarray:
        img = QImage(port.size(), QImage.Format.Format_ARGB32)
        img.fill(QColor("white"))
        port.render(img, rect.topLeft(), QRegion(rect))  # the part lands where it sits
        return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.width(), 4).copy()

    whole = render(port.rect())
    part_rect = QRect(150, 100, 40, 30)
    exposed.clear()
    part = render(part_rect)
    assert exposed and max(r.width() for r in exposed) < 0.2 * item.viewRect().width()
    crop = (slice(100, 130), slice(150, 190))
    assert (part[crop][:, :, :3] != 255).any()  # points in that part
    assert np.array_equal(part[crop], whole[crop])

"""The Neighbours dock: the k real images nearest the cursor's latent point (or, with the mouse
off the canvas, the chosen pin), each with its label and latent distance; a click on a tile pins
that image's code (every coordinate)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from helpers import blob_dataset  # noqa: E402
from test_explore_support import click, finish, make_explorer, make_session, tiny_model  # noqa: E402
from vaestudio.core.latent.neighbours import nearest_codes  # noqa: E402

D = 3


@pytest.fixture
def strip(qtbot):
    from vaestudio.gui.explore.neighbours_view import NeighbourStrip

    explorer = make_explorer(qtbot, make_session(blob_dataset(1000), tiny_model(latent_dim=D)))
    s = NeighbourStrip(explorer)
    qtbot.addWidget(s)
    s.resize(900, 180)
    s.show()
    qtbot.waitExposed(s)
    yield s
    finish(explorer)


def settle(qtbot, strip, before):
    qtbot.waitUntil(lambda: strip.searches > before and strip.idle, timeout=20_000)


def expect(strip, z, k):
    enc = strip.explorer.encodings
    res = nearest_codes(enc.codes, z, k)
    assert strip.rows.tolist() == res.rows[0].tolist()
    np.testing.assert_allclose(strip.distances, res.distances[0])
    assert len(strip.tiles) == k
    for tile, row, dist in zip(strip.tiles, res.rows[0], res.distances[0]):
        assert tile.row == row
        assert np.array_equal(tile.view.array, np.moveaxis(strip.explorer.image(row), 0, -1))
        assert tile.label.text() == strip.explorer.describe_image(row)
        assert tile.distance.text() == f"d = {dist:.2f}"


def test_the_cursor_then_the_pin_when_the_mouse_leaves(qtbot, strip):
    e = strip.explorer
    assert strip.tiles == [] and "Move the mouse" in strip.caption.text()
    before = strip.searches
    e.hover_at(e.points[40] + 0.01)
    settle(qtbot, strip, before)
    expect(strip, e.hover_z, 8)
    assert "nearest the cursor" in strip.caption.text()
    # two pins; the decoder panel chose the first: with the mouse off the canvas it is the query
    e.pin_at(e.points[5])
    e.pin_at(e.points[90])
    strip.pin_index = lambda: 0
    before = strip.searches
    strip.leave_canvas()
    settle(qtbot, strip, before)
    expect(strip, e.pins[0].z, 8)
    assert "nearest pin A" in strip.caption.text()
    # a Leave event from the canvas does the same; the next hover takes over again
    before = strip.searches
    e.hover_at(e.points[60])
    settle(qtbot, strip, before)
    expect(strip, e.hover_z, 8)
    canvas_stand_in = QWidget()  # stands in for the canvas's plot: only its Leave event matters
    qtbot.addWidget(canvas_stand_in)
    strip.track_canvas(canvas_stand_in)
    before = strip.searches
    QApplication.sendEvent(canvas_stand_in, QEvent(QEvent.Type.Leave))
    settle(qtbot, strip, before)
    expect(strip, e.pins[0].z, 8)


def test_k_and_clicking_a_tile_pins_its_code(qtbot, strip):
    e = strip.explorer
    before = strip.searches
    e.pin_at(e.points[7])
    settle(qtbot, strip, before)
    before = strip.searches
    strip.k_spin.setValue(3)
    settle(qtbot, strip, before)
    expect(strip, e.pins[-1].z, 3)
    row = int(strip.rows[2])
    tile = strip.tiles[2]
    click(tile, QPointF(tile.width() / 2, 10))
    assert len(e.pins) == 2
    np.testing.assert_array_equal(e.pins[-1].z, e.encodings.codes[row])  # all 3 coordinates, not the view's 2
    assert e.pins[-1].nearest == e.nearest(e.projection.to_view(e.encodings.codes[row]))


def test_a_hidden_strip_searches_nothing_until_shown(qtbot, strip):
    e = strip.explorer
    strip.set_on_screen(False)
    e.hover_at(e.points[3])
    qtbot.wait(60)
    assert strip.searches == 0 and e.runner.idle
    strip.set_on_screen(True)
    settle(qtbot, strip, 0)
    expect(strip, e.hover_z, 8)


def test_many_hovers_end_on_the_last_point(qtbot, strip):
    e = strip.explorer
    for i in range(0, 100, 5):
        e.hover_at(e.points[i])
    last = e.hover_z.copy()
    qtbot.waitUntil(lambda: strip.searches > 0 and strip.idle, timeout=20_000)
    assert np.array_equal(strip.query, last)
    expect(strip, last, 8)


# -- thumbnails on the canvas -----------------------------------------------------------------------

def test_thumbnails_only_when_zoomed_in_and_off_by_default(qtbot):
    from test_explore_support import build_canvas
    from vaestudio.gui.explore.thumbnails import MAX_THUMBS, THUMB_PX

    explorer = make_explorer(qtbot, make_session(blob_dataset(4000), tiny_model(latent_dim=2)))
    try:
        c = build_canvas(qtbot, explorer)
        t = c.thumbnails
        assert len(explorer.points) == 400 > MAX_THUMBS
        assert not c.thumbnails_button.isChecked() and not t.enabled and t.shown == 0
        c.thumbnails_button.click()  # on, but the whole cloud is in view: too many
        assert c.thumbnails_action.isChecked() and c.thumbnails_action.shortcut().toString() == "Ctrl+Shift+I"
        assert t.enabled and t.visible_count == 400 and t.shown == 0 and t.too_many
        assert t.items == []  # nothing built
        # zoom onto a corner of the cloud: the points in view get their images, at their places
        pts = explorer.points
        centre = [float(v) for v in pts[17]]
        half = 0.15 * float(np.ptp(pts[:, 0]))
        c.view_box.setRange(xRange=(centre[0] - half, centre[0] + half),
                            yRange=(centre[1] - half, centre[1] + half), padding=0)
        qtbot.waitUntil(lambda: t.shown > 0, timeout=5_000)
        (x0, x1), (y0, y1) = c.view_box.viewRange()
        inside = np.flatnonzero((pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1))
        assert t.rows.tolist() == inside.tolist() and 0 < t.shown <= MAX_THUMBS
        shown = [it for it in t.items if it.isVisible()]
        assert len(shown) == t.shown
        first = shown[0]
        assert (first.pos().x(), first.pos().y()) == pytest.approx((pts[t.rows[0], 0], pts[t.rows[0], 1]), abs=1e-5)
        assert max(first.pixmap().width(), first.pixmap().height()) == THUMB_PX
        scaled = first.pixmap().toImage().scaled(12, 12).convertToFormat(first.pixmap().toImage().Format.Format_Grayscale8)
        img = np.array(scaled.constBits(), dtype=np.uint8).reshape(12, scaled.bytesPerLine())[:, :12]
        np.testing.assert_allclose(img, explorer.image(int(t.rows[0]))[0], atol=2)  # its own image
        # a class hidden in the legend shows no thumbnails
        labels = explorer.encodings.labels
        hidden = int(labels[t.rows[0]])
        c.legend.set_visible(hidden, False)
        t.rebuild()
        assert t.rows.tolist() == [r for r in inside.tolist() if labels[r] != hidden]
        c.legend.set_visible(hidden, True)
        t.rebuild()
        assert t.rows.tolist() == inside.tolist()
        # zoomed out again: gone; off: gone whatever the zoom
        c.fit_view()
        qtbot.waitUntil(lambda: t.shown == 0, timeout=5_000)
        assert not any(it.isVisible() for it in t.items)
        c.view_box.setRange(xRange=(centre[0] - half, centre[0] + half), yRange=(centre[1] - half, centre[1] + half),
                            padding=0)
        qtbot.waitUntil(lambda: t.shown > 0, timeout=5_000)
        c.thumbnails_action.trigger()  # the View menu's toggle: off
        assert not c.thumbnails_button.isChecked()
        assert t.shown == 0 and not any(it.isVisible() for it in t.items)
    finally:
        finish(explorer)


def test_thumbnails_cost_is_bounded_on_200k_points(qtbot):
    """200,000 points: never more than MAX_THUMBS items, however the view moves."""
    import pyqtgraph as pg
    from PySide6.QtCore import QObject, Signal

    from vaestudio.gui.explore.thumbnails import MAX_THUMBS, CanvasThumbnails

    class Cloud(QObject):
        view_changed = Signal()
        encodings_changed = Signal()
        ready = True
        points = np.random.default_rng(0).normal(size=(200_000, 2)).astype(np.float32)
        asked = []

        def image(self, i):
            self.asked.append(i)
            return np.full((1, 12, 12), i % 256, np.uint8)

    cloud = Cloud()
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    vb = plot.getViewBox()
    t = CanvasThumbnails(cloud, vb)
    t.set_enabled(True)
    shown_somewhere = False
    for half in (4.0, 1.0, 0.1, 0.02, 0.5, 0.05):
        vb.setRange(xRange=(-half, half), yRange=(-half, half), padding=0)
        t.rebuild()
        (x0, x1), (y0, y1) = vb.viewRange()
        p = cloud.points
        n = int(((p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)).sum())
        assert t.visible_count == n
        assert t.shown == (n if n <= MAX_THUMBS else 0)
        assert len(t.items) <= MAX_THUMBS
        shown_somewhere = shown_somewhere or t.shown > 0
    assert shown_somewhere  # some zoom showed thumbnails
    assert len(cloud.asked) <= 3 * MAX_THUMBS  # images fetched only for points shown

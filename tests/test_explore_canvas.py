"""The latent canvas: hover decodes the point under the cursor, click pins it, the legend hides
classes, the density mode takes over for big clouds, and each epoch refreshes the cloud."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QEvent

from test_explore_support import (build_canvas, click, explorer, finish, make_explorer, make_session, send_mouse, session,  # noqa: F401
                                  tiny_model)
from vaestudio.core.latent import decode_batch
from vaestudio.core.render import to_uint8_hwc


@pytest.fixture
def canvas(qtbot, explorer):
    return build_canvas(qtbot, explorer)


def hover(qtbot, canvas, x, y):
    """Move the mouse to view point (x, y); return the view point the canvas decoded."""
    before = canvas.explorer.hover_view
    send_mouse(canvas.plot.viewport(), QEvent.Type.MouseMove, canvas.view_to_widget(x, y))
    qtbot.waitUntil(lambda: canvas.explorer.hover_view is not before, timeout=2000)
    return canvas.explorer.hover_view


def pixel_size(canvas) -> float:
    (x0, x1), _ = canvas.view_box.viewRange()
    return (x1 - x0) / canvas.view_box.width()


def test_hover_shows_the_decode_of_the_point_under_the_cursor(qtbot, canvas):
    e = canvas.explorer
    c, r = e.circle.centre, e.circle.radius
    shown = []
    for target in (c + [0.5 * r, 0.2 * r], c - [0.6 * r, 0.4 * r]):
        qtbot.wait(20)  # past the throttle interval: each move decodes at once
        got = hover(qtbot, canvas, *target)
        assert np.allclose(got, target, atol=2 * pixel_size(canvas))
        expected = to_uint8_hwc(decode_batch(e.model, e.projection.to_latent(got)))[0]
        assert np.array_equal(canvas.preview.hover_view.array, expected)
        assert "z0 = " in canvas.preview.hover_caption.text()
        shown.append(canvas.preview.hover_view.array.copy())
    assert not np.array_equal(shown[0], shown[1])


def test_hover_in_the_pca_plane_maps_through_the_inverse(qtbot):
    session = make_session(model=tiny_model(latent_dim=4))
    e = make_explorer(qtbot, session)
    try:
        from vaestudio.gui.explore.canvas import LatentCanvas
        from vaestudio.gui.explore.preview import DecoderPreview

        canvas = LatentCanvas(e)
        preview = DecoderPreview(e)
        qtbot.addWidget(canvas)
        qtbot.addWidget(preview)
        canvas.resize(640, 540)
        canvas.show()
        qtbot.waitExposed(canvas)
        assert canvas.pca_check.isVisible() and canvas.x_combo.count() == 4
        canvas.pca_check.setChecked(True)
        assert e.projection.kind == "pca"
        assert canvas.plot.getPlotItem().getAxis("bottom").labelText.startswith("PC1")
        got = hover(qtbot, canvas, *(e.circle.centre + [0.3 * e.circle.radius, 0.0]))
        z = e.hover_z
        assert np.allclose(z, e.projection.origin + got @ e.projection.basis, atol=1e-5)
        assert np.count_nonzero(np.abs(z - e.encodings.centre) > 1e-6) > 2  # off any coordinate plane
        assert np.array_equal(preview.hover_view.array, to_uint8_hwc(decode_batch(e.model, z))[0])
        canvas.pca_check.setChecked(False)
        canvas.y_combo.setCurrentIndex(3)
        canvas.y_combo.activated.emit(3)
        assert e.projection.dims == (0, 3)
    finally:
        finish(e)


def test_click_pins_the_point_and_shows_the_nearest_image(qtbot, canvas):
    e = canvas.explorer
    k = 5
    click(canvas.plot.viewport(), canvas.view_to_widget(*e.points[k]))
    qtbot.waitUntil(lambda: len(e.pins) == 1, timeout=2000)
    pin = e.pins[0]
    assert np.allclose(pin.view, e.points[k], atol=2 * pixel_size(canvas))
    nearest = int(np.argmin(np.linalg.norm(e.points - pin.view, axis=1)))
    assert pin.nearest == nearest
    assert np.array_equal(canvas.preview.nearest_view.array, np.asarray(e.image(nearest)).transpose(1, 2, 0))
    assert np.array_equal(canvas.preview.pin_view.array, to_uint8_hwc(decode_batch(e.model, pin.z))[0])


def test_clicking_a_legend_entry_hides_and_shows_its_class(qtbot, canvas):
    assert [it.isVisible() for it in canvas.class_items] == [True] * 4
    sample = canvas.legend.sample(1)

    def click_sample():
        scene = sample.mapToScene(sample.boundingRect().center())
        click(canvas.plot.viewport(), canvas.plot.mapFromScene(scene))

    click_sample()
    qtbot.waitUntil(lambda: not canvas.class_items[1].isVisible(), timeout=2000)
    assert [it.isVisible() for it in canvas.class_items] == [True, False, True, True]
    assert canvas.visible_classes() == [True, False, True, True]
    assert not canvas.explorer.pins  # a legend click is not a pin
    click_sample()
    qtbot.waitUntil(lambda: canvas.class_items[1].isVisible(), timeout=2000)


def test_new_codes_of_the_same_classes_keep_the_legend_and_what_it_hides(qtbot, canvas):
    """Every epoch brings new codes; the legend (the same classes) is not rebuilt, so a hidden
    class stays hidden and the GUI thread does not pay for new legend items."""
    e = canvas.explorer
    entries = list(canvas.legend.legend.items)
    canvas.legend.set_visible(2, False)
    e.encodings = dataclasses.replace(e.encodings, codes=e.encodings.codes + 0.1)  # the next epoch's codes
    e._update_view(encodings_changed=True)
    assert canvas.legend.legend.items == entries  # the very same entries
    assert canvas.visible_classes() == [True, True, False, True]
    assert [it.isVisible() for it in canvas.class_items] == [True, True, False, True]


def test_density_mode_draws_an_image_and_respects_hidden_classes(qtbot, canvas, monkeypatch):
    import vaestudio.gui.explore.canvas as canvas_module

    assert canvas.effective_mode == "points"
    monkeypatch.setattr(canvas_module, "AUTO_DENSITY_ABOVE", 10)
    canvas.set_mode("auto")
    assert canvas.effective_mode == "density"
    assert canvas.density_item.isVisible()
    assert not any(it.isVisible() for it in canvas.class_items)
    alpha_all = canvas.density_item.image[..., 3].astype(int)
    canvas.legend.set_visible(0, False)
    alpha_some = canvas.density_item.image[..., 3].astype(int)
    assert (alpha_some <= alpha_all).all() and alpha_some.sum() < alpha_all.sum()
    canvas.set_mode("points")
    assert not canvas.density_item.isVisible()
    assert [it.isVisible() for it in canvas.class_items] == [False, True, True, True]


def test_class_density_counts_every_point_in_its_class():
    from vaestudio.gui.explore.density import class_density, density_bounds, density_rgba

    rng = np.random.default_rng(0)
    pts = rng.normal(size=(5000, 2))
    labels = rng.integers(0, 3, 5000)
    bounds = density_bounds(pts, quantile=0.0)
    d = class_density(pts, labels, 3, bounds, bins=50)
    assert d.counts.sum() == 5000
    assert [int(d.counts[k].sum()) for k in range(3)] == [int((labels == k).sum()) for k in range(3)]
    rgba = density_rgba(d, [(255, 0, 0), (0, 255, 0), (0, 0, 255)], [True, False, False])
    only_red = d.counts[0] > 0
    assert (rgba[..., 3][only_red] > 0).all() and (rgba[..., 3][d.counts[0] == 0] == 0).all()
    assert (rgba[..., 0][only_red] == 255).all() and (rgba[..., 1][only_red] == 0).all()


def test_a_new_snapshot_re_encodes_and_redraws_the_cloud(qtbot, canvas):
    e = canvas.explorer
    old = e.points.copy()
    trained = tiny_model(seed=7)
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.run import Run
    e.session.epoch_finished({"epoch": 1}, Run(trained.config, TrainConfig(device="cpu"), trained.cpu_copy()))
    qtbot.waitUntil(lambda: e.points is not None and not np.array_equal(e.points, old), timeout=5000)
    assert e.model is e.session.snapshot
    rows = canvas._class_rows[2]
    x, y = canvas.class_items[2].getData()
    assert np.allclose(x, e.points[rows, 0]) and np.allclose(y, e.points[rows, 1])
    assert np.allclose(canvas.class_items[2].dataBounds(1), (y.min(), y.max()))  # bounds follow the move
    assert "validation codes" in canvas.status.text()

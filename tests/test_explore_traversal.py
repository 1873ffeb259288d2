"""The Traversal dock: one row per requested dimension, each row the decode of
`traversal_latents` for that dimension around the chosen base, decoded in the explorer's worker;
Save PNG writes the picture `vaestudio traverse` draws."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PIL import Image  # noqa: E402

from test_explore_support import finish, make_explorer, make_session, tiny_model  # noqa: E402
from vaestudio.core.latent import decode_batch  # noqa: E402
from vaestudio.core.latent.traversal import (default_dims, dimension_scores, traversal_latents,  # noqa: E402
                                             traversal_picture)
from vaestudio.core.render import auto_scale  # noqa: E402

D = 5


@pytest.fixture
def panel(qtbot):
    from vaestudio.gui.explore.traversal_view import TraversalPanel

    explorer = make_explorer(qtbot, make_session(model=tiny_model(latent_dim=D)))
    p = TraversalPanel(explorer)
    qtbot.addWidget(p)
    p.resize(340, 480)
    p.show()
    qtbot.waitExposed(p)
    yield p
    finish(explorer)


def settle(qtbot, panel):
    qtbot.waitUntil(lambda: panel.explorer.runner.idle and (panel.images is not None or bool(panel.problem)), timeout=20_000)


def check_rows(panel, dims, base):
    steps, span = panel.steps, panel.span
    images = panel.images
    assert images.shape[0] == len(dims) * steps  # one row of `steps` per requested dimension
    for k, d in enumerate(dims):
        want = decode_batch(panel.explorer.model, traversal_latents(base, [d], steps, span))
        np.testing.assert_allclose(images[k * steps:(k + 1) * steps], want, atol=1e-6)


def test_one_row_per_typed_dimension_around_an_image(qtbot, panel):
    e = panel.explorer
    panel.base_combo.setCurrentIndex(panel.base_combo.findData("image"))
    panel.image_spin.setValue(7)
    panel.steps_spin.setValue(5)
    panel.span_spin.setValue(2.0)
    panel.set_dims([4, 0, 2])
    settle(qtbot, panel)
    assert panel.dims == [4, 0, 2]
    check_rows(panel, [4, 0, 2], e.encodings.codes[7])
    # the picture on show is the one the CLI draws: rows labelled with the dimension and its KL
    kl = dimension_scores(e.encodings)[0]
    want = traversal_picture(panel.images, [4, 0, 2], 5, kl=kl, scale=auto_scale(e.model.config.image_shape, 56))
    assert np.array_equal(np.asarray(panel.picture), np.asarray(want))
    assert np.array_equal(panel.grid_view.array, np.asarray(want))
    assert "3 dimensions × 5 steps, ±2 around validation image #7" in panel.caption.text()


def test_top_n_by_kl_around_the_mean_and_the_pin(qtbot, panel):
    e = panel.explorer
    panel.base_combo.setCurrentIndex(panel.base_combo.findData("mean"))
    panel.n_spin.setValue(3)
    settle(qtbot, panel)
    top = default_dims(e.encodings, limit=3)
    assert panel.dims == top and len(top) == 3
    kl = dimension_scores(e.encodings)[0]
    assert list(np.argsort(-kl, kind="stable")[:3]) == top  # the highest KL first
    check_rows(panel, top, e.encodings.centre)

    panel.base_combo.setCurrentIndex(panel.base_combo.findData("pin"))
    settle(qtbot, panel)
    check_rows(panel, top, e.encodings.centre)  # no pin yet: the mean
    assert "(no pin yet)" in panel.caption.text()
    e.pin_at(e.points[11])
    settle(qtbot, panel)
    check_rows(panel, top, e.pins[-1].z)


def test_a_wrong_list_is_named_and_save_png_writes_the_picture(qtbot, panel, tmp_path):
    panel.set_dims([9])
    settle(qtbot, panel)
    assert panel.images is None and "Dimension 9 is out of range: the latent has 5" in panel.problem
    assert not panel.save_button.isEnabled() and not panel.save_png(str(tmp_path / "none.png"))
    panel.dims_edit.setText("1 x")
    panel._on_controls()
    settle(qtbot, panel)
    assert "'x' is not a dimension number" in panel.problem
    panel.set_dims([1, 3])
    settle(qtbot, panel)
    zoom = panel.enlarge()
    assert zoom is not None and np.array_equal(zoom.array, np.asarray(panel.picture))
    zoom.close()
    out = tmp_path / "t.png"
    assert panel.save_png(str(out))
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), np.asarray(panel.picture))


def test_hidden_panel_decodes_nothing(qtbot, panel):
    panel.set_on_screen(False)
    settle(qtbot, panel)
    before = panel.images
    panel.steps_spin.setValue(3)
    qtbot.wait(50)
    assert panel.explorer.runner.idle and panel.images is before
    panel.set_on_screen(True)
    settle(qtbot, panel)
    assert panel.images.shape[0] == len(panel.dims) * 3


@pytest.fixture
def explore_win(qtbot, tmp_path, monkeypatch):
    from test_explore_support import explore_window

    yield from explore_window(qtbot, tmp_path, monkeypatch, latent_dim=4)


def test_the_window_installs_traversal_and_neighbours_docks(qtbot, explore_win):
    from PySide6.QtCore import Qt

    w = explore_win
    tools = w.explore
    e = tools.explorer
    assert w.dockWidgetArea(tools.traversal_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert tools.traversal_dock in w.tabifiedDockWidgets(tools.docks["lattice"])
    assert w.dockWidgetArea(tools.neighbours_dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert tools.neighbours_dock in w.tabifiedDockWidgets(w.loss_dock)
    assert "Canvas Thumbnails" in [a.text().replace("&", "") for a in w.view_menu.actions()]
    # the traversal decodes once its tab is raised, around the decoder's chosen pin
    e.pin_at(e.points[3])
    e.pin_at(e.points[9])
    tools.preview.choose_pin(0)
    tools.traversal.base_combo.setCurrentIndex(tools.traversal.base_combo.findData("pin"))
    tools.traversal_dock.raise_()
    qtbot.waitUntil(lambda: tools.traversal.images is not None and e.runner.idle, timeout=20_000)
    assert "around pin A" in tools.traversal.caption.text()
    check_rows(tools.traversal, tools.traversal.dims, e.pins[0].z)
    assert len(tools.traversal.dims) == 4
    # choosing another pin in the decoder panel redoes the grid around it at once
    tools.preview.choose_pin(1)
    qtbot.waitUntil(lambda: "around pin B" in tools.traversal.caption.text() and e.runner.idle, timeout=20_000)
    check_rows(tools.traversal, tools.traversal.dims, e.pins[1].z)
    # the neighbours strip: hovering the canvas fills it
    tools.neighbours_dock.raise_()
    strip = tools.neighbours
    before = strip.searches
    e.hover_at(e.points[5])
    qtbot.waitUntil(lambda: strip.searches > before and strip.idle, timeout=20_000)
    from vaestudio.core.latent.neighbours import nearest_codes

    assert len(strip.tiles) == 8
    assert strip.rows.tolist() == nearest_codes(e.encodings.codes, e.hover_z, 8).rows[0].tolist()

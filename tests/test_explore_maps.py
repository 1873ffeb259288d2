"""t-SNE and UMAP views on the canvas: built in the worker with progress, cancelled by the
canvas's Cancel, cached per snapshot, hover decoding the nearest real point's code, and the View
menu explaining how to enable a map whose package is missing."""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt, QTimer

from test_explore_support import (build_canvas, explore_window, finish, make_explorer, make_session, send_mouse,
                                  tiny_model)
from vaestudio.core.latent import decode_batch
from vaestudio.core.latent import embedding as maps
from vaestudio.core.render import to_uint8_hwc

ITERATIONS = 40  # tiny: 300 codes, 60 iterations in all


@pytest.fixture
def canvas(qtbot):
    e = make_explorer(qtbot, make_session(model=tiny_model(latent_dim=4)))
    e.map_options["iterations"] = ITERATIONS
    c = build_canvas(qtbot, e)
    yield c
    finish(e)


@pytest.fixture
def calls(monkeypatch):
    """Each `embed` the explorer makes: its thread and the progress it reported."""
    record = []
    original = maps.embed

    def spy(codes, method, *, progress=None, **kw):
        entry = {"thread": threading.current_thread(), "progress": []}
        record.append(entry)

        def report(done, total, text):
            entry["progress"].append((done, total))
            progress(done, total, text)
        return original(codes, method, progress=report, **kw)

    monkeypatch.setattr(maps, "embed", spy)
    return record


def wait_for_map(qtbot, e):
    qtbot.waitUntil(lambda: e.on_map and not e.map_computing, timeout=20_000)


def test_tsne_is_built_in_the_worker_with_progress_while_the_gui_runs(qtbot, canvas, calls):
    pytest.importorskip("openTSNE")
    e = canvas.explorer
    assert canvas.map_button.isVisible()  # D = 4
    ticks, progress_seen = [], []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(e.map_computing))
    e.map_changed.connect(lambda: progress_seen.append(e.map_progress))
    timer.start()
    assert canvas.show_map("tsne")
    assert e.map_computing and not e.on_map and e.projection.kind == "dims"  # the plane stays meanwhile
    assert canvas.map_cancel_button.isVisible() and not canvas.map_button.isVisible()  # in its place
    wait_for_map(qtbot, e)
    timer.stop()
    assert calls and calls[0]["thread"] is not threading.main_thread()
    assert any(ticks), "the GUI thread's timer never fired while the map was computed"
    assert any(p is not None and p[1] and 0 < p[0] < p[1] for p in progress_seen)  # shown in the GUI thread
    assert e.projection.kind == "tsne" and e.points.shape == (len(e.encodings), 2)
    assert not canvas.map_cancel_button.isVisible() and canvas.map_button.isVisible()
    assert canvas.map_actions["tsne"].isChecked() and not canvas.plane_action.isChecked()
    assert not canvas.circle_item.isVisible() and not canvas.lattice_sites.isVisible()
    assert "no inverse" in canvas.status.text() and "nearest real point" in canvas.status.text()
    assert canvas.plot.getPlotItem().getAxis("bottom").labelText == "t-SNE 1"


def test_cancel_stops_the_worker_and_keeps_the_previous_view(qtbot, canvas, calls):
    pytest.importorskip("openTSNE")
    e = canvas.explorer
    e.map_options["iterations"] = 5000  # long enough to be cancelled mid-way
    canvas.show_map("tsne")
    qtbot.waitUntil(lambda: bool(calls) and any(t and d for d, t in calls[0]["progress"]), timeout=20_000)
    qtbot.mouseClick(canvas.map_cancel_button, Qt.MouseButton.LeftButton)
    assert not e.map_computing and e.map_method is None
    assert not canvas.map_cancel_button.isVisible() and canvas.plane_action.isChecked()
    assert not any(a.isChecked() for a in canvas.map_actions.values())
    assert e.map_runner.wait(60_000)  # the worker returned (cancel() seen at the next callback)
    qtbot.wait(50)  # anything it might still deliver
    done, total = calls[0]["progress"][-1]
    assert total == 7500 and done < 1000  # stopped early, not run to the end
    assert e.map_computations == 0 and not e.on_map and e.projection.kind == "dims"
    assert e.cached_map("tsne") is None


def test_the_same_snapshot_and_options_reuse_the_map(qtbot, canvas, calls):
    pytest.importorskip("openTSNE")
    e = canvas.explorer
    canvas.show_map("tsne")
    wait_for_map(qtbot, e)
    first = e.projection
    canvas.pca_check.setChecked(True)  # a plane: off the map
    assert e.projection.kind == "pca" and e.map_method is None and canvas.circle_item.isVisible()
    canvas.show_map("tsne")
    assert e.projection is first and not e.map_runner.pending("map")  # at once, from the cache
    assert e.map_computations == 1 and len(calls) == 1
    e.map_options["seed"] = 1  # other options: another map
    canvas.show_map("tsne")
    assert e.map_runner.pending("map") or e.map_computing
    wait_for_map(qtbot, e)
    assert e.projection is not first and e.map_computations == 2


def test_hover_on_the_map_decodes_the_nearest_real_points_code(qtbot, canvas):
    pytest.importorskip("openTSNE")
    e = canvas.explorer
    canvas.show_map("tsne")
    wait_for_map(qtbot, e)
    canvas.fit_view()
    a, b = e.points[0], e.points[int(np.argmax(np.linalg.norm(e.points - e.points[0], axis=1)))]
    for target in (0.7 * a + 0.3 * b, 0.4 * a + 0.6 * b):  # between points: no code lives there
        qtbot.wait(20)
        before = e.hover_view
        send_mouse(canvas.plot.viewport(), QEvent.Type.MouseMove, canvas.view_to_widget(*target))
        qtbot.waitUntil(lambda: e.hover_view is not before, timeout=2000)
        row = e.projection.nearest_row(e.hover_view)
        assert row == e.nearest(e.hover_view)
        assert np.array_equal(e.hover_z, e.encodings.codes[row])
        expected = to_uint8_hwc(decode_batch(e.model, e.encodings.codes[row]))[0]
        assert np.array_equal(canvas.preview.hover_view.array, expected)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    yield from explore_window(qtbot, tmp_path, monkeypatch, latent_dim=4)


def test_a_missing_package_is_explained_in_the_menu_and_the_canvas(qtbot, window, monkeypatch):
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # as if openTSNE were not installed
    canvas, e = window.explore.canvas, window.explore.explorer
    window.view_menu.aboutToShow.emit()
    act = window.findChild(type(window.view_menu.actions()[0]), "tsneMapAction")
    assert act is not None and act in window.view_menu.actions()
    assert not act.isEnabled() and "pip install 'vaestudio[maps]'" in act.text()
    assert "openTSNE" in act.toolTip() and "pip install 'vaestudio[maps]'" in act.statusTip()
    assert act is canvas.map_actions["tsne"] and act in canvas.map_button.menu().actions()  # the canvas's Map menu
    messages = []
    e.message.connect(messages.append)
    assert not canvas.show_map("tsne")
    assert messages and "pip install 'vaestudio[maps]'" in messages[0] and e.map_method is None
    monkeypatch.delitem(sys.modules, "openTSNE")
    if maps.available("tsne"):  # installed after all: the entry comes back when the menu opens
        window.view_menu.aboutToShow.emit()
        assert act.isEnabled() and act.text() == "t-SNE Map" and act.shortcut().toString() == "Ctrl+Shift+T"


def test_no_lattice_on_a_map_and_back_on_the_plane(qtbot, canvas):
    pytest.importorskip("openTSNE")
    from vaestudio.gui.explore.lattice_view import LatticePanel

    e = canvas.explorer
    panel = LatticePanel(e)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.lattice is not None and e.lattice_overlay is not None
    canvas.show_map("tsne")
    wait_for_map(qtbot, e)
    assert panel.lattice is None and e.lattice_overlay is None
    assert "No lattice on a t-SNE map" in panel.caption.text() and "no inverse" in panel.caption.text()
    assert "No lattice" in panel.grid_view.placeholder
    canvas.show_map(None)
    assert e.projection.kind == "dims" and panel.lattice is not None and canvas.circle_item.isVisible()
    assert canvas.lattice_sites.isVisible() and e.lattice_overlay is not None


def test_new_codes_arrive_while_a_map_computes_and_supersede_it(qtbot, canvas, calls):
    """Maps have a runner of their own: the next epoch's encoding does not wait behind a map,
    and the map of the old codes gives way to one of the new codes."""
    pytest.importorskip("openTSNE")
    e = canvas.explorer
    e.map_options["iterations"] = 5000
    canvas.show_map("tsne")
    qtbot.waitUntil(lambda: bool(calls) and any(t and d for d, t in calls[0]["progress"]), timeout=20_000)
    old = e.encodings
    e.request_encoding()  # as after an epoch
    qtbot.waitUntil(lambda: e.encodings is not old, timeout=20_000)
    assert e.map_computing and e.projection.kind == "dims"  # the plane meanwhile
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=20_000)  # a map of the new codes was asked for
    canvas.map_cancel_button.click()
    assert e.map_runner.wait(60_000)
    assert calls[0]["progress"][-1][0] < 1000 and e.map_computations == 0


def test_no_map_choice_for_a_2d_latent_space(qtbot):
    e = make_explorer(qtbot, make_session())  # D = 2: the plane is the whole space
    try:
        c = build_canvas(qtbot, e)
        assert not c.map_button.isVisible() and c.circle_item.isVisible()
    finally:
        finish(e)


def test_a_failed_map_is_a_dialog_and_the_view_stays(qtbot, canvas, monkeypatch):
    from PySide6.QtWidgets import QApplication, QMessageBox

    from vaestudio.core.errors import VaeStudioError

    def broken(*_a, **_k):
        raise VaeStudioError("the codes went missing")

    monkeypatch.setattr(maps, "available", lambda m: True)
    monkeypatch.setattr(maps, "embed", broken)
    e = canvas.explorer
    assert canvas.show_map("umap")

    def box():
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        return found[0] if found else None
    qtbot.waitUntil(lambda: box() is not None, timeout=10_000)
    assert box().text() == "UMAP map failed: the codes went missing"
    box().close()
    assert e.map_method is None and not e.map_computing and e.projection.kind == "dims"


def test_the_scatter_exported_from_a_map_has_no_circle_and_the_planes_has(qtbot, window, tmp_path, monkeypatch):
    pytest.importorskip("openTSNE")
    from vaestudio.gui.explore import export as export_module

    drawn = []
    real = export_module.scatter_plot
    monkeypatch.setattr(export_module, "scatter_plot",
                        lambda *a, **k: drawn.append(list(k.get("circles") or [])) or real(*a, **k))
    tools = window.explore
    e, export = tools.explorer, tools.export
    qtbot.waitUntil(lambda: e.ready and tools.idle(), timeout=20000)

    def export_to(name):
        n = len(drawn)
        assert export.export_scatter(str(tmp_path / name))
        qtbot.waitUntil(lambda: len(drawn) > n and (tmp_path / name).exists(), timeout=20000)
        return drawn[-1]

    assert len(export_to("plane.png")) >= 1  # the plane's 99% circle
    tools.canvas.show_map("tsne")
    wait_for_map(qtbot, e)
    assert e.on_map
    assert export_to("map.png") == []

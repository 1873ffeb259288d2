"""Groups by hand: a lasso or rectangle drawn with real mouse events selects exactly the visible
points inside it, a filter selects a label's rows, the selection is saved as a group that
reopens with the model, and the vector from one group to another joins the attribute mixer,
moves its result by exactly alpha * (mean B - mean A) and exports as a GIF."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt

from helpers import blob_dataset
from test_explore_support import (build_canvas, explore_window, finish, make_explorer, make_session, send_mouse,
                                  tiny_model)
from vaestudio.core.latent.groups import GROUPS_KEY, dataset_identity, read_index_file, write_index_file
from vaestudio.core.run import Run


def reference_inside(points, poly) -> np.ndarray:
    """The textbook even-odd test, every point against every edge."""
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    inside = np.zeros(len(points), dtype=bool)
    for i in range(len(poly)):
        (xi, yi), (xj, yj) = poly[i], poly[(i + 1) % len(poly)]
        with np.errstate(divide="ignore", invalid="ignore"):
            inside ^= ((yi > y) != (yj > y)) & (x < xi + (y - yi) * (xj - xi) / (yj - yi))
    return inside


@pytest.fixture
def session():
    return make_session(blob_dataset(2000))


@pytest.fixture
def explorer(qtbot, session):
    e = make_explorer(qtbot, session)
    yield e
    finish(e)


@pytest.fixture
def canvas(qtbot, explorer):
    return build_canvas(qtbot, explorer)


@pytest.fixture
def panel(qtbot, explorer):
    from vaestudio.gui.explore.groups_view import GroupsPanel
    from vaestudio.gui.explore.mixer import AttributeMixer

    mixer = AttributeMixer(explorer)
    qtbot.addWidget(mixer)
    p = GroupsPanel(explorer, mixer)
    qtbot.addWidget(p)
    p.resize(340, 460)
    p.show()
    return p


def drag(qtbot, canvas, view_points) -> np.ndarray:
    """Press at the first view point, move through the others, release at the last, as a hand
    would (pyqtgraph drops moves closer than 10 ms apart, so each waits a little); returns the
    outline the plot received (whole pixels mapped back to the view)."""
    viewport = canvas.plot.viewport()
    pixels = [canvas.view_to_widget(float(x), float(y)).toPoint() for x, y in view_points]
    send_mouse(viewport, QEvent.Type.MouseButtonPress, QPointF(pixels[0]), Qt.MouseButton.LeftButton)
    for p in pixels[1:]:
        qtbot.wait(12)
        send_mouse(viewport, QEvent.Type.MouseMove, QPointF(p), Qt.MouseButton.LeftButton)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, QPointF(pixels[-1]), Qt.MouseButton.LeftButton)
    vb = canvas.view_box
    out = [vb.mapSceneToView(canvas.plot.mapToScene(QPoint(p))) for p in pixels]
    return np.array([[q.x(), q.y()] for q in out])


def loop_around(centre, radius, n: int = 24) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([centre[0] + radius * np.cos(t), centre[1] + radius * np.sin(t)])


def test_a_lasso_selects_exactly_the_visible_points_inside(qtbot, canvas):
    e = canvas.explorer
    labels = e.encodings.labels
    k = 2
    rows_k = np.flatnonzero(labels == k)
    centre = np.median(e.points[rows_k], axis=0).astype(np.float64)
    radius = float(np.quantile(np.linalg.norm(e.points[rows_k] - centre, axis=1), 0.8))
    canvas.view_box.setRange(xRange=(centre[0] - 1.6 * radius, centre[0] + 1.6 * radius),
                             yRange=(centre[1] - 1.6 * radius, centre[1] + 1.6 * radius), padding=0)
    view = canvas.view_box.viewRange()
    canvas.select_buttons["lasso"].click()
    assert canvas.select_tool == "lasso"
    poly = drag(qtbot, canvas, loop_around(centre, radius))
    qtbot.waitUntil(lambda: e.selection.size > 0, timeout=2000)
    expected = np.flatnonzero(reference_inside(e.points, poly))
    assert np.array_equal(e.selection, expected)
    assert canvas.view_box.viewRange() == view  # drawing did not pan
    assert len(canvas.selection_item.data) == len(expected)  # the selection is marked
    assert canvas.outline_item.getData()[0] is None or len(canvas.outline_item.getData()[0]) == 0

    # Only class k shown: the same lasso takes exactly the class's points inside it.
    for i in range(len(canvas.legend.proxies)):
        canvas.legend.set_visible(i, i == k)
    poly = drag(qtbot, canvas, loop_around(centre, radius))
    inside_k = np.flatnonzero(reference_inside(e.points, poly) & (labels == k))
    assert np.array_equal(e.selection, inside_k)
    assert set(labels[e.selection]) == {k} and len(inside_k) >= 0.5 * len(rows_k)

    # Esc on the plot clears it.
    canvas.activateWindow()
    canvas.plot.setFocus()
    qtbot.waitUntil(canvas.plot.hasFocus, timeout=2000)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Escape)
    assert e.selection.size == 0 and not canvas.selection_item.isVisible()


def test_a_rectangle_selects_the_visible_points_in_it(qtbot, canvas):
    e = canvas.explorer
    c = np.median(e.points, axis=0).astype(np.float64)
    r = float(np.quantile(np.linalg.norm(e.points - c, axis=1), 0.9))
    canvas.view_box.setRange(xRange=(c[0] - r, c[0] + r), yRange=(c[1] - r, c[1] + r), padding=0)
    canvas.legend.set_visible(0, False)
    canvas.select_buttons["rect"].click()
    assert canvas.select_tool == "rect" and not canvas.select_buttons["lasso"].isChecked()
    corners = drag(qtbot, canvas, [c - 0.6 * r, c + [0.1 * r, -0.3 * r], c + [0.5 * r, 0.2 * r]])
    qtbot.waitUntil(lambda: e.selection.size > 0, timeout=2000)
    lo, hi = np.minimum(corners[0], corners[-1]), np.maximum(corners[0], corners[-1])
    p = e.points
    inside = (p[:, 0] >= lo[0]) & (p[:, 0] <= hi[0]) & (p[:, 1] >= lo[1]) & (p[:, 1] <= hi[1])
    assert np.array_equal(e.selection, np.flatnonzero(inside & (e.encodings.labels != 0)))
    # With no tool on, a drag pans again and selects nothing new.
    canvas.select_buttons["rect"].click()
    assert canvas.select_tool is None and canvas.view_box.drag_handler is None


def test_the_filter_selects_exactly_a_labels_rows(qtbot, panel):
    e = panel.explorer
    labels = e.encodings.labels
    panel.filter.setText("TR")
    panel.apply_filter()
    assert np.array_equal(panel.matches, np.flatnonzero(labels == 1))
    assert np.array_equal(e.highlight, panel.matches)
    assert panel.match_label.text().startswith(f"{(labels == 1).sum():,} of")
    panel.select_matches_button.click()
    assert np.array_equal(e.selection, np.flatnonzero(labels == 1))
    assert panel.selection_label.text() == f"{(labels == 1).sum():,} selected"
    panel.filter.setText("not 3 and not TL")
    panel.apply_filter()
    assert np.array_equal(panel.matches, np.flatnonzero((labels != 3) & (labels != 0)))
    panel.filter.setText("Smiling")
    panel.apply_filter()
    assert panel.matches is None and "no attribute or label" in panel.match_label.text()
    assert e.highlight.size == 0 and not panel.select_matches_button.isEnabled()


def test_a_saved_group_reopens_with_the_model(qtbot, panel, session, tmp_path, monkeypatch):
    from vaestudio.gui.explore import groups_view

    e = panel.explorer
    labels = e.encodings.labels
    e.set_selection(np.flatnonzero(labels == 3))
    answers = iter(["  thin ones ", "THIN ONES", "   "])
    monkeypatch.setattr(groups_view, "ask_group_name", lambda *a: next(answers))
    assert panel.save_selection()
    assert [g.name for g in e.groups] == ["thin ones"] and session.dirty
    assert not panel.save_selection()  # the same name, another case: refused
    assert "already a group named" in panel.last_error
    assert not panel.save_selection()  # an empty name: refused
    assert "needs a name" in panel.last_error and len(e.groups) == 1
    assert panel.tree.topLevelItem(0).text(1) == f"{(labels == 3).sum():,}"

    path = session.run.save(tmp_path / "m.pt")
    again = Run.load(path)
    again.extra[GROUPS_KEY].append({"name": "elsewhere", "split": "validation", "indices": [1, 2],
                                    "dataset": "faces 1/2/3"})
    again.extra[GROUPS_KEY].append({"name": 5, "split": "validation", "indices": [1]})  # damaged: dropped
    fresh = make_session(blob_dataset(2000), tiny_model())
    fresh.set_run(again)
    e2 = make_explorer(qtbot, fresh)
    try:
        from vaestudio.gui.explore.groups_view import GroupsPanel

        p2 = GroupsPanel(e2)
        qtbot.addWidget(p2)
        assert [g.name for g in e2.groups] == ["thin ones", "elsewhere"]
        usable = e2.applicable_groups()
        assert [g.name for g in usable] == ["thin ones"]
        assert np.array_equal(usable[0].indices, np.flatnonzero(labels == 3))
        assert usable[0].dataset == dataset_identity(fresh.dataset)
        texts = [p2.tree.topLevelItem(i).text(0) for i in range(p2.tree.topLevelItemCount())]
        assert texts == ["thin ones", "elsewhere (other data)"]
        assert p2.from_combo.count() == 1 and p2.problems.isVisibleTo(p2)
        p2.set_current("elsewhere")
        assert not p2.show_button.isEnabled()  # another data set's rows: nothing to show here
        p2.set_current("thin ones")
        p2.show_button.click()
        assert np.array_equal(e2.highlight, usable[0].indices)
        # Rename and delete go back into the run; the other data set's group is kept.
        assert p2.rename_group("thin")
        p2.delete_button.click()
        assert [d["name"] for d in fresh.run.extra[GROUPS_KEY]] == ["elsewhere"]
    finally:
        finish(e2)


def test_index_files_export_import_and_a_bad_one_keeps_the_groups(qtbot, panel, tmp_path):
    e = panel.explorer
    n = e.split_size()
    e.add_group("some", [3, 1, 4, 15, 9])
    panel.set_current("some")
    out = tmp_path / "some.txt"
    assert panel.export_group(str(out))
    assert read_index_file(out, n).tolist() == [1, 3, 4, 9, 15]
    npy = tmp_path / "more.npy"
    write_index_file(npy, [0, 2, n - 1])
    assert panel.import_group(str(npy), name="more")
    assert e.applicable_group("more").indices.tolist() == [0, 2, n - 1]
    before = [(g.name, g.indices.tolist()) for g in e.groups]

    bad = tmp_path / "bad.txt"
    bad.write_text("1\n2\nseven\n")
    assert not panel.import_group(str(bad), name="bad")
    assert str(bad) in panel.last_error and "line 3" in panel.last_error
    far = tmp_path / "far.txt"
    far.write_text(f"1 {n}\n")
    assert not panel.import_group(str(far), name="far")
    assert str(far) in panel.last_error and "out of range" in panel.last_error
    assert [(g.name, g.indices.tolist()) for g in e.groups] == before


def shown_tab(window, title: str) -> str:
    """The tab shown in the dock tab bar that holds `title`."""
    from PySide6.QtWidgets import QTabBar

    for bar in window.findChildren(QTabBar):
        titles = [bar.tabText(i) for i in range(bar.count())]
        if title in titles:
            return bar.tabText(bar.currentIndex())
    raise KeyError(title)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from vaestudio.gui import dialogs

    # Saving a group marks the model unsaved; closing the window then would ask (and wait).
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: "discard")
    yield from explore_window(qtbot, tmp_path, monkeypatch)


def test_the_group_vector_joins_the_mixer_and_exports(qtbot, window, tmp_path, monkeypatch):
    from vaestudio.gui.explore import export_dialog
    from vaestudio.gui.explore.mixer import SLIDER_STEPS

    tools = window.explore
    e, mixer, panel = tools.explorer, tools.mixer, tools.groups
    assert tools.groups_dock.objectName() == "groupsDock" and tools.groups_dock.widget() is panel
    labels = e.encodings.labels
    a_rows, b_rows = np.flatnonzero(labels == 0), np.flatnonzero(labels == 3)
    e.add_group("A", a_rows)
    e.add_group("B", b_rows)
    panel.from_combo.setCurrentText("A")
    panel.to_combo.setCurrentText("B")
    assert shown_tab(window, "Attribute Mixer") == "Lattice"
    panel.add_button.click()
    name = "group:A\u2192B"
    assert name in mixer.chosen()  # ticked...
    assert shown_tab(window, "Attribute Mixer") == "Attribute Mixer"  # ...and its dock raised
    mixer.base.set_index(5)
    mixer.rows[name].slider.setValue(int(0.5 * SLIDER_STEPS))
    codes = e.encodings.codes.astype(np.float64)
    delta = codes[b_rows].mean(0) - codes[a_rows].mean(0)
    z = e.encodings.codes[5].astype(np.float64)
    expected = e.decode((z + 0.5 * delta).astype(np.float32)[None])[0]
    assert np.allclose(mixer.result_image, expected, atol=1e-5)
    assert not np.allclose(mixer.result_image, e.decode(e.encodings.codes[5][None])[0], atol=1e-3)

    path = tmp_path / "sweep.gif"
    monkeypatch.setattr(export_dialog, "ask_animation_options",
                        lambda *a, **k: export_dialog.AnimationOptions(path=str(path), frames=5, frame_ms=100))
    with qtbot.waitSignal(tools.export.exported, timeout=10_000) as blocker:
        tools.export.actions["sweep_animation"].trigger()
    assert blocker.args[1].n_frames == 5
    with Image.open(path) as gif:
        assert gif.n_frames == 5

    # Renaming a group keeps its vector, ticked at its weight, under the new name.
    result = mixer.result_image.copy()
    e.rename_group("A", "zeros")
    renamed = "group:zeros\u2192B"
    names = [mixer.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(mixer.list.count())]
    assert renamed in names and name not in names
    assert mixer.chosen() == [renamed] and mixer.rows[renamed].alpha == 0.5
    assert np.allclose(mixer.result_image, result)

    # Deleting a group takes its vector out of the mixer.
    panel.set_current("zeros")
    panel.delete_button.click()
    assert renamed not in mixer.chosen()
    assert all(mixer.list.item(i).data(Qt.ItemDataRole.UserRole) != renamed for i in range(mixer.list.count()))


def test_a_group_vector_balances_on_the_chosen_attributes(qtbot):
    from test_explore_mixer import planted_dataset, planted_model
    from vaestudio.core.latent.groups import group_vector
    from vaestudio.gui.explore.mixer import AttributeMixer

    e = make_explorer(qtbot, make_session(planted_dataset(), planted_model()))
    try:
        m = AttributeMixer(e)
        qtbot.addWidget(m)
        attrs = e.encodings.attributes
        a = e.add_group("dark", np.flatnonzero(attrs[:, 0] == 0))
        b = e.add_group("bright", np.flatnonzero(attrs[:, 0] == 1))
        m.set_chosen("Other")
        name = m.add_group_vector("dark", "bright")
        assert m.chosen() == ["Other", name]
        m.balance.setChecked(True)
        vectors = m._current_vectors()
        assert vectors[1].balanced_on == ("Other",)
        assert np.allclose(vectors[1].delta, group_vector(e.encodings, a, b, balance_on=["Other"]).delta)
        m.balance.setChecked(False)
        assert m._current_vectors()[1].balanced_on == ()
    finally:
        finish(e)


def test_the_save_question_says_what_is_unsaved(qtbot, window, monkeypatch):
    from vaestudio.gui import dialogs

    assert dialogs.unsaved_text({"training"}) == "The model has training that is not saved."
    assert dialogs.unsaved_text({"groups"}) == "The model's groups have changes that are not saved."
    assert "training and group changes" in dialogs.unsaved_text({"training", "groups"})
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, what, unsaved: asked.append(set(unsaved))
                        or "cancel")
    e = window.explore.explorer
    window.session.mark_saved()
    assert window._confirm_discard("closing") and asked == []  # nothing to ask about
    e.add_group("A", np.arange(5))
    assert not window._confirm_discard("closing")  # cancelled
    assert asked == [{"groups"}]  # a saved model whose groups changed: not "training"
    window.session.mark_saved()
    assert window.session.unsaved == set()

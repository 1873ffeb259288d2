"""Working the latent canvas by hand: several pins (each removable, all clearable), the
keyboard's probe, zoom and fit, a readable density image with its colour bar, the plane and
Show mode kept per model, and closing the window while training."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from helpers import TrainingHold, blob_dataset
from test_explore_support import (build_canvas, explorer, finish, make_explorer, make_session, session,  # noqa: F401
                                  tiny_model)
from vaestudio.core.latent import decode_batch
from vaestudio.core.render import to_uint8_hwc



@pytest.fixture
def canvas(qtbot, explorer):
    return build_canvas(qtbot, explorer)


def mouse(widget, kind, pos: QPointF, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    button = Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    glob = QPointF(widget.mapToGlobal(QPoint(int(pos.x()), int(pos.y()))))
    QApplication.sendEvent(widget, QMouseEvent(kind, QPointF(pos), glob, button, buttons, modifiers))


def click(widget, pos: QPointF, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    mouse(widget, QEvent.Type.MouseButtonPress, pos, modifiers)
    mouse(widget, QEvent.Type.MouseButtonRelease, pos, modifiers)


def expected_decode(e, view_point) -> np.ndarray:
    return to_uint8_hwc(decode_batch(e.model, e.projection.to_latent(np.asarray(view_point))))[0]


def focus_plot(qtbot, canvas) -> None:
    canvas.activateWindow()
    canvas.plot.setFocus()
    qtbot.waitUntil(canvas.plot.hasFocus, timeout=2000)


def four_pins(e) -> list[np.ndarray]:
    c, r = e.circle.centre, e.circle.radius
    targets = [c + r * np.array(d) for d in ([0.5, 0], [-0.5, 0], [0, 0.5], [0, -0.5])]
    for t in targets:
        e.pin_at(t)
    return targets


def test_several_pins_are_shown_and_each_can_be_removed(qtbot, canvas):
    e, preview = canvas.explorer, canvas.preview
    click(canvas.plot.viewport(), canvas.view_to_widget(*e.points[3]))  # a real click pins too
    qtbot.waitUntil(lambda: len(e.pins) == 1, timeout=2000)
    e.clear_pins()
    targets = four_pins(e)
    assert len(e.pins) == 4
    x, y = canvas.pin_marks.getData()
    assert np.allclose(np.column_stack([x, y]), targets, atol=1e-5)
    assert [lab.toPlainText() for lab in canvas.pin_labels if lab.isVisible()] == ["A", "B", "C", "D"]
    assert len(preview.chips) == 4
    for chip, pin in zip(preview.chips, e.pins):
        assert np.array_equal(chip.view.array, to_uint8_hwc(decode_batch(e.model, pin.z))[0])
    # The newest is shown large; a chip click shows another.
    assert preview.pin_heading.text() == "Pinned D"
    assert np.array_equal(preview.pin_view.array, expected_decode(e, targets[3]))
    click(preview.chips[1], QPointF(10, 10))
    assert preview.pin_heading.text() == "Pinned B"
    assert np.array_equal(preview.pin_view.array, expected_decode(e, targets[1]))

    # Remove B with its button in the strip.
    removed = e.pins[1]
    preview.chips[1].remove_button.click()
    assert len(e.pins) == 3 and removed not in e.pins
    assert len(preview.chips) == 3 and sum(lab.isVisible() for lab in canvas.pin_labels) == 3
    assert np.allclose([p.view for p in e.pins], [targets[0], targets[2], targets[3]], atol=1e-5)

    # Ctrl+click on the pin at targets[2] removes it; a Ctrl+click far from every pin does nothing.
    click(canvas.plot.viewport(), canvas.view_to_widget(*(targets[2] + [0, 0.01 * e.circle.radius])),
          Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(e.pins) == 2, timeout=2000)
    assert np.allclose([p.view for p in e.pins], [targets[0], targets[3]], atol=1e-5)
    click(canvas.plot.viewport(), canvas.view_to_widget(*e.circle.centre), Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(50)
    assert len(e.pins) == 2
    x, _ = canvas.pin_marks.getData()
    assert len(x) == 2


def test_more_pins_than_the_limit_drop_the_oldest(qtbot, canvas):
    from vaestudio.gui.explore.explorer import MAX_PINS

    e = canvas.explorer
    c, r = e.circle.centre, e.circle.radius
    points = [c + r * np.array([np.cos(t), np.sin(t)]) * 0.5 for t in np.linspace(0, 6, MAX_PINS + 2)]
    for p in points:
        e.pin_at(p)
    assert MAX_PINS > 2 and len(e.pins) == MAX_PINS
    assert np.allclose(e.pins[0].view, points[2], atol=1e-5)
    assert len(canvas.preview.chips) == MAX_PINS


def test_clear_pins_by_button_shortcut_and_delete(qtbot, canvas):
    e, preview = canvas.explorer, canvas.preview
    four_pins(e)
    assert preview.clear_pins_button.isEnabled()
    preview.clear_pins_button.click()
    assert e.pins == [] and preview.chips == [] and not preview.clear_pins_button.isEnabled()
    assert preview.pin_view.array is None and not any(lab.isVisible() for lab in canvas.pin_labels)

    focus_plot(qtbot, canvas)
    four_pins(e)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert e.pins == []
    four_pins(e)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Delete)
    assert e.pins == []


def test_escape_clears_the_hover_preview(qtbot, canvas):
    e, preview = canvas.explorer, canvas.preview
    e.hover_at(e.circle.centre)
    assert preview.hover_view.array is not None
    focus_plot(qtbot, canvas)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Escape)
    assert e.hover_z is None and e.hover_view is None
    assert preview.hover_view.array is None and preview.hover_caption.text() == ""


def test_arrow_keys_move_a_probe_that_decodes_as_it_moves(qtbot, canvas):
    from vaestudio.gui.explore.canvas import PROBE_BIG_STEP, PROBE_STEP

    e, preview = canvas.explorer, canvas.preview
    c, r = np.asarray(e.circle.centre, dtype=np.float64), e.circle.radius
    focus_plot(qtbot, canvas)
    assert not canvas.probe_mark.isVisible()

    qtbot.keyClick(canvas.plot, Qt.Key.Key_Right)
    expected = c + [PROBE_STEP * r, 0]
    assert np.allclose(e.hover_view, expected)
    assert np.array_equal(preview.hover_view.array, expected_decode(e, expected))
    assert canvas.probe_mark.isVisible()
    x, y = canvas.probe_mark.getData()
    assert np.allclose([x[0], y[0]], expected)
    first = preview.hover_view.array.copy()

    qtbot.keyClick(canvas.plot, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    expected = expected + [0, 2 * PROBE_BIG_STEP * r]
    assert np.allclose(e.hover_view, expected)
    assert np.array_equal(preview.hover_view.array, expected_decode(e, expected))
    assert not np.array_equal(preview.hover_view.array, first)
    assert "z0 = " in preview.hover_caption.text()

    qtbot.keyClick(canvas.plot, Qt.Key.Key_Left)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Down)
    expected = expected + [-PROBE_STEP * r, -PROBE_STEP * r]
    assert np.allclose(e.hover_view, expected)

    qtbot.keyClick(canvas.plot, Qt.Key.Key_Return)  # Enter pins the probe
    assert len(e.pins) == 1 and np.allclose(e.pins[0].view, expected)

    qtbot.keyClick(canvas.plot, Qt.Key.Key_Escape)
    assert not canvas.probe_mark.isVisible() and canvas.probe is None


def test_clicking_the_plot_gives_it_the_keys(qtbot, canvas):
    e = canvas.explorer
    canvas.activateWindow()
    canvas.keys_button.setFocus()
    qtbot.waitUntil(canvas.keys_button.hasFocus, timeout=2000)
    qtbot.mouseClick(canvas.plot.viewport(), Qt.MouseButton.LeftButton,
                     pos=canvas.view_to_widget(*e.circle.centre).toPoint())  # a spontaneous click, as a hand's
    qtbot.waitUntil(lambda: len(e.pins) == 1, timeout=2000)
    assert canvas.plot.hasFocus()
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Down)
    assert np.allclose(e.hover_view[0], e.circle.centre[0]) and e.hover_view[1] < e.circle.centre[1]


def test_a_followed_cloud_that_barely_moved_keeps_the_frame(qtbot, canvas):
    """While training, each epoch's circle shifts a little: while it stays whole inside the
    frame and the frame is at most 5% too big, the view stays (re-ranging redraws both axes and
    every item); otherwise, or on Home, it refits."""
    import dataclasses

    from vaestudio.gui.explore.canvas import FOLLOW_TOLERANCE

    e = canvas.explorer
    canvas.fit_view()
    before = canvas.view_box.viewRange()
    size = before[0][1] - before[0][0]
    c = e.circle
    e.circle = dataclasses.replace(c, centre=np.asarray(c.centre) + 0.01 * size, radius=c.radius * 0.98)
    canvas.fit_view(tolerance=FOLLOW_TOLERANCE)
    assert canvas.view_box.viewRange() == before
    e.circle = dataclasses.replace(c, radius=c.radius * 1.07)  # nearly at the edge: refit
    canvas.fit_view(tolerance=FOLLOW_TOLERANCE)
    (x0, x1), (y0, y1) = canvas.view_box.viewRange()
    assert np.isclose(min(x1 - x0, y1 - y0), 2 * 1.08 * c.radius * 1.07, rtol=1e-3)
    e.circle = dataclasses.replace(c, radius=c.radius * 0.8)  # the frame would be too loose: refit
    canvas.fit_view(tolerance=FOLLOW_TOLERANCE)
    (x0, x1), (y0, y1) = canvas.view_box.viewRange()
    assert np.isclose(min(x1 - x0, y1 - y0), 2 * 1.08 * c.radius * 0.8, rtol=1e-3)
    canvas.fit_view()  # Home: exactly the circle
    assert np.allclose(np.mean(canvas.view_box.viewRange(), axis=1), e.circle.centre, atol=1e-6 * size)
    e.circle = dataclasses.replace(c, radius=c.radius * 1.5)
    canvas.fit_view(tolerance=FOLLOW_TOLERANCE)
    (x0, x1), (y0, y1) = canvas.view_box.viewRange()
    assert np.isclose(min(x1 - x0, y1 - y0), 2 * 1.08 * c.radius * 1.5, rtol=1e-3)  # the aspect is locked

def test_plus_minus_zoom_and_home_fits(qtbot, canvas):
    def width():
        (x0, x1), _ = canvas.view_box.viewRange()
        return x1 - x0

    focus_plot(qtbot, canvas)
    fitted = width()
    centre = np.mean(canvas.view_box.viewRange(), axis=1)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Plus)
    assert width() < 0.9 * fitted
    assert np.allclose(np.mean(canvas.view_box.viewRange(), axis=1), centre, atol=1e-3 * fitted)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Minus)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Minus)
    assert width() > 1.1 * fitted
    assert not canvas._follow  # zoomed by hand: new clouds keep this view
    canvas.view_box.translateBy(x=0.3 * fitted)
    qtbot.keyClick(canvas.plot, Qt.Key.Key_Home)
    assert np.isclose(width(), fitted, rtol=1e-3) and canvas._follow
    assert np.allclose(np.mean(canvas.view_box.viewRange(), axis=1), centre, atol=1e-3 * fitted)
    assert "Home" in canvas.fit_button.toolTip() and "arrow keys" in canvas.keys_button.toolTip()
    assert canvas.plot.focusPolicy() & Qt.FocusPolicy.ClickFocus


def test_density_mode_draws_a_visible_image_with_a_colour_bar(qtbot, canvas):
    from vaestudio.gui.explore.density import FLOOR, top_count

    e = canvas.explorer
    e.set_lattice_overlay(None)
    assert not canvas.colour_bar.isVisible()
    dense_brush = canvas.lattice_sites.opts["brush"].color().alpha()
    canvas.set_mode("density")
    assert canvas.density_item.isVisible() and canvas.colour_bar.isVisible()
    img = canvas.density_item.image
    occupied = img[..., 3] > 0
    assert occupied.any()
    assert img[..., 3][occupied].min() >= int(FLOOR * 255)  # one point is still seen
    assert img[..., 3].max() == 255  # the densest pixel in full colour
    top = top_count(canvas._density)
    assert canvas.colour_bar.levels() == (0, top)
    assert f"{top:,} points" in canvas.colour_bar.toolTip()
    assert canvas.lattice_sites.opts["brush"].color().alpha() < dense_brush  # lighter over density
    # What a person sees: coloured pixels where the cloud is.
    d = canvas._density
    iy, ix = np.unravel_index(d.counts.sum(axis=0).argmax(), d.counts.shape[1:])
    step = d.width / d.counts.shape[2]
    qtbot.wait(50)  # the colour bar took its place in the layout
    grab = canvas.plot.grab().toImage()
    x, y = canvas.view_to_widget(d.x0 + (ix + 0.5) * step, d.y0 + (iy + 0.5) * step).toPoint().toTuple()
    colour = grab.pixelColor(x, y)
    assert (colour.red(), colour.green(), colour.blue()) != (255, 255, 255)


def test_density_without_classes_uses_a_sequential_map_matching_its_bar():
    import pyqtgraph as pg

    from vaestudio.gui.explore.density import class_density, density_bounds, density_rgba, scale_colours

    rng = np.random.default_rng(1)
    pts = rng.normal(size=(4000, 2))
    d = class_density(pts, None, 1, density_bounds(pts, quantile=0.0), bins=40)
    lut = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=False)
    rgba = density_rgba(d, [(0, 0, 0)], [True], lut)
    full = d.counts[0] == d.counts[0].max()
    assert (rgba[..., 3][d.counts[0] > 0] == 255).all() and (rgba[..., 3][d.counts[0] == 0] == 0).all()
    assert (rgba[full][:, :3] == lut[-1]).all()  # the fullest pixel: the map's top colour
    assert (scale_colours(np.array([1.0]), lut)[0, :3] == lut[-1]).all()  # ...which the bar shows at the top
    sparse = (d.counts[0] == 1)
    assert not (rgba[sparse][:, :3] == lut[0]).all(axis=1).any()  # one point is not the empty colour


def test_plane_and_show_mode_survive_snapshots_and_are_saved_with_the_model(qtbot, tmp_path):
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.run import Run

    session = make_session(model=tiny_model(latent_dim=4))
    e = make_explorer(qtbot, session)
    try:
        canvas = build_canvas(qtbot, e)
        canvas.x_combo.setCurrentIndex(2)
        canvas.x_combo.activated.emit(2)
        assert e.dims == (2, 1)
        canvas.set_mode("density")
        assert session.run.extra["view"] == {"dims": [2, 1], "pca": False, "mode": "density"}
        canvas.pca_check.setChecked(True)
        assert session.run.extra["view"]["pca"] is True

        # A new snapshot of the same run (an epoch) keeps them.
        old = e.points.copy()
        trained = tiny_model(latent_dim=4, seed=5)
        session.epoch_finished({"epoch": 1}, Run(trained.config, TrainConfig(device="cpu"), trained.cpu_copy()))
        qtbot.waitUntil(lambda: e.points is not None and not np.array_equal(e.points, old), timeout=5000)
        assert e.pca and e.dims == (2, 1) and canvas.mode == "density" and canvas.pca_check.isChecked()
        assert session.saved_state.extra["view"]["pca"] is True  # what Save writes while training

        path = session.run.save(tmp_path / "m.pt")
        other = tiny_model(latent_dim=4, seed=9)
        session.set_run(Run(other.config, TrainConfig(device="cpu"), other))  # another model: defaults
        qtbot.waitUntil(lambda: e.ready, timeout=5000)
        assert not e.pca and e.dims == (0, 1) and canvas.mode == "auto"
        assert canvas.mode_combo.currentData() == "auto" and not canvas.pca_check.isChecked()

        session.set_run(Run.load(path))  # reopened: as it was left
        qtbot.waitUntil(lambda: e.ready, timeout=5000)
        assert e.pca and e.dims == (2, 1) and e.projection.kind == "pca"
        assert canvas.mode == "density" and canvas.mode_combo.currentData() == "density"
        assert canvas.pca_check.isChecked() and canvas.density_item.isVisible()
    finally:
        finish(e)


@pytest.mark.parametrize("view, dims, pca, mode", [
    ("not a dict", (0, 1), False, "auto"),
    ({"dims": [True, 1], "pca": "yes", "mode": 5}, (0, 1), False, "auto"),
    ({"dims": [3, 3], "pca": 1, "mode": "sideways"}, (0, 1), False, "auto"),
    ({"dims": [0, 10 ** 30]}, (0, 1), False, "auto"),
    ({"dims": [1, 99], "mode": "points"}, (0, 1), False, "points"),  # beyond the latent size: shown as (0, 1)
    ({"dims": [3, 2], "pca": False, "mode": "density"}, (3, 2), False, "density"),
])
def test_hostile_saved_view_settings_fall_back_to_defaults(qtbot, view, dims, pca, mode):
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.run import Run

    session = make_session(model=tiny_model(latent_dim=4))
    e = make_explorer(qtbot, session)
    try:
        canvas = build_canvas(qtbot, e)
        model = tiny_model(latent_dim=4, seed=3)
        session.set_run(Run(model.config, TrainConfig(device="cpu"), model, extra={"view": view}))
        qtbot.waitUntil(lambda: e.ready, timeout=5000)
        assert (e.projection.dims if not e.pca else None, e.pca, canvas.mode) == (dims, pca, mode)
    finally:
        finish(e)


def test_closing_while_training_pauses_while_asking(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_STATE_DIR", str(tmp_path / "state"))
    from vaestudio.gui import dialogs
    from vaestudio.gui.main_window import MainWindow

    w = MainWindow(autosave_enabled=False)
    qtbot.addWidget(w)
    w.show()
    w.session.set_dataset(blob_dataset(300))
    form = w.training_dock.form
    form.hidden.setText("16")
    form.epochs.setValue(1000)
    form.batch_size.setValue(10)
    seen = []

    def ask(*_):
        seen.append(w.session.state)
        return answer[0]

    answer = ["cancel"]
    monkeypatch.setattr(dialogs, "ask_save_changes", ask)
    try:
        w.start_action.trigger()
        qtbot.waitUntil(lambda: w.session.dirty and w.session.state == "running", timeout=30_000)
        steps = []
        w.controller.step.connect(steps.append)
        w.close()
        assert seen == ["paused"]  # asked while training waited
        assert w.isVisible() and w.session.state == "running"  # cancelled: training goes on
        n = len(steps)
        qtbot.waitUntil(lambda: len(steps) > n + 2, timeout=30_000)
        # Save on the way out: the model is written as it stopped, with the canvas's view.
        w.explore.canvas.set_mode("density")
        path = tmp_path / "closing.pt"
        monkeypatch.setattr(dialogs, "choose_save_model", lambda *a: str(path))
        answer[0] = "save"
        w.close()
        assert seen == ["paused", "paused"] and not w.isVisible() and w.session.state == "idle"
        from vaestudio.core.run import Run
        again = Run.load(path)
        assert again.epochs_done == w.session.run.epochs_done > 0
        assert again.extra["view"] == {"dims": [0, 1], "pca": False, "mode": "density"}
    finally:
        w.session.set_dirty(False)
        w.close()


def test_stop_inside_the_first_epoch_says_where_it_stopped_and_start_continues(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_STATE_DIR", str(tmp_path / "state"))
    from vaestudio.gui.main_window import MainWindow

    w = MainWindow(autosave_enabled=False)
    qtbot.addWidget(w)
    w.show()
    w.session.set_dataset(blob_dataset(3000))
    form = w.training_dock.form
    form.hidden.setText("16")
    form.epochs.setValue(2)
    form.batch_size.setValue(10)
    hold = TrainingHold(monkeypatch, (1, 40), (2, 20))  # the two Stops below
    try:
        steps = []
        w.controller.step.connect(steps.append)
        w.start_action.trigger()
        qtbot.waitUntil(hold.reached.is_set, timeout=30_000)
        with qtbot.waitSignal(w.controller.finished, timeout=30_000):
            w.stop_action.trigger()
            hold.release()
        qtbot.waitUntil(lambda: w.session.state == "idle", timeout=30_000)
        p = w.session.run.progress
        assert (p.epoch, p.step) == (0, 40) and p.steps_per_epoch > 40 and w.session.dirty
        status = w.training_dock.status.text()
        assert status.startswith("Stopped after") and f"step {p.step} of {p.steps_per_epoch} in epoch 1" in status
        assert w.training_dock.overall_bar.format() == "stopped"
        assert f"epoch 1 from step {p.step + 1} of {p.steps_per_epoch}" in w.training_dock.plan.text()
        assert w.start_action.text().replace("&", "") == "Continue to 2 epochs"
        steps.clear()
        w.start_action.trigger()
        qtbot.waitUntil(lambda: len(steps) >= 1, timeout=30_000)
        assert steps[0]["epoch"] == 1 and steps[0]["step"] == p.step + 1  # on from where it stopped
        qtbot.waitUntil(hold.reached.is_set, timeout=30_000)
        with qtbot.waitSignal(w.controller.finished, timeout=30_000):
            w.stop_action.trigger()
            hold.release()
        qtbot.waitUntil(lambda: w.session.state == "idle", timeout=30_000)
    finally:
        w.session.set_dirty(False)
        w.close()

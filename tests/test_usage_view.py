"""The "Latent Usage" dock: KL per latent dimension redrawn after every epoch (measured off the GUI
thread on the explored split), the active-unit caption, the no-posterior caption of an autoencoder
and the posterior-collapse warning."""
from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("pytestqt")

import torch  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from test_gui_window import WAIT_MS, answers, load_digits, state_dir, tiny_model, window  # noqa: E402,F401
from vaestudio.core.metrics import latent_usage  # noqa: E402
from vaestudio.gui.explore.usage_view import COLLAPSE_WARNING, usage_images  # noqa: E402

D = 4


def train(qtbot, w, *, kind: str = "vae", epochs: int = 2, latent_dim: int = D):
    load_digits(qtbot, w)
    tiny_model(w, epochs=epochs)
    form = w.training_dock.form
    form.kind.setCurrentIndex(form.kind.findData(kind))
    form.latent_dim.setValue(latent_dim)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle" and w.explore.idle(), timeout=WAIT_MS)


def collapse(model, dims):
    """q(z_d|x) = N(0, 1) for every x on `dims`: the encoder head's mu and logvar rows zeroed."""
    model = copy.deepcopy(model)
    head = model.encoder.head
    dim = int(model.config.latent_dim)
    with torch.no_grad():
        for d in dims:
            for row in (d, dim + d):
                head.weight[row].zero_()
                head.bias[row].zero_()
    return model


def test_the_dock_sits_beside_the_loss_curves(window):
    w = window
    dock = w.explore.usage_dock
    assert dock.windowTitle() == "Latent Usage"
    assert w.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert dock in w.tabifiedDockWidgets(w.loss_dock)
    assert w.loss_dock.widget().isVisible()  # the loss curves are the raised tab


def test_bars_follow_the_epochs_and_match_latent_usage(qtbot, window):
    w = window
    panel = w.explore.usage
    seen = []
    panel.updated.connect(lambda: seen.append(panel.usage is not None))
    train(qtbot, w, epochs=2)
    assert len(w.session.history) == 2
    assert panel.requests >= 2  # every epoch asked for a measurement
    assert sum(seen) >= 2  # the chart was redrawn as training went (the last one after the final epoch)
    # the bars show the final snapshot's usage on the images the dock measures
    images = usage_images(w.explore.explorer.split_images())
    expected = latent_usage(w.session.snapshot, images)
    heights = panel.heights()
    assert len(heights) == D
    np.testing.assert_allclose(heights, expected["kl_per_dim"], atol=1e-4)
    assert panel.usage["active_units"] == expected["active_units"]
    text = panel.caption.text()
    assert f"active units: {expected['active_units']} of {D} (variance of the posterior mean > 0.01)" in text
    assert panel.warning.isHidden() == (expected["active_units"] >= D / 2)
    # kept with the model for `vaestudio info`: the last epoch's measurement, checked as a file's would be
    from vaestudio.core.usage_record import check_usage_record, describe_usage

    record, problem = check_usage_record(w.session.run.extra["usage"], D)
    assert problem is None and record["epoch"] == 2 and record["split"] == "validation"
    np.testing.assert_allclose(record["kl_per_dim"], heights, atol=1e-9)
    assert record["n"] == len(images)
    assert describe_usage(record, 2).startswith("latent usage at epoch 2 (digits")

    # a snapshot with 3 of 4 dimensions collapsed: the warning says what to try
    broken = collapse(w.session.snapshot, [1, 2, 3])
    before = panel.updates
    w.session.snapshot_changed.emit(broken)
    qtbot.waitUntil(lambda: panel.updates > before and w.explore.idle(), timeout=WAIT_MS)
    assert panel.usage["active_units"] <= 1
    assert f"active units: {panel.usage['active_units']} of {D}" in panel.caption.text()
    assert not panel.warning.isHidden() and panel.warning.text() == COLLAPSE_WARNING
    assert "KL warm-up" in panel.warning.text() and "β" in panel.warning.text()
    assert "orange" in panel.warning.styleSheet() or "#d9822b" in panel.warning.styleSheet()
    grey = panel.bars.opts["brushes"][1].color().getRgb()[:3]
    assert grey == (160, 160, 160)

    # every dimension in use again: no warning
    healthy = collapse(w.session.snapshot, [])
    with torch.no_grad():  # a strongly informative encoder on every dimension
        head = healthy.encoder.head
        head.weight[:D].mul_(20.0)
    before = panel.updates
    w.session.snapshot_changed.emit(healthy)
    qtbot.waitUntil(lambda: panel.updates > before and w.explore.idle(), timeout=WAIT_MS)
    usage = latent_usage(healthy, images)
    assert usage["active_units"] == D
    assert panel.usage["active_units"] == D
    assert panel.warning.isHidden()


def test_an_autoencoder_has_no_kl_per_dimension(qtbot, window):
    w = window
    panel = w.explore.usage
    train(qtbot, w, kind="ae", epochs=1)
    qtbot.waitUntil(lambda: "no posterior" in panel.caption.text(), timeout=WAIT_MS)
    assert panel.heights() == []
    assert panel.warning.isHidden()


def test_each_epoch_event_redraws_the_chart_with_that_epochs_numbers(qtbot):
    """Epoch events one at a time (as the training worker sends them): after each, the bars show
    that epoch's own KL per dimension and the record kept with the run is stamped with its epoch.
    Newest-wins alone could pass a test that only looks at the last epoch; this one looks at every one."""
    from test_explore_support import finish, make_explorer, make_session, tiny_model as tiny_vae
    from vaestudio.core.run import Progress
    from vaestudio.gui.explore.usage_view import UsagePanel

    session = make_session(model=tiny_vae(latent_dim=D))
    explorer = make_explorer(qtbot, session)
    panel = UsagePanel(explorer)
    qtbot.addWidget(panel)
    try:
        qtbot.waitUntil(lambda: panel.usage is not None and explorer.runner.idle, timeout=WAIT_MS)
        images = usage_images(explorer.split_images())
        session.set_state("running")
        seen = []
        for epoch in (1, 2, 3):
            state = session.run.snapshot()
            with torch.no_grad():  # each epoch's encoder uses dimension `epoch` more strongly
                state.model.encoder.head.weight[epoch].mul_(4.0 * epoch)
            state.progress = Progress(epoch=epoch)
            expected = latent_usage(state.model, images)["kl_per_dim"]
            before = panel.updates
            session.epoch_finished({"epoch": epoch}, state)
            qtbot.waitUntil(lambda: panel.updates > before and explorer.runner.idle, timeout=WAIT_MS)
            np.testing.assert_allclose(panel.heights(), expected, atol=1e-6)
            assert state.extra["usage"]["epoch"] == epoch  # what File > Save writes meanwhile
            np.testing.assert_allclose(state.extra["usage"]["kl_per_dim"], expected, atol=1e-9)
            seen.append(panel.heights())
        assert len({tuple(np.round(h, 6)) for h in seen}) == 3  # three different charts, in turn
        assert session.run.extra["usage"]["epoch"] == 0  # measured before training; the worker owns it now
        session.set_state("idle")  # the run comes back: it gets the newest record
        assert session.run.extra["usage"]["epoch"] == 3
    finally:
        finish(explorer)

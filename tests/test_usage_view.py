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

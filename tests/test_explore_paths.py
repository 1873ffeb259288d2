"""Interpolation between two images or pinned points, and the worker's latest-wins rule."""
from __future__ import annotations

import threading

import numpy as np

from test_explore_support import explorer, session  # noqa: F401
from vaestudio.core.latent import interpolate


def test_interpolation_strip_and_path_on_the_canvas(qtbot, explorer):
    from vaestudio.gui.explore.interpolation import InterpolationPanel

    panel = InterpolationPanel(explorer)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.start.set_index(3)
    panel.end.set_index(7)
    panel.method.setCurrentIndex(1)  # slerp
    panel.steps.setValue(6)
    qtbot.waitUntil(lambda: panel.strip_images is not None and len(panel.strip_images) == 6, timeout=5000)
    codes = explorer.encodings.codes
    expected = interpolate(codes[3], codes[7], 6, "slerp")
    assert np.allclose(panel.path_latents(6), expected)
    assert np.allclose(explorer.path_overlay, explorer.projection.to_view(expected))
    h, w = explorer.model.config.image_shape[1:]
    assert panel.strip_view.array.shape == (2 * h + 3, 5 * w + 6, 3)  # wrapped to fit the panel: 5 + 1
    explorer.pin_at(explorer.circle.centre)
    panel.end.use_pin()
    assert np.allclose(panel.path_latents(2)[-1], explorer.pins[-1].z)
    assert "pinned point" in panel.caption.text()
    panel.hide()
    assert explorer.path_overlay is None


def test_the_latest_request_wins(qtbot):
    from vaestudio.gui.explore.jobs import JobRunner

    runner = JobRunner()
    got, gate, started, cancelled = [], threading.Event(), threading.Event(), []

    def slow(cancel):
        started.set()
        gate.wait(5)
        cancelled.append(cancel())
        return "first"

    runner.finished.connect(lambda key, result: got.append((key, result)))
    runner.submit("grid", slow)
    assert started.wait(5)
    runner.submit("grid", lambda cancel: "second")  # queued behind the first, supersedes it
    runner.submit("grid", lambda cancel: "third")
    runner.submit("other", lambda cancel: "independent")
    gate.set()
    qtbot.waitUntil(lambda: len(got) == 2, timeout=5000)
    qtbot.wait(50)
    assert sorted(got) == [("grid", "third"), ("other", "independent")]
    assert cancelled == [True]  # the running job saw it was superseded
    runner.shutdown()
    assert runner.submit("grid", lambda cancel: "late") == -1

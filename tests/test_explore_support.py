"""Shared pieces of the explore tests: a session holding a tiny data set and model, an explorer
that has encoded it, and synthetic mouse events (no test functions here)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from helpers import blob_dataset
from vaestudio.core.config import TrainConfig
from vaestudio.core.kinds import build_model, make_model_config
from vaestudio.core.run import Run


def tiny_model(latent_dim: int = 2, size: int = 12, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(make_model_config(kind="vae", arch="mlp", image_shape=(1, size, size),
                                         latent_dim=latent_dim, hidden=(24,))).eval()


def make_session(dataset=None, model=None):
    from vaestudio.gui.session import Session

    session = Session()
    session.set_dataset(dataset if dataset is not None else blob_dataset(300))
    model = model if model is not None else tiny_model()
    session.set_run(Run(model.config, TrainConfig(device="cpu"), model))  # its snapshot: model.cpu_copy()
    return session


def make_explorer(qtbot, session):
    from vaestudio.gui.explore.explorer import Explorer

    explorer = Explorer(session)
    qtbot.waitUntil(lambda: explorer.ready, timeout=10_000)
    return explorer


def finish(explorer) -> None:
    explorer.shutdown()


def send_mouse(widget, kind: QEvent.Type, pos: QPointF, button=Qt.MouseButton.NoButton) -> None:
    """Deliver a real QMouseEvent (QTest's mouseMove sends none without a button on offscreen)."""
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    glob = QPointF(widget.mapToGlobal(QPoint(int(pos.x()), int(pos.y()))))
    ev = QMouseEvent(kind, QPointF(pos), glob, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def click(widget, pos: QPointF) -> None:
    send_mouse(widget, QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.LeftButton)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.LeftButton)


@pytest.fixture
def session():
    return make_session()


@pytest.fixture
def explorer(qtbot, session):
    e = make_explorer(qtbot, session)
    yield e
    finish(e)


def region_mean(array_hwc: np.ndarray, rows: slice, cols: slice) -> float:
    return float(np.asarray(array_hwc, dtype=np.float64)[rows, cols].mean())


def explore_window(qtbot, tmp_path, monkeypatch, latent_dim: int = 2):
    """A main window on 300 blobs with an untrained tiny model, encoded and ready; a generator
    for a fixture (it shuts the tools down after the test)."""
    monkeypatch.setenv("VAESTUDIO_STATE_DIR", str(tmp_path / "state"))
    from vaestudio.core.run import Run
    from vaestudio.gui.main_window import MainWindow

    w = MainWindow(autosave_enabled=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.session.set_dataset(blob_dataset(300))
    model = tiny_model(latent_dim=latent_dim)
    w.session.set_run(Run(model.config, TrainConfig(device="cpu"), model))
    qtbot.waitUntil(lambda: w.explore.explorer.ready, timeout=10_000)
    yield w
    w.session.set_dirty(False)
    w.explore.shutdown()


def build_canvas(qtbot, explorer):
    """A latent canvas with its decoder panel beside it, shown and fitted to the circle."""
    from vaestudio.gui.explore.canvas import LatentCanvas
    from vaestudio.gui.explore.preview import DecoderPreview

    c = LatentCanvas(explorer)
    qtbot.addWidget(c)
    c.preview = DecoderPreview(explorer)
    qtbot.addWidget(c.preview)
    c.resize(640, 540)
    c.show()
    c.preview.show()
    qtbot.waitExposed(c)
    c.fit_view()
    return c

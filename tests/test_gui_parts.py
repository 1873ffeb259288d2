"""The window's parts on their own: settings, autosave files, workers, the progress task, the
settings form, the loss plot, the session and the PySide6 work-around."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from vaestudio.core.config import TrainConfig, presets  # noqa: E402
from vaestudio.core.errors import Cancelled, ConfigError, DataError  # noqa: E402
from vaestudio.core.kinds import make_model_config  # noqa: E402
from vaestudio.core.run import Run  # noqa: E402
from vaestudio.gui import autosave  # noqa: E402
from vaestudio.gui.loss_plot import STAGGER_MS, LossPlot  # noqa: E402
from vaestudio.gui.model_form import ModelSettingsForm, parse_hidden  # noqa: E402
from vaestudio.gui.progress_task import ProgressTask  # noqa: E402
from vaestudio.gui.session import Session  # noqa: E402
from vaestudio.gui.settings import MAX_RECENT, STATE_ENV, AppSettings  # noqa: E402
from vaestudio.gui.workers import TaskWorker  # noqa: E402


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    return tmp_path / "state"


def test_settings_stay_in_the_state_dir_and_keep_recent_files(state_dir, tmp_path):
    s = AppSettings()
    for i in range(MAX_RECENT + 2):
        s.add_recent_model(tmp_path / f"m{i}.pt")
    s.add_recent_model(tmp_path / "m3.pt")  # reopened: moves to the top, no duplicate
    recent = s.recent_models()
    assert len(recent) == MAX_RECENT and recent[0] == str(tmp_path / "m3.pt")
    assert len(set(recent)) == len(recent)
    s.remove_recent_model(tmp_path / "m3.pt")
    s.set_last_folder("celeba", tmp_path)
    s.set_last_dataset({"name": "faces", "root": None, "options": {"n": 100}})
    s.sync()
    assert (state_dir / "settings.ini").exists()
    again = AppSettings()
    assert str(tmp_path / "m3.pt") not in again.recent_models()
    assert again.last_folder("celeba") == str(tmp_path)
    assert again.last_dataset()["options"] == {"n": 100}


def test_autosaves_of_running_sessions_are_not_orphans(state_dir):
    folder = autosave.autosave_dir()
    mine = autosave.own_autosave_path()
    mine.write_bytes(b"x")
    (folder / f"session-{os.getppid()}.pt").write_bytes(b"x")  # our parent is alive
    dead = folder / "session-999999999.pt"
    dead.write_bytes(b"x")
    (folder / "notes.txt").write_text("not an autosave")
    assert autosave.orphaned_autosaves() == [dead]
    adopted = autosave.adopt(dead)
    assert adopted == mine and not dead.exists()
    autosave.discard(mine)
    autosave.discard(mine)  # twice is fine
    assert not mine.exists()


def run_task(qtbot, fn):
    worker = TaskWorker(fn)
    results = {}
    worker.succeeded.connect(lambda r: results.setdefault("ok", r))
    worker.failed.connect(lambda e, m, d: results.setdefault("failed", (e, m, d)))
    worker.cancelled.connect(lambda: results.setdefault("cancelled", True))
    with qtbot.waitSignal(worker.done, timeout=10000):
        worker.start()
    worker.join()
    return worker, results


def test_task_worker_reports_result_errors_and_runs_off_the_gui_thread(qtbot):
    gui = threading.get_ident()
    _, results = run_task(qtbot, lambda progress, cancel: threading.get_ident())
    assert results["ok"] != gui

    _, results = run_task(qtbot, lambda progress, cancel: (_ for _ in ()).throw(DataError("x.npz", "broken")))
    exc, message, details = results["failed"]
    assert isinstance(exc, DataError) and message == "x.npz: broken" and details == ""

    _, results = run_task(qtbot, lambda progress, cancel: 1 / 0)
    # the dialog says what happened in words; the class name and traceback go to "details"
    assert results["failed"][1] == "division by zero" and "ZeroDivisionError" in results["failed"][2]
    assert "Traceback" in results["failed"][2]


def test_progress_task_shows_a_dialog_only_when_slow_and_cancels(qtbot, window_parent):
    started = threading.Event()

    def slow(progress, cancel):
        started.set()
        while not cancel():
            progress(1, 4, "working")
            threading.Event().wait(0.01)
        raise Cancelled("stopped")

    task = ProgressTask(window_parent, "Slow", slow, show_after_ms=50)
    task.start()
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible(), timeout=5000)
    assert started.is_set() and task.dialog.labelText() == "working"
    from PySide6.QtWidgets import QPushButton

    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    qtbot.waitUntil(lambda: not task.running, timeout=5000)

    quick = ProgressTask(window_parent, "Quick", lambda progress, cancel: 42, show_after_ms=2000)
    shown = []
    with qtbot.waitSignal(quick.succeeded, timeout=5000) as got:
        quick.start()
        shown.append(quick.dialog.isVisible())
    assert got.args == [42] and shown == [False]
    qtbot.waitUntil(lambda: not quick.running, timeout=5000)



def test_a_task_whose_window_is_deleted_first_still_ends_cleanly(qtbot):
    """The dialog dies with its parent window; the task's end must not touch it (pytest-qt fails
    the test on any exception raised in a slot)."""
    import threading

    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    parent.show()
    go = threading.Event()

    def waits(progress, cancel):
        go.wait(5)
        return "done"

    task = ProgressTask(parent, "Orphaned", waits, show_after_ms=0)
    task.start()
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible(), timeout=5000)
    with qtbot.waitSignal(task.dialog.destroyed, timeout=5000):
        parent.deleteLater()
    assert task.dialog is None
    with qtbot.waitSignal(task.ended, timeout=5000):
        with qtbot.waitSignal(task.succeeded, timeout=5000) as got:
            go.set()
    assert got.args == ["done"] and not task.running

@pytest.fixture
def window_parent(qtbot):
    from PySide6.QtWidgets import QWidget

    w = QWidget()
    qtbot.addWidget(w)
    w.show()
    return w


def test_settings_form_round_trips_configs_and_applies_presets(qtbot):
    form = ModelSettingsForm()
    qtbot.addWidget(form)
    cfg = make_model_config(kind="ae", arch="mlp", image_shape=(1, 28, 28), latent_dim=7, hidden=(64, 16),
                            likelihood="gaussian")
    form.set_model_config(cfg)
    assert form.model_config((1, 28, 28)) == cfg
    beta, kinds = form.options["beta"]  # built from the VAE's config dataclass
    assert "vae" in kinds and "ae" not in kinds and beta.isHidden()  # no KL term in a plain autoencoder
    vae = make_model_config(kind="vae", image_shape=(1, 28, 28), latent_dim=3, hidden=(8,), beta=2.5,
                            kl_warmup_epochs=4)
    form.set_model_config(vae)
    assert not beta.isHidden() and form.model_config((1, 28, 28)) == vae
    # a setting two kinds share with different defaults follows the chosen kind
    kinds_in_form = [form.kind.itemData(i) for i in range(form.kind.count())]
    for kind in ("dfc-vae", "vae-gan", "dfc-vae"):
        form.kind.setCurrentIndex(kinds_in_form.index(kind))
        want = make_model_config(kind=kind, image_shape=(1, 28, 28), hidden=(8,)).pixel_weight
        assert form.model_config((1, 28, 28)).pixel_weight == want
    assert make_model_config(kind="dfc-vae").pixel_weight != make_model_config(kind="vae-gan").pixel_weight
    dfc = make_model_config(kind="dfc-vae", image_shape=(1, 28, 28), hidden=(8,), pixel_weight=0.5)
    form.set_model_config(dfc)  # a run's own value wins over the kind's default
    assert form.model_config((1, 28, 28)).pixel_weight == 0.5
    form.set_model_config(vae)
    tcfg = TrainConfig(epochs=3, batch_size=64, lr=0.0005, device="cpu")
    form.set_train_config(tcfg)
    assert form.train_config() == tcfg

    celeba = next(p for p in presets(False) if p.model.arch == "conv")
    form.apply_preset(celeba)
    got = form.model_config((3, 64, 64))
    assert got.arch == "conv" and got.latent_dim == 100 and got.conv_width == 16  # small without a GPU
    assert form.conv_width.isEnabled() and not form.hidden.isEnabled()
    assert "faces" in form.preset_note.text() and form.preset.currentText() == celeba.name
    form.latent_dim.setValue(32)  # edited by hand: no longer the preset
    assert form.preset.currentIndex() == 0 and form.preset_note.isHidden()

    form.set_model_locked(True)
    form.apply_preset(presets(False)[0])  # a locked model keeps its architecture...
    assert form.model_config((3, 64, 64)).arch == "conv"
    assert form.train_config().batch_size == presets(False)[0].train.batch_size  # ...not its training


def test_hidden_sizes_parse_or_explain():
    assert parse_hidden("500, 250") == (500, 250)
    assert parse_hidden("128") == (128,)
    for bad in ("", "a, b", "0"):
        with pytest.raises(ConfigError):
            parse_hidden(bad)


def _run(kind: str) -> Run:
    run = Run.new(make_model_config(kind=kind, image_shape=(1, 12, 12), hidden=(8,)), TrainConfig(epochs=3))
    return run


def test_loss_plot_draws_the_runs_own_curve_and_terms(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    run = _run("vae")
    plot.set_run(run)
    assert [t.name for t in plot.terms] == ["loss", "recon", "kl"] and plot.point_count() == 0
    run.curve += [{"x": 0.5, "loss": 200.0, "recon": 190.0, "kl": 10.0},
                  {"x": 1.0, "loss": 150.0, "recon": 140.0, "kl": 10.0}]
    run.history.append({"epoch": 1, "train_loss": 150.0, "train_recon": 140.0, "train_kl": 10.0,
                        "val_loss": 149.0, "val_recon": 139.0, "val_kl": 10.0})
    drawn = []  # (term, time): while training, one plot is set (and so painted) at a time
    for name, curve in plot._train_curves.items():
        curve.sigPlotChanged.connect(lambda *_, name=name: drawn.append((name, time.perf_counter())))
    plot.schedule()
    qtbot.waitUntil(lambda: plot.point_count() == 2 and plot.point_count("val", "kl") == 1, timeout=2000)
    assert [n for n, _ in drawn] == ["loss", "recon", "kl"]
    gaps = np.diff([t for _, t in drawn])
    assert all(g >= 0.9 * STAGGER_MS / 1000 for g in gaps), gaps
    assert list(plot.series("loss")[0]) == [0.5, 1.0]
    # an autoencoder has one term to plot: reconstruction; no KL plot pretending to be zero
    ae = _run("ae")
    plot.show()
    vae_plots = list(plot.plots.values())
    plot.set_run(ae)
    assert plot.titles() == ["Reconstruction"] and "kl" not in plot.plots and plot.point_count() == 0
    # the VAE's plots leave the screen at once, not when their deferred delete runs
    assert all(w.isHidden() for w in vae_plots)
    ae_plots = list(plot.plots.values())
    plot.set_run(None)
    assert plot.terms == [] and not plot.empty.isHidden() and all(w.isHidden() for w in ae_plots)


def test_session_signals(qtbot):
    s = Session()
    run = _run("vae")
    with qtbot.waitSignals([s.run_changed, s.snapshot_changed], timeout=1000):
        s.set_run(run)
    assert s.model_config is run.model_config and s.snapshot is not None and not s.dirty
    assert s.history is run.history
    saved = run.snapshot()
    with qtbot.waitSignals([s.epoch_added, s.snapshot_changed, s.dirty_changed], timeout=1000):
        s.epoch_finished({"epoch": 1, "train_loss": 1.0}, saved)
    assert s.saved_state is saved and s.snapshot is saved.model and s.dirty
    with qtbot.waitSignal(s.training_state_changed, timeout=1000) as st:
        s.set_state("paused")
    assert st.args == ["paused"] and s.training
    with pytest.raises(ValueError):
        s.set_state("sleeping")
    with qtbot.waitSignal(s.run_changed, timeout=1000) as changed:
        s.set_run(None)
    assert changed.args == [None] and s.snapshot is None and s.history == []


def test_pyside_void_calls_do_not_exhaust_none():
    """Without the work-around, PySide6 6.12 on Python 3.11 aborts after ~5000 void calls."""
    code = ("import vaestudio.gui\nfrom PySide6.QtCore import QObject\no = QObject()\n"
            "for _ in range(50000):\n    o.setObjectName('x')\n    o.objectNameChanged.emit('x')\nprint('alive')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "alive" in out.stdout, out.stderr[-500:]


def test_icon_and_desktop_entry(qtbot):
    import shutil
    from pathlib import Path

    from PySide6.QtGui import QIcon

    from vaestudio.gui.app import icon_path
    from vaestudio.gui.settings import DESKTOP_FILE

    path = icon_path()
    assert path is not None and not QIcon(str(path)).isNull()
    entry = Path(__file__).resolve().parents[1] / "packaging" / f"{DESKTOP_FILE}.desktop"
    lines = entry.read_text().splitlines()
    assert "Exec=vaestudio-gui" in lines and f"Icon={DESKTOP_FILE}" in lines
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout


def test_an_elided_label_asks_for_little_width_and_tooltips_what_it_cut(qtbot):
    from vaestudio.gui.elided_label import ElidedLabel

    label = ElidedLabel("")
    qtbot.addWidget(label)
    label.show()
    text = "2,000 validation codes · 99% circle r = 2.95 · lattice in the view's 99% circle · density"
    label.setText(text)
    assert label.minimumSizeHint().width() < label.fontMetrics().horizontalAdvance(text) // 3
    label.resize(label.fontMetrics().horizontalAdvance(text) + 20, 30)
    qtbot.waitUntil(lambda: label.width() > 120)
    assert label.shown_text() == text and label.toolTip() == "" and label.text() == text
    label.resize(120, 30)
    qtbot.waitUntil(lambda: label.width() == 120)
    assert label.shown_text().endswith("…") and len(label.shown_text()) < len(text) and label.toolTip() == text


def test_every_control_of_the_settings_form_explains_itself(qtbot):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QSlider, QWidget

    form = ModelSettingsForm()
    qtbot.addWidget(form)
    controls = [c for c in form.findChildren(QWidget)
                if isinstance(c, (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QSlider))
                and not c.objectName().startswith("qt_")]  # a spin box's inner line edit
    assert len(controls) > 10
    assert [c.objectName() or type(c).__name__ for c in controls if not c.toolTip()] == []

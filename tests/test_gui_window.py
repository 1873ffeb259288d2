"""The main window end to end, offscreen: menus, data through the menu, training with pause,
resume and stop, save and reopen, worker errors as dialogs, closing while training."""
from __future__ import annotations

import sys
import types

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from helpers import TrainingHold, blob_dataset  # noqa: E402
from vaestudio.gui import autosave, dialogs  # noqa: E402
from vaestudio.gui.main_window import MainWindow  # noqa: E402
from vaestudio.gui.settings import STATE_ENV  # noqa: E402

SMALL_DIGITS = {"n_train": 1000, "n_test": 100}
WAIT_MS = 30000


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def answers(monkeypatch):
    """What the blocking questions answer; tests change the values."""
    given = {"save_changes": "discard", "yes_no": True, "save_path": "", "open_path": ""}
    asked = []

    def record(name, value):
        asked.append(name)
        return value

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: record("save_changes", given["save_changes"]))
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *a: record("yes_no", given["yes_no"]))
    monkeypatch.setattr(dialogs, "choose_save_model", lambda *a: given["save_path"])
    monkeypatch.setattr(dialogs, "choose_open_model", lambda *a: given["open_path"])
    given["asked"] = asked
    return given


@pytest.fixture
def window(qtbot, state_dir, answers):
    w = MainWindow()
    w.dataset_options = {"digits": dict(SMALL_DIGITS)}
    qtbot.addWidget(w)
    w.show()
    yield w
    w.session.set_dirty(False)
    w.close()
    assert w.controller.worker is None


def load_digits(qtbot, w):
    w.dataset_actions["digits"].trigger()
    qtbot.waitUntil(lambda: w.session.dataset is not None, timeout=WAIT_MS)
    return w.session.dataset


def tiny_model(w, epochs: int):
    form = w.training_dock.form
    form.hidden.setText("32")
    form.epochs.setValue(epochs)
    form.batch_size.setValue(100)


def train_started(qtbot, w, points: int = 2):
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.loss_plot.point_count() >= points and w.session.snapshot is not None, timeout=WAIT_MS)


def settled_count(qtbot, w) -> int:
    """The loss plot's point count once it stopped changing for 500 ms (longer than the plot's
    redraw coalescing, so a late batch report shows before the count is taken)."""
    seen = [-1]

    def settled():
        n = w.loss_plot.point_count()
        same = n == seen[0]
        seen[0] = n
        return same

    qtbot.waitUntil(lambda: qtbot.wait(500) or settled(), timeout=WAIT_MS)
    return seen[0]


def test_menus_shortcuts_and_layout(window):
    w = window
    titles = [a.text().replace("&", "") for a in w.menuBar().actions()]
    assert titles == ["File", "Train", "Export", "View", "Help"]
    assert w.open_model_action.shortcut().toString() == "Ctrl+O"
    assert w.save_model_action.shortcut().toString() == "Ctrl+S"
    assert w.start_action.shortcut().toString() == "Ctrl+R"
    assert not w.quit_action.shortcut().isEmpty()
    dataset_texts = [a.text() for a in w.open_dataset_menu.actions() if a.text()]
    assert "MNIST Family" in dataset_texts
    assert {"CelebA folder...", "Image folder...", "Arrays (.npz)..."} <= set(dataset_texts)
    assert {"digits", "faces", "mnist", "fashion-mnist", "emnist", "npz"} <= set(w.dataset_actions)
    toggles = w.view_menu.actions()
    assert w.training_dock.toggleViewAction() in toggles and w.loss_dock.toggleViewAction() in toggles
    assert w.central_tabs.tabText(0) == "Latent space"
    assert w.export_menu is not None
    # idle: nothing to pause or stop
    assert w.start_action.isEnabled() and not w.pause_action.isEnabled() and not w.stop_action.isEnabled()


def test_start_without_data_shows_error(window):
    window.start_action.trigger()
    assert "data set" in window.last_error
    assert window.session.state == "idle"


def test_train_pause_resume_stop_save_and_reopen(qtbot, window, answers, tmp_path):
    w = window
    ds = load_digits(qtbot, w)
    assert ds.image_shape == (1, 28, 28) and len(ds.train) < 2000
    assert "digits" in w.dataset_label.text()
    tiny_model(w, epochs=500)
    snapshots = []
    w.session.snapshot_changed.connect(snapshots.append)
    train_started(qtbot, w)
    assert w.session.state == "running", w.last_error
    assert "cpu" in w.device_label.text()
    assert snapshots and snapshots[-1] is not w.session.run.model  # previews get a copy
    assert not any(p.requires_grad for p in snapshots[-1].parameters())
    # the crash net after each epoch (written after the epoch's last step report)
    qtbot.waitUntil(lambda: autosave.own_autosave_path().exists(), timeout=WAIT_MS)

    w.pause_action.trigger()
    assert w.session.state == "paused" and w.pause_action.text().replace("&", "") == "Resume"
    paused_at = settled_count(qtbot, w)  # reports of the batch that was running may still come
    qtbot.wait(300)
    assert w.loss_plot.point_count() == paused_at

    w.pause_action.trigger()
    assert w.session.state == "running"
    qtbot.waitUntil(lambda: w.loss_plot.point_count() > paused_at, timeout=WAIT_MS)

    with qtbot.waitSignal(w.controller.finished, timeout=WAIT_MS) as stopped:
        w.stop_action.trigger()
    assert stopped.args[0]["status"] == "cancelled"
    import re
    done = stopped.args[0]["epochs_done"]
    want = f"{done:.2f} epochs" if done != int(done) else f"{int(done)} epoch{'' if done == 1 else 's'}"
    assert re.fullmatch(r"Training stopped: (\d+ epochs?|\d+\.\d\d epochs) in total", w.statusBar().currentMessage())
    assert want in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    run = w.session.run
    assert run.epochs_done >= 1 and w.session.dirty
    assert stopped.args[0]["epochs_done"] == run.epochs_done  # exactly what was trained, step included
    assert w.windowTitle().startswith("untitled model")

    path = tmp_path / "models" / "digits-vae.pt"
    answers["save_path"] = str(path)
    w.save_model_action.trigger()
    assert path.exists() and not w.session.dirty
    assert "digits-vae.pt" in w.windowTitle()
    assert w.settings.recent_models()[0] == str(path)
    saved_epochs, saved_history = run.epochs_done, list(w.session.history)

    # Open it again over another data set: the model, its settings and its data come back.
    w.session.set_dataset(blob_dataset())
    w.training_dock.form.epochs.setValue(7)
    answers["open_path"] = str(path)
    with qtbot.waitSignal(w.session.snapshot_changed, timeout=WAIT_MS):
        w.open_model_action.trigger()
    assert w.session.run.epochs_done == saved_epochs
    assert [h["epoch"] for h in w.session.history] == [h["epoch"] for h in saved_history]
    assert w.session.model_config.hidden == (32,)
    assert w.training_dock.form.hidden.text() == "32"
    assert w.training_dock.form.epochs.value() == 500
    assert w.training_dock.form.model_locked
    assert w.loss_plot.point_count("val") == len(saved_history)
    qtbot.waitUntil(lambda: w.session.dataset.name == "digits", timeout=WAIT_MS)
    assert w.session.dataset.spec.options["n_train"] == SMALL_DIGITS["n_train"]

    # ...and it trains on from where it was saved, to the total the Epochs control names.
    target = int(saved_epochs) + 1
    w.training_dock.form.epochs.setValue(target)
    expected = (f"Continue to {target} epochs" if w.session.run.progress.mid_epoch
                else f"Train {target - saved_epochs:g} more")
    assert w.start_action.text().replace("&", "") == expected
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    assert w.session.run.epochs_done == target and w.last_error is None


def test_worker_error_becomes_dialog_and_window_lives(qtbot, window, monkeypatch):
    from vaestudio.core import training

    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)

    def boom(self):
        raise RuntimeError("injected failure")

    with monkeypatch.context() as patch:
        patch.setattr(training.Trainer, "train", boom)
        w.start_action.trigger()
        qtbot.waitUntil(lambda: w.last_error is not None, timeout=WAIT_MS)
        assert "injected failure" in w.last_error
        qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    boxes = [b for b in w.findChildren(QMessageBox) if b.objectName() == "errorDialog"]
    assert boxes and "Traceback" in boxes[-1].detailedText()
    assert w.isVisible()

    w.last_error = None  # the window still trains afterwards
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle" and w.session.run.epochs_done == 1, timeout=WAIT_MS)
    assert w.last_error is None


def test_close_during_training(qtbot, window, answers):
    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=500)
    train_started(qtbot, w)
    worker = w.controller.worker
    thread = worker.thread_

    answers["save_changes"] = "cancel"  # the user changes their mind: keep going
    w.close()
    assert w.isVisible() and w.session.state == "running"

    answers["save_changes"] = "discard"
    w.close()
    assert not w.isVisible()
    assert thread.isFinished() and w.controller.worker is None
    assert w.session.state == "idle"
    assert not autosave.own_autosave_path().exists()  # a clean exit leaves no autosave
    assert answers["asked"].count("save_changes") == 2


def test_quit_saves_when_asked(qtbot, window, answers, tmp_path):
    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    answers["save_changes"] = "save"
    answers["save_path"] = str(tmp_path / "on-quit.pt")
    w.close()
    assert (tmp_path / "on-quit.pt").exists() and not w.isVisible()


def test_new_model_discard_really_discards_and_clears_every_view(qtbot, window, answers, tmp_path):
    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle" and w.explore.idle(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: w.explore.explorer.ready, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: w.loss_plot.point_count() > 0, timeout=WAIT_MS)
    assert w.session.dirty
    answers["save_changes"] = "discard"
    w.new_model_action.trigger()
    assert "save_changes" in answers["asked"]
    assert w.session.run is None and w.session.snapshot is None and not w.session.dirty
    assert w.loss_plot.point_count() == 0 and w.loss_plot.terms == []
    e = w.explore.explorer
    assert e.model is None and not e.ready and e.points is None
    qtbot.waitUntil(lambda: w.explore.lattice.images.get("lattice") is None, timeout=WAIT_MS)
    assert not w.training_dock.form.model_locked
    # Save As has nothing to write: the discarded model is gone
    answers["save_path"] = str(tmp_path / "ghost.pt")
    w.save_as_action.trigger()
    assert not (tmp_path / "ghost.pt").exists() and "no model" in w.last_error


def test_shape_mismatch_is_refused_at_load_with_a_new_model_offer(qtbot, window, monkeypatch):
    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    form = w.training_dock.form
    assert form.model_locked and not form.latent_dim.isEnabled()
    offers = []
    monkeypatch.setattr(dialogs, "ask_new_model_for_dataset", lambda *a: offers.append(a) or False)
    w._on_dataset_loaded(blob_dataset())  # 12x12 images: the 28x28 model cannot take them
    assert offers and w.session.dataset.name == "digits" and w.session.run is not None  # kept
    monkeypatch.setattr(dialogs, "ask_new_model_for_dataset", lambda *a: True)
    w._on_dataset_loaded(blob_dataset())
    assert w.session.dataset.name == "blobs" and w.session.run is None and not form.model_locked
    form.latent_dim.setValue(3)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    cfg = w.session.model_config
    assert cfg.latent_dim == 3 and cfg.image_shape == (1, 12, 12) and w.session.run.epochs_done == 1


def test_continuing_on_another_data_set_asks_and_marks_the_boundary(qtbot, window, answers):
    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    other = blob_dataset(600, size=28)  # the same shape, other images
    w.session.set_dataset(other)
    w.training_dock.form.epochs.setValue(2)
    answers["yes_no"] = False
    w.start_action.trigger()
    assert "yes_no" in answers["asked"] and w.session.state == "idle" and w.session.run.epochs_done == 1
    answers["yes_no"] = True
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle" and w.session.run.epochs_done == 2, timeout=WAIT_MS)
    run = w.session.run
    assert [d["name"] for d in run.datasets()] == ["digits", "blobs"]
    assert [h["dataset"] for h in run.history] == [0, 1]
    qtbot.waitUntil(lambda: len(w.loss_plot._boundaries) == 1, timeout=WAIT_MS)  # the switch, drawn


def test_stop_then_start_continues_exactly_and_matches_an_uninterrupted_run(qtbot, window, monkeypatch):
    """Stop mid-training, Start again: the plot has no phantom segment, the progress is exact,
    and the weights equal those of a run that never stopped."""
    import numpy as np
    import torch

    from vaestudio.core.run import Run
    from vaestudio.core.training import Trainer

    hold = TrainingHold(monkeypatch, (2, 50))
    w = window
    ds = load_digits(qtbot, w)
    tiny_model(w, epochs=3)
    w.training_dock.form.batch_size.setValue(10)
    assert w.start_action.text().replace("&", "") == "Train to 3 epochs"
    w.start_action.trigger()
    qtbot.waitUntil(hold.reached.is_set, timeout=WAIT_MS)
    with qtbot.waitSignal(w.controller.finished, timeout=WAIT_MS) as stopped:
        w.stop_action.trigger()
        hold.release()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    run = w.session.run
    assert stopped.args[0]["status"] == "cancelled" and 1 < run.epochs_done < 2
    assert w.start_action.text().replace("&", "") == "Continue to 3 epochs"
    p = run.progress
    assert (p.epoch, p.step) == (1, 50)  # stopped in the middle of the second epoch
    assert f"epoch {p.epoch + 1} from step {p.step + 1} of {p.steps_per_epoch}" in w.training_dock.plan.text()
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle" and run.epochs_done == 3, timeout=WAIT_MS)
    w.loss_plot._redraw()
    x, _ = w.loss_plot.series("loss")
    assert len(x) > 3 and np.all(np.diff(x) > 0)  # one line forward, no jump back
    assert [h["epoch"] for h in run.history] == [1, 2, 3]

    straight = Run.new(run.model_config, run.train_config)
    Trainer(straight, ds).train()
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, run.model.state_dict()[k]), k


def test_an_autoencoder_gets_autoencoder_displays(qtbot, window):
    from vaestudio.gui.explore.lattice_view import PAGES

    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    form = w.training_dock.form
    form.kind.setCurrentIndex(form.kind.findData("ae"))
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    assert w.loss_plot.titles() == ["Reconstruction"]
    assert "KL" not in w.training_dock.status.text()
    lattice = w.explore.lattice
    lattice.tabs.setCurrentIndex(PAGES.index("samples"))
    qtbot.waitUntil(lambda: lattice.caption.text().startswith("An autoencoder has no prior"), timeout=WAIT_MS)
    assert lattice.images.get("samples") is None


def test_model_info_says_what_the_run_is_and_measures_its_blur(qtbot, window, cache):
    from vaestudio.gui.model_info import ModelInfoDialog

    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    w.model_info_action.trigger()
    box = w.findChild(ModelInfoDialog, "modelInfoDialog")
    text = box.text.toPlainText()
    assert "epochs: 1 of 1 (finished)" in text and "digits" in text and "blur at" not in text
    assert box.measure_button.isEnabled()
    box.measure_button.click()
    assert not box.measure_button.isEnabled()  # one measurement at a time
    qtbot.waitUntil(lambda: box.task is None, timeout=2 * WAIT_MS)
    assert box.last_error == ""
    rec = w.session.run.extra["quality"]  # kept in the run, so saving keeps it
    assert rec["epochs"] == 1 and rec["n"] == SMALL_DIGITS["n_test"] and 0 < rec["sharpness_recon"] < 2
    assert rec["frechet"] > 0
    text = box.text.toPlainText()
    assert "blur at epoch 1 (digits" in text and f"sharpness {rec['sharpness_recon']:.3f} reconstructions" in text
    assert f"frechet {rec['frechet']:.1f}" in text
    box.close()


def test_model_info_cannot_measure_on_another_data_set(qtbot, window):
    from vaestudio.gui.model_info import ModelInfoDialog

    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=WAIT_MS)
    w.session.set_dataset(blob_dataset(600, size=28))  # the same shape, other images
    w.model_info_action.trigger()
    box = w.findChild(ModelInfoDialog, "modelInfoDialog")
    assert not box.measure_button.isEnabled() and "open the data set it trained on" in box.note.text()
    box.close()


def test_dfc_vae_offers_the_learned_network_without_vgg_and_shows_its_preparation(qtbot, window, answers,
                                                                                    monkeypatch, tmp_path):
    from vaestudio.gui.model_info import ModelInfoDialog

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # no VGG19 weights there
    w = window
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    form = w.training_dock.form
    form.kind.setCurrentIndex(form.kind.findData("dfc-vae"))
    net, _ = form.options["feature_net"]
    net.setValue("vgg19")
    answers["yes_no"] = False  # keep VGG19: nothing starts
    w.start_action.trigger()
    assert answers["asked"] == ["yes_no"] and w.session.run is None and w.session.state == "idle"
    assert form.model_config((1, 28, 28)).feature_net == "vgg19"
    answers["yes_no"] = True  # switch to the learned network
    seen = []
    w.controller.preparing.connect(lambda done, total, what: seen.append((done, total, w.training_dock.status.text())))
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle", timeout=2 * WAIT_MS)
    run = w.session.run
    assert run.model_config.feature_net == "learned" and run.epochs_done == 1
    assert form.model_config((1, 28, 28)).feature_net == "learned"  # the form says what the run is
    assert seen and seen[-1][0] == seen[-1][1] > 1  # every step of the feature network reported
    assert "Training the feature network (step" in seen[0][2]
    w.model_info_action.trigger()
    box = w.findChild(ModelInfoDialog, "modelInfoDialog")
    assert "feature network: learned" in box.text.toPlainText()
    box.close()


def test_restore_autosave_from_a_crashed_session(qtbot, window, answers):
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.run import Run
    from vaestudio.core.training import Trainer

    run = Run.new(make_model_config(image_shape=(1, 12, 12), hidden=(16,)), TrainConfig(epochs=5, batch_size=50))
    run.set_target(2)
    Trainer(run, blob_dataset()).train()
    run.set_target(5)  # the session meant to train to 5 and crashed after 2
    orphan = autosave.autosave_dir() / "session-999999999.pt"  # no such process
    run.save(orphan)
    assert autosave.orphaned_autosaves() == [orphan]

    answers["yes_no"] = True
    assert window.offer_autosave_restore()
    s = window.session
    assert s.run.epochs_done == 2 and s.dirty and s.path is None and s.snapshot is not None
    assert s.model_config.image_shape == (1, 12, 12)
    assert not orphan.exists() and autosave.own_autosave_path().exists()  # adopted
    assert autosave.orphaned_autosaves() == []
    # Start finishes the interrupted run (to 5), not "5 more"
    assert window.training_dock.form.epochs.value() == 5
    assert window.start_action.text().replace("&", "") == "Train 3 more"


def test_start_up_opens_the_last_data_set(qtbot, window):
    from vaestudio.core.data.base import DatasetSpec

    window.settings.set_last_dataset(DatasetSpec("digits", options=SMALL_DIGITS).to_dict())
    window.start_up()
    qtbot.waitUntil(lambda: window.session.dataset is not None, timeout=WAIT_MS)
    assert window.session.dataset.name == "digits" and window.last_error is None


def test_data_set_errors_are_dialogs(qtbot, window, answers, monkeypatch, tmp_path):
    w = window
    monkeypatch.setattr(dialogs, "choose_file", lambda *a: str(tmp_path / "missing.npz"))
    w.dataset_actions["npz"].trigger()
    qtbot.waitUntil(lambda: w.last_error is not None, timeout=WAIT_MS)
    assert "missing.npz" in w.last_error and w.session.dataset is None

    # MNIST is not on this machine: one question (tests/test_data_dialogs.py has the details).
    from vaestudio.gui import dataset_loader

    folders = []
    monkeypatch.setattr(dataset_loader, "download_reachable", lambda *a, **k: (False, "offline"))
    monkeypatch.setattr(dialogs, "ask_dataset_missing", lambda *a: "choose")
    monkeypatch.setattr(dialogs, "choose_folder", lambda *a: folders.append(a) or "")
    w.settings.set_last_folder("mnist", tmp_path / "empty")
    w.dataset_actions["mnist"].trigger()
    qtbot.waitUntil(lambda: len(folders) == 1, timeout=WAIT_MS)
    assert w.session.dataset is None


def test_explore_hook_installs(qtbot, state_dir, answers, monkeypatch):
    calls = []
    fake = types.ModuleType("vaestudio.gui.explore")
    fake.install = lambda window: calls.append(window)
    monkeypatch.setitem(sys.modules, "vaestudio.gui.explore", fake)
    w = MainWindow()
    qtbot.addWidget(w)
    assert calls == [w]


def test_layout_and_recent_files_persist(qtbot, state_dir, answers, tmp_path):
    from PySide6.QtCore import Qt

    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.loss_dock.hide()
    first.settings.add_recent_model(tmp_path / "a.pt")
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert not second.loss_dock.isVisible()
    assert second.dockWidgetArea(second.training_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    second._fill_recent_menu()
    assert any("a.pt" in a.text() for a in second.recent_menu.actions())


def test_opening_a_diverged_run_is_refused_in_a_dialog_and_keeps_the_current_model(qtbot, window, answers,
                                                                                     tmp_path):
    """A checkpoint whose weights are NaN would decode black pictures in every view."""
    import torch

    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.run import Run
    from vaestudio.core.config import TrainConfig

    run = Run.new(make_model_config(kind="vae", hidden=(8,)), TrainConfig(epochs=1))
    with torch.no_grad():
        next(run.model.parameters()).fill_(float("nan"))
    path = run.save(tmp_path / "diverged.pt")
    answers["open_path"] = str(path)
    window.open_model_action.trigger()
    assert window.session.run is None
    assert "diverged.pt" in window.last_error and "NaN" in window.last_error

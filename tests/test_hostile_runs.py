"""Class 5 of the hostile-input review, runs and files: `vaestudio train` and its run folder.

Roots: (a) the run folder is locked (RUN/.vaestudio-lock with the PID, created with O_EXCL,
removed at exit; a killed process's lock is taken over), and writing a run into a folder another
process holds is refused, so File > Save cannot overwrite it either; (b) the folder is made and
proved writable before a data set is opened or an epoch trained; (c) metrics.json is rewritten
with every model.pt write and says "running" until the process ends; (d) nothing non-finite is
kept: an epoch whose weights or optimiser state went non-finite is rolled back, and a saved
non-finite optimiser state is dropped on resume, with a note.
"""
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import write_mnist_folder
from vaestudio.cli import main
from vaestudio.core.kinds.base import ModelKind
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_mnist_folder(root, n_train=200, n_test=50)
    return root


@pytest.fixture
def common(mnist_root):
    """A tiny MLP VAE on the 200 images (less the validation split): a few steps an epoch."""
    return ["--dataset", "mnist", "--data-root", str(mnist_root), "--hidden", "16", "--batch-size", "40",
            "--device", "cpu", "--threads", "1", "--seed", "3"]


@pytest.fixture
def trainings(monkeypatch):
    """How many times Trainer.train was entered (an epoch can only train through it)."""
    calls = []
    original = Trainer.train
    monkeypatch.setattr(Trainer, "train", lambda self: (calls.append(1), original(self))[1])
    return calls


_HOLDER = ("import sys, time\n"
           "from vaestudio.core.run_lock import RunLock\n"
           "lock = RunLock(sys.argv[1])\n"
           "lock.acquire()\n"
           "print('locked', flush=True)\n"
           "time.sleep(120)\n")


def _hold_lock(folder: Path) -> subprocess.Popen:
    """Another process that holds the run folder, as a `train` in progress does."""
    folder.mkdir(parents=True, exist_ok=True)
    child = subprocess.Popen([sys.executable, "-c", _HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "locked"
    return child


def _errors(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_second_train_on_a_locked_folder_is_refused_and_save_into_it_too(common, tmp_path, capsys, trainings):
    out = tmp_path / "run"
    holder = _hold_lock(out)
    try:
        rc = main(["train", *common, "--epochs", "1", "--out", str(out)])
        err = _errors(capsys)
        assert rc == 2 and len(err) == 1, err
        assert str(out) in err[0] and f"PID {holder.pid}" in err[0], err[0]
        assert not trainings and not (out / "model.pt").exists()
        # the window's File > Save (and any other writer of a run) is refused there as well
        from vaestudio.core.errors import VaeStudioError
        from vaestudio.core.kinds import make_model_config
        from vaestudio.core.config import TrainConfig
        run = Run.new(make_model_config(kind="vae", image_shape=(1, 28, 28), hidden=(8,)), TrainConfig())
        with pytest.raises(VaeStudioError, match=f"PID {holder.pid}"):
            run.save(out / "model.pt")
        assert not (out / "model.pt").exists()
        assert (out / ".vaestudio-lock").read_text().split()[0] == str(holder.pid)  # untouched
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_train_is_taken_over_and_removed_at_exit(common, tmp_path, capsys):
    out = tmp_path / "run"
    holder = _hold_lock(out)
    holder.send_signal(signal.SIGKILL)  # killed: no chance to remove its lock
    holder.wait()
    lock = out / ".vaestudio-lock"
    assert lock.read_text().split()[0] == str(holder.pid)
    assert main(["train", *common, "--epochs", "1", "--out", str(out)]) == 0
    assert (out / "model.pt").is_file() and not lock.exists()
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.pt"]


def _out_cases(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    cases = {"under a file": a_file / "run", "a file": a_file}
    if os.geteuid() != 0:  # root writes into read-only folders, so only a non-root user can check this one
        ro = tmp_path / "read-only"
        ro.mkdir()
        ro.chmod(0o555)
        cases["read-only"] = ro / "run"
    return cases


def test_an_unwritable_out_is_refused_before_any_epoch_trains(common, tmp_path, capsys, trainings):
    for what, out in _out_cases(tmp_path).items():
        rc = main(["train", *common, "--epochs", "1", "--out", str(out)])
        err = _errors(capsys)
        assert rc == 2 and len(err) == 1, (what, err)
        assert str(out) in err[0] and "Traceback" not in err[0], (what, err)
        assert not trainings, what  # refused before a single epoch
    assert not (tmp_path / "read-only" / "run").exists()


class Killed(BaseException):
    """The process dying at that instant: nothing after it runs (no metrics written at the end)."""


def test_metrics_json_never_claims_more_than_model_pt_after_a_kill(common, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert main(["train", *common, "--epochs", "2", "--out", str(out)]) == 0
    first = json.loads((out / "metrics.json").read_text())
    assert first["status"] == "finished" and first["epochs"] == 2

    step = ModelKind.train_step

    def dies_in_epoch_5(self, module, x, optimizers, ctx, config):
        if ctx.epoch_progress >= 4:  # the first step of epoch 5, after epoch 4 was written
            raise Killed
        return step(self, module, x, optimizers, ctx, config)

    monkeypatch.setattr(ModelKind, "train_step", dies_in_epoch_5)
    with pytest.raises(Killed):
        main(["train", "--out", str(out), "--resume", "--epochs", "6", "--device", "cpu", "--threads", "1"])
    monkeypatch.setattr(ModelKind, "train_step", step)
    saved = Run.load(out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert saved.epochs_done == 4
    assert metrics["epochs"] == saved.epochs_done and len(metrics["history"]) == len(saved.history) == 4
    assert metrics["status"] == "running" and metrics["target_epochs"] == 6
    # and the run goes on from what model.pt holds
    assert main(["train", "--out", str(out), "--resume", "--device", "cpu", "--threads", "1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "finished" and metrics["epochs"] == 6 == Run.load(out).epochs_done


def _finite(obj) -> bool:
    if isinstance(obj, torch.Tensor):
        return not obj.is_floating_point() or bool(torch.isfinite(obj).all())
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite(v) for v in obj)
    return not isinstance(obj, float) or math.isfinite(obj)


def test_nan_in_epoch_1_then_resume_with_a_lower_lr_does_not_diverge_again(common, tmp_path, monkeypatch, capsys):
    """A NaN gradient in epoch 1's last step: the loss of that step is still finite, but Adam's
    moments and the weights are NaN. The epoch must not be kept, nor its optimiser state saved."""
    out = tmp_path / "run"
    seen = []  # epoch progress of each step: 0, 1/n, 2/n, ... for n steps an epoch
    step = ModelKind.train_step

    def nan_gradient_in_the_last_step_of_epoch_1(self, module, x, optimizers, ctx, config):
        seen.append(ctx.epoch_progress)
        n = round(1 / seen[1]) if len(seen) > 1 else 0
        if not (n and round(ctx.epoch_progress * n) == n - 1):
            return step(self, module, x, optimizers, ctx, config)
        hooks = [p.register_hook(lambda g: torch.full_like(g, float("nan"))) for p in module.parameters()]
        try:
            return step(self, module, x, optimizers, ctx, config)
        finally:
            for h in hooks:
                h.remove()

    monkeypatch.setattr(ModelKind, "train_step", nan_gradient_in_the_last_step_of_epoch_1)
    # no validation split: nothing but the epoch end's own check sees the NaN weights
    assert main(["train", *common, "--data-option", "validation=0", "--epochs", "3", "--lr", "5e-3",
                 "--out", str(out)]) == 3
    assert "non-finite" in capsys.readouterr().err
    monkeypatch.setattr(ModelKind, "train_step", step)
    saved = Run.load(out)
    assert saved.epochs_done == 0 and not saved.history
    assert _finite(saved.optimizer_states) and _finite(saved.model.state_dict())
    # the advice the message gives: resume with a lower learning rate. It must not diverge again.
    assert main(["train", "--out", str(out), "--resume", "--lr", "1e-3", "--device", "cpu", "--threads", "1"]) == 0
    done = Run.load(out)
    assert done.epochs_done == 3 and all(math.isfinite(h["train_loss"]) for h in done.history)
    assert _finite(done.optimizer_states)


def test_a_saved_non_finite_optimiser_state_is_reset_on_resume_with_a_note(common, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *common, "--epochs", "1", "--out", str(out)]) == 0
    path = out / "model.pt"
    data = torch.load(path, weights_only=True)
    for entry in data["optimizers"]["adam"]["state"].values():
        entry["exp_avg"].fill_(float("nan"))  # what a diverged step would have left
    torch.save(data, path)
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume", "--epochs", "2", "--device", "cpu", "--threads", "1"]) == 0
    err = capsys.readouterr().err
    assert f"{path}: the saved state of optimiser 'adam' holds NaN" in err and "starts afresh" in err
    done = Run.load(out)
    assert done.epochs_done == 2 and math.isfinite(done.history[-1]["train_loss"])
    assert _finite(done.optimizer_states) and _finite(done.model.state_dict())


def test_the_windows_save_into_a_locked_run_folder_is_a_clear_dialog(tmp_path, monkeypatch, request):
    pytest.importorskip("pytestqt")
    qtbot = request.getfixturevalue("qtbot")
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.kinds import make_model_config
    from vaestudio.gui import dialogs
    from vaestudio.gui.main_window import MainWindow
    from vaestudio.gui.settings import STATE_ENV

    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    errors = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, error, *a: errors.append((title, str(error))))
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *a: False)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: "discard")
    out = tmp_path / "run"
    monkeypatch.setattr(dialogs, "choose_save_model", lambda *a: str(out / "model.pt"))
    w = MainWindow()
    qtbot.addWidget(w)
    holder = _hold_lock(out)
    try:
        w.session.set_run(Run.new(make_model_config(kind="vae", image_shape=(1, 28, 28), hidden=(8,)), TrainConfig()),
                          dirty=True)
        assert w.save_model_as() is False
        assert len(errors) == 1 and f"PID {holder.pid}" in errors[0][1] and str(out) in errors[0][1], errors
        assert not (out / "model.pt").exists()
    finally:
        holder.kill()
        holder.wait()
        w.session.set_dirty(False)
        w.close()

"""The window's training thread: the torch thread count and the lower priority its settings say,
a GUI thread that keeps running its timers while the model trains, and the same results as the
core trainer gives."""
from __future__ import annotations

import os
import sys
import threading

import pytest

pytest.importorskip("pytestqt")

import torch  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402

from helpers import blob_dataset  # noqa: E402
from vaestudio.core.config import TrainConfig  # noqa: E402
from vaestudio.core.kinds import make_model_config  # noqa: E402
from vaestudio.core.run import Run  # noqa: E402
from vaestudio.core.training import Trainer  # noqa: E402
from vaestudio.gui import torch_setup  # noqa: E402
from vaestudio.gui.workers import TrainWorker  # noqa: E402

LINUX = sys.platform.startswith("linux")


def small_run(epochs: int = 2) -> Run:
    cfg = make_model_config(kind="vae", arch="mlp", image_shape=(1, 12, 12), latent_dim=2, hidden=(32,))
    run = Run.new(cfg, TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, seed=0, device="cpu"))
    return run


def train_in_worker(qtbot, run, ds, on_started=None):
    run.use_dataset(ds)
    worker = TrainWorker(run, ds)
    seen = {"steps": 0}
    worker.step.connect(lambda ev: seen.__setitem__("steps", seen["steps"] + 1))
    worker.finished.connect(lambda res: seen.setdefault("result", res))
    with qtbot.waitSignal(worker.done, timeout=60000):
        worker.start()
        if on_started is not None:
            on_started(worker, seen)
    worker.join()
    return worker, seen


def test_prepare_torch_uses_the_thread_count_the_setting_says(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(torch_setup, "_info", {})
        monkeypatch.setattr(torch_setup, "TORCH_THREADS", 0)  # torch's own choice, as the CLI
        torch.set_num_threads(1)
        torch_setup.prepare_torch()
        assert torch.get_num_threads() == 1
        monkeypatch.setattr(torch_setup, "_info", {})
        monkeypatch.setattr(torch_setup, "TORCH_THREADS", 2)
        info = torch_setup.prepare_torch()
        assert torch.get_num_threads() == 2 and set(info) == {"cuda", "device"}
    finally:
        torch.set_num_threads(before)


def test_training_thread_uses_the_training_thread_count_then_gives_it_back(qtbot, monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(torch_setup, "TORCH_THREADS", 1)
        monkeypatch.setattr(torch_setup, "TRAIN_THREADS", 2)
        torch.set_num_threads(1)
        worker, seen = train_in_worker(qtbot, small_run(1), blob_dataset(300))
        assert seen["result"]["status"] == "finished"
        assert worker.torch_threads == 2  # while training
        assert torch.get_num_threads() == 1  # the window's own work is back on one thread
        monkeypatch.setattr(torch_setup, "TRAIN_THREADS", 0)  # torch's own choice
        monkeypatch.setattr(torch_setup, "_torch_default_threads", [3])
        assert torch_setup.training_threads() == 3
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(not LINUX, reason="per-thread nice values are a Linux feature")
def test_training_thread_runs_at_the_lower_priority_and_the_gui_thread_does_not(qtbot, monkeypatch):
    monkeypatch.setattr(torch_setup, "TRAIN_NICE", 5)
    gui_nice = torch_setup.thread_nice()
    ds = blob_dataset(300)
    worker, seen = train_in_worker(qtbot, small_run(1), ds)
    assert seen["result"]["status"] == "finished"
    assert worker.thread_nice == min(gui_nice + 5, 19)
    assert torch_setup.thread_nice() == gui_nice  # only the training thread was lowered
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == gui_nice


def test_no_priority_change_when_the_setting_is_off_or_not_linux(monkeypatch):
    got = {}

    def in_thread():
        got["before"] = torch_setup.thread_nice()
        got["after"] = torch_setup.enter_training_thread()

    monkeypatch.setattr(torch_setup, "TRAIN_THREADS", torch.get_num_threads())  # leaves the count as it is
    monkeypatch.setattr(torch_setup, "TRAIN_NICE", 0)
    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert got["after"] == got["before"]
    monkeypatch.setattr(torch_setup, "TRAIN_NICE", 10)
    monkeypatch.setattr(torch_setup.sys, "platform", "win32")  # a thread id there is not a process id
    calls = []
    monkeypatch.setattr(torch_setup.os, "setpriority", lambda *a: calls.append(a), raising=False)
    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert got == {"before": None, "after": None} and calls == []


def test_gui_timer_keeps_firing_while_the_worker_trains(qtbot, monkeypatch):
    monkeypatch.setattr(torch_setup, "TRAIN_NICE", 10)
    ds = blob_dataset(600)
    fires = {"n": 0, "during_training": 0}
    timer = QTimer()
    timer.setInterval(10)

    def tick():
        fires["n"] += 1
        worker = state.get("worker")
        if worker is not None and worker.trainer is not None and worker.result is None:
            fires["during_training"] += 1

    timer.timeout.connect(tick)
    state = {}

    def started(worker, seen):
        state["worker"] = worker
        timer.start()
        # the GUI thread runs its timer again and again while steps keep coming from the worker
        qtbot.waitUntil(lambda: fires["during_training"] >= 20 and seen["steps"] >= 2, timeout=60000)
        worker.request_stop()

    worker, seen = train_in_worker(qtbot, small_run(10_000), ds, started)
    timer.stop()
    assert fires["during_training"] >= 20
    assert seen["result"]["status"] == "cancelled"


def test_window_training_gives_the_same_model_as_the_core_trainer(qtbot, monkeypatch):
    monkeypatch.setattr(torch_setup, "TRAIN_NICE", 10)
    ds = blob_dataset(400)
    in_window = small_run(2)
    _worker, seen = train_in_worker(qtbot, in_window, ds)
    assert seen["result"]["status"] == "finished"
    direct = small_run(2)
    direct.use_dataset(ds)
    Trainer(direct, ds).train()
    a, b = in_window.model.state_dict(), direct.model.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    keys = ("train_loss", "val_loss")
    assert [[h[k] for k in keys] for h in in_window.history] == [[h[k] for k in keys] for h in direct.history]


def test_per_epoch_autosaves_are_written_off_the_training_thread_and_the_last_in_line(qtbot, tmp_path,
                                                                                     monkeypatch):
    from vaestudio.core import checkpoint

    writes = []
    real = checkpoint._write_payload
    monkeypatch.setattr(checkpoint, "_write_payload",
                        lambda path, payload: writes.append(threading.current_thread().name) or real(path, payload))
    run, ds = small_run(epochs=3), blob_dataset(300)
    run.use_dataset(ds)
    target = tmp_path / "autosave.pt"
    worker = TrainWorker(run, ds, autosave_path=target)
    results = []
    worker.finished.connect(results.append)
    with qtbot.waitSignal(worker.done, timeout=60000):
        worker.start()
    worker.join()
    assert results and results[0]["status"] == "finished"
    assert run.path is None  # the autosave is not the run's own file
    assert "vaestudio-checkpoint-writer" in writes  # epochs were written by the background writer
    assert writes[-1] != "vaestudio-checkpoint-writer"  # the final autosave, in line, after the writer closed
    saved = checkpoint.read_run(target)
    assert saved.epochs_done == 3 and len(saved.history) == 3

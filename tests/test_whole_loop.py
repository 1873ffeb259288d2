"""The whole-loop rate (images per wall-clock second of whole epochs) and the off-thread
checkpoint writer that keeps its files atomic, newest-wins, and its failures loud."""
import json
import threading
import time

import pytest
import torch

from helpers import blob_dataset, run_cli, write_mnist_folder
from vaestudio.core import checkpoint as ckpt
from vaestudio.core.config import TrainConfig
from vaestudio.core.errors import CheckpointError
from vaestudio.core.kinds import make_model_config
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer


def tiny_run(epochs=2) -> Run:
    cfg = make_model_config(kind="vae", arch="mlp", image_shape=(1, 12, 12), latent_dim=2, hidden=(16,))
    return Run.new(cfg, TrainConfig(epochs=epochs, batch_size=50, lr=3e-3, seed=0, device="cpu"))


# -- the rate --------------------------------------------------------------------------------------

def test_the_whole_loop_rate_counts_what_the_callbacks_do_after_an_epoch():
    """Epoch 2's interval holds epoch 1's callbacks (its checkpoint, in the CLI): a callback
    that takes 0.3 s holds epoch 2's rate to at most n / 0.3 images per second."""
    ds = blob_dataset(200)
    run = tiny_run(epochs=2)

    def slow_epoch_end(ev):
        if ev.kind == "epoch":
            time.sleep(0.3)

    res = Trainer(run, ds, [slow_epoch_end]).train()
    n = len(ds.train)
    first, second = run.history
    assert first["epoch_samples_per_s"] > 0 and second["epoch_samples_per_s"] > 0
    assert n / second["epoch_samples_per_s"] >= 0.3  # the sleep is inside epoch 2's whole-loop time
    assert second["epoch_samples_per_s"] < second["samples_per_s"]  # the step alone excludes it
    assert res.epoch_samples_per_s == second["epoch_samples_per_s"]


def test_cli_reports_the_whole_loop_rate_in_metrics_and_history(tmp_path, capsys):
    root = tmp_path / "data"
    write_mnist_folder(root, n_train=200, n_test=40)
    out = tmp_path / "run"
    rc, err = run_cli(["train", "--dataset", "mnist", "--data-root", str(root), "--hidden", "16", "--epochs", "2",
                       "--batch-size", "50", "--device", "cpu", "--out", str(out)], capsys)
    assert rc == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "finished" and metrics["epoch_samples_per_s"] > 0
    assert all(h["epoch_samples_per_s"] > 0 for h in metrics["history"])
    saved = Run.load(out)  # the checkpoint's history holds it too, and reads back as a number
    assert saved.epochs_done == 2 and all(h["epoch_samples_per_s"] > 0 for h in saved.history)


# -- the writer --------------------------------------------------------------------------------------

class GatedSave:
    """torch.save that waits for `gate` on its first call and counts what it wrote."""

    def __init__(self, real):
        self.real, self.gate, self.started = real, threading.Event(), threading.Event()
        self.epochs = []

    def __call__(self, payload, f):
        self.started.set()
        self.gate.wait(10)
        self.epochs.append(payload["progress"]["epoch"])
        return self.real(payload, f)


def test_the_writer_keeps_the_newest_state_and_its_own_copy(tmp_path, monkeypatch):
    run = tiny_run()
    path = tmp_path / "model.pt"
    save = GatedSave(torch.save)
    monkeypatch.setattr(ckpt.torch, "save", save)
    writer = ckpt.CheckpointWriter()
    try:
        run.progress.epoch = 1
        writer.submit(path, run)
        assert save.started.wait(10)  # the first write is under way (held at the gate)
        for epoch in (2, 3):
            run.progress.epoch = epoch
            writer.submit(path, run)  # 2 waits, then 3 replaces it before it starts
        weights = {k: v.clone() for k, v in run.model.state_dict().items()}
        with torch.no_grad():
            for p in run.model.parameters():
                p.add_(1.0)  # training goes on after the submit: the file keeps the submitted state
        save.gate.set()
        writer.flush()
    finally:
        save.gate.set()
        writer.close()
    assert save.epochs == [1, 3]  # the latest wins; the stale one was never written
    back = Run.load(path)
    assert back.progress.epoch == 3 and run.path == path
    for k, v in back.model.state_dict().items():
        assert torch.equal(v, weights[k]), k


def test_a_reader_never_sees_a_partial_checkpoint(tmp_path):
    run = tiny_run()
    path = tmp_path / "model.pt"
    run.save(path)
    writer = ckpt.CheckpointWriter()
    stop, problems, reads = threading.Event(), [], [0]

    def read_loop():
        while not stop.is_set():
            try:
                Run.load(path)
                reads[0] += 1
            except Exception as e:  # noqa: BLE001 - any failed read is the defect under test
                problems.append(repr(e))

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        for epoch in range(1, 30):
            run.progress.epoch = epoch
            writer.submit(path, run)
            writer.flush()
    finally:
        stop.set()
        reader.join()
        writer.close()
    assert not problems and reads[0] > 0
    assert Run.load(path).progress.epoch == 29
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temp file left behind


def test_a_failed_write_is_raised_not_lost_and_the_old_file_stays(tmp_path, monkeypatch):
    run = tiny_run()
    path = tmp_path / "model.pt"
    run.save(path)
    before = path.read_bytes()

    def full_disk(payload, f):
        f.write(b"half a checkpoint")
        raise RuntimeError("[enforce fail at inline_container.cc] . unexpected pos: No space left on device")

    monkeypatch.setattr(ckpt.torch, "save", full_disk)
    writer = ckpt.CheckpointWriter()
    after = []
    run.progress.epoch = 1
    writer.submit(path, run, after=lambda: after.append("metrics"))
    with pytest.raises(CheckpointError, match="model.pt.*could not be written"):
        writer.flush()
    assert path.read_bytes() == before and not after  # metrics.json follows only a written model.pt
    writer.submit(path, run)  # the error was raised once; the writer goes on
    with pytest.raises(CheckpointError, match="No space left"):
        writer.close()
    assert path.read_bytes() == before


def test_a_failed_write_stops_cli_training_with_one_line(tmp_path, capsys, monkeypatch):
    root = tmp_path / "data"
    write_mnist_folder(root, n_train=200, n_test=40)
    out = tmp_path / "run"
    real = torch.save
    calls = [0]

    def fail_epoch_writes(payload, f):  # the epoch checkpoints fail; the final save works
        if threading.current_thread().name == "vaestudio-checkpoint-writer":
            calls[0] += 1
            raise OSError(28, "No space left on device")
        return real(payload, f)

    monkeypatch.setattr(ckpt.torch, "save", fail_epoch_writes)
    rc, err = run_cli(["train", "--dataset", "mnist", "--data-root", str(root), "--hidden", "16", "--epochs", "3",
                       "--batch-size", "50", "--device", "cpu", "--out", str(out)], capsys)
    assert rc == 2 and calls[0] >= 1
    assert any("model.pt" in line and "No space left" in line for line in err), err
    assert not any("Traceback" in line for line in err)

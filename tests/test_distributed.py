"""Training one run on several processes: `torch.distributed.run ... -m vaestudio train` on the
CPU (gloo), against one process with the same global batch.

Two torchrun launches (a VAE, through DistributedDataParallel; a VAE-GAN, whose three optimisers
average their gradients themselves, stopped by Ctrl+C); the rest runs in this process.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from helpers import blob_dataset, write_mnist_folder
from vaestudio.cli import main
from vaestudio.core import distributed
from vaestudio.core.config import TrainConfig
from vaestudio.core.errors import ConfigError, TrainingError
from vaestudio.core.kinds import make_model_config
from vaestudio.core.run import Run
from vaestudio.core.training import BatchSampler, Trainer

LAUNCH_TIMEOUT_S = 300  # start-up of two ranks is ~5 s on an idle machine; generous for a busy one


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_mnist_folder(root, n_train=240, n_test=40)
    return root


def train_args(root, out, *extra) -> list[str]:
    return ["train", "--dataset", "mnist", "--data-root", str(root), "--hidden", "24", "--seed", "3",
            "--device", "cpu", "--out", str(out), *extra]


def torchrun(args) -> tuple[list[str], dict]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("WORLD_SIZE", None)
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            "-m", "vaestudio", *args], env


def weights(run_dir) -> dict:
    return Run.load(run_dir / "model.pt").model.state_dict()


def assert_same_weights(a: dict, b: dict, atol: float = 1e-5) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=atol, rtol=1e-4), (k, (a[k] - b[k]).abs().max())


# -- in this process ----------------------------------------------------------------------------

@pytest.mark.parametrize("n,batch,world", [(24, 8, 2), (30, 6, 3), (22, 8, 2)])
def test_ranks_slices_make_up_the_one_process_batches(n, batch, world):
    whole = BatchSampler(n, batch, seed=5)
    parts = [BatchSampler(n, batch, seed=5, rank=r, world_size=world) for r in range(world)]
    data = torch.arange(n, dtype=torch.int64)
    cpu = torch.device("cpu")
    one = list(whole.batches(data, 2, cpu))
    each = [list(p.batches(data, 2, cpu)) for p in parts]
    assert all(p.steps_per_epoch == whole.steps_per_epoch for p in parts)
    for s, batch_s in enumerate(one):
        assert torch.equal(torch.cat([e[s] for e in each]), batch_s)
    seen = torch.cat([torch.cat(e) for e in each])
    assert len(set(seen.tolist())) == len(seen) == n - n % world
    # a run stopped mid-epoch continues at the same global step on any world size
    assert torch.equal(torch.cat([list(p.batches(data, 2, cpu, start_step=1))[0] for p in parts]), one[1])


def test_a_batch_that_does_not_split_evenly_is_refused():
    with pytest.raises(ValueError, match="does not split evenly over 3 processes"):
        BatchSampler(30, 10, seed=0, rank=0, world_size=3)


def test_each_rank_draws_its_rows_of_the_whole_batch_noise():
    torch.manual_seed(11)
    whole = torch.randn(6, 4)
    after_whole = torch.rand(1)
    for rank in range(2):
        torch.manual_seed(11)
        with distributed._GlobalBatchNoise(rank, 2, rows=3):
            mine = torch.randn_like(torch.empty(3, 4))
            other_shape = torch.randn_like(torch.empty(5, 4))  # not per-image rows: drawn as is
        assert torch.equal(mine, whole[3 * rank:3 * rank + 3])
        assert other_shape.shape == (5, 4)
    torch.manual_seed(11)
    with distributed._GlobalBatchNoise(1, 2, rows=3):
        torch.randn_like(torch.empty(3, 4))
    assert torch.equal(torch.rand(1), after_whole)  # every rank's generator moves as one process's


def test_without_torchrun_it_is_one_process(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    procs = distributed.from_environment("cpu")
    assert (procs.rank, procs.world_size, procs.main, procs.sync()) == (0, 1, True, None)
    assert distributed.global_mean(torch.tensor(2.5)) == [2.5]
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ConfigError, match="WORLD_SIZE='two' is not a whole number"):
        distributed.from_environment("cpu")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "5")
    with pytest.raises(ConfigError, match="RANK=5 is outside 0..1"):
        distributed.from_environment("cpu")


class OtherRanks:
    """Stands in for the other processes: the agreement reports their stop or their NaN at the
    `at`-th step of this session (1-based); the sums are this process's alone."""

    def __init__(self, at: int, stop: bool = False, bad: bool = False):
        self.at, self.stop, self.bad, self.calls = at, stop, bad, 0

    def step(self, rows):
        return contextlib.nullcontext()

    def agree(self, stop, sums):
        self.calls += 1
        mine = (stop, not bool(torch.isfinite(sums).all()))
        if self.calls == self.at:
            return mine[0] or self.stop, mine[1] or self.bad
        return mine

    def total(self, sums, seen):
        return sums, seen


def tiny_run(epochs=3, batch_size=40) -> Run:
    cfg = make_model_config(kind="vae", arch="mlp", image_shape=(1, 12, 12), latent_dim=2, hidden=(16,))
    return Run.new(cfg, TrainConfig(epochs=epochs, batch_size=batch_size, lr=3e-3, seed=0, device="cpu"))


def test_a_stop_asked_of_another_rank_stops_this_one_mid_epoch():
    ds = blob_dataset(200)
    run = tiny_run()
    spe = math.ceil(len(ds.train) / 40)
    res = Trainer(run, ds, ranks=OtherRanks(at=spe + 3, stop=True)).train()
    assert res.status == "cancelled"
    assert (run.progress.epoch, run.progress.step) == (1, 2)  # it stopped before its third step of epoch 2


def test_a_nan_on_another_rank_rolls_every_rank_back_to_the_last_epoch_end():
    ds = blob_dataset(200)
    run = tiny_run()
    spe = math.ceil(len(ds.train) / 40)
    res = Trainer(run, ds, ranks=OtherRanks(at=spe + 2, bad=True)).train()
    assert res.status == "diverged" and "non-finite" in res.message
    assert run.epochs_done == 1 and len(run.history) == 1


def test_a_mid_epoch_stop_continues_on_another_world_size_only_with_the_same_steps_per_epoch():
    ds = blob_dataset(39)  # 31 training images: 4 batches of 10 on one process, 3 on two (30 used)
    assert len(ds.train) == 31
    run = tiny_run(batch_size=10)
    assert Trainer(run, ds, ranks=OtherRanks(at=3, stop=True)).train().status == "cancelled"
    assert (run.progress.step, run.progress.steps_per_epoch) == (2, 4)
    with pytest.raises(TrainingError, match="give 3 steps per epoch on 2 processes.*number of processes"):
        Trainer(run, ds, rank=0, world_size=2, ranks=OtherRanks(at=0))
    Trainer(run, ds, rank=0, world_size=1)  # one process, as it stopped: accepted


def test_a_batch_the_processes_cannot_share_is_refused_by_the_trainer():
    with pytest.raises(TrainingError, match="global batch"):
        Trainer(tiny_run(batch_size=25), blob_dataset(60), rank=1, world_size=2, ranks=OtherRanks(at=0))


# -- torchrun -----------------------------------------------------------------------------------

def test_two_processes_train_what_one_process_does_and_resume_on_one(data_root, tmp_path):
    two, one = tmp_path / "two", tmp_path / "one"
    cmd, env = torchrun(train_args(data_root, two, "--epochs", "2", "--batch-size", "20"))
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    assert "2 processes (DistributedDataParallel), 10 images each per step" in log
    images = int(re.search(r"([\d,]+) images, from epoch", log).group(1).replace(",", ""))
    assert images % 2 == 0  # none left over, so two ranks see every image one process sees
    for epoch in (1, 2):  # rank 0 alone prints
        assert len(re.findall(rf"^epoch {epoch}/2 ", log, flags=re.M)) == 1, log
    assert sorted(os.listdir(two)) == ["metrics.json", "model.pt"]  # one checkpoint; the lock is gone
    metrics = json.loads((two / "metrics.json").read_text())
    assert (metrics["status"], metrics["epochs"], metrics["world_size"]) == ("finished", 2, 2)
    assert [r["world_size"] for r in metrics["history"]] == [2, 2]

    assert main(train_args(data_root, one, "--epochs", "2", "--batch-size", "20")) == 0
    assert_same_weights(weights(two), weights(one))
    ref = json.loads((one / "metrics.json").read_text())["history"]
    for a, b in zip(metrics["history"], ref):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)

    # the ordinary checkpoint: one process continues it (the window opens it the same way)
    for run_dir in (two, one):
        assert main(["train", "--out", str(run_dir), "--resume", "--epochs", "3", "--device", "cpu"]) == 0
    assert_same_weights(weights(two), weights(one))
    resumed = json.loads((two / "metrics.json").read_text())
    assert (resumed["epochs"], resumed["world_size"]) == (3, 1)
    assert [r.get("world_size", 1) for r in resumed["history"]] == [2, 2, 1]


def test_ctrl_c_stops_every_rank_and_one_process_continues_exactly(data_root, tmp_path):
    """A VAE-GAN (three optimisers, gated on the batch's losses) on two ranks, stopped by Ctrl+C
    (SIGINT to torchrun's process group, as a terminal sends it), continued on one process: the
    weights equal an uninterrupted one-process run's, so every gradient was averaged."""
    two, one = tmp_path / "two", tmp_path / "one"
    gan = ("--model", "vae-gan", "--batch-size", "8")
    cmd, env = torchrun(train_args(data_root, two, "--epochs", "60", *gan))
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,  # its own process group, like a terminal's foreground job
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + LAUNCH_TIMEOUT_S
        while not (two / "model.pt").exists():  # after the first epoch: training is under way
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0][-3000:]
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        log = proc.communicate(timeout=LAUNCH_TIMEOUT_S)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert log.count("stopped after ") == 1, log[-3000:]  # rank 0 saved once and said where
    assert "vaestudio train (process 1 of 2): stopped with the others; process 0 saved the run" in log
    assert sorted(os.listdir(two)) == ["metrics.json", "model.pt"]
    stopped = Run.load(two / "model.pt")
    assert 1 <= stopped.epochs_done < 60
    target = stopped.progress.epoch + 1
    assert main(["train", "--out", str(two), "--resume", "--epochs", str(target), "--device", "cpu"]) == 0
    assert main(train_args(data_root, one, "--epochs", str(target), *gan)) == 0
    assert_same_weights(weights(two), weights(one), atol=1e-4)

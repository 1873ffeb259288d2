import threading

import numpy as np
import pytest
import torch

from helpers import blob_dataset
from vaestudio.core.config import TrainConfig
from vaestudio.core.errors import ConfigError, TrainingError
from vaestudio.core.kinds import make_model_config
from vaestudio.core.kinds.vae import kl_weight
from vaestudio.core.run import Run
from vaestudio.core.training import BatchSampler, Trainer


def small_run(kind="vae", size=12, epochs=4, batch_size=32, lr=3e-3, seed=0, **kw) -> Run:
    cfg = make_model_config(kind=kind, arch="mlp", image_shape=(1, size, size), latent_dim=2, hidden=(32,), **kw)
    return Run.new(cfg, TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device="cpu"))


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_a_few_epochs_lower_the_loss(kind):
    ds = blob_dataset(600)
    events = []
    run = small_run(kind)
    res = Trainer(run, ds, [events.append]).train()
    assert res.status == "finished" and res.epochs_done == 4 == run.epochs_done
    epochs = [e for e in events if e.kind == "epoch"]
    steps = [e for e in events if e.kind == "step"]
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert epochs[-1].record["train_loss"] < epochs[0].record["train_loss"] * 0.9
    assert epochs[-1].record["val_loss"] < epochs[0].record["val_loss"]
    assert steps and all(s.samples_per_s > 0 for s in steps)
    assert len(run.history) == 4 and res.samples_per_s > 0
    # the terms are the kind's: an autoencoder has no KL anywhere
    expected = {"loss", "recon"} | ({"kl"} if kind == "vae" else set())
    assert set(steps[0].terms) == expected
    assert {k[len("train_"):] for k in run.history[0] if k.startswith("train_")} == expected
    assert ("beta" in run.history[0]) == (kind == "vae")
    assert run.datasets() == [{"name": "blobs", "root": None, "options": {}, "start_epoch": 0, "epochs": 4}]
    assert run.curve and run.curve[-1]["x"] == 4


def test_seeded_runs_are_reproducible_and_resume_at_an_epoch_end_is_bitwise(tmp_path):
    ds = blob_dataset(300)
    a = small_run(epochs=2, batch_size=50, lr=1e-3, seed=5)
    Trainer(a, ds).train()
    b = small_run(epochs=2, batch_size=50, lr=1e-3, seed=5)
    Trainer(b, ds).train()
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)
    c = small_run(epochs=1, batch_size=50, lr=1e-3, seed=5)
    Trainer(c, ds).train()
    c.save(tmp_path / "c.pt")
    c2 = Run.load(tmp_path / "c.pt")
    c2.set_target(2)
    res = Trainer(c2, ds).train()
    assert res.epochs_done == 2 and [h["epoch"] for h in c2.history] == [1, 2]
    for pa, pc in zip(a.model.parameters(), c2.model.parameters()):
        assert torch.equal(pa, pc)
    assert c2.history[1]["train_loss"] == a.history[1]["train_loss"]


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_cancel_mid_epoch_records_the_step_and_resumes_bitwise(tmp_path, kind):
    """Stopped after step 3 of epoch 2, saved, reopened and continued: the same weights, the same
    history, as a run that never stopped."""
    ds = blob_dataset(500)  # 400 training images: 10 steps of 40
    straight = small_run(kind, epochs=3, batch_size=40, seed=3, kl_warmup_epochs=2) if kind == "vae" else \
        small_run(kind, epochs=3, batch_size=40, seed=3)
    Trainer(straight, ds).train()

    run = small_run(kind, epochs=3, batch_size=40, seed=3, kl_warmup_epochs=2) if kind == "vae" else \
        small_run(kind, epochs=3, batch_size=40, seed=3)
    trainer = None

    def stop_in_epoch_two(ev):
        if ev.kind == "step" and ev.epoch == 2:
            trainer.cancel()

    trainer = Trainer(run, ds, [stop_in_epoch_two])
    import vaestudio.core.training as training
    old = training.EVENT_INTERVAL_S
    training.EVENT_INTERVAL_S = 0.0  # an event after every step, so the stop lands at step 1 + 1
    try:
        res = trainer.train()
    finally:
        training.EVENT_INTERVAL_S = old
    assert res.status == "cancelled"
    p = run.progress
    assert p.epoch == 1 and p.step == 1 and p.steps_per_epoch == 10
    assert run.epochs_done == pytest.approx(1.1)
    assert "1.10 epochs" in res.message and "step 1 of 10 in epoch 2" in res.message
    assert run.datasets()[0]["epochs"] == pytest.approx(1.1)
    run.save(tmp_path / "stopped.pt")
    again = Run.load(tmp_path / "stopped.pt")
    assert again.epochs_done == pytest.approx(1.1) and len(again.history) == 1
    Trainer(again, ds).train()
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, again.model.state_dict()[k]), k
    strip = lambda h: {k: v for k, v in h.items() if k not in ("samples_per_s", "seconds", "epoch_samples_per_s")}  # noqa: E731
    assert [strip(h) for h in again.history] == [strip(h) for h in straight.history]


def test_pause_and_cancel_from_another_thread():
    ds = blob_dataset(2000)
    steps = []
    gate = threading.Event()

    def on_event(ev):
        if ev.kind == "step":
            steps.append(ev.step)
            gate.set()

    run = small_run(epochs=50, batch_size=8, lr=1e-3)
    tr = Trainer(run, ds, [on_event])
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("r", tr.train()))
    th.start()
    assert gate.wait(10)
    tr.pause()
    assert tr.paused
    n_paused = len(steps)
    th.join(0.5)
    assert th.is_alive()
    assert len(steps) <= n_paused + 1  # at most the batch in flight reports after pausing
    frozen = [p.detach().clone() for p in run.model.parameters()]
    th.join(0.3)
    assert all(torch.equal(a, b) for a, b in zip(frozen, run.model.parameters()))
    tr.resume()
    tr.cancel()
    th.join(10)
    assert not th.is_alive()
    assert result["r"].status == "cancelled"
    assert 0 < result["r"].epochs_done < 50


def test_non_finite_loss_stops_and_keeps_last_good_state():
    ds = blob_dataset(200)
    run = small_run(epochs=1, batch_size=50, lr=1e-3)
    assert Trainer(run, ds).train().status == "finished"
    good = {k: v.clone() for k, v in run.model.state_dict().items()}
    run.set_target(3)
    run.train_config.lr = 1e12  # past the settings' bound on purpose: an absurd rate blows up
    res = Trainer(run, ds).train()
    assert res.status == "diverged"
    assert "non-finite" in res.message
    assert res.epochs_done == 1 and run.epochs_done == 1 and len(run.history) == 1
    assert not run.progress.mid_epoch
    for k, v in run.model.state_dict().items():
        assert torch.equal(v, good[k]), k


def test_shape_mismatch_is_a_clear_error():
    ds = blob_dataset(50, size=12)
    with pytest.raises(ConfigError, match="expects images of shape"):
        Trainer(small_run(size=8), ds)


def test_another_data_set_needs_asking_and_marks_the_boundary():
    a, b = blob_dataset(200, seed=0), blob_dataset(200, seed=1)
    b.spec.name = "other-blobs"
    run = small_run(epochs=1, batch_size=50)
    Trainer(run, a).train()
    run.set_target(2)
    with pytest.raises(ConfigError, match="trained on blobs for 1 epochs"):
        Trainer(run, b)
    run.use_dataset(b, allow_switch=True)
    Trainer(run, b).train()
    assert [d["name"] for d in run.datasets()] == ["blobs", "other-blobs"]
    assert run.datasets()[1]["start_epoch"] == 1 and run.datasets()[1]["epochs"] == 1
    assert [h["dataset"] for h in run.history] == [0, 1]


def test_mid_epoch_resume_with_another_batch_size_is_refused():
    ds = blob_dataset(300)
    run = small_run(epochs=2, batch_size=30)
    tr = Trainer(run, ds, [lambda ev: tr.cancel() if ev.kind == "step" and ev.step >= 3 else None])
    import vaestudio.core.training as training
    old, training.EVENT_INTERVAL_S = training.EVENT_INTERVAL_S, 0.0
    try:
        tr.train()
    finally:
        training.EVENT_INTERVAL_S = old
    assert run.progress.mid_epoch
    run.train_config.batch_size = 60
    with pytest.raises(TrainingError, match="batch size"):
        Trainer(run, ds)


def test_out_of_device_memmap_path(tmp_path):
    ds = blob_dataset(300)
    path = tmp_path / "imgs.npy"
    np.save(path, ds.train.images)
    ds.train.images = np.load(path, mmap_mode="r")
    run = small_run(epochs=2)
    run.train_config.max_device_bytes = 0
    res = Trainer(run, ds).train()
    assert res.status == "finished"
    assert run.history[1]["train_loss"] < run.history[0]["train_loss"]


def test_batch_sampler_shares_one_permutation_between_ranks():
    # the batch size is the global batch: each rank takes its slice of every one
    whole = BatchSampler(10, 4, seed=1)
    parts = [BatchSampler(10, 4, seed=1, rank=r, world_size=2) for r in range(2)]
    assert whole.steps_per_epoch == parts[0].steps_per_epoch == 3
    joined = torch.cat([p.order(4) for p in parts])
    assert len(set(joined.tolist())) == 10
    cpu = torch.device("cpu")
    ranks = [list(p.batches(torch.arange(10), 4, cpu)) for p in parts]
    for s, batch in enumerate(whole.batches(torch.arange(10), 4, cpu)):
        assert torch.equal(torch.cat([ranks[0][s], ranks[1][s]]), batch)
    whole = BatchSampler(10, 3, seed=1)
    data = torch.arange(10, dtype=torch.uint8)
    assert [b.tolist() for b in whole.batches(data, 4, torch.device("cpu"), start_step=2)] == \
        [whole.order(4)[6:9].tolist(), whole.order(4)[9:].tolist()]


def test_a_short_last_batch_counts_for_its_images():
    """Per-image mean losses, weighted by the batch's share: every step is Adam's step on the
    loss summed over the batch (the textbook's), the short last one included."""
    assert [BatchSampler(10, 4, seed=0).weight(s) for s in (1, 2, 3)] == [1.0, 1.0, 0.5]
    assert [BatchSampler(11, 4, seed=0, rank=r, world_size=2).weight(3) for r in range(2)] == [0.5, 0.5]
    ds = blob_dataset(90)
    n = len(ds.train)
    assert n % 32, "the data set must end an epoch with a short batch"
    run = small_run(epochs=1, batch_size=32, lr=1e-3)
    start = {k: v.clone() for k, v in run.model.state_dict().items()}
    Trainer(run, ds).train()

    # by hand: the summed loss, and Adam's eps scaled alike (Adam(c*g, c*eps) == Adam(g, eps))
    ref = small_run(epochs=1, batch_size=32, lr=1e-3)
    ref.model.load_state_dict(start)
    opt = torch.optim.Adam(ref.model.parameters(), lr=1e-3, eps=1e-8 * 32)
    sampler = BatchSampler(n, 32, seed=0)
    from vaestudio.core.batches import images_to_float
    from vaestudio.core.training import epoch_seed

    torch.manual_seed(epoch_seed(0, 0))
    ref.model.train()
    data = torch.from_numpy(ds.train.images)
    for xb in sampler.batches(data, 0, torch.device("cpu")):
        out = ref.model(images_to_float(xb))
        opt.zero_grad()
        (out["loss"] * xb.shape[0]).backward()
        opt.step()
    for k, v in run.model.state_dict().items():
        assert torch.allclose(v, ref.model.state_dict()[k], rtol=1e-4, atol=1e-6), k

def test_kl_warmup_is_linear():
    assert kl_weight(2.0, 0, 0.0) == 2.0
    assert kl_weight(2.0, 4, 0.0) == 0.0
    assert kl_weight(2.0, 4, 1.0) == pytest.approx(0.5)
    assert kl_weight(2.0, 4, 10.0) == 2.0

import threading

import numpy as np
import pytest
import torch

from helpers import blob_dataset
from vaestudio.core.config import ModelConfig, TrainConfig
from vaestudio.core.errors import TrainingError
from vaestudio.core.models import build_model
from vaestudio.core.training import Trainer, kl_weight


def small_model(kind="vae", size=12, **kw):
    torch.manual_seed(0)
    return build_model(ModelConfig(kind=kind, arch="mlp", image_shape=(1, size, size), latent_dim=2,
                                   hidden=(32,), **kw))


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_a_few_epochs_lower_the_loss(kind):
    ds = blob_dataset(600)
    events = []
    tr = Trainer(small_model(kind), ds, TrainConfig(epochs=4, batch_size=32, lr=3e-3, device="cpu"), [events.append])
    res = tr.run()
    assert res.status == "finished" and res.epochs_done == 4
    epochs = [e for e in events if e.kind == "epoch"]
    steps = [e for e in events if e.kind == "step"]
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert epochs[-1].train_loss < epochs[0].train_loss * 0.9
    assert epochs[-1].val_loss < epochs[0].val_loss
    assert steps and all(s.samples_per_s > 0 for s in steps)
    assert len(res.history) == 4 and res.samples_per_s > 0
    assert {"train_loss", "val_loss", "train_recon", "train_kl", "samples_per_s"} <= set(res.history[0])


def test_seeded_runs_are_reproducible_and_resume_matches():
    ds = blob_dataset(300)
    cfg = TrainConfig(epochs=2, batch_size=50, lr=1e-3, seed=5, device="cpu")
    a = small_model()
    Trainer(a, ds, cfg).run()
    b = small_model()
    Trainer(b, ds, cfg).run()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    # one epoch, then resume the second with the optimiser state: same weights as straight through
    c = small_model()
    t1 = Trainer(c, ds, TrainConfig(epochs=1, batch_size=50, lr=1e-3, seed=5, device="cpu"))
    t1.run()
    t2 = Trainer(c, ds, cfg, history=t1.history, optimizer_state=t1.optimizer.state_dict(), start_epoch=1)
    res = t2.run()
    assert res.epochs_done == 2 and len(res.history) == 2
    for pa, pc in zip(a.parameters(), c.parameters()):
        assert torch.allclose(pa, pc, atol=1e-6)


def test_pause_and_cancel_from_another_thread():
    ds = blob_dataset(2000)
    steps = []
    gate = threading.Event()

    def on_event(ev):
        if ev.kind == "step":
            steps.append(ev.step)
            gate.set()

    tr = Trainer(small_model(), ds, TrainConfig(epochs=50, batch_size=8, device="cpu"), [on_event])
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("r", tr.run()))
    th.start()
    assert gate.wait(10)
    tr.pause()
    assert tr.paused
    n_paused = len(steps)
    th.join(0.5)
    assert th.is_alive()
    # at most the batch in flight (one event) lands after pausing
    assert len(steps) <= n_paused + 1
    frozen = [p.detach().clone() for p in tr.model.parameters()]
    th.join(0.3)
    assert all(torch.equal(a, b) for a, b in zip(frozen, tr.model.parameters()))
    tr.resume()
    tr.cancel()
    th.join(10)
    assert not th.is_alive()
    assert result["r"].status == "cancelled"
    assert result["r"].epochs_done < 50


def test_non_finite_loss_stops_and_keeps_last_good_weights():
    ds = blob_dataset(200)
    model = small_model()
    tr = Trainer(model, ds, TrainConfig(epochs=1, batch_size=50, device="cpu"))
    assert tr.run().status == "finished"
    good = {k: v.clone() for k, v in model.state_dict().items()}
    # an absurd learning rate on a Gaussian likelihood with a tiny sigma blows up
    tr2 = Trainer(model, ds, TrainConfig(epochs=3, batch_size=50, lr=1e12, device="cpu"),
                  history=tr.history, start_epoch=1)
    res = tr2.run()
    assert res.status == "diverged"
    assert "non-finite" in res.message
    assert res.epochs_done == 1
    for k, v in model.state_dict().items():
        assert torch.equal(v, good[k]), k
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_shape_mismatch_is_a_clear_error():
    ds = blob_dataset(50, size=12)
    with pytest.raises(TrainingError, match="expects images of shape"):
        Trainer(small_model(size=8), ds, TrainConfig(epochs=1, device="cpu"))


def test_out_of_device_memmap_path(tmp_path):
    ds = blob_dataset(300)
    path = tmp_path / "imgs.npy"
    np.save(path, ds.train.images)
    ds.train.images = np.load(path, mmap_mode="r")
    tr = Trainer(small_model(), ds, TrainConfig(epochs=2, batch_size=32, lr=3e-3, device="cpu", max_device_bytes=0))
    res = tr.run()
    assert res.status == "finished"
    assert res.history[1]["train_loss"] < res.history[0]["train_loss"]


def test_kl_warmup_is_linear():
    assert kl_weight(2.0, 0, 0.0) == 2.0
    assert kl_weight(2.0, 4, 0.0) == 0.0
    assert kl_weight(2.0, 4, 1.0) == pytest.approx(0.5)
    assert kl_weight(2.0, 4, 10.0) == 2.0

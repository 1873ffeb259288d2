"""The `vae-gan` kind: it trains, keeps all three networks and optimisers, resumes exactly, and its
gating and optimiser split do what they say."""
import math

import pytest
import torch

from helpers import blob_dataset
from vaestudio.core.checkpoint import read_run, write_run
from vaestudio.core.config import TrainConfig, estimate_parameters
from vaestudio.core.kinds import StepContext, build_model, get_kind, make_model_config
from vaestudio.core.kinds.vae_gan import NETWORKS, gate
from vaestudio.core.metrics import evaluate
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer

KIND = get_kind("vae-gan")


def cfg_of(arch="mlp", **kw):
    return make_model_config(kind="vae-gan", arch=arch, image_shape=(1, 12, 12), latent_dim=2, hidden=(32,),
                             conv_width=4, **kw)


def small_run(arch="mlp", epochs=2, batch_size=32, seed=0, lr=3e-3, **kw) -> Run:
    return Run.new(cfg_of(arch, **kw), TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                                                   device="cpu"))


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_trains_with_finite_terms_and_the_reconstruction_falls(arch):
    ds = blob_dataset(600)
    run = small_run(arch)
    start = {k: v.clone() for k, v in run.model.state_dict().items()}
    events = []
    res = Trainer(run, ds, [events.append]).train()
    assert res.status == "finished" and run.epochs_done == 2
    names = {"loss", "recon_feature", "kl", "gan_g", "gan_d", "recon"}
    steps = [e for e in events if e.kind == "step"]
    assert set(steps[0].terms) == names
    for rec in run.history:
        for n in names:
            assert math.isfinite(rec[f"train_{n}"]) and math.isfinite(rec[f"val_{n}"]), n
        assert 0 < rec["d_update_rate"] <= 1 and 0 < rec["g_update_rate"] <= 1
        assert {"d_real_loss", "d_fake_loss"} <= set(rec)
    # the first logged point (after a step or so) against the end of epoch 2
    first = run.curve[0]
    assert run.history[-1]["train_recon"] < 0.8 * first["recon"]
    # Dis_l is a moving metric (D trains too), so measure the feature reconstruction with the
    # trained discriminator: the trained encoder and decoder against those they started from
    untrained = build_model(run.model_config)
    untrained.load_state_dict({k: (v if k.startswith("discriminator.") else start[k])
                               for k, v in run.model.state_dict().items()})
    x = torch.from_numpy(ds.validation.images[:100]).float() / 255
    with torch.no_grad():
        torch.manual_seed(0)
        trained = run.model.eval()(x)["recon_feature"]
        torch.manual_seed(0)
        before = untrained.eval()(x)["recon_feature"]
    assert trained < 0.5 * before
    assert run.history[-1]["val_recon"] < run.history[0]["val_recon"]
    # evaluate reports the pixel -ELBO like a VAE
    ev = evaluate(run.model, ds.test.images, device="cpu")
    assert set(ev) == {"neg_elbo", "recon", "kl", "n"}
    assert ev["neg_elbo"] == pytest.approx(ev["recon"] + ev["kl"], rel=1e-5)


def _by_name(model):
    return {id(p): name for name, p in model.named_parameters()}


def test_each_network_has_its_own_optimiser_and_rate():
    cfg = cfg_of(likelihood="gaussian", gaussian_sigma=None, encoder_lr_scale=2.0, decoder_lr_scale=1.0,
                 discriminator_lr_scale=0.25)
    model = build_model(cfg)
    opts = KIND.optimizers(model, TrainConfig(lr=1e-3, device="cpu"), torch.device("cpu"))
    assert tuple(opts) == NETWORKS
    names = _by_name(model)
    owned = {k: {names[id(p)] for g in o.param_groups for p in g["params"]} for k, o in opts.items()}
    everything = set(names.values())
    assert set().union(*owned.values()) == everything
    assert sum(len(v) for v in owned.values()) == len(everything)  # no parameter in two optimisers
    disc = {n for n in everything if n.startswith("discriminator.")}
    assert disc and owned["discriminator"] == disc
    assert all(n.startswith("encoder.") for n in owned["encoder"])
    assert owned["decoder"] == {n for n in everything if n.startswith("decoder.")} | {"log_sigma"}
    assert {k: o.param_groups[0]["lr"] for k, o in opts.items()} == {
        "encoder": 2e-3, "decoder": 1e-3, "discriminator": 2.5e-4}
    # the trainer keeps those rates (it sets each optimiser's rate from the kind on every start)
    run = Run.new(cfg, TrainConfig(epochs=1, batch_size=32, lr=1e-3, device="cpu"))
    tr = Trainer(run, blob_dataset(100))
    assert {k: o.param_groups[0]["lr"] for k, o in tr.optimizers.items()} == {
        "encoder": 2e-3, "decoder": 1e-3, "discriminator": 2.5e-4}


def test_the_parameter_estimate_counts_the_discriminator():
    for arch in ("mlp", "conv"):
        cfg = cfg_of(arch)
        vae = make_model_config(kind="vae", arch=arch, image_shape=(1, 12, 12), latent_dim=2, hidden=(32,),
                                conv_width=4)
        model = build_model(cfg)
        d = sum(p.numel() for p in model.discriminator.parameters())
        assert estimate_parameters(cfg) - estimate_parameters(vae) == d
        assert estimate_parameters(cfg) >= sum(p.numel() for p in model.parameters())


def test_gating_rule():
    eq, m = 0.68, 0.35
    assert gate(0.7, 0.7, eq, m) == (True, True)  # balanced: both train
    assert gate(0.2, 0.7, eq, m) == (False, True)  # D wins too easily on real images: D rests
    assert gate(0.7, 0.2, eq, m) == (False, True)  # ... or on fakes
    assert gate(1.2, 0.7, eq, m) == (True, False)  # D loses badly: the decoder rests
    assert gate(0.7, 1.2, eq, m) == (True, False)
    assert gate(0.2, 1.2, eq, m) == (True, True)  # both would rest: both train
    assert gate(5.0, 5.0, eq, 100.0) == (True, True)  # a huge margin: no gating


@pytest.mark.parametrize("equilibrium,rests", [(10.0, "discriminator"), (0.0, "decoder"), (0.68, None)])
def test_gating_skips_the_resting_networks_update(equilibrium, rests):
    # margin 0: an equilibrium above every loss makes D "win too easily", one of 0 makes it "lose"
    cfg = cfg_of(equilibrium=equilibrium, margin=0.0 if rests else 100.0)
    torch.manual_seed(0)
    model = build_model(cfg)
    opts = KIND.optimizers(model, TrainConfig(lr=1e-2, device="cpu"), torch.device("cpu"))
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    ctx = StepContext(0.0)
    out = KIND.train_step(model, torch.rand(16, 1, 12, 12), opts, ctx, cfg)
    assert set(out) == set(KIND.term_names()) | {"neg_elbo"}
    after = dict(model.named_parameters())

    def changed(prefix):  # the weights, not spectral norm's buffers (its power iteration runs regardless)
        return any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix))

    assert changed("encoder.")  # the encoder always trains
    assert changed("decoder.") == (rests != "decoder")
    assert changed("discriminator.") == (rests != "discriminator")
    assert ctx.extras["d_update_rate"] == (0.0 if rests == "discriminator" else 1.0)
    assert ctx.extras["g_update_rate"] == (0.0 if rests == "decoder" else 1.0)


def test_checkpoint_keeps_all_three_networks_and_optimisers(tmp_path):
    ds = blob_dataset(200)
    run = small_run("conv", epochs=1)
    Trainer(run, ds).train()
    path = write_run(tmp_path / "run.pt", run)
    back = read_run(path)
    sd, sd2 = run.model.state_dict(), back.model.state_dict()
    assert set(sd) == set(sd2)
    for prefix in ("encoder.", "decoder.", "discriminator."):
        assert any(k.startswith(prefix) for k in sd2)
    assert any(k.endswith("._u") for k in sd2)  # spectral norm's power-iteration vectors
    for k in sd:
        assert torch.equal(sd[k], sd2[k]), k
    assert set(back.optimizer_states) == set(NETWORKS)
    for name in NETWORKS:
        a, b = run.optimizer_states[name], back.optimizer_states[name]
        assert a["state"] and len(a["state"]) == len(b["state"])
        for pid, entry in a["state"].items():
            for key, v in entry.items():
                assert torch.equal(torch.as_tensor(v), torch.as_tensor(b["state"][pid][key])), (name, key)
    # the same outputs, spectral norm included, after loading and in the window's frozen copy
    x = torch.rand(4, 1, 12, 12)
    twin = run.model.cpu_copy()
    with torch.no_grad():
        f1, d1 = run.model.eval().discriminator(x)
        f2, d2 = back.model.eval().discriminator(x)
        f3, d3 = twin.discriminator(x)
    assert torch.equal(d1, d2) and torch.equal(f1, f2) and torch.equal(d1, d3)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_cancel_mid_epoch_then_resume_is_bitwise(tmp_path, arch):
    ds = blob_dataset(500)  # 400 training images: 10 steps of 40
    straight = small_run(arch, epochs=2, batch_size=40, seed=3)
    Trainer(straight, ds).train()

    run = small_run(arch, epochs=2, batch_size=40, seed=3)
    trainer = None

    def stop_in_epoch_two(ev):
        if ev.kind == "step" and ev.epoch == 2 and ev.step == 3:
            trainer.cancel()

    trainer = Trainer(run, ds, [stop_in_epoch_two])
    import vaestudio.core.training as training
    old = training.EVENT_INTERVAL_S
    training.EVENT_INTERVAL_S = 0.0
    try:
        res = trainer.train()
    finally:
        training.EVENT_INTERVAL_S = old
    assert res.status == "cancelled" and run.progress.epoch == 1 and run.progress.step == 3
    write_run(tmp_path / "stopped.pt", run)
    again = read_run(tmp_path / "stopped.pt")
    Trainer(again, ds).train()
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, again.model.state_dict()[k]), k
    for name in NETWORKS:
        for pid, entry in straight.optimizer_states[name]["state"].items():
            for key, v in entry.items():
                assert torch.equal(torch.as_tensor(v), torch.as_tensor(again.optimizer_states[name]["state"][pid][key]))
    strip = lambda h: {k: v for k, v in h.items() if k not in ("samples_per_s", "seconds", "epoch_samples_per_s")}  # noqa: E731
    assert [strip(h) for h in again.history] == [strip(h) for h in straight.history]

"""The `dfc-vae` kind: a VAE whose reconstruction compares feature maps of a frozen network."""
import dataclasses
import json
import math

import pytest
import torch

from helpers import blob_dataset, one_line, run_cli, train_tiny_run
from vaestudio.core.checkpoint import read_run, write_run
from vaestudio.core.config import TrainConfig
from vaestudio.core.errors import ConfigError
from vaestudio.core.kinds import get_kind, make_model_config
from vaestudio.core.kinds import dfc_vae
from vaestudio.core.kinds.dfc_vae import FeatureNet
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer

KIND = get_kind("dfc-vae")


def dfc_run(arch="mlp", channels=1, size=12, epochs=2, batch_size=40, seed=0, **kw) -> Run:
    cfg = make_model_config(kind="dfc-vae", arch=arch, image_shape=(channels, size, size), latent_dim=2,
                            hidden=(32,), conv_width=8, likelihood="bernoulli", **kw)
    return Run.new(cfg, TrainConfig(epochs=epochs, batch_size=batch_size, lr=3e-3, seed=seed, device="cpu"))


def features_state(model) -> dict:
    return {k: v.clone() for k, v in model.features.state_dict().items()}


@pytest.mark.parametrize("arch,channels", [("mlp", 1), ("conv", 3)])
def test_trains_with_frozen_features_and_lowers_the_loss(arch, channels):
    ds = blob_dataset(500, size=16, channels=channels)
    run = dfc_run(arch, channels, size=16)
    assert not run.model.features.prepared
    KIND.prepare(run, ds, torch.device("cpu"))  # what the trainer does first; then a no-op there
    assert run.model.features.prepared and run.extra["feature_net"]["network"] == "learned"
    assert "4 labels" in run.extra["feature_net"]["task"]
    feats, before = run.model.features, features_state(run.model)
    assert all(not p.requires_grad for p in feats.parameters())
    trainer = Trainer(run, ds)
    in_optimisers = {id(p) for opt in trainer.optimizers.values() for g in opt.param_groups for p in g["params"]}
    assert not in_optimisers & {id(p) for p in feats.parameters()}
    assert in_optimisers == {id(p) for n, p in run.model.named_parameters() if not n.startswith("features.")}
    res = trainer.train()
    assert res.status == "finished" and len(run.history) == 2
    for h in run.history:
        for t in ("loss", "recon", "perceptual", "kl"):
            assert math.isfinite(h[f"train_{t}"]) and math.isfinite(h[f"val_{t}"]), (t, h)
    assert run.history[1]["train_loss"] < run.history[0]["train_loss"]
    assert run.model.features is feats  # never replaced nor trained
    for k, v in features_state(run.model).items():
        assert torch.equal(v, before[k]), k
    x = torch.rand(5, channels, 16, 16)
    out = KIND.evaluation_terms(run.model, x, run.model_config)
    assert set(out) == {"neg_elbo", "recon", "kl", "perceptual"}
    assert torch.allclose(out["neg_elbo"], out["recon"] + out["kl"])


@pytest.mark.parametrize("channels,size", [(1, 28), (3, 64), (3, 28), (1, 64)])
def test_learned_feature_net_takes_one_or_three_channels_and_28_to_64_pixels(channels, size):
    net = FeatureNet("learned", channels)
    maps = net(torch.rand(2, channels, size, size))
    assert [m.shape[1] for m in maps] == [16, 32, 64] and maps[0].shape[-1] == size
    d = net.distance(torch.rand(2, channels, size, size), torch.rand(2, channels, size, size))
    assert d.shape == (2,) and bool((d > 0).all())
    vgg = FeatureNet("vgg19", channels)  # grey repeated to RGB; a 28x28 image is upsampled to 56x56
    assert vgg.prep(torch.rand(1, channels, size, size)).shape[1:] == (3,) + ((56, 56) if size == 28 else (64, 64))


def test_checkpoint_round_trip_keeps_the_feature_net_and_never_retrains(tmp_path, monkeypatch):
    ds = blob_dataset(300)
    run = dfc_run(epochs=1, batch_size=50)
    Trainer(run, ds).train()
    write_run(tmp_path / "r.pt", run)
    again = read_run(tmp_path / "r.pt")
    state, saved = run.model.state_dict(), again.model.state_dict()
    assert set(state) == set(saved) and any(k.startswith("features.") for k in saved)
    for k, v in state.items():
        assert torch.equal(v, saved[k]), k
    assert again.model.features.prepared and again.extra == run.extra
    assert "feature network: learned" in again.describe() and "a classifier of its 4 labels" in again.describe()

    def no_retraining(*a, **k):
        raise AssertionError("the feature network was trained again")

    monkeypatch.setattr(dfc_vae, "_learn_features", no_retraining)
    again.set_target(2)
    assert Trainer(again, ds).train().status == "finished"
    for k, v in features_state(run.model).items():
        assert torch.equal(v, again.model.features.state_dict()[k]), k


def test_mid_epoch_resume_is_bitwise_equal_to_an_uninterrupted_run(tmp_path):
    ds = blob_dataset(500)  # 400 training images: 10 steps of 40
    straight = dfc_run(epochs=2, seed=3, kl_warmup_epochs=1)
    Trainer(straight, ds).train()

    run = dfc_run(epochs=2, seed=3, kl_warmup_epochs=1)
    trainer = None

    def stop_in_epoch_two(ev):
        if ev.kind == "step" and ev.epoch == 2:
            trainer.cancel()

    trainer = Trainer(run, ds, [stop_in_epoch_two])
    import vaestudio.core.training as training
    old, training.EVENT_INTERVAL_S = training.EVENT_INTERVAL_S, 0.0
    try:
        res = trainer.train()
    finally:
        training.EVENT_INTERVAL_S = old
    assert res.status == "cancelled" and run.progress.epoch == 1 and run.progress.step == 1
    run.save(tmp_path / "stopped.pt")
    again = Run.load(tmp_path / "stopped.pt")
    Trainer(again, ds).train()
    a, b = straight.model.state_dict(), again.model.state_dict()
    assert set(a) == set(b)
    for k, v in a.items():
        assert torch.equal(v, b[k]), k
    assert again.history[1]["train_loss"] == straight.history[1]["train_loss"]


def test_snapshots_share_the_feature_net_and_saving_one_writes_it(tmp_path):
    ds = blob_dataset(200)
    run = dfc_run(epochs=1, batch_size=50)
    early = run.snapshot()  # e.g. the window's copy of a new model, before training prepares it
    Trainer(run, ds).train()
    assert not early.model.features.prepared  # preparing replaced the run's net; the copy kept its own
    snap = run.snapshot()
    assert snap.model.features is run.model.features  # shared, not copied
    w = "features.body.0.weight"
    assert snap.model.state_dict()[w].data_ptr() == run.model.state_dict()[w].data_ptr()
    enc = "encoder.head.weight"
    assert snap.model.state_dict()[enc].data_ptr() != run.model.state_dict()[enc].data_ptr()  # copied
    assert all(not p.requires_grad for p in snap.model.parameters())
    kept = snap.model.state_dict()[w].clone()
    # loading other feature weights into the run's model replaces its net; the snapshot keeps the old one
    run.model.load_state_dict({k: (v + 1 if k == w else v) for k, v in run.model.state_dict().items()})
    assert torch.equal(run.model.state_dict()[w], kept + 1) and torch.equal(snap.model.state_dict()[w], kept)
    # so does the run's model converting itself (as `.to(device)` would)
    snap = run.snapshot()
    assert snap.model.features is run.model.features
    run.model.to(torch.float64)
    assert snap.model.features.body[0].weight.dtype == torch.float32
    assert run.model.features.body[0].weight.dtype == torch.float64
    path = snap.save(tmp_path / "snap.pt")  # File > Save from a snapshot
    saved = torch.load(path, weights_only=True)["state_dict"]
    assert any(k.startswith("features.") for k in saved)
    assert torch.equal(saved[w], kept + 1)
    assert read_run(path).model.features.prepared


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_snapshots_of_a_gpu_model_reuse_one_cpu_copy_of_the_feature_net():
    ds = blob_dataset(200)
    run = dfc_run(epochs=1, batch_size=50)
    run.train_config.device = "cuda"
    Trainer(run, ds).train()
    a, b = run.snapshot(), run.snapshot()
    assert a.model.features is b.model.features
    assert next(a.model.features.parameters()).device.type == "cpu"
    assert next(run.model.features.parameters()).device.type == "cuda"


def vgg_path(torch_home):
    return torch_home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"


def test_a_missing_vgg_file_is_one_clear_line_naming_where_to_put_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    run = dfc_run(feature_net="vgg19")
    with pytest.raises(ConfigError) as e:
        Trainer(run, blob_dataset(100)).train()
    msg = str(e.value)
    assert "\n" not in msg and str(vgg_path(tmp_path / "th")) in msg and "--download" in msg
    assert not run.model.features.prepared and not run.history

    from helpers import write_mnist_folder
    write_mnist_folder(tmp_path / "data", n_train=100, n_test=20)
    rc, err = run_cli(["train", "--dataset", "mnist", "--data-root", str(tmp_path / "data"), "--model", "dfc-vae",
                       "--feature-net", "vgg19", "--hidden", "8", "--epochs", "1", "--out", str(tmp_path / "r")], capsys)
    one_line(rc, err, str(vgg_path(tmp_path / "th")), progress_before=True)


def test_without_vgg_weights_the_kind_names_the_learned_network_as_the_offline_alternative(tmp_path, monkeypatch):
    from vaestudio.core.kinds import kind_of

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    cfg = dfc_run(feature_net="vgg19").model_config
    why, other = kind_of(cfg).offline_alternative(cfg)
    assert str(vgg_path(tmp_path / "th")) in why and other.feature_net == "learned"
    assert dataclasses.replace(other, feature_net="vgg19") == cfg  # nothing else changed
    assert kind_of(other).offline_alternative(other) is None
    vgg_path(tmp_path / "th").parent.mkdir(parents=True)
    vgg_path(tmp_path / "th").write_bytes(b"present")
    assert kind_of(cfg).offline_alternative(cfg) is None  # the file is there: nothing to offer
    vae = make_model_config(kind="vae")
    assert kind_of(vae).offline_alternative(vae) is None


def test_vgg19_weights_from_disk_are_used_and_named(tmp_path, monkeypatch):
    """A stand-in for torchvision's file (same names and shapes, random values)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    torch.manual_seed(0)
    net = FeatureNet("vgg19", 3)
    fake = {f"features.{k[len('body.'):]}": v.clone() for k, v in net.state_dict().items() if k.startswith("body.")}
    fake["classifier.0.weight"] = torch.zeros(2, 2)
    vgg_path(tmp_path / "th").parent.mkdir(parents=True)
    torch.save(fake, vgg_path(tmp_path / "th"))
    run = dfc_run(feature_net="vgg19", size=8, epochs=1, batch_size=16)
    ds = blob_dataset(40, size=8)
    assert Trainer(run, ds).train().status == "finished"
    assert torch.equal(run.model.features.body[0].weight, fake["features.0.weight"])
    assert math.isfinite(run.history[0]["train_perceptual"])
    text = run.describe()
    assert "vgg19 (ImageNet weights), layers relu1_1, relu2_1, relu3_1" in text
    assert str(vgg_path(tmp_path / "th")) in text


def test_settings_are_bounded_and_choices_checked(capsys):
    with pytest.raises(ConfigError, match="one of learned, vgg19"):
        make_model_config(kind="dfc-vae", feature_net="resnet")
    with pytest.raises(ConfigError, match="cannot both be 0"):
        make_model_config(kind="dfc-vae", perceptual_weight=0.0, pixel_weight=0.0)
    with pytest.raises(ConfigError, match="within"):
        make_model_config(kind="dfc-vae", perceptual_weight=-1.0)
    rc, err = run_cli(["train", "--model", "dfc-vae", "--feature-net", "resnet", "--out", "x"], capsys)
    assert rc == 2 and any("--feature-net" in line and "resnet" in line for line in err)


def test_cli_trains_and_info_names_the_feature_network(tmp_path_factory, capsys):
    from vaestudio.cli import main

    out = train_tiny_run(tmp_path_factory, 300, 60, "--model", "dfc-vae", "--pixel-weight", "0")
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "dfc-vae" in text and "feature network: learned" in text and "a classifier of its 4 labels" in text
    assert "pixel_weight 0.0" in text
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["loss_terms"] == ["loss", "recon", "perceptual", "kl"]
    assert "trained as a classifier" in info["facts"]["feature network"]


def test_the_window_form_offers_the_choice_and_the_path(qtbot):
    from vaestudio.gui.model_form import ModelSettingsForm

    form = ModelSettingsForm()
    qtbot.addWidget(form)
    cfg = make_model_config(kind="dfc-vae", arch="conv", image_shape=(3, 64, 64), latent_dim=8, conv_width=8,
                            likelihood="gaussian", feature_net="vgg19", vgg_weights="/w/vgg19.pth",
                            perceptual_weight=2.0, pixel_weight=0.0)
    form.set_model_config(cfg)
    assert form.model_config((3, 64, 64)) == cfg
    combo, kinds = form.options["feature_net"]
    assert kinds == {"dfc-vae"} and not combo.isHidden() and combo.value() == "vgg19"
    combo.setValue("learned")
    assert form.model_config((3, 64, 64)).feature_net == "learned"
    names = [p.name for p in form.presets()]
    assert "Faces DFC-VAE (conv, 64x64)" in names and "Digits DFC-VAE (MLP, 2-D)" in names

"""`--precision`: fp32 unchanged bit for bit, bf16 / fp16 under autocast, and the hand-written
autograd functions under autocast (they run in float32 inside: inputs upcast, autocast off)."""
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from helpers import blob_dataset, one_line, run_cli, write_mnist_folder
from vaestudio.core.batches import images_to_float
from vaestudio.core.config import TrainConfig
from vaestudio.core.errors import ConfigError
from vaestudio.core.kinds import StepContext, make_model_config
from vaestudio.core.models import bernoulli_nll, kl_normal, sample_and_kl
from vaestudio.core.precision import Precision
from vaestudio.core.run import Run
from vaestudio.core.training import BatchSampler, Trainer, epoch_seed

CUDA = torch.cuda.is_available()


def tiny_run(kind="vae", arch="mlp", precision="fp32", epochs=1, size=12, channels=1, device="cpu", **kw) -> Run:
    extra = {"hidden": (32,)} if arch == "mlp" else {"conv_width": 4}
    cfg = make_model_config(kind=kind, arch=arch, image_shape=(channels, size, size), latent_dim=3, **extra, **kw)
    return Run.new(cfg, TrainConfig(epochs=epochs, batch_size=50, lr=3e-3, seed=0, device=device,
                                    precision=precision))


# -- the setting ---------------------------------------------------------------------------------

def test_precision_is_a_bounded_setting_that_old_runs_read_as_fp32():
    assert TrainConfig().precision == "fp32"
    assert TrainConfig(precision="bf16").to_dict()["precision"] == "bf16"
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(precision="fp64")
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(precision=["bf16"])
    old = TrainConfig().to_dict()
    del old["precision"]  # a checkpoint written before the setting existed
    assert TrainConfig.from_dict(old).precision == "fp32"


def test_the_precision_is_saved_with_the_run(tmp_path):
    run = tiny_run(precision="bf16")
    run.save(tmp_path / "model.pt")
    assert Run.load(tmp_path / "model.pt").train_config.precision == "bf16"


# -- the custom autograd functions under autocast ----------------------------------------------------

def test_bernoulli_nll_under_bf16_autocast_matches_fp32_gradients():
    torch.manual_seed(0)
    logits32 = torch.randn(8, 1, 6, 6) * 3
    x = (torch.rand(8, 1, 6, 6) > 0.5).float()
    logits = logits32.to(torch.bfloat16).requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        nll = bernoulli_nll(logits, x)
    assert nll.dtype == torch.float32  # computed in float32, not bf16
    nll.sum().backward()
    assert logits.grad.dtype == torch.bfloat16
    # the reference: torch's own loss in fp32 on the same (bf16-rounded) logits
    ref_in = logits.detach().float().requires_grad_()
    ref = F.binary_cross_entropy_with_logits(ref_in, x, reduction="none").flatten(1).sum(1)
    ref.sum().backward()
    torch.testing.assert_close(nll.detach(), ref.detach(), rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(logits.grad.float(), ref_in.grad, rtol=1e-2, atol=1e-2)


def test_sample_and_kl_under_bf16_autocast_matches_fp32_gradients():
    torch.manual_seed(1)
    mu = (torch.randn(16, 4)).to(torch.bfloat16).requires_grad_()
    logvar = (torch.randn(16, 4) * 0.5).to(torch.bfloat16).requires_grad_()
    torch.manual_seed(2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        z, kl = sample_and_kl(mu, logvar)
    assert z.dtype == kl.dtype == torch.float32
    (z.square().sum() + kl.sum()).backward()
    # the textbook expressions in fp32 with the same noise
    m, lv = mu.detach().float().requires_grad_(), logvar.detach().float().requires_grad_()
    torch.manual_seed(2)
    eps = torch.randn_like(m)
    z_ref = m + eps * (0.5 * lv).exp()
    kl_ref = kl_normal(m, lv)
    (z_ref.square().sum() + kl_ref.sum()).backward()
    torch.testing.assert_close(z.detach(), z_ref.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(kl.detach(), kl_ref.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mu.grad.float(), m.grad, rtol=1e-2, atol=1e-2)
    torch.testing.assert_close(logvar.grad.float(), lv.grad, rtol=1e-2, atol=1e-2)


def test_a_vae_step_under_bf16_gives_the_gradients_of_the_textbook_step():
    """The fused functions against the plain textbook expressions, both under bf16 autocast,
    same weights and noise: the gradients agree to bf16's precision."""
    run = tiny_run()
    model = run.model
    x = images_to_float(torch.from_numpy(blob_dataset(64).train.images[:64]))
    grads = {}
    for fast in (True, False):
        model.fast = fast
        model.zero_grad(set_to_none=True)
        torch.manual_seed(3)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x)
        out["loss"].backward()
        grads[fast] = torch.cat([p.grad.flatten() for p in model.parameters()])
    model.fast = True
    a, b = grads[True], grads[False]
    assert torch.isfinite(a).all()
    assert float(F.cosine_similarity(a, b, dim=0)) > 0.99
    assert float((a - b).norm() / b.norm()) < 0.1


# -- training -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("kind,arch", [("vae", "mlp"), ("vae", "conv"), ("vae-gan", "mlp")])
def test_mixed_precision_trains_with_a_finite_loss_under_autocast(kind, arch, precision):
    channels = 3 if arch == "conv" else 1
    ds = blob_dataset(200, size=16 if arch == "conv" else 12, channels=channels)
    run = tiny_run(kind, arch, precision, size=16 if arch == "conv" else 12, channels=channels)
    seen = []
    layer = run.model.decoder.body[0] if arch == "mlp" else run.model.decoder.fc
    layer.register_forward_hook(lambda m, i, o: seen.append(o.dtype) if torch.is_grad_enabled() else None)
    res = Trainer(run, ds).train()
    assert res.status == "finished", res.message
    assert seen and set(seen) == {getattr(torch, {"bf16": "bfloat16", "fp16": "float16"}[precision])}
    rec = run.history[-1]
    assert np.isfinite(rec["train_loss"]) and np.isfinite(rec["val_loss"])
    # the weights and optimiser states stay fp32
    assert all(p.dtype == torch.float32 for p in run.model.parameters())


def test_fp32_training_is_bit_identical_to_the_plain_loop():
    """The trainer's fp32 step is the step it always was: the kind's train_step with no autocast
    and no scaler, on the same batches and seeds."""
    ds = blob_dataset(200)
    run = tiny_run(epochs=1)
    ref = tiny_run(epochs=1)
    ref.model.load_state_dict(run.model.state_dict())
    Trainer(run, ds).train()
    kind, mcfg = ref.kind, ref.model_config
    opts = kind.optimizers(ref.model, ref.train_config, torch.device("cpu"))
    sampler = BatchSampler(len(ds.train), 50, 0)
    data = torch.from_numpy(ds.train.images)
    torch.manual_seed(epoch_seed(0, 0))
    ref.model.train()
    for step, xb in enumerate(sampler.batches(data, 0, torch.device("cpu")), start=1):
        kind.train_step(ref.model, images_to_float(xb), opts,
                        StepContext((step - 1) / sampler.steps_per_epoch, weight=sampler.weight(step)), mcfg)
    for k, v in run.model.state_dict().items():
        assert torch.equal(v, ref.model.state_dict()[k]), k


def test_fp16_scaler_skips_a_step_whose_gradients_overflow():
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([p], lr=0.1)
    prec = Precision("fp16", "cpu")
    ctx = StepContext(0.0, precision=prec)
    ctx.backward((p * float("inf")).sum())
    ctx.step(opt)
    prec.update()
    assert torch.equal(p.detach(), torch.ones(3))  # the overflowing step was skipped, not applied
    opt.zero_grad()
    ctx.backward((p * 2).sum())
    ctx.step(opt)
    prec.update()
    assert not torch.equal(p.detach(), torch.ones(3))


# -- the CLI ----------------------------------------------------------------------------------------

def test_cli_records_the_precision_and_refuses_a_mismatch_on_resume(tmp_path, capsys):
    root = tmp_path / "data"
    write_mnist_folder(root, n_train=200, n_test=40)
    out = tmp_path / "run"
    common = ["--dataset", "mnist", "--data-root", str(root), "--device", "cpu", "--out", str(out)]
    rc, err = run_cli(["train", *common, "--hidden", "16", "--epochs", "1", "--batch-size", "50",
                       "--precision", "bf16"], capsys)
    assert rc == 0, err
    assert Run.load(out).train_config.precision == "bf16"
    rc, err = run_cli(["train", *common, "--resume", "--epochs", "2", "--precision", "fp32"], capsys)
    one_line(rc, err, "--precision fp32", "bf16")
    rc, err = run_cli(["train", *common, "--resume", "--epochs", "2"], capsys)  # the run's own: bf16
    assert rc == 0, err
    again = Run.load(out)
    assert again.train_config.precision == "bf16" and again.epochs_done == 2
    rc, err = run_cli(["train", *common, "--precision", "fp8"], capsys)
    assert rc == 2 and any("--precision" in line for line in err)


# -- CUDA (real checks on a GPU; skipped without one) ---------------------------------------------------

@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_cuda_conv_step_is_channels_last_and_never_syncs_the_host(precision):
    run = tiny_run("vae", "conv", precision, size=16, channels=3, device="cuda")
    trainer = Trainer(run, blob_dataset(200, size=16, channels=3))
    assert run.model.encoder.body[0].weight.is_contiguous(memory_format=torch.channels_last)
    prec = trainer.precision
    x = prec.prepare_batch(torch.rand(50, 3, 16, 16, device="cuda"), "conv")
    for i in range(3):  # warm-up allocations and the scaler's first step outside the check
        with prec.autocast():
            run.kind.train_step(trainer.module, x, trainer.optimizers, StepContext(0.0, precision=prec),
                                run.model_config)
        prec.update()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        with prec.autocast():
            out = run.kind.train_step(trainer.module, x, trainer.optimizers, StepContext(0.1, precision=prec),
                                      run.model_config)
        prec.update()  # fp16: the scale adjusts on the device from the fused step's inf flag
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert torch.isfinite(out["loss"]).item()


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_cuda_bf16_training_finishes_with_finite_weights():
    run = tiny_run("vae", "conv", "bf16", size=16, channels=3, device="cuda", epochs=2)
    res = Trainer(run, blob_dataset(200, size=16, channels=3)).train()
    assert res.status == "finished" and res.epoch_samples_per_s > 0
    assert all(torch.isfinite(p).all() for p in run.model.parameters())


# -- the window's form ---------------------------------------------------------------------------------

def test_the_form_names_the_gpu_and_carries_the_precision(qtbot, monkeypatch):
    from vaestudio.core import device as core_device
    from vaestudio.gui.model_form import ModelSettingsForm

    monkeypatch.setattr(core_device, "cuda_labels", lambda: ["GPU 0: NVIDIA H100 80GB HBM3 (79 GB)"])
    form = ModelSettingsForm()
    qtbot.addWidget(form)
    i = form.device.findData("cuda")
    assert form.device.itemText(i) == "GPU 0: NVIDIA H100 80GB HBM3 (79 GB)"
    assert "NVIDIA H100" in form.device.toolTip()
    tcfg = TrainConfig(epochs=3, batch_size=64, lr=0.0005, device="cuda", precision="bf16")
    form.set_train_config(tcfg)
    assert form.train_config() == tcfg
    form.set_model_locked(True)  # a model keeps the precision it was created with
    assert not form.precision.isEnabled()

    monkeypatch.setattr(core_device, "cuda_labels", lambda: [])
    plain = ModelSettingsForm()
    qtbot.addWidget(plain)
    assert plain.device.itemText(plain.device.findData("cuda")) == "CUDA GPU"
    assert "no CUDA GPU" in plain.device.toolTip()


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_cuda_labels_name_the_real_gpu_and_its_memory():
    from vaestudio.core.device import cuda_labels, describe_device

    labels = cuda_labels()
    assert labels and labels[0].startswith("GPU 0: ") and labels[0].endswith(" GB)")
    assert torch.cuda.get_device_name(0) in labels[0]
    assert torch.cuda.get_device_name(0) in describe_device(torch.device("cuda"))

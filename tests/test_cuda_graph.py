"""`--cuda-graph`: where it applies, what it refuses, and on a GPU that the replayed step trains
as the plain one does."""
from __future__ import annotations

import pytest
import torch

from helpers import blob_dataset, run_cli, write_mnist_folder
from vaestudio.core import cuda_graph
from vaestudio.core.config import TrainConfig
from vaestudio.core.kinds import CUDA_GRAPH, StepContext, get_kind, make_model_config
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer

CUDA = torch.cuda.is_available()


def vae_run(device="cpu", epochs=2, batch_size=50, **kw) -> Run:
    cfg = make_model_config(kind="vae", arch="mlp", image_shape=(1, 12, 12), latent_dim=3, hidden=(32,),
                            kl_warmup_epochs=1, **kw)
    return Run.new(cfg, TrainConfig(epochs=epochs, batch_size=batch_size, lr=3e-3, seed=0, device=device))


def test_which_kinds_settings_and_devices_may_capture_the_step():
    cuda = torch.device("cuda")
    assert get_kind("vae").has(CUDA_GRAPH) and get_kind("ae").has(CUDA_GRAPH)
    assert not get_kind("vae-gan").has(CUDA_GRAPH) and not get_kind("dfc-vae").has(CUDA_GRAPH)
    assert cuda_graph.why_not(get_kind("vae"), cuda, "fp32", False) is None
    assert "needs a CUDA GPU" in cuda_graph.why_not(get_kind("vae"), torch.device("cpu"), "fp32", False)
    assert "VAE-GAN" in cuda_graph.why_not(get_kind("vae-gan"), cuda, "fp32", False)
    assert "fp32 only" in cuda_graph.why_not(get_kind("vae"), cuda, "bf16", False)
    assert "one process" in cuda_graph.why_not(get_kind("vae"), cuda, "fp32", True)


def test_the_cli_refuses_it_off_a_gpu_with_one_line(tmp_path, capsys):
    write_mnist_folder(tmp_path / "data", n_train=120, n_test=20)
    rc, err = run_cli(["train", "--dataset", "mnist", "--data-root", str(tmp_path / "data"), "--epochs", "1",
                       "--device", "cpu", "--cuda-graph", "--out", str(tmp_path / "run")], capsys)
    assert rc == 2 and len(err) == 1 and "--cuda-graph needs a CUDA GPU" in err[0] and "--device cuda" in err[0]
    assert not (tmp_path / "run" / "model.pt").exists()


def test_step_args_given_as_tensors_train_as_the_kinds_own_numbers():
    """A graph passes the KL weight as a device tensor; the step must be the one the float gives."""
    run = vae_run()
    x = torch.rand(40, 1, 12, 12)
    results = []
    for args in ({"beta": 0.25}, {"beta": torch.tensor(0.25)}):
        torch.manual_seed(3)
        model = get_kind("vae").build(run.model_config)
        model.load_state_dict(run.model.state_dict())
        opts = run.kind.optimizers(model, run.train_config, torch.device("cpu"))
        out = run.kind.train_step(model, x, opts, StepContext(0.0, step_args=args), run.model_config)
        results.append((out["loss"].detach(), [p.detach().clone() for p in model.parameters()]))
    assert torch.equal(results[0][0], results[1][0])
    assert all(torch.equal(a, b) for a, b in zip(results[0][1], results[1][1]))


def test_a_state_saved_mid_graph_is_read_back_with_the_plain_kernel(tmp_path):
    run = vae_run(epochs=1)
    ds = blob_dataset(300)
    Trainer(run, ds).train()
    for state in run.optimizer_states.values():  # as a checkpoint written while a graph trained
        for group in state["param_groups"]:
            group["capturable"] = True
    run.train_config.epochs = 2
    trainer = Trainer(run, ds)
    assert all(not g["capturable"] for o in trainer.optimizers.values() for g in o.param_groups)
    assert trainer.train().status == "finished"


# -- on a GPU -------------------------------------------------------------------------------------

@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_the_replayed_step_trains_as_the_plain_one():
    ds = blob_dataset(630)  # 525 training images at batch 50: a short last batch each epoch
    plain, graphed = vae_run("cuda", epochs=3), vae_run("cuda", epochs=3)
    Trainer(plain, ds).train()
    trainer = Trainer(graphed, ds)
    trainer.use_cuda_graph = True
    assert trainer.train().status == "finished"
    g = trainer.graphed_step
    assert g.captures == 1 and g.replays >= 3 * 10 - cuda_graph.WARMUP_STEPS - 1
    assert all(not grp["capturable"] for o in trainer.optimizers.values() for grp in o.param_groups)
    for key in ("train_loss", "val_loss", "beta"):  # the KL warm-up reached the graph step by step
        a, b = plain.history[-1][key], graphed.history[-1][key]
        assert abs(a - b) <= 1e-3 * abs(a) + 1e-4, (key, a, b)
    for a, b in zip(plain.model.parameters(), graphed.model.parameters()):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-4)


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_a_new_learning_rate_captures_the_step_again():
    run = vae_run("cuda", epochs=1)
    trainer = Trainer(run, blob_dataset(300))
    g = cuda_graph.GraphedStep(run.kind, run.model, trainer.optimizers, run.model_config, 50)
    x = torch.rand(50, 1, 12, 12, device="cuda")
    for i in range(cuda_graph.WARMUP_STEPS + 2):
        g.step(x, StepContext(i / 10))
    assert g.captures == 1 and g.replays == 2
    for group in trainer.optimizers["adam"].param_groups:
        group["lr"] = 1e-4
    before = [p.detach().clone() for p in run.model.parameters()]
    g.step(x, StepContext(0.5))
    assert g.captures == 2 and g.replays == 3
    moved = max(float((p - b).abs().max()) for p, b in zip(run.model.parameters(), before))
    assert 0 < moved <= 5e-4  # a few times the new rate at most (the old one, 3e-3, moves them far more)


# -- the window ----------------------------------------------------------------------------------

def test_the_form_offers_the_graph_only_where_there_is_a_gpu(qtbot, monkeypatch):
    from vaestudio.core import device as core_device
    from vaestudio.gui.model_form import ModelSettingsForm

    monkeypatch.setattr(core_device, "cuda_labels", lambda: [])
    plain = ModelSettingsForm()
    qtbot.addWidget(plain)
    plain.cuda_graph.setChecked(True)
    assert not plain._train_form.isRowVisible(plain.cuda_graph) and not plain.cuda_graph_wanted()
    monkeypatch.setattr(core_device, "cuda_labels", lambda: ["GPU 0: NVIDIA H200 (150 GB)"])
    form = ModelSettingsForm()
    qtbot.addWidget(form)
    assert form._train_form.isRowVisible(form.cuda_graph) and not form.cuda_graph_wanted()
    form.cuda_graph.setChecked(True)
    assert form.cuda_graph_wanted()


def test_the_worker_uses_the_graph_where_it_can_and_the_status_says_which(qtbot):
    from types import SimpleNamespace

    from vaestudio.gui.workers import TrainWorker

    def trainer(device, precision="fp32"):
        return SimpleNamespace(device=torch.device(device), precision=SimpleNamespace(name=precision),
                               use_cuda_graph=False)

    run, ds = vae_run(), blob_dataset(100)
    worker = TrainWorker(run, ds, cuda_graph=True)
    on_cpu, on_gpu, in_fp16 = trainer("cpu"), trainer("cuda"), trainer("cuda", "fp16")
    assert worker._use_cuda_graph(on_cpu) == " · no CUDA graph: it needs a CUDA GPU, and this run trains on the cpu"
    assert worker._use_cuda_graph(in_fp16) == " · no CUDA graph: it trains in fp32 only, not fp16"
    assert worker._use_cuda_graph(on_gpu) == " · CUDA graph"
    assert (on_cpu.use_cuda_graph, in_fp16.use_cuda_graph, on_gpu.use_cuda_graph) == (False, False, True)
    unasked = trainer("cuda")
    assert TrainWorker(run, ds)._use_cuda_graph(unasked) == "" and not unasked.use_cuda_graph

"""How much a CUDA graph of the whole training step would give small nets on a GPU (a probe,
not a feature: the Trainer does not capture graphs).

On a GPU, small nets are bound by the host: the 784-400-20 MLP step launches about 60 kernels
for 0.22 ms of GPU work in a step of about 2.4 ms (docs/gpu.md). This captures our kind's own
`train_step` (forward, backward, fused Adam with `capturable=True`) in one `torch.cuda.CUDAGraph`
and replays it on a fixed input buffer, against the same step run eagerly. The KL weight and
learning rate are fixed inside a graph, so a real feature would pass them as device tensors.

    python benchmarks/cuda_graph_probe.py [--steps 300]
"""
from __future__ import annotations

import argparse
import time

import torch


def make(arch: str, shape, batch: int, **model):
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.run import Run

    cfg = make_model_config(kind="vae", arch=arch, image_shape=shape, **model)
    run = Run.new(cfg, TrainConfig(epochs=1, batch_size=batch, lr=1e-3, seed=0, device="cuda"))
    run.model.cuda()
    return run, cfg


def rate(arch, shape, batch, steps, graph: bool, **model) -> tuple[float, float]:
    from vaestudio.core.kinds import StepContext

    torch.manual_seed(0)
    run, cfg = make(arch, shape, batch, **model)
    opt = torch.optim.Adam(run.model.parameters(), lr=1e-3, fused=True, capturable=graph)
    opts = {"adam": opt}
    x = torch.rand(batch, *shape, device="cuda")

    def step():
        return run.kind.train_step(run.model, x, opts, StepContext(0.5), cfg)

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up (and what capture needs: allocations made once)
        for _ in range(5):
            out = step()
    torch.cuda.current_stream().wait_stream(side)
    run_step = step
    if graph:
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            out = step()
        run_step = g.replay
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        run_step()
    torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - t0), float(out["loss"].detach())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    nets = [("mlp 784-400-20", "mlp", (1, 28, 28), 128, {"hidden": (400,), "latent_dim": 20}),
            ("faces 64x64 w16", "conv", (3, 64, 64), 100, {"conv_width": 16, "latent_dim": 100}),
            ("128x128 w64", "conv", (3, 128, 128), 256, {"conv_width": 64, "latent_dim": 128})]
    print(f"{'net':<18} {'batch':>5} {'eager img/s':>12} {'graph img/s':>12} {'ratio':>6}  loss eager / graph")
    for label, arch, shape, batch, model in nets:
        eager, le = rate(arch, shape, batch, args.steps, False, **model)
        graph, lg = rate(arch, shape, batch, args.steps, True, **model)
        print(f"{label:<18} {batch:>5} {eager:>12,.0f} {graph:>12,.0f} {graph / eager:>5.1f}x  {le:.2f} / {lg:.2f}",
              flush=True)


if __name__ == "__main__":
    main()

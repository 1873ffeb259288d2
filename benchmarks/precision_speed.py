"""Steady-state speed of our training step per precision and memory layout, on one device.

`--precision bf16|fp16` is opt-in because it changes the numbers; it is only worth offering where
it is faster. This times the step the Trainer runs (the kind's `train_step` with the Trainer's own
module, optimisers and precision, inputs already on the device), after a warm-up, for:

- conv VAEs (the 64x64 faces net at conv widths 16 and 64, and a 128x128 one) at two batch sizes,
  each in fp32, bf16 and fp16, with and without `channels_last`, with cuDNN's autotuner
  (`torch.backends.cudnn.benchmark`) off and on;
- the 784-400-20 MLP VAE, batch 128, in each precision.

    python benchmarks/precision_speed.py [--device cuda] [--steps 30] [--quick]

Images per second; each row is one configuration, timed after `--warmup` steps, synchronising the
device before each clock reading.
"""
from __future__ import annotations

import argparse
import json
import time

import torch


def step_rate(arch: str, shape, batch: int, precision: str, channels_last: bool, device: torch.device,
              steps: int, warmup: int, **model) -> float:
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.data.base import array_dataset
    from vaestudio.core.kinds import StepContext, make_model_config
    from vaestudio.core.run import Run
    from vaestudio.core.training import Trainer
    import numpy as np

    cfg = make_model_config(kind="vae", arch=arch, image_shape=shape, **model)
    run = Run.new(cfg, TrainConfig(epochs=1, batch_size=batch, lr=1e-3, seed=0, device=str(device),
                                   precision=precision))
    images = np.random.default_rng(0).integers(0, 256, (batch * 2, *shape), dtype=np.uint8)
    trainer = Trainer(run, array_dataset(images))
    prec = trainer.precision
    prec.channels_last = channels_last
    if arch == "conv":
        run.model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    x = prec.prepare_batch(torch.rand(batch, *shape, device=device), arch)

    def one(i):
        with prec.autocast():
            run.kind.train_step(trainer.module, x, trainer.optimizers, StepContext(i / 100, precision=prec),
                                run.model_config)
        prec.update()

    for i in range(warmup):
        one(i)
    sync(device)
    t0 = time.perf_counter()
    for i in range(steps):
        one(i)
    sync(device)
    return batch * steps / (time.perf_counter() - t0)


def profile_mlp_step(device: torch.device) -> None:
    """Where a small step's time goes: on a GPU a 784-400-20 step is a few microseconds of
    arithmetic, so host-side work per kernel launch decides its rate."""
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    step_rate("mlp", (1, 28, 28), 128, "fp32", False, device, 5, 5, hidden=(400,), latent_dim=20)
    with profile(activities=acts) as prof:
        step_rate("mlp", (1, 28, 28), 128, "fp32", False, device, 20, 3, hidden=(400,), latent_dim=20)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=60))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="one small conv net, one batch size (to try the script)")
    ap.add_argument("--profile", action="store_true", help="also profile 20 fp32 MLP steps (torch.profiler)")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {device} ({name}), torch {torch.__version__}")
    convs = [("faces 64x64 w16", (3, 64, 64), {"conv_width": 16, "latent_dim": 100}),
             ("faces 64x64 w64", (3, 64, 64), {"conv_width": 64, "latent_dim": 100}),
             ("128x128 w64", (3, 128, 128), {"conv_width": 64, "latent_dim": 128})]
    batches = [100, 256]
    if args.quick:
        convs, batches = [("16x16 w4", (3, 16, 16), {"conv_width": 4, "latent_dim": 8})], [32]
    rows = []
    print(f"{'net':<18} {'batch':>5} {'prec':>5} {'layout':>14} {'cudnn.bench':>11} {'img/s':>10}")
    for label, shape, model in convs:
        for batch in batches:
            for bench in ((False, True) if device.type == "cuda" else (False,)):
                torch.backends.cudnn.benchmark = bench
                for precision in ("fp32", "bf16", "fp16"):
                    for cl in (False, True):
                        rate = step_rate("conv", shape, batch, precision, cl, device, args.steps, args.warmup,
                                         **model)
                        rows.append({"net": label, "batch": batch, "precision": precision, "channels_last": cl,
                                     "cudnn_benchmark": bench, "samples_per_s": round(rate)})
                        print(f"{label:<18} {batch:>5} {precision:>5} {'channels_last' if cl else 'contiguous':>14} "
                              f"{str(bench):>11} {rate:>10,.0f}", flush=True)
    torch.backends.cudnn.benchmark = False
    for precision in ("fp32", "bf16", "fp16"):
        rate = step_rate("mlp", (1, 28, 28), 128, precision, False, device, args.steps * 10, args.warmup,
                         hidden=(400,), latent_dim=20)
        rows.append({"net": "mlp 784-400-20", "batch": 128, "precision": precision, "samples_per_s": round(rate)})
        print(f"{'mlp 784-400-20':<18} {128:>5} {precision:>5} {'-':>14} {'-':>11} {rate:>10,.0f}", flush=True)
    if args.profile:
        profile_mlp_step(device)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()

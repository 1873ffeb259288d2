"""How fast the latent tools are on this machine: encoding 70,000 28x28 images with an MLP VAE
(target: under a second on a CPU) and decoding a 15x15 lattice (target: under 50 ms).

Random weights: speed does not depend on training. Prints the median of several runs.
    python benchmarks/latent_speed.py [--repeats 5] [--threads N]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from vaestudio.core.kinds import build_model, make_model_config
from vaestudio.core.latent import encode_images, latent_lattice

MODELS = {
    "784-400-20": make_model_config(kind="vae", latent_dim=20, hidden=(400,)),
    "784-500-250-2": make_model_config(kind="vae", latent_dim=2, hidden=(500, 250)),
}


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up: first-call allocations and kernel selection
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    images = np.random.default_rng(0).integers(0, 256, (70_000, 1, 28, 28), dtype=np.uint8)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats}")
    for name, cfg in MODELS.items():
        torch.manual_seed(0)
        model = build_model(cfg).eval()
        enc = median_seconds(lambda: encode_images(model, images), args.repeats)
        codes, _ = encode_images(model, images[:10_000])
        snapshot = model.cpu_copy()
        lat = median_seconds(lambda: latent_lattice(codes, n=15).decode(snapshot), args.repeats)
        print(f"{name:>14}: encode 70,000 images {enc * 1000:7.1f} ms  |  15x15 lattice "
              f"(circle + decode) {lat * 1000:6.2f} ms")


if __name__ == "__main__":
    main()

"""One process against several: the same VAE run trained by `torchrun --nproc_per_node W -m
vaestudio train` for each W, on MNIST-sized data, on the CPU (gloo) by default.

The data are the built-in `digits` written as MNIST IDX files (60,000 train, 10,000 test), as
benchmarks/train_throughput.py does; --data-root takes a folder holding MNIST/raw instead. Each
W trains the same run (same seed, same global batch, so the same updates up to float rounding):
it reports the training step's images per second (`samples_per_s` of the last epoch, all ranks
together), whole epochs' images per second, the wall time of the whole command (start-up
included) and the test -ELBO (`vaestudio evaluate --split test`). On the CPU one process gets
all the cores (`--threads` = the core count) and W processes the cores shared out (one thread
each on a 2-core machine), so the comparison is cores against cores; one process on one thread
is reported too. Run it on an otherwise idle machine: a busy one slows multi-threaded processes
far more than single-threaded ones.

    python benchmarks/distributed_scaling.py [--processes 1 2] [--epochs 3] [--batch-size 128]
        [--device cpu] [--data-root DIR] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def train(root: Path, out: Path, world: int, args, each: int = 0) -> dict:
    """`each`: CPU threads per process (0: the cores shared out)."""
    cores = os.cpu_count() or 1
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("WORLD_SIZE", None)
    threads = []
    if args.device == "cpu":
        each = each or max(1, cores // world)
        env["OMP_NUM_THREADS"] = str(each)
        threads = ["--threads", str(each)]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(world),
           "-m", "vaestudio", "train", "--dataset", "mnist", "--data-root", str(root), "--model", "vae",
           "--arch", "mlp", "--latent-dim", str(args.latent_dim), "--hidden", *map(str, args.hidden),
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--seed", "0",
           "--device", args.device, *threads, "--out", str(out)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{world} process(es) failed:\n{done.stderr[-3000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    ev = subprocess.run([sys.executable, "-m", "vaestudio", "evaluate", str(out), "--split", "test", "--json",
                         "--device", "cpu"], capture_output=True, text=True, env=dict(os.environ))
    if ev.returncode != 0:
        raise SystemExit(f"evaluate failed:\n{ev.stderr[-2000:]}")
    test = json.loads(ev.stdout.strip().splitlines()[-1])
    return {"processes": world, "threads_each": int(env.get("OMP_NUM_THREADS", 0)) or None,
            "samples_per_s": round(metrics["samples_per_s"]),
            "epoch_samples_per_s": round(metrics.get("epoch_samples_per_s", 0.0)),
            "samples_per_s_each_epoch": [round(r["samples_per_s"]) for r in metrics["history"]],
            "wall_s": round(wall, 1), "test_neg_elbo": round(float(test["neg_elbo"]), 3),
            "train_loss_last_epoch": round(metrics["history"][-1]["train_loss"], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=128, help="the global batch (split between processes)")
    ap.add_argument("--hidden", type=int, nargs="+", default=[400])
    ap.add_argument("--latent-dim", type=int, default=20)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = args.data_root
        if root is None:
            from train_throughput import digits_as_mnist
            root = tmp / "data"
            digits_as_mnist(root)
        results = [train(root, tmp / f"run-{w}", w, args) for w in args.processes]
        if args.device == "cpu" and 1 in args.processes and (os.cpu_count() or 1) > 1:
            # one process on one thread too: what each of the W processes has
            results.insert(1, train(root, tmp / "run-1x1", 1, args, each=1))
    base = results[0]["samples_per_s"]
    for r in results:
        r["speedup"] = round(r["samples_per_s"] / max(base, 1), 2)
    if args.json:
        print(json.dumps({"device": args.device, "cores": os.cpu_count(), "epochs": args.epochs,
                          "batch_size": args.batch_size, "results": results}, indent=2))
        return
    print(f"VAE mlp {args.hidden} latent {args.latent_dim}, {args.epochs} epochs, global batch {args.batch_size}, "
          f"{args.device}, {os.cpu_count()} cores")
    print(f"{'processes':>9} {'threads':>8} {'img/s step':>11} {'img/s epoch':>12} {'speed-up':>9} {'wall s':>7} {'test -ELBO':>11}")
    for r in results:
        print(f"{r['processes']:>9} {str(r['threads_each'] or '-'):>8} {r['samples_per_s']:>11,} {r['epoch_samples_per_s']:>12,} {r['speedup']:>9} "
              f"{r['wall_s']:>7} {r['test_neg_elbo']:>11}")


if __name__ == "__main__":
    main()

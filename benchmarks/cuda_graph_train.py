"""`vaestudio train` with and without `--cuda-graph`, on a GPU, in one run.

The 784-400-20 VAE (batch 128) and the 64x64 conv VAE on faces are each trained by the CLI
itself, once plainly and once with `--cuda-graph`, from the same seed; printed: the training
step's images per second, whole epochs' images per second, and the test -ELBO
(`vaestudio evaluate --split test`). MNIST-format data are the built-in digits written as IDX
files (60,000 train, 10,000 test), as benchmarks/train_throughput.py writes them.

    python benchmarks/cuda_graph_train.py [--epochs 3]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def train(args: list, out: Path) -> dict:
    cmd = [sys.executable, "-m", "vaestudio", "train", *args, "--seed", "0", "--device", "cuda", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    ev = subprocess.run([sys.executable, "-m", "vaestudio", "evaluate", str(out), "--split", "test", "--json",
                         "--device", "cuda"], capture_output=True, text=True)
    if ev.returncode != 0:
        raise SystemExit(f"evaluate failed:\n{ev.stderr[-2000:]}")
    test = json.loads(ev.stdout.strip().splitlines()[-1])
    last = metrics["history"][-1]
    return {"step": last["samples_per_s"], "epoch": last.get("epoch_samples_per_s", 0.0),
            "neg_elbo": float(test["neg_elbo"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    from train_throughput import digits_as_mnist

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        digits_as_mnist(tmp / "data")
        setups = {
            "mlp 784-400-20, batch 128": ["--dataset", "mnist", "--data-root", str(tmp / "data"), "--model", "vae",
                                          "--arch", "mlp", "--hidden", "400", "--latent-dim", "20",
                                          "--batch-size", "128", "--epochs", str(a.epochs)],
            "conv faces 64x64, batch 100": ["--dataset", "faces", "--model", "vae", "--arch", "conv",
                                            "--latent-dim", "100", "--batch-size", "100", "--epochs", str(a.epochs)],
        }
        print(f"{'setup':<28} {'':>6} {'step img/s':>11} {'epoch img/s':>12} {'test -ELBO':>11}")
        for name, common in setups.items():
            for label, extra in (("plain", []), ("graph", ["--cuda-graph"])):
                r = train(common + extra, tmp / f"{len(name)}-{label}")
                print(f"{name:<28} {label:>6} {r['step']:>11,.0f} {r['epoch']:>12,.0f} {r['neg_elbo']:>11,.2f}",
                      flush=True)


if __name__ == "__main__":
    main()

"""Our Trainer against the textbook PyTorch VAE loop, on the same data, in one run.

The textbook loop is the classic PyTorch example (784-400-20, ReLU, sigmoid output, summed BCE
plus analytic KL, Adam 1e-3, batch 128) fed by torchvision's MNIST reader with ToTensor and a
DataLoader. Ours trains the same architecture with `vaestudio.core.training.Trainer`.

Offline, the data are the built-in `digits` written out as MNIST IDX files (60,000 train,
10,000 test); pass --data-root to a folder holding MNIST/raw to use the real set.

    python benchmarks/train_throughput.py [--epochs 2] [--data-root DIR] [--device cpu]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class TextbookVAE(nn.Module):
    """The PyTorch example's model, verbatim in structure."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def textbook_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def run_textbook(root: Path, epochs: int, device: torch.device) -> dict:
    from torchvision import datasets, transforms

    kwargs = {"num_workers": 1, "pin_memory": True} if device.type == "cuda" else {}
    train = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    test = datasets.MNIST(str(root), train=False, download=False, transform=transforms.ToTensor())
    train_loader = torch.utils.data.DataLoader(train, batch_size=128, shuffle=True, **kwargs)
    test_loader = torch.utils.data.DataLoader(test, batch_size=128, shuffle=False, **kwargs)
    torch.manual_seed(0)
    model = TextbookVAE().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rates = []
    for _ in range(epochs):
        model.train()
        seen, t0 = 0, time.perf_counter()
        for data, _ in train_loader:
            data = data.to(device)
            opt.zero_grad()
            recon, mu, logvar = model(data)
            loss = textbook_loss(recon, data, mu, logvar)
            loss.backward()
            opt.step()
            seen += data.shape[0]
        if device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(seen / (time.perf_counter() - t0))
    model.eval()
    total = 0.0
    with torch.no_grad():
        for data, _ in test_loader:
            data = data.to(device)
            recon, mu, logvar = model(data)
            total += textbook_loss(recon, data, mu, logvar).item()
    return {"samples_per_s": statistics.median(rates), "samples_per_s_each_epoch": rates,
            "test_loss": total / len(test)}


def run_ours(root: Path, epochs: int, device: torch.device) -> dict:
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.data.base import Split
    from vaestudio.core.data.registry import open_dataset
    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.metrics import evaluate
    from vaestudio.core.run import Run
    from vaestudio.core.training import Trainer

    ds = open_dataset("mnist", root=str(root))
    # train on the official 60,000 (our split holds 10,000 of them out for validation)
    ds.train = Split(np.concatenate([ds.train.images, ds.validation.images]))
    ds.validation = Split(ds.validation.images[:0])
    run = Run.new(make_model_config(kind="vae", arch="mlp", latent_dim=20, hidden=(400,)),
                  TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, seed=0, device=str(device)))
    rates = []
    trainer = Trainer(run, ds, [lambda e: rates.append(e.record["samples_per_s"]) if e.kind == "epoch" else None])
    trainer.train()
    res = evaluate(run.model, ds.test.images, batch_size=1000)
    return {"samples_per_s": statistics.median(rates), "samples_per_s_each_epoch": rates,
            "test_loss": res["neg_elbo"]}


def matmul_bound(device: torch.device) -> dict:
    """A bare matrix multiply's speed, and what it allows this model at batch 128."""
    a, b = torch.randn(128, 784, device=device), torch.randn(784, 400, device=device)
    for _ in range(20):
        a @ b
    n = 300
    t0 = time.perf_counter()
    for _ in range(n):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    gflops = 2 * 128 * 784 * 400 * n / (time.perf_counter() - t0) / 1e9
    # forward + backward ~ 3x the forward multiply-adds of 784-400-(2x20) and 20-400-784
    flops_per_image = 3 * 2 * (784 * 400 + 400 * 40 + 20 * 400 + 400 * 784)
    return {"matmul_gflops": gflops, "bound_samples_per_s": gflops * 1e9 / flops_per_image}


def spread(result: dict) -> str:
    r = result["samples_per_s_each_epoch"]
    return f"epochs {min(r):,.0f}..{max(r):,.0f}"


def digits_as_mnist(root: Path) -> None:
    from vaestudio.core.data.registry import open_dataset
    from vaestudio.core.data.sample_files import write_idx

    ds = open_dataset("digits")
    raw = root / "MNIST" / "raw"
    train_x = np.concatenate([ds.train.images, ds.validation.images])[:, 0]
    train_y = np.concatenate([ds.train.labels, ds.validation.labels])
    write_idx(raw / "train-images-idx3-ubyte", train_x)
    write_idx(raw / "train-labels-idx1-ubyte", train_y.astype(np.uint8))
    write_idx(raw / "t10k-images-idx3-ubyte", ds.test.images[:, 0])
    write_idx(raw / "t10k-labels-idx1-ubyte", ds.test.labels.astype(np.uint8))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--data-root", help="a folder holding MNIST/raw (default: built-in digits as IDX files)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.data_root) if args.data_root else Path(tmp)
        if not args.data_root:
            digits_as_mnist(root)
        data = "MNIST files in " + str(root) if args.data_root else "built-in digits written as MNIST IDX files"
        print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; data: {data}")
        bound = matmul_bound(device)
        print(f"bare matmul {bound['matmul_gflops']:.0f} GFLOP/s -> bound ~{bound['bound_samples_per_s']:,.0f} img/s")
        textbook = run_textbook(root, args.epochs, device)
        print(f"textbook loop: {textbook['samples_per_s']:,.0f} img/s (median epoch; {spread(textbook)}), "
              f"test loss {textbook['test_loss']:.2f}")
        ours = run_ours(root, args.epochs, device)
        print(f"our Trainer:   {ours['samples_per_s']:,.0f} img/s (median epoch; {spread(ours)}), "
              f"test loss {ours['test_loss']:.2f}")
    ratio = ours["samples_per_s"] / textbook["samples_per_s"]
    print(f"ratio ours/textbook: {ratio:.2f}x after {args.epochs} epochs "
          f"(test loss {ours['test_loss']:.2f} vs {textbook['test_loss']:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps({"device": str(device), "epochs": args.epochs, "bound": bound,
                                               "textbook": textbook, "ours": ours, "ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Our training against textbook PyTorch loops (and pythae), each in one run, ratios printed.

Three comparisons (`--suite step|conv|whole|all`):

- step: the classic PyTorch VAE example (784-400-20, ReLU, sigmoid output, summed BCE plus
  analytic KL, Adam 1e-3, batch 128) fed by torchvision's MNIST reader with ToTensor and a
  DataLoader, against `vaestudio.core.training.Trainer` on the same architecture; images per
  second of the training step. Offline, the data are the built-in `digits` written as MNIST IDX
  files (60,000 train, 10,000 test); --data-root takes a folder holding MNIST/raw instead.
- conv: the 64x64 conv VAE (four 4x4 stride-2 convs from --conv-width channels, latent 100,
  Gaussian likelihood sigma 0.1, batch 100) on the built-in faces, written as PNG files, against
  a textbook conv loop: torchvision `ImageFolder` + `ToTensor` + `DataLoader`, the same layers
  written out by hand; one epoch each, the step's rate and the test -ELBO of each.
- whole: whole epochs as a user waits for them, on a 4,000-image MNIST-format IDX set (the
  train file; the last sixth validates, as `vaestudio train` splits it): `vaestudio train` itself
  (validation, the per-epoch checkpoint with its fsync, metrics.json, progress events), against
  the textbook loop with its own validation and a `torch.save` each epoch, and against pythae's
  `TrainingPipeline` (per-epoch checkpoints, `steps_saving=1`) when a Python with pythae is given
  (--pythae-python; make one with `python -m venv --system-site-packages /tmp/pythae-venv &&
  /tmp/pythae-venv/bin/pip install pythae`). Images per wall-clock second of whole epochs
  (median over epochs 2..E: epoch 1 carries one-off warm-up), and each one's test -ELBO.

    python benchmarks/train_throughput.py [--suite all] [--epochs 2] [--device cpu] [--precision fp32]

On a shared machine the absolute figures are noisy; the ratios are measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import math
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


# -- conv: faces 64x64 against ImageFolder + ToTensor + DataLoader -----------------------------------

class TextbookConvVAE(nn.Module):
    """Our conv VAE's layers written out as a tutorial would: 64 -> 4x4 in four stride-2 convs."""

    def __init__(self, width: int, latent: int = 100):
        super().__init__()
        w = width
        self.enc = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(4 * w, 8 * w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True))
        self.head = nn.Linear(8 * w * 16, 2 * latent)
        self.fc = nn.Linear(latent, 8 * w * 16)
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(8 * w, 4 * w, 4, 2, 1), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(w, 3, 4, 2, 1))
        self.width = w

    def forward(self, x):
        mu, logvar = self.head(self.enc(x).flatten(1)).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        h = F.relu(self.fc(z)).view(-1, 8 * self.width, 4, 4)
        return torch.sigmoid(self.dec(h)), mu, logvar


SIGMA = 0.1


def gaussian_neg_elbo(mean, x, mu, logvar):
    """Summed over the batch: the Gaussian likelihood's -log p(x|z) (sigma 0.1) plus the KL."""
    d = x[0].numel()
    recon = (F.mse_loss(mean, x, reduction="sum") / (2 * SIGMA**2)
             + x.shape[0] * d * (math.log(SIGMA) + 0.5 * math.log(2 * math.pi)))
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return recon + kld


def faces_as_image_folder(images: np.ndarray, root: Path) -> None:
    from PIL import Image

    folder = root / "faces"
    folder.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(images):
        Image.fromarray(np.ascontiguousarray(im.transpose(1, 2, 0))).save(folder / f"{i:06d}.png")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_textbook_conv(root: Path, test_images: np.ndarray, width: int, device: torch.device) -> dict:
    from torchvision import datasets, transforms

    kwargs = {"num_workers": 2, "pin_memory": True} if device.type == "cuda" else {}
    train = datasets.ImageFolder(str(root), transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(train, batch_size=100, shuffle=True, **kwargs)
    torch.manual_seed(0)
    model = TextbookConvVAE(width).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    seen, t0 = 0, time.perf_counter()
    for data, _ in loader:
        data = data.to(device)
        opt.zero_grad()
        mean, mu, logvar = model(data)
        loss = gaussian_neg_elbo(mean, data, mu, logvar) / data.shape[0]
        loss.backward()
        opt.step()
        seen += data.shape[0]
    sync(device)
    rate = seen / (time.perf_counter() - t0)
    model.eval()
    total = 0.0
    with torch.no_grad():
        torch.manual_seed(0)
        for i in range(0, len(test_images), 100):
            x = torch.from_numpy(np.array(test_images[i:i + 100])).to(device).float() / 255
            mean, mu, logvar = model(x)
            total += float(gaussian_neg_elbo(mean, x, mu, logvar))
    n_params = sum(p.numel() for p in model.parameters())
    return {"samples_per_s": rate, "test_neg_elbo": total / len(test_images), "parameters": n_params}


def run_ours_conv(ds, width: int, device: torch.device, precision: str) -> dict:
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.metrics import evaluate
    from vaestudio.core.run import Run
    from vaestudio.core.training import Trainer

    cfg = make_model_config(kind="vae", arch="conv", image_shape=(3, 64, 64), latent_dim=100, conv_width=width,
                            likelihood="gaussian", gaussian_sigma=SIGMA)
    run = Run.new(cfg, TrainConfig(epochs=1, batch_size=100, lr=1e-3, seed=0, device=str(device),
                                   precision=precision))
    res = Trainer(run, ds).train()
    rec = run.history[-1]
    test = evaluate(run.model, ds.test.images, batch_size=100)
    return {"samples_per_s": rec["samples_per_s"], "epoch_samples_per_s": rec["epoch_samples_per_s"],
            "test_neg_elbo": test["neg_elbo"], "parameters": sum(p.numel() for p in run.model.parameters()),
            "status": res.status}


def suite_conv(args, device: torch.device) -> dict:
    from vaestudio.core.data.base import Split
    from vaestudio.core.data.registry import open_dataset

    ds = open_dataset("faces", n=args.faces)
    ds.validation = Split(ds.validation.images[:0])  # one run of the step: neither loop validates here
    print(f"\n== conv: faces 64x64, {len(ds.train):,} train / {len(ds.test):,} test images, conv width "
          f"{args.conv_width}, latent 100, batch 100, one epoch each")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        faces_as_image_folder(ds.train.images, Path(tmp))
        print(f"(wrote {len(ds.train):,} PNG files for ImageFolder in {time.perf_counter() - t0:.1f} s)")
        textbook = run_textbook_conv(Path(tmp), ds.test.images, args.conv_width, device)
    ours = run_ours_conv(ds, args.conv_width, device, args.precision)
    assert ours["parameters"] == textbook["parameters"], (ours["parameters"], textbook["parameters"])
    ratio = ours["samples_per_s"] / textbook["samples_per_s"]
    print(f"textbook (ImageFolder + ToTensor + DataLoader): {textbook['samples_per_s']:,.0f} img/s, "
          f"test -ELBO {textbook['test_neg_elbo']:,.1f}")
    print(f"ours ({args.precision}):                        {ours['samples_per_s']:,.0f} img/s, "
          f"test -ELBO {ours['test_neg_elbo']:,.1f}   ({ours['parameters']:,} parameters in each)")
    print(f"conv ratio ours/textbook: {ratio:.2f}x")
    return {"textbook": textbook, "ours": ours, "ratio": ratio}


# -- whole: whole epochs of `vaestudio train` against the textbook loop and pythae ---------------------

def mnist_subset(src: Path, dst: Path, n_train: int, n_test: int) -> None:
    """An MNIST-format set of the first n_train / n_test images of `src`'s files."""
    from vaestudio.core.data.idx import read_idx
    from vaestudio.core.data.sample_files import write_idx

    raw_in, raw_out = src / "MNIST" / "raw", dst / "MNIST" / "raw"
    for name, n in (("train-images-idx3-ubyte", n_train), ("train-labels-idx1-ubyte", n_train),
                    ("t10k-images-idx3-ubyte", n_test), ("t10k-labels-idx1-ubyte", n_test)):
        write_idx(raw_out / name, np.asarray(read_idx(raw_in / name))[:n])


def whole_split(root: Path):
    """The train / validation / test images as `vaestudio train` splits this folder."""
    from vaestudio.core.data.registry import open_dataset

    return open_dataset("mnist", root=str(root))


def run_textbook_whole(root: Path, epochs: int, device: torch.device, out: Path) -> dict:
    """The textbook loop as a script runs it: train, its own validation, torch.save every epoch."""
    from torchvision import datasets, transforms

    ds = whole_split(root)
    n_train, n_val = len(ds.train), len(ds.validation)
    kwargs = {"num_workers": 1, "pin_memory": True} if device.type == "cuda" else {}
    full = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    train = torch.utils.data.Subset(full, range(n_train))
    val = torch.utils.data.Subset(full, range(n_train, n_train + n_val))
    test = datasets.MNIST(str(root), train=False, download=False, transform=transforms.ToTensor())
    train_loader = torch.utils.data.DataLoader(train, batch_size=128, shuffle=True, **kwargs)
    val_loader = torch.utils.data.DataLoader(val, batch_size=128, shuffle=False, **kwargs)
    test_loader = torch.utils.data.DataLoader(test, batch_size=128, shuffle=False, **kwargs)
    torch.manual_seed(0)
    model = TextbookVAE().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        model.train()
        for data, _ in train_loader:
            data = data.to(device)
            opt.zero_grad()
            recon, mu, logvar = model(data)
            loss = textbook_loss(recon, data, mu, logvar)
            loss.backward()
            opt.step()
        model.eval()
        val_loss = 0.0
        with torch.no_grad():
            for data, _ in val_loader:
                data = data.to(device)
                recon, mu, logvar = model(data)
                val_loss += textbook_loss(recon, data, mu, logvar).item()
        torch.save({"epoch": epoch + 1, "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "val_loss": val_loss / n_val}, out / "checkpoint.pt")
        print(f"  textbook epoch {epoch + 1}: val {val_loss / n_val:.2f}", file=sys.stderr)
        sync(device)
        seconds.append(time.perf_counter() - t0)
    total = 0.0
    with torch.no_grad():
        torch.manual_seed(0)
        for data, _ in test_loader:
            data = data.to(device)
            recon, mu, logvar = model(data)
            total += textbook_loss(recon, data, mu, logvar).item()
    from vaestudio.core.metrics import evaluate
    same = evaluate(as_vaestudio_vae(model), ds.test.images, batch_size=1000)["neg_elbo"]
    return {"epoch_seconds": seconds, "images_per_epoch": n_train, "test_neg_elbo": total / len(test),
            "test_neg_elbo_our_evaluate": same}


def as_vaestudio_vae(model: TextbookVAE):
    """The textbook model's weights in our 784-400-20 VAE, so one evaluator scores both (the
    two estimates differ by their random draws: 0.3 nats on one model)."""
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.run import Run

    cfg = make_model_config(kind="vae", arch="mlp", image_shape=(1, 28, 28), latent_dim=20, hidden=(400,))
    ours = Run.new(cfg, TrainConfig(device="cpu")).model
    m = model.cpu()
    ours.load_state_dict({
        "encoder.body.0.weight": m.fc1.weight, "encoder.body.0.bias": m.fc1.bias,
        "encoder.head.weight": torch.cat([m.fc21.weight, m.fc22.weight]),
        "encoder.head.bias": torch.cat([m.fc21.bias, m.fc22.bias]),
        "decoder.body.0.weight": m.fc3.weight, "decoder.body.0.bias": m.fc3.bias,
        "decoder.body.2.weight": m.fc4.weight, "decoder.body.2.bias": m.fc4.bias}, strict=True)
    return ours


def run_ours_whole(root: Path, epochs: int, device: torch.device, out: Path, precision: str) -> dict:
    """`vaestudio train` itself, in this process: what a user runs."""
    import contextlib
    import io

    from vaestudio.cli import main as cli
    from vaestudio.core.metrics import evaluate
    from vaestudio.core.run import Run

    argv = ["train", "--dataset", "mnist", "--data-root", str(root), "--model", "vae", "--arch", "mlp",
            "--latent-dim", "20", "--hidden", "400", "--epochs", str(epochs), "--batch-size", "128", "--lr", "1e-3",
            "--seed", "0", "--device", str(device.type), "--precision", precision, "--out", str(out / "run")]
    err = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(err):
        rc = cli(argv)
    wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"vaestudio train failed ({rc}): {err.getvalue()[-500:]}")
    metrics = json.loads((out / "run" / "metrics.json").read_text())
    run = Run.load(out / "run", device=device)
    test = evaluate(run.model, whole_split(root).test.images, batch_size=1000)
    n = len(whole_split(root).train)
    return {"epoch_seconds": [n / h["epoch_samples_per_s"] for h in metrics["history"]], "images_per_epoch": n,
            "test_neg_elbo": test["neg_elbo"], "command_seconds": wall,
            "step_samples_per_s": statistics.median(h["samples_per_s"] for h in metrics["history"]),
            "metrics_epoch_samples_per_s": metrics["epoch_samples_per_s"]}


PYTHAE_SCRIPT = r"""
import json, sys, time
import numpy as np, torch
from torch import nn
from torch.nn import functional as F
from pythae.models import VAE, VAEConfig
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseDecoder, BaseEncoder
from pythae.pipelines import TrainingPipeline
from pythae.trainers import BaseTrainerConfig
from pythae.trainers.training_callbacks import TrainingCallback

a = json.loads(sys.argv[1])
if a["threads"]:
    torch.set_num_threads(a["threads"])
d = np.load(a["data"])
train, val, test = (torch.from_numpy(d[k]).float() / 255 for k in ("train", "val", "test"))

class Enc(BaseEncoder):  # 784-400-(20, 20): the PyTorch example's encoder
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
    def forward(self, x):
        h = F.relu(self.fc1(x.reshape(x.shape[0], -1)))
        return ModelOutput(embedding=self.fc21(h), log_covariance=self.fc22(h))

class Dec(BaseDecoder):
    def __init__(self):
        super().__init__()
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)
    def forward(self, z):
        return ModelOutput(reconstruction=torch.sigmoid(self.fc4(F.relu(self.fc3(z)))).reshape(-1, 1, 28, 28))

class Clock(TrainingCallback):
    def __init__(self):
        self.marks = []
    def on_epoch_begin(self, training_config, **kw):
        self.marks.append(time.perf_counter())
    def on_train_end(self, training_config, **kw):
        self.marks.append(time.perf_counter())

torch.manual_seed(0)
cfg = VAEConfig(input_dim=(1, 28, 28), latent_dim=20, reconstruction_loss="bce")
model = VAE(model_config=cfg, encoder=Enc(), decoder=Dec())
tc = BaseTrainerConfig(output_dir=a["out"], num_epochs=a["epochs"], learning_rate=1e-3,
                       per_device_train_batch_size=128, per_device_eval_batch_size=128, steps_saving=1,
                       no_cuda=a["device"] != "cuda", seed=0)
clock = Clock()
t0 = time.perf_counter()
TrainingPipeline(training_config=tc, model=model)(train_data=train, eval_data=val, callbacks=[clock])
wall = time.perf_counter() - t0
model.eval()
dev = next(model.parameters()).device
total = 0.0
torch.manual_seed(0)
with torch.no_grad():
    for i in range(0, len(test), 1000):
        x = test[i:i + 1000].to(dev)
        total += float(model({"data": x}).loss) * len(x)
from importlib.metadata import version
print(json.dumps({"epoch_seconds": [b - a_ for a_, b in zip(clock.marks, clock.marks[1:])],
                  "images_per_epoch": len(train), "test_neg_elbo": total / len(test), "command_seconds": wall,
                  "version": version("pythae")}))
"""


def run_pythae_whole(python: str, root: Path, epochs: int, device: torch.device, out: Path, threads: int = 0) -> dict:
    import subprocess

    ds = whole_split(root)
    data = out / "split.npz"
    np.savez(data, train=ds.train.images, val=ds.validation.images, test=ds.test.images)
    arg = json.dumps({"data": str(data), "out": str(out / "pythae"), "epochs": epochs, "device": device.type,
                      "threads": threads})
    proc = subprocess.run([python, "-c", PYTHAE_SCRIPT, arg], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pythae run failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def whole_rate(result: dict) -> float:
    """Images per second of a whole epoch, the median over epochs 2..E (epoch 1 warms up)."""
    secs = result["epoch_seconds"][1:] or result["epoch_seconds"]
    return result["images_per_epoch"] / statistics.median(secs)


def suite_whole(args, device: torch.device, digits_root: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = tmp / "data"
        mnist_subset(digits_root, root, 4000, 1000)
        ds = whole_split(root)
        print(f"\n== whole: a 4,000-image MNIST-format set ({len(ds.train):,} train, {len(ds.validation):,} "
              f"validation, {len(ds.test):,} test), 784-400-20, batch 128, {args.whole_epochs} epochs each")
        (tmp / "textbook").mkdir()
        textbook = run_textbook_whole(root, args.whole_epochs, device, tmp / "textbook")
        ours = run_ours_whole(root, args.whole_epochs, device, tmp, args.precision)
        pythae = None
        if args.pythae_python:
            try:
                pythae = run_pythae_whole(args.pythae_python, root, args.whole_epochs, device, tmp, args.threads)
            except Exception as e:  # noqa: BLE001 - reported, the rest stands
                print(f"pythae: not measured ({e})")
        else:
            print("pythae: not measured (no --pythae-python given)")
    rows = [("textbook loop + validation + torch.save", textbook), (f"vaestudio train ({args.precision})", ours)]
    if pythae:
        rows.append((f"pythae {pythae.get('version', '')} TrainingPipeline", pythae))
    for name, r in rows:
        same = r.get("test_neg_elbo_our_evaluate")
        print(f"{name:42s} {whole_rate(r):8,.0f} img/s whole epoch   test -ELBO {r['test_neg_elbo']:.2f}"
              + (f" (by our evaluate: {same:.2f})" if same is not None else ""))
    out = {"textbook": textbook, "ours": ours, "pythae": pythae,
           "ratio_textbook": whole_rate(ours) / whole_rate(textbook)}
    print(f"whole-loop ratio ours/textbook: {out['ratio_textbook']:.2f}x "
          f"(ours' step alone: {ours['step_samples_per_s']:,.0f} img/s)")
    if pythae:
        out["ratio_pythae"] = whole_rate(ours) / whole_rate(pythae)
        print(f"whole-loop ratio ours/pythae:   {out['ratio_pythae']:.2f}x")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=("step", "conv", "whole", "all"), default="all")
    ap.add_argument("--epochs", type=int, default=2, help="epochs of the step comparison")
    ap.add_argument("--whole-epochs", type=int, default=10, help="epochs of the whole-loop comparison")
    ap.add_argument("--faces", type=int, default=4000, help="faces drawn for the conv comparison (80%% train)")
    ap.add_argument("--conv-width", type=int, default=16, help="channels of the first conv layer")
    ap.add_argument("--data-root", help="a folder holding MNIST/raw (default: built-in digits as IDX files)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"), help="ours only")
    ap.add_argument("--pythae-python", default="/tmp/pythae-venv/bin/python" if Path(
        "/tmp/pythae-venv/bin/python").exists() else None, help="a Python that imports pythae")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} threads")
    figures: dict = {"device": str(device), "precision": args.precision}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.data_root) if args.data_root else Path(tmp)
        if not args.data_root:
            digits_as_mnist(root)
        if args.suite in ("step", "all"):
            figures["step"] = suite_step(args, device, root)
        if args.suite in ("conv", "all"):
            figures["conv"] = suite_conv(args, device)
        if args.suite in ("whole", "all"):
            figures["whole"] = suite_whole(args, device, root)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


def suite_step(args, device: torch.device, root: Path) -> dict:
    print(f"\n== step: 784-400-20 on {root}, {args.epochs} epochs each")
    bound = matmul_bound(device)
    print(f"bare matmul {bound['matmul_gflops']:.0f} GFLOP/s -> bound ~{bound['bound_samples_per_s']:,.0f} img/s")
    textbook = run_textbook(root, args.epochs, device)
    print(f"textbook loop: {textbook['samples_per_s']:,.0f} img/s (median epoch; {spread(textbook)}), "
          f"test loss {textbook['test_loss']:.2f}")
    ours = run_ours(root, args.epochs, device)
    print(f"our Trainer:   {ours['samples_per_s']:,.0f} img/s (median epoch; {spread(ours)}), "
          f"test loss {ours['test_loss']:.2f}")
    ratio = ours["samples_per_s"] / textbook["samples_per_s"]
    print(f"step ratio ours/textbook: {ratio:.2f}x after {args.epochs} epochs "
          f"(test loss {ours['test_loss']:.2f} vs {textbook['test_loss']:.2f})")
    return {"bound": bound, "textbook": textbook, "ours": ours, "ratio": ratio}


if __name__ == "__main__":
    sys.exit(main())

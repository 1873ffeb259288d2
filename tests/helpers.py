"""Small data and models shared by tests."""
from __future__ import annotations

import pathlib

import numpy as np

from vaestudio.core.data.base import array_dataset
from vaestudio.core.data.sample_files import write_idx


def blob_images(n: int = 600, size: int = 12, channels: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images of one bright square in one of four quadrants (label = quadrant), with noise.

    Easy enough that a tiny model learns it in an epoch or two; structured enough that the
    latent space separates the labels.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    imgs = (rng.random((n, channels, size, size)) * 40).astype(np.uint8)
    h = size // 2
    for i, lab in enumerate(labels):
        r, c = divmod(int(lab), 2)
        imgs[i, :, r * h + 1:(r + 1) * h - 1, c * h + 1:(c + 1) * h - 1] = 230
    return imgs, labels.astype(np.int64)


def blob_dataset(n: int = 600, size: int = 12, channels: int = 1, seed: int = 0):
    imgs, labels = blob_images(n, size, channels, seed)
    return array_dataset(imgs, labels, name="blobs", label_names=["TL", "TR", "BL", "BR"])


def write_mnist_folder(root, n_train: int = 600, n_test: int = 100, folder: str = "MNIST", gz: bool = False,
                       seed: int = 0):
    """A torchvision-layout MNIST folder (`root/MNIST/raw/*-ubyte`, or `*-ubyte.gz`) of 28x28 blob images."""
    raw = pathlib.Path(root) / folder / "raw"
    imgs, labels = blob_images(n_train + n_test, size=28, seed=seed)
    labels = labels.astype(np.uint8)
    ext = ".gz" if gz else ""
    write_idx(raw / f"train-images-idx3-ubyte{ext}", imgs[:n_train, 0])
    write_idx(raw / f"train-labels-idx1-ubyte{ext}", labels[:n_train])
    write_idx(raw / f"t10k-images-idx3-ubyte{ext}", imgs[n_train:, 0])
    write_idx(raw / f"t10k-labels-idx1-ubyte{ext}", labels[n_train:])
    return raw


# -- hostile-input harness: the CLI in a child process, its peak memory and time measured --------

_BOUNDED_CHILD = r"""
import resource, sys, json
rc = 1
try:
    from vaestudio.cli import main
    rc = main(sys.argv[2:])
except SystemExit as e:
    rc = e.code if isinstance(e.code, int) else 2
finally:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(sys.argv[1], "w") as f:
        json.dump({"peak_mb": peak_kb / 1024}, f)
sys.exit(rc)
"""

MEMORY_BOUND_MB = 1500  # peak RSS a hostile file may cost (torch alone is ~400 MB)
TIME_BOUND_S = 60


class Bounded:
    def __init__(self, rc, stdout, stderr, peak_mb, seconds):
        self.rc, self.stdout, self.stderr, self.peak_mb, self.seconds = rc, stdout, stderr, peak_mb, seconds

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_cli_bounded(args, tmp_path, *, timeout: float = TIME_BOUND_S, env_extra: dict | None = None) -> Bounded:
    """Run `vaestudio ARGS` in a child process and measure its own peak RSS (getrusage in the
    child, so earlier children do not count) and wall time. The child's address space is capped
    at 12 GiB so a regression fails the test instead of the machine."""
    import json
    import os
    import resource
    import subprocess
    import sys
    import time

    report = pathlib.Path(tmp_path) / f"peak-{time.monotonic_ns()}.json"
    env = dict(os.environ, **(env_extra or {}))
    env.setdefault("VAESTUDIO_CACHE", str(pathlib.Path(tmp_path) / "cache"))

    def cap():
        limit = 12 * 1024**3
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", _BOUNDED_CHILD, str(report), *map(str, args)],
                              capture_output=True, text=True, timeout=timeout, env=env, preexec_fn=cap)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"vaestudio {' '.join(map(str, args))} ran over {timeout} s") from e
    seconds = time.monotonic() - t0
    peak = json.loads(report.read_text())["peak_mb"] if report.exists() else float("nan")
    return Bounded(proc.returncode, proc.stdout, proc.stderr, peak, seconds)


def assert_refused(result: Bounded, *names: str) -> str:
    """Exit 2, one line on stderr naming each of `names` (a file or an option), no traceback,
    within the memory and time bounds; returns the line."""
    lines = result.error_lines()
    print(f"[bounded] peak {result.peak_mb:.0f} MB, {result.seconds:.1f} s: {result.stderr.strip()[:160]}")
    assert result.rc == 2, (result.rc, result.stderr[-2000:])
    assert len(lines) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    assert result.peak_mb < MEMORY_BOUND_MB, f"peak RSS {result.peak_mb:.0f} MB"
    assert result.seconds < TIME_BOUND_S
    return lines[0]


# -- the CLI in process: exit code and stderr lines ------------------------------------------------

def run_cli(argv, capsys):
    from vaestudio.cli import main

    try:
        rc = main(argv)
    except SystemExit as e:  # argparse exits on usage mistakes
        rc = e.code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return rc, err


def one_line(rc, err, *names, progress_before=False):
    """Exit 2 and one error line naming `names` (after training progress lines when allowed)."""
    assert rc == 2, err
    assert not any("Traceback" in line for line in err)
    if progress_before:
        err = [line for line in err if ": error: " in line]
        assert err and err == [err[-1]], err
    assert len(err) == 1, err
    for name in names:
        assert name in err[0], (name, err[0])
    return err[0]


def train_tiny_run(tmp_path_factory, n_train: int = 300, n_test: int = 60, *extra: str):
    """A real one-epoch VAE run on MNIST-format files written here: RUN/model.pt and metrics.json."""
    from vaestudio.cli import main

    root = tmp_path_factory.mktemp("data")
    write_mnist_folder(root, n_train=n_train, n_test=n_test)
    out = tmp_path_factory.mktemp("runs") / "r"
    assert main(["train", "--dataset", "mnist", "--data-root", str(root), "--hidden", "16", "--epochs", "1",
                 "--batch-size", "50", "--out", str(out), *extra]) == 0
    return out


class TrainingHold:
    """Holds the window's training worker at chosen steps until the test has pressed Stop.

    Tiny test runs finish in well under a second, so a Stop pressed "while it trains" could land
    after the end. With this, the trainer reports every step, and the worker waits after the
    report of each (epoch, step) in `at` (epoch 1-based) until `release()`.
    """

    def __init__(self, monkeypatch, *at: tuple[int, int], wait_s: float = 30.0):
        import threading

        from vaestudio.core import training
        from vaestudio.gui.workers import TrainWorker

        self.reached = threading.Event()
        self._released = threading.Event()
        self._left = list(at)
        report = TrainWorker._on_event
        hold = self

        def held(worker, ev):
            report(worker, ev)
            if ev.kind == "step" and hold._left and (ev.epoch, ev.step) == hold._left[0]:
                hold._left.pop(0)
                hold._released.clear()
                hold.reached.set()
                hold._released.wait(wait_s)

        monkeypatch.setattr(training, "EVENT_INTERVAL_S", 0.0)
        monkeypatch.setattr(TrainWorker, "_on_event", held)

    def release(self) -> None:
        self.reached.clear()
        self._released.set()

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

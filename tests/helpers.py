"""Small data and models shared by tests."""
from __future__ import annotations

import numpy as np

from vaestudio.core.data.base import array_dataset


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


def write_idx(path, arr: np.ndarray, gz: bool = False) -> None:
    """An IDX file as MNIST ships them: big-endian header (0, 0x08 ubyte, ndim, dims), then bytes."""
    import gzip
    import struct

    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    data = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    path = str(path) + (".gz" if gz else "")
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


def write_mnist_folder(root, n_train: int = 600, n_test: int = 100, folder: str = "MNIST", gz: bool = False,
                       seed: int = 0):
    """A torchvision-layout MNIST folder (`root/MNIST/raw/*-ubyte`) of 28x28 blob images."""
    import pathlib

    raw = pathlib.Path(root) / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    imgs, labels = blob_images(n_train + n_test, size=28, seed=seed)
    write_idx(raw / "train-images-idx3-ubyte", imgs[:n_train, 0], gz)
    write_idx(raw / "train-labels-idx1-ubyte", labels[:n_train], gz)
    write_idx(raw / "t10k-images-idx3-ubyte", imgs[n_train:, 0], gz)
    write_idx(raw / "t10k-labels-idx1-ubyte", labels[n_train:], gz)
    return raw

"""Writers of small data sets in the real file formats, for tests, the benchmark and demos.

Each writes exactly what the real download holds (IDX files in torchvision's layout, CelebA's
JPEG folder and text files, CIFAR-10 pickled batches, an image folder), so the readers are
exercised on the formats users bring, not on a shortcut.
"""
from __future__ import annotations

import gzip
import pickle
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image

from .attributes import CELEBA_ATTRIBUTES
from .idx import idx_bytes


def write_idx(path: Path, array: np.ndarray) -> Path:
    """One IDX file, gzipped when the name ends in .gz; the values keep their dtype (MNIST ships
    uint8 images and labels, so cast int64 labels first)."""
    data = idx_bytes(array)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=1)
    path.write_bytes(data)
    return path


def write_idx_set(raw: Path, n_train: int, n_test: int, *, prefix: Sequence[str] = ("train", "t10k"),
                  gz: bool = False, n_classes: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """Four MNIST-style files in `raw` (e.g. ROOT/MNIST/raw); returns the arrays written.

    Images are dim noise with pixel (0, 0) = the label and pixel (0, 5) = 255 as a marker, so
    tests can check labels and orientation.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, n_classes, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = labels
        images[:, 0, 5] = 255
        pre = prefix[0] if split == "train" else prefix[1]
        ext = ".gz" if gz else ""
        write_idx(raw / f"{pre}-images-idx3-ubyte{ext}", images)
        write_idx(raw / f"{pre}-labels-idx1-ubyte{ext}", labels)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return arrays


def celeba_values(n: int, seed: int = 0) -> np.ndarray:
    """Attribute values (n, 40) of 1 and -1."""
    return np.where(np.random.default_rng(seed).random((n, len(CELEBA_ATTRIBUTES))) < 0.3, 1, -1)


def write_celeba(folder: Path, n: int, *, partition: Optional[Sequence[int]] = None, seed: int = 0,
                 size: tuple[int, int] = (178, 218), quality: int = 90,
                 pictures: Optional[Callable[[int], np.ndarray]] = None) -> np.ndarray:
    """A CelebA folder: img_align_celeba/NNNNNN.jpg, list_attr_celeba.txt and, given a
    partition (0/1/2 per image), list_eval_partition.txt. Returns the attribute values.

    By default image i is a flat colour whose red channel encodes i (i * 7 % 256) with a darker
    middle third, so tests can check order and crop; `pictures(i)` (H, W, 3 uint8) replaces it.
    """
    img_dir = folder / "img_align_celeba"
    img_dir.mkdir(parents=True, exist_ok=True)
    values = celeba_values(n, seed)
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    w, h = size
    for i, name in enumerate(files):
        if pictures is not None:
            arr = pictures(i)
        else:
            arr = np.empty((h, w, 3), dtype=np.uint8)
            arr[:] = ((i * 7) % 256, 128, 200)
            arr[h // 3:2 * h // 3, w // 3:2 * w // 3] //= 2
        Image.fromarray(arr).save(img_dir / name, quality=quality)
    lines = [str(n), " ".join(CELEBA_ATTRIBUTES) + " "]
    lines += [name + " " + " ".join(f"{v:2d}" for v in row) for name, row in zip(files, values)]
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    if partition is not None:
        (folder / "list_eval_partition.txt").write_text(
            "".join(f"{name} {int(p)}\n" for name, p in zip(files, partition)))
    return values


def write_cifar10(folder: Path, per_batch: int, seed: int = 0) -> None:
    """cifar-10-batches-py style batches (pickled dicts of uint8 data and list labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "labels": [int(v) for v in rng.integers(0, 10, per_batch)],
                 "batch_label": name}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)


def write_image_folder(root: Path, classes: dict[str, int], size: tuple[int, int] = (40, 30),
                       seed: int = 0) -> None:
    """root/<class>/<k>.png (or root/<k>.png for the class named ''), a colour per class."""
    rng = np.random.default_rng(seed)
    for c, (name, count) in enumerate(classes.items()):
        folder = root / name if name else root
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(count):
            arr = np.full((size[1], size[0], 3), (40 * c + 20, 255 - 40 * c, 128), dtype=np.uint8)
            arr = np.clip(arr.astype(int) + rng.integers(-5, 6, arr.shape), 0, 255).astype(np.uint8)
            ext = ".jpg" if k % 2 else ".png"
            Image.fromarray(arr).save(folder / f"{k}{ext}")

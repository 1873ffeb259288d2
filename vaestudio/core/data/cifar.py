"""CIFAR-10 from the python batches in torchvision's layout (`<root>/cifar-10-batches-py/`).

The batches are pickles; they are read with an unpickler that builds only numpy arrays and
plain containers, so a planted file cannot run code. Validation is the last training batch
(the last 10,000 images) unless the `validation` option says otherwise ("auto", a count -- 0
trains on all 50,000 -- or a fraction below 1); test is `test_batch`.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ..errors import DataError, DataNotFoundError
from .base import (AUTO_VALIDATION, DatasetSpec, ImageDataset, Split, ValidationOption, parse_validation,
                   train_test_dataset)
from .download import download_with_torchvision

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_batch(path: Path) -> Split:
    try:
        with open(path, "rb") as f:
            batch = _ArraysOnly(f, encoding="latin1").load()
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror or e})") from None
    except Exception as e:  # any unpickling failure means "not a CIFAR batch"
        raise DataError(path, f"not a CIFAR-10 python batch ({e})") from None
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise DataError(path, "not a CIFAR-10 python batch (needs 'data' and 'labels')")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(path, f"'data' must be uint8 shaped (N, 3072), found {data.dtype} {data.shape}")
    if len(labels) != len(data):
        raise DataError(path, f"{len(labels):,} labels for {len(data):,} images")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DataError(path, f"labels must be 0-9, found {labels.min()}..{labels.max()}")
    return Split(data.reshape(-1, 3, 32, 32), labels)


def _find(root: Path) -> Path | None:
    for folder in (root / FOLDER, root):
        if all((folder / b).is_file() for b in (*TRAIN_BATCHES, TEST_BATCH)):
            return folder
    return None


def open_cifar10(root: Path, *, validation: ValidationOption = AUTO_VALIDATION,
                 download: bool = False) -> ImageDataset:
    validation = parse_validation(validation, "cifar10")
    folder = _find(root)
    if folder is None and download:
        download_with_torchvision("CIFAR10", root)
        folder = _find(root)
    if folder is None:
        raise DataNotFoundError(root / FOLDER, f"CIFAR-10 files not found; put {', '.join(TRAIN_BATCHES)} "
                                               f"and {TEST_BATCH} (the python version) in this folder, "
                                               f"or pass --download")
    parts = [_read_batch(folder / b) for b in TRAIN_BATCHES]
    train_file = Split(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]))
    return train_test_dataset(
        DatasetSpec("cifar10", str(root), {"validation": validation}), train_file, _read_batch(folder / TEST_BATCH),
        label_names=list(LABEL_NAMES),
        description="CIFAR-10: small colour photos, 32x32 RGB, 60,000 images in 10 classes.",
    )

"""CIFAR-10 from the python batches in torchvision's layout (`<root>/cifar-10-batches-py/`).

The batches are pickles; they are read with an unpickler that builds only numpy arrays and
plain containers, so a planted file cannot run code, and what it builds is type-checked before
any conversion (a flat list of ints, a uint8 array or bytes of the right shape), so a planted
structure cannot make numpy walk it for hours. Validation is the last training batch
(the last 10,000 images) unless the `validation` option says otherwise ("auto", a count -- 0
trains on all 50,000 -- or a fraction below 1); test is `test_batch`.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from ..errors import DataError, DataNotFoundError
from .base import (AUTO_VALIDATION, DatasetSpec, ImageDataset, Split, ValidationOption, parse_validation,
                   train_test_dataset)
from .download import download_with_torchvision
from .limits import human_bytes

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
ROW = 3 * 32 * 32  # one image: the R, G and B planes of 32x32
MAX_BATCH_FILE_BYTES = 256 * 1024**2  # real batches are about 30 MiB
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
    """One batch: the file's size is bounded before reading it, the pickle builds only arrays
    and plain containers, and the result's types and shapes are checked before any conversion
    (a nested list sharing memo references would otherwise cost exponential time)."""
    try:
        size = path.stat().st_size
        if size > MAX_BATCH_FILE_BYTES:
            raise DataError(path, f"is {human_bytes(size)}; a CIFAR-10 python batch is about 30 MiB "
                                  f"(at most {human_bytes(MAX_BATCH_FILE_BYTES)} is read)")
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror or e})") from None
    try:
        batch = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
    except Exception as e:  # any unpickling failure means "not a CIFAR batch"
        raise DataError(path, f"not a CIFAR-10 python batch ({e})") from None
    del raw
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise DataError(path, "not a CIFAR-10 python batch (needs 'data' and 'labels')")
    data = _batch_data(batch["data"], path)
    return Split(data.reshape(-1, 3, 32, 32), _batch_labels(batch["labels"], len(data), path))


def _batch_data(data: object, path: Path) -> np.ndarray:
    """'data' as uint8 (N, 3072): a uint8 array of that shape, or its raw bytes; nothing else."""
    if isinstance(data, (bytes, bytearray)) and len(data) % ROW == 0:
        return np.frombuffer(data, dtype=np.uint8).reshape(-1, ROW)
    if type(data) is np.ndarray and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == ROW:
        return data
    found = (f"{data.dtype} {data.shape}" if type(data) is np.ndarray
             else f"{type(data).__name__} of {len(data):,} bytes" if isinstance(data, (bytes, bytearray))
             else f"a {type(data).__name__}")
    raise DataError(path, f"'data' must be uint8 shaped (N, {ROW}), found {found}")


def _batch_labels(labels: object, n: int, path: Path) -> np.ndarray:
    """'labels' as int64 (n,): a flat list of ints 0-9 (or a 1-D integer array), checked item by
    item before numpy sees it."""
    if type(labels) is np.ndarray:
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise DataError(path, f"'labels' must be a flat list of integers 0-9, found an array of "
                                  f"{labels.dtype} shaped {labels.shape}")
        values = labels
    elif isinstance(labels, (list, tuple)):
        values = labels
    else:
        raise DataError(path, f"'labels' must be a flat list of integers 0-9, found a {type(labels).__name__}")
    if len(values) != n:
        raise DataError(path, f"{len(values):,} labels for {n:,} images")
    if type(values) is np.ndarray:
        out = values.astype(np.int64)
    else:
        for i, v in enumerate(values):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise DataError(path, f"'labels' must be a flat list of integers 0-9; item {i:,} is a "
                                      f"{type(v).__name__}")
            if not 0 <= v <= 9:
                raise DataError(path, f"labels must be 0-9, found {int(v)}")
        out = np.array(values, dtype=np.int64)
    if len(out) and (out.min() < 0 or out.max() > 9):
        raise DataError(path, f"labels must be 0-9, found {out.min()}..{out.max()}")
    return out


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

"""`npz`: a user's own arrays, the way to bring data with attributes.

Arrays: `images` uint8 (N, H, W) or (N, H, W, C) with C 1 or 3 (channels-first (N, C, H, W) is
accepted too); optional `labels` (N,) integers 0..K-1 with optional `label_names` (K,);
optional `attributes` (N, A) of 0/1 with `attribute_names` (A,); optional `split` (N,) of
0/1/2 (train/validation/test), otherwise a fixed shuffle cut 80/10/10. Loaded without pickle,
so name arrays must be plain string arrays. The data set's root is the .npz file itself.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError, DataNotFoundError
from .base import DatasetSpec, ImageDataset, contiguous_splits, split_counts


def _names(z: dict, key: str, count: int, path: Path, *, at_least: bool = False) -> Optional[list[str]]:
    """The string array `key`, checked to hold `count` names (or more, with at_least)."""
    if key not in z:
        return None
    names = z[key]
    if names.ndim != 1 or (len(names) < count if at_least else len(names) != count):
        raise DataError(path, f"'{key}' has {names.size} entries but {count} are needed")
    return [str(n) for n in names]


def _images(images: np.ndarray, path: Path) -> np.ndarray:
    """uint8 (N, C, H, W) from (N, H, W), (N, H, W, C) or (N, C, H, W)."""
    if images.dtype != np.uint8:
        raise DataError(path, f"'images' must be uint8 (0-255), found {images.dtype}; "
                              f"scale to 0-255 and cast with .astype(np.uint8)")
    if images.ndim == 3:
        return images[:, None]
    if images.ndim == 4 and images.shape[3] in (1, 3):
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    if images.ndim == 4 and images.shape[1] in (1, 3):
        return images
    raise DataError(path, f"'images' must be shaped (N, H, W) or (N, H, W, C) with C 1 or 3, "
                          f"found {images.shape}")


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" in str(e):
            raise DataError(path, "holds object arrays (saved with pickle); save names as string "
                                  "arrays, e.g. np.array(names, dtype=str)") from None
        raise DataError(path, f"not a readable .npz file ({e})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(path, f"not a readable .npz file ({e})") from None


def _check_length(z: dict, key: str, n: int, path: Path) -> Optional[np.ndarray]:
    if key not in z:
        return None
    arr = z[key]
    if arr.ndim < 1 or len(arr) != n:
        got = len(arr) if arr.ndim else "no"
        raise DataError(path, f"'{key}' has {got} entries but 'images' has {n}; they must match")
    return arr


def _labels(z: dict, n: int, path: Path) -> tuple[Optional[np.ndarray], Optional[list[str]]]:
    labels = _check_length(z, "labels", n, path)
    if labels is None:
        return None, None
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise DataError(path, "'labels' must be non-negative integers shaped (N,)")
    n_classes = int(labels.max()) + 1
    names = _names(z, "label_names", n_classes, path, at_least=True) or [str(i) for i in range(n_classes)]
    return labels.astype(np.int64), names


def _attributes(z: dict, n: int, path: Path) -> tuple[Optional[np.ndarray], Optional[list[str]]]:
    attributes = _check_length(z, "attributes", n, path)
    if attributes is None:
        return None, None
    if attributes.ndim != 2 or not np.isin(attributes, (0, 1)).all():
        raise DataError(path, "'attributes' must be 0/1 values shaped (N, A)")
    a = attributes.shape[1]
    names = _names(z, "attribute_names", a, path) or [f"attribute_{i}" for i in range(a)]
    return attributes.astype(np.uint8), names


def _find_npz(root: Path) -> Path:
    if root.is_dir():
        found = sorted(root.glob("*.npz"))
        if len(found) == 1:
            return found[0]
        raise DataNotFoundError(root, f"expected the path of an .npz file (this folder holds {len(found)})")
    if not root.exists():
        raise DataNotFoundError(root, "file not found")
    return root


def open_npz(root: Path) -> ImageDataset:
    path = _find_npz(root)
    z = _read(path)
    if "images" not in z:
        raise DataError(path, f"no 'images' array (found: {', '.join(sorted(z)) or 'nothing'})")
    images = _images(z["images"], path)
    n = len(images)
    if n == 0:
        raise DataError(path, "'images' is empty")
    labels, label_names = _labels(z, n, path)
    attributes, attribute_names = _attributes(z, n, path)
    split = _check_length(z, "split", n, path)
    if split is not None:
        if not np.isin(split, (0, 1, 2)).all():
            raise DataError(path, "'split' must hold 0 (train), 1 (validation) or 2 (test) per image")
        order = np.argsort(split, kind="stable")
        counts = tuple(int(c) for c in np.bincount(split.astype(np.int64), minlength=3))
    else:
        order = np.random.default_rng(0).permutation(n)
        counts = split_counts(n)
    train, validation, test = contiguous_splits(
        images[order], None if labels is None else labels[order],
        None if attributes is None else attributes[order], counts)
    c, h, w = images.shape[1:]
    extras = [f"{len(label_names)} labels" if label_names else "no labels",
              f"{len(attribute_names)} attributes" if attribute_names else "no attributes"]
    return ImageDataset(
        spec=DatasetSpec("npz", str(root), {}), train=train, validation=validation, test=test,
        label_names=label_names, attribute_names=attribute_names,
        description=f"Arrays from {path.name}: {n:,} images, {h}x{w} {'grey' if c == 1 else 'RGB'}, "
                    f"{', '.join(extras)}.",
    )

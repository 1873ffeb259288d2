"""`folder`: any folder of images; each subfolder holding images is a label.

With subfolders, every image below each one (at any depth) gets that subfolder's name as its
label, and images lying directly in the root are left out; with none, the images in the folder
itself are unlabelled. Each image is centre-cropped to a square and resized. Files are shuffled
in a fixed order and cut 80/10/10, converted once into a cache entry keyed by the folder's
files (names, sizes, times) and the options.

Options: `size` (default 64) and `grey` (default False: RGB).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError, DataNotFoundError
from .base import CancelFn, DatasetSpec, ImageDataset, ProgressFn, contiguous_splits, split_counts
from .cache import cache_key, files_fingerprint
from .images import IMAGE_EXTENSIONS, convert_images

CONVERSION_VERSION = 1


def _images_under(folder: Path, recursive: bool) -> list[Path]:
    found = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_file() and os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
            found.append(Path(entry.path))
        elif recursive and entry.is_dir() and not entry.name.startswith("."):
            found.extend(_images_under(Path(entry.path), True))
    return found


def list_folder(root: Path) -> tuple[list[Path], Optional[np.ndarray], Optional[list[str]]]:
    """(image paths, labels or None, label names or None) of an image folder."""
    if not root.exists():
        raise DataNotFoundError(root, "folder not found")
    if not root.is_dir():
        raise DataError(root, "not a folder; the folder data set needs a folder of images "
                              "(subfolders name the labels)")
    classes = [d for d in sorted(root.iterdir(), key=lambda p: p.name)
               if d.is_dir() and not d.name.startswith(".")]
    per_class = [(d.name, _images_under(d, True)) for d in classes]
    per_class = [(name, files) for name, files in per_class if files]
    if per_class:
        paths = [p for _, files in per_class for p in files]
        labels = np.concatenate([np.full(len(files), i, dtype=np.int64) for i, (_, files) in enumerate(per_class)])
        return paths, labels, [name for name, _ in per_class]
    paths = _images_under(root, False)
    if not paths:
        raise DataError(root, f"no images found (looked for {', '.join(IMAGE_EXTENSIONS)} files here "
                              f"and in its subfolders)")
    return paths, None, None


def open_folder(root: Path, size: int = 64, grey: bool = False, *, progress: Optional[ProgressFn] = None,
                cancel: Optional[CancelFn] = None) -> ImageDataset:
    if size < 4 or size > 1024:
        raise DataError(None, f"image size must be between 4 and 1024, not {size}")
    paths, labels, label_names = list_folder(root)
    order = np.random.default_rng(0).permutation(len(paths))
    paths = [paths[i] for i in order]
    labels = None if labels is None else labels[order]
    # One entry per folder and options; the files' names, sizes and times are checked on open.
    stem = f"folder-{cache_key('folder', CONVERSION_VERSION, str(root.resolve()), size, grey)}"
    sources = files_fingerprint((str(p.relative_to(root)), p) for p in paths)
    images, _ = convert_images(stem, paths, size, grey, sources=sources,
                               message=f"reading {len(paths):,} images",
                               progress=progress, cancel=cancel)
    train, validation, test = contiguous_splits(images, labels, None, split_counts(len(paths)))
    kind = "grey" if grey else "RGB"
    classes = f"{len(label_names)} labels from subfolders" if label_names else "no labels"
    return ImageDataset(
        spec=DatasetSpec("folder", str(root), {"size": size, "grey": grey}),
        train=train, validation=validation, test=test, label_names=label_names,
        description=f"Images from {root}: {len(paths):,} files as {size}x{size} {kind}, {classes}.",
    )


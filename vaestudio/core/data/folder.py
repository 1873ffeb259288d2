"""`folder`: any folder of images; each subfolder holding images is a label.

With subfolders, every image below each one (at any depth) gets that subfolder's name as its
label, and images lying directly in the root are left out; with none, the images in the folder
itself are unlabelled. Each image is centre-cropped to a square and resized. Files are shuffled
in a fixed order and cut 80/10/10, converted once into a cache entry keyed by the folder's
files (names, sizes, times) and the options.

A file that does not decode (truncated, not an image, declaring more pixels than is safe) is
skipped, and the data set's `warnings` say how many and name the first few; only a folder where
none decodes is refused.

Options: `size` (default 64) and `grey` (default False: RGB).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError, DataNotFoundError
from .base import CancelFn, DatasetSpec, ImageDataset, ProgressFn, contiguous_splits, split_counts
from .cache import build_cached, cache_dir, cache_key, files_fingerprint
from .images import IMAGE_EXTENSIONS, load_image

CONVERSION_VERSION = 2  # 2: unreadable files are skipped (a per-image "readable" flag)
NAMED_SKIPS = 3  # how many skipped files a warning names


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


def _convert(stem: str, paths: list[Path], size: int, grey: bool, sources: str, progress, cancel
             ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """(images, readable flags, {index: reason} for this conversion's failures): like
    `images.convert_images`, but a file that does not decode becomes a blank image flagged 0
    instead of stopping the whole folder. Reasons are known only when converting, not on a hit."""
    channels = 1 if grey else 3
    reasons: dict[int, str] = {}

    def one(i: int) -> np.ndarray:
        try:
            return load_image(paths[i], size, grey)
        except DataError as e:  # decode_image turns every decoding failure into a DataError
            reasons[i] = str(e)
            return np.zeros((channels, size, size), np.uint8)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        def make_chunk(lo: int, hi: int):
            arrays = list(pool.map(one, range(lo, hi)))
            flags = np.array([i not in reasons for i in range(lo, hi)], dtype=np.uint8)
            return np.stack(arrays), {"readable": flags}

        images, arrays = build_cached(stem, len(paths), (channels, size, size), make_chunk, chunk=500,
                                      required=("readable",), sources=sources,
                                      message=f"reading {len(paths):,} images", progress=progress, cancel=cancel)
    return images, np.asarray(arrays["readable"], dtype=bool), reasons


def _named(root: Path, paths: list[Path], bad: np.ndarray, reasons: dict[int, str]) -> str:
    """The first few unreadable files by name, and the first reason known (this conversion's)."""
    bad = sorted((int(i) for i in bad), key=lambda i: paths[i])
    names = ", ".join(str(paths[i].relative_to(root)) for i in bad[:NAMED_SKIPS])
    more = f" and {len(bad) - NAMED_SKIPS:,} more" if len(bad) > NAMED_SKIPS else ""
    first = next((reasons[i] for i in bad if i in reasons), "")
    return f"{names}{more}" + (f" (first: {first})" if first else "")


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
    images, readable, reasons = _convert(stem, paths, size, grey, sources, progress, cancel)
    warnings = []
    if not readable.all():
        bad = np.flatnonzero(~readable)
        if not readable.any():
            # Nothing to train on: no entry of blank images stays behind, so the next open
            # decodes again and can say why the files are unreadable.
            del images
            for suffix in (".npy", ".npz"):
                (cache_dir() / f"{stem}{suffix}").unlink(missing_ok=True)
            raise DataError(root, f"none of the {len(paths):,} image files could be read: "
                                  f"{_named(root, paths, bad, reasons)}")
        images = images[readable]  # a copy without the blanks (the cache keeps every file's slot)
        labels = None if labels is None else labels[readable]
        warnings.append(f"skipped {len(bad):,} of {len(paths):,} image files that could not be read: "
                        f"{_named(root, paths, bad, reasons)}")
    n = len(images)
    train, validation, test = contiguous_splits(images, labels, None, split_counts(n))
    kind = "grey" if grey else "RGB"
    classes = f"{len(label_names)} labels from subfolders" if label_names else "no labels"
    return ImageDataset(
        spec=DatasetSpec("folder", str(root), {"size": size, "grey": grey}),
        train=train, validation=validation, test=test, label_names=label_names,
        description=f"Images from {root}: {n:,} files as {size}x{size} {kind}, {classes}.",
        warnings=warnings,
    )

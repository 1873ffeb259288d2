"""Sane limits on what a data file may declare, and the shared checks that apply them.

A small file can declare a huge array (an IDX header, an .npz member's header, a zip's
uncompressed size, a pickle's list) or hold a compressed stream far longer than it says. Every
reader checks what a file declares against these limits and against the bytes actually present
BEFORE allocating, then reads exactly the declared bytes. One refusal is one DataError naming
the file and what is wrong.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

from ..errors import DataError

MAX_IMAGES = 10_000_000  # items along the first axis of any array read from a file
MAX_SIDE = 4096  # any other axis: image height, width, channels, attribute columns
MAX_FILE_ARRAY_BYTES = 2 * 1024**3  # one array read into memory from a file (IDX, .npz member, batch)
MAX_CLASSES = 100_000  # labels must lie in 0 .. MAX_CLASSES - 1
MAX_DECODE_PIXELS = 1 << 26  # pixels of one image file decoded (8192 x 8192)
MAX_TEXT_LINE = 64 * 1024  # characters of one line of a text file (CelebA's lists)


def human_bytes(n: int) -> str:
    """1,234 bytes / 12.3 MiB / 4.0 GiB / 3.1 TiB."""
    if n < 10_000:
        return f"{n:,} bytes"
    for unit, size in (("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40)):
        if n < size * 1024 or unit == "TiB":
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} bytes"  # pragma: no cover


def shape_text(shape: Sequence[int]) -> str:
    return "x".join(str(int(d)) for d in shape) if len(shape) else "a scalar"


def check_declared(path: Optional[str | os.PathLike], what: str, shape: Sequence[int], itemsize: int,
                   *, max_bytes: int = MAX_FILE_ARRAY_BYTES) -> int:
    """The byte size of an array of `shape` and `itemsize` that `path` declares (`what`: e.g.
    "IDX header", "'images'"), refused when its first axis exceeds MAX_IMAGES, another axis
    MAX_SIDE, or its size `max_bytes`. Computed with Python ints, so no overflow."""
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise DataError(path, f"{what} declares a negative size ({shape_text(shape)})")
    if shape and shape[0] > MAX_IMAGES:
        raise DataError(path, f"{what} declares {shape[0]:,} items ({shape_text(shape)}), more than the "
                              f"{MAX_IMAGES:,} a data file may hold; the file is damaged or hostile")
    if any(d > MAX_SIDE for d in shape[1:]):
        raise DataError(path, f"{what} declares shape {shape_text(shape)}: a size beyond {MAX_SIDE:,} "
                              f"after the first axis is not an image; the file is damaged or hostile")
    total = int(itemsize)
    for d in shape:
        total *= d
    if total > max_bytes:
        raise DataError(path, f"{what} declares {shape_text(shape)} values ({human_bytes(total)}), more "
                              f"than the {human_bytes(max_bytes)} a data file may load into memory")
    return total


def check_labels(path: Optional[str | os.PathLike], labels: np.ndarray, *, n_classes: Optional[int] = None,
                 what: str = "labels") -> np.ndarray:
    """`labels` as int64 (N,), refused unless integers in 0 .. n_classes - 1 (default: below
    MAX_CLASSES, so names for them can be built)."""
    limit = MAX_CLASSES if n_classes is None else min(int(n_classes), MAX_CLASSES)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(path, f"{what} must be non-negative integers shaped (N,), found {labels.dtype} "
                              f"shaped {shape_text(labels.shape)}")
    if len(labels):
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= limit:
            bad = lo if lo < 0 else hi
            if n_classes is not None:
                raise DataError(path, f"{what}: label {bad:,} is out of range 0-{limit - 1:,}")
            raise DataError(path, f"{what} must be non-negative integers below {limit:,} (class numbers), "
                                  f"found {bad:,}")
    return labels.astype(np.int64)

"""Generated and converted images cached on disk: built once in chunks, memory-mapped after.

A cache entry is two files under `cache_dir()`: `STEM.npy` (uint8 images, opened as a
read-only memory map, so RAM use stays far below the data size) and `STEM.npz` (labels,
attributes and other per-image arrays). Both are written to temporary names and renamed into
place only when complete; the images file goes last and marks the entry done, so a cancelled
or failed build leaves nothing behind that a later open could mistake for data.
"""
from __future__ import annotations

import hashlib
import os
from typing import BinaryIO, Callable, Optional

import numpy as np

from ..errors import Cancelled, DataError
from ..paths import atomic_write, cache_dir
from .base import CancelFn, ProgressFn

# make_chunk(lo, hi) -> (images[lo:hi] as uint8 (hi-lo, *item_shape), per-image arrays for lo:hi)
ChunkFn = Callable[[int, int], tuple[np.ndarray, dict[str, np.ndarray]]]


def cache_key(*parts: object) -> str:
    """A short stable hash of everything the cached content depends on."""
    return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()[:16]


def file_stamp(path: str | os.PathLike) -> tuple:
    """(size, mtime) of a file, or None when absent: enough to notice it changed."""
    try:
        st = os.stat(path)
    except OSError:
        return (None,)
    return (st.st_size, st.st_mtime_ns)


def load_cached(stem: str, shape: tuple[int, ...]) -> Optional[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """The cached images (memory map) and arrays for `stem`, or None when absent or stale."""
    images_path = cache_dir() / f"{stem}.npy"
    arrays_path = cache_dir() / f"{stem}.npz"
    if not (images_path.exists() and arrays_path.exists()):
        return None
    try:
        images = np.load(images_path, mmap_mode="r")
        with np.load(arrays_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError):
        return None
    if images.dtype != np.uint8 or tuple(images.shape) != tuple(shape):
        return None
    return images, arrays


def _write_images(f: BinaryIO, shape: tuple[int, ...], make_chunk: ChunkFn, chunk: int, message: str,
                  progress: Optional[ProgressFn], cancel: Optional[CancelFn]) -> dict[str, list[np.ndarray]]:
    """Stream the chunks into the open file `f` as one .npy (only one chunk is ever in memory)."""
    n = shape[0]
    parts: dict[str, list[np.ndarray]] = {}
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
              "shape": shape}
    np.lib.format.write_array_header_1_0(f, header)
    if progress:
        progress(0, n, message)
    for lo in range(0, n, chunk):
        if cancel and cancel():
            raise Cancelled(f"{message}: cancelled")
        hi = min(n, lo + chunk)
        images, arrays = make_chunk(lo, hi)
        if images.shape != (hi - lo, *shape[1:]):
            raise ValueError(f"chunk {lo}:{hi} has shape {images.shape}, expected {(hi - lo, *shape[1:])}")
        f.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
        for k, v in arrays.items():
            parts.setdefault(k, []).append(np.asarray(v))
        if progress:
            progress(hi, n, message)
    return parts


def build_cached(
    stem: str,
    n: int,
    item_shape: tuple[int, ...],
    make_chunk: ChunkFn,
    *,
    chunk: int = 1000,
    fixed: Optional[dict[str, np.ndarray]] = None,
    message: str = "preparing images",
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Open the cache entry `stem`, building it first with `make_chunk` when it is missing.

    `fixed` arrays are stored as they are; the per-chunk arrays are concatenated in order.
    Checks `cancel` between chunks and raises `Cancelled`, removing the partial files.
    """
    shape = (int(n), *item_shape)
    hit = load_cached(stem, shape)
    if hit is not None:
        return hit
    images_path = cache_dir() / f"{stem}.npy"
    arrays_path = cache_dir() / f"{stem}.npz"
    # The arrays are renamed into place inside the images' write, so the images file comes last.
    with atomic_write(images_path) as f_images:
        parts = _write_images(f_images, shape, make_chunk, chunk, message, progress, cancel)
        arrays_all = dict(fixed or {})
        arrays_all.update({k: np.concatenate(v) for k, v in parts.items()})
        with atomic_write(arrays_path) as f_arrays:
            np.savez(f_arrays, **arrays_all)
    hit = load_cached(stem, shape)
    if hit is None:
        raise DataError(images_path, "the cache file could not be read back right after writing it")
    return hit

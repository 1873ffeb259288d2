"""Generated and converted images cached on disk: built once in chunks, memory-mapped after.

A cache entry is two files under `cache_dir()`: `STEM.npy` (uint8 images, opened as a
read-only memory map, so RAM use stays far below the data size) and `STEM.npz` (labels,
attributes and other per-image arrays, plus the entry's metadata under `META_KEY`). Both are
written to temporary names and renamed into place only when complete; the images file goes
last and marks the entry done, so a cancelled or failed build leaves nothing behind that a
later open could mistake for data.

Every open validates the entry before serving it (`load_cached`); anything wrong makes it a
miss -- both files are removed and the caller rebuilds from the sources -- never a crash and
never stale images:

- the arrays file must read back whole (a zip archive: truncation, a missing member or a bad
  CRC-32 of any member is caught by reading it) and hold the metadata of this cache format;
- every array the metadata lists, and every key the loader requires, must be there with the
  recorded dtype and shape; per-image arrays have one row per image;
- the images file must have exactly the expected dtype and shape and exactly the recorded
  byte size (so a truncated or extended file is caught);
- a CRC-32 of the image bytes, recorded while the entry was built, must match. Entries of at
  most `FULL_CHECK_BYTES` are checked over all their bytes on every open. Larger ones are
  checked on a fixed sample -- `SAMPLE_BLOCKS` blocks of `SAMPLE_BLOCK` bytes spread evenly
  from the first byte to the last, about 1 MiB whatever the entry's size -- because reading
  all of them would make reopening cost what memory-mapping saves (zlib.crc32 ran at ~3.6 GB/s
  on the development VM: ~15 ms for the 55 MB of the built-in digits against ~1 ms for the
  sample, and most of a second plus the whole page cache for the 2.4 GB of 64x64 CelebA).
  A damaged run of bytes longer than the sample spacing (size / 255
  + 4 KiB) is always caught; a few bytes changed between samples of a large entry are not.
  Right after a build the entry is read back and checked over all its bytes (`full=True`);
- the fingerprint of the sources the loader passes (`sources`: for files their size and
  mtime_ns, for folders of many files a digest of every file's name, size and mtime_ns, see
  `files_fingerprint` and `folder_fingerprint`) must equal the one recorded at build time, so
  a source file replaced after caching is noticed and the entry rebuilt in place (rather than
  a new entry being added beside a stale one that would stay on disk forever). Loaders take
  the fingerprint before reading any source, so a change made during a build is noticed next
  time too -- unless it kept the file's size and landed within the same file-time tick.

Opening also sweeps the cache folder of temporary files left by killed builds (any
`.NAME.tmpPID-*` whose process is gone, or that is older than a day).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
import zlib
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Optional, Sequence

import numpy as np

from ..errors import Cancelled, DataError
from ..paths import STALE_TEMP_S, TEMP_MARK, _pid_alive, atomic_write, cache_dir
from .base import CancelFn, ProgressFn

# make_chunk(lo, hi) -> (images[lo:hi] as uint8 (hi-lo, *item_shape), per-image arrays for lo:hi)
ChunkFn = Callable[[int, int], tuple[np.ndarray, dict[str, np.ndarray]]]

FORMAT = 2  # of the metadata; entries of another format are misses
META_KEY = "__cache_meta__"
FULL_CHECK_BYTES = 1 << 20  # entries up to this size are checksummed whole on every open
SAMPLE_BLOCKS = 256
SAMPLE_BLOCK = 4096
_TEMP_NAME = re.compile(r"^\..+" + re.escape(TEMP_MARK) + r"(\d+)-[^/]*$")


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


def files_fingerprint(entries: Iterable[tuple[str, str | os.PathLike]]) -> str:
    """A digest of (name, size, mtime_ns) of each (name, path) in order: changes when any of the
    files is replaced, resized, touched, added, removed or renamed."""
    h = hashlib.blake2b(digest_size=16)
    for name, path in entries:
        h.update(os.fsencode(name) + b"\0" + repr(file_stamp(path)).encode() + b"\n")
    return h.hexdigest()


def folder_fingerprint(folder: str | os.PathLike) -> str:
    """A digest of (name, size, mtime_ns) of every entry directly in `folder`, sorted by name
    (one stat per file: 20,000 files took ~0.1 s on the development VM, so CelebA's 202,599
    JPEGs take about a second there, less where stat is cheaper).
    A folder's own mtime is not enough: a file rewritten in place leaves it unchanged."""
    rows = []
    with os.scandir(folder) as it:
        for entry in it:
            try:
                st = entry.stat()
                stamp = f"{st.st_size}\0{st.st_mtime_ns}"
            except OSError:
                stamp = "-"
            rows.append(os.fsencode(entry.name) + b"\0" + stamp.encode() + b"\n")
    rows.sort()
    return hashlib.blake2b(b"".join(rows), digest_size=16).hexdigest()


def sweep_cache_temp_files(folder: str | os.PathLike | None = None) -> int:
    """Remove the leftovers of killed writers anywhere in the cache folder: every
    `.NAME.tmpPID-*` (the names `paths.atomic_write` gives) whose process is gone or that is
    older than a day, whatever entry it was for. Returns how many went. Links are removed, never
    followed; folders are left alone."""
    folder = cache_dir() if folder is None else Path(folder)
    removed = 0
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if not m:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_S
            if old or not _pid_alive(int(m.group(1))):
                os.unlink(entry.path)
                removed += 1
        except (OSError, ValueError):
            continue
    return removed


def _sample_ranges(total: int) -> list[tuple[int, int]]:
    """The byte ranges of the image data that the open-time checksum covers, in order."""
    if total <= FULL_CHECK_BYTES:
        return [(0, total)]
    # total > 256 * 4096, so the starts are more than SAMPLE_BLOCK apart: the ranges never overlap.
    starts = np.linspace(0, total - SAMPLE_BLOCK, SAMPLE_BLOCKS).astype(np.int64)
    return [(int(s), int(s) + SAMPLE_BLOCK) for s in starts]


def _crc_ranges(flat: memoryview, ranges: Sequence[tuple[int, int]]) -> int:
    crc = 0
    for lo, hi in ranges:
        crc = zlib.crc32(flat[lo:hi], crc)
    return crc


def _remove(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except OSError:
            pass  # gone already, or unwritable: the entry still never validates, a rebuild replaces it


def _validate(images_path: Path, arrays_path: Path, shape: tuple[int, ...], required: Sequence[str],
              sources: Optional[str], full: bool) -> Optional[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """The entry if every check in the module docstring passes, else None."""
    try:
        with np.load(arrays_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}  # reads every member whole: the zip CRC-32s are checked
        meta = json.loads(str(arrays.pop(META_KEY)))
        images = np.load(images_path, mmap_mode="r")
    except Exception:  # any failure to read (BadZipFile, KeyError, ValueError, OSError, ...) is a miss
        return None
    try:
        if (meta.get("format") != FORMAT or meta.get("sources") != sources
                or tuple(meta.get("shape", ())) != tuple(shape)):
            return None
        if images.dtype != np.uint8 or tuple(images.shape) != tuple(shape):
            return None
        total = int(np.prod(shape, dtype=np.int64))
        if meta.get("bytes") != total or os.stat(images_path).st_size != images.offset + total:
            return None
        listed = meta.get("arrays", {})
        if set(listed) != set(arrays) or any(k not in arrays for k in required):
            return None
        for k, (dtype, ashape) in listed.items():
            if arrays[k].dtype.str != dtype or list(arrays[k].shape) != list(ashape):
                return None
        if any(arrays[k].ndim == 0 or len(arrays[k]) != shape[0] for k in meta.get("per_image", ())):
            return None
        flat = memoryview(images).cast("B")  # slicing a memoryview is far cheaper than a memmap
        if _crc_ranges(flat, _sample_ranges(total)) != meta.get("sample_crc32"):
            return None
        if full and _crc_ranges(flat, [(0, total)]) != meta.get("crc32"):
            return None
    except Exception:  # a malformed metadata record (wrong types) is a miss too
        return None
    return images, arrays


def load_cached(stem: str, shape: tuple[int, ...], *, required: Sequence[str] = (),
                sources: Optional[str] = None, full: bool = False,
                ) -> Optional[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """The cached images (memory map) and arrays for `stem`, or None when absent, damaged or
    stale: `shape` is the images' expected shape, `required` the array keys the caller reads,
    `sources` the fingerprint of its source files (None for generated data). A damaged or
    stale entry is removed. `full` checksums every image byte instead of the open-time sample.
    Sweeps the cache folder of leftovers of killed builds first."""
    folder = cache_dir()
    sweep_cache_temp_files(folder)
    images_path = folder / f"{stem}.npy"
    arrays_path = folder / f"{stem}.npz"
    has_images, has_arrays = images_path.exists(), arrays_path.exists()
    if not has_images:
        # An arrays file alone is either a build between its two renames or the remains of a
        # build killed there: not data, and the next build replaces it.
        return None
    if not has_arrays:  # the images go last, so alone they are the remains of a removed entry
        _remove(images_path)
        return None
    hit = _validate(images_path, arrays_path, tuple(shape), required, sources, full)
    if hit is None:
        _remove(images_path, arrays_path)
    return hit


class _Checksums:
    """CRC-32s of a stream of image bytes: of all of them and of the open-time sample."""

    def __init__(self, total: int):
        self.ranges = _sample_ranges(total)
        self.pos = 0
        self.full = 0
        self.sample = 0

    def add(self, data: bytes) -> None:
        lo, hi = self.pos, self.pos + len(data)
        self.full = zlib.crc32(data, self.full)
        view = memoryview(data)
        for s, e in self.ranges:  # in order and disjoint, so piece by piece equals range by range
            if e <= lo or s >= hi:
                continue
            self.sample = zlib.crc32(view[max(s, lo) - lo:min(e, hi) - lo], self.sample)
        self.pos = hi


def _write_images(f: BinaryIO, shape: tuple[int, ...], make_chunk: ChunkFn, chunk: int, message: str,
                  progress: Optional[ProgressFn], cancel: Optional[CancelFn],
                  sums: _Checksums) -> dict[str, list[np.ndarray]]:
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
        data = np.ascontiguousarray(images, dtype=np.uint8).tobytes()
        sums.add(data)
        f.write(data)
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
    required: Sequence[str] = (),
    sources: Optional[str] = None,
    message: str = "preparing images",
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Open the cache entry `stem`, building it first with `make_chunk` when it is missing,
    damaged or stale (see `load_cached` for `required` and `sources`).

    `fixed` arrays are stored as they are; the per-chunk arrays are concatenated in order.
    Checks `cancel` between chunks and raises `Cancelled`, removing the partial files.
    """
    shape = (int(n), *item_shape)
    hit = load_cached(stem, shape, required=required, sources=sources)
    if hit is not None:
        return hit
    images_path = cache_dir() / f"{stem}.npy"
    arrays_path = cache_dir() / f"{stem}.npz"
    total = int(np.prod(shape, dtype=np.int64))
    sums = _Checksums(total)
    # The arrays are renamed into place inside the images' write, so the images file comes last.
    with atomic_write(images_path) as f_images:
        parts = _write_images(f_images, shape, make_chunk, chunk, message, progress, cancel, sums)
        # Flushed and synced before the arrays land, so the two renames follow each other closely.
        f_images.flush()
        os.fsync(f_images.fileno())
        arrays_all = {k: np.asarray(v) for k, v in (fixed or {}).items()}
        arrays_all.update({k: np.concatenate(v) for k, v in parts.items()})
        meta = {"format": FORMAT, "shape": list(shape), "bytes": total, "crc32": sums.full,
                "sample_crc32": sums.sample, "sources": sources, "per_image": sorted(parts),
                "arrays": {k: [v.dtype.str, list(v.shape)] for k, v in arrays_all.items()}}
        with atomic_write(arrays_path) as f_arrays:
            np.savez(f_arrays, **arrays_all, **{META_KEY: np.array(json.dumps(meta))})
    hit = load_cached(stem, shape, required=required, sources=sources, full=True)
    if hit is None:
        raise DataError(images_path, "the cache file could not be read back right after writing it")
    return hit

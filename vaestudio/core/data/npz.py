"""`npz`: a user's own arrays, the way to bring data with attributes.

Arrays: `images` uint8 (N, H, W) or (N, H, W, C) with C 1 or 3 (channels-first (N, C, H, W) is
accepted too); optional `labels` (N,) integers 0..K-1 with optional `label_names` (K,);
optional `attributes` (N, A) of 0/1 with `attribute_names` (A,); optional `split` (N,) of
0/1/2 (train/validation/test), otherwise a fixed shuffle cut 80/10/10. Loaded without pickle,
so name arrays must be plain string arrays. The data set's root is the .npz file itself.

Each member's .npy header (shape, dtype) and the zip's uncompressed size are checked against
each other and against sane limits (`limits`) before a byte of data is read, so a zip bomb or
a lying header costs nothing. The images are then streamed in chunks straight into their final
(N, C, H, W) array in split order: one copy of the data, never two.
"""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import DataError, DataNotFoundError
from .base import DatasetSpec, ImageDataset, contiguous_splits, split_counts
from .limits import (MAX_CLASSES, MAX_FILE_ARRAY_BYTES, MAX_SIDE, check_declared, check_labels, human_bytes,
                     shape_text)

KNOWN = ("images", "labels", "label_names", "attributes", "attribute_names", "split")
NAMES_MAX_BYTES = 64 * 1024**2  # a names array is small; a big one is not names
CHUNK = 1 << 22  # image bytes read at a time


@dataclass(frozen=True)
class _Member:
    """One array of the archive as its headers declare it (nothing read yet)."""

    key: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    offset: int  # bytes of .npy header before the data
    nbytes: int  # bytes of data, as declared (checked against the zip's uncompressed size)


def _read_header(zf: zipfile.ZipFile, key: str, path: Path) -> _Member:
    info = zf.getinfo(f"{key}.npy")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise DataError(path, f"'{key}' is in .npy format version {version[0]}.{version[1]}, which "
                                  f"is not read here; save it with np.savez")
        offset = f.tell()
    if dtype.hasobject:
        raise DataError(path, "holds object arrays (saved with pickle); save names as string "
                              "arrays, e.g. np.array(names, dtype=str)")
    if key.endswith("names"):
        limit = MAX_CLASSES if key == "label_names" else MAX_SIDE
        if len(shape) != 1 or shape[0] > limit:
            raise DataError(path, f"'{key}' must be a list of at most {limit:,} names, found shape "
                                  f"{shape_text(shape)}")
        nbytes = check_declared(path, f"'{key}'", shape, dtype.itemsize, max_bytes=NAMES_MAX_BYTES)
    else:
        nbytes = check_declared(path, f"'{key}'", shape, dtype.itemsize)
    if info.file_size != offset + nbytes:
        raise DataError(path, f"'{key}' declares {shape_text(shape)} {dtype} values ({nbytes:,} bytes) but "
                              f"its archive member holds {info.file_size - offset:,} bytes of data; the "
                              f"file is damaged or hostile")
    return _Member(key, info, tuple(int(d) for d in shape), dtype, bool(fortran), offset, nbytes)


def _read_small(zf: zipfile.ZipFile, m: _Member) -> np.ndarray:
    """A member already checked by `_read_header` (its size is bounded), read whole."""
    with zf.open(m.info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _read_exactly(f: BinaryIO, n: int, m: _Member, path: Path) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise DataError(path, f"'{m.key}' ends early: the archive member is cut short")
    return data


def _image_layout(m: _Member, path: Path) -> tuple[str, tuple[int, int, int]]:
    """('nhw' | 'nhwc' | 'nchw', (C, H, W)) of the images member, from its header alone."""
    if m.dtype != np.uint8:
        raise DataError(path, f"'images' must be uint8 (0-255), found {m.dtype}; "
                              f"scale to 0-255 and cast with .astype(np.uint8)")
    s = m.shape
    if len(s) == 3:
        return "nhw", (1, s[1], s[2])
    if len(s) == 4 and s[3] in (1, 3):
        return "nhwc", (s[3], s[1], s[2])
    if len(s) == 4 and s[1] in (1, 3):
        return "nchw", (s[1], s[2], s[3])
    raise DataError(path, f"'images' must be shaped (N, H, W) or (N, H, W, C) with C 1 or 3, "
                          f"found {m.shape}")


def _to_nchw(block: np.ndarray, layout: str) -> np.ndarray:
    if layout == "nhw":
        return block[:, None]
    if layout == "nhwc":
        return block.transpose(0, 3, 1, 2)
    return block


def _read_images(zf: zipfile.ZipFile, m: _Member, layout: str, chw: tuple[int, int, int],
                 order: np.ndarray, path: Path) -> np.ndarray:
    """The images as uint8 (N, C, H, W) with out[k] = file's image order[k], streamed in chunks
    into the one output array (the file's bytes are never held whole beside it)."""
    n = m.shape[0]
    out = np.empty((n, *chw), dtype=np.uint8)
    if m.fortran or n == 0:  # rare (np.asfortranarray before saving): rows are not contiguous
        out[:] = _to_nchw(_read_small(zf, m), layout)[order]
        return out
    where = np.empty(n, dtype=np.int64)
    where[order] = np.arange(n)  # row i of the file goes to out[where[i]]
    row = int(np.prod(m.shape[1:]))
    step = max(1, CHUNK // max(row, 1))
    with zf.open(m.info) as f:
        _read_exactly(f, m.offset, m, path)
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            block = np.frombuffer(_read_exactly(f, (hi - lo) * row, m, path), dtype=np.uint8)
            out[where[lo:hi]] = _to_nchw(block.reshape(hi - lo, *m.shape[1:]), layout)
    return out


def _names(values: np.ndarray, key: str, count: int, path: Path, *, at_least: bool = False) -> list[str]:
    """The string array `key`, checked to hold `count` names (or more, with at_least)."""
    if values.ndim != 1 or (len(values) < count if at_least else len(values) != count):
        raise DataError(path, f"'{key}' has {values.size} entries but {count} are needed")
    return [str(v) for v in values]


def _check_length(members: dict[str, _Member], key: str, n: int, path: Path) -> None:
    """Refuse (from the header alone) an optional per-image array whose length is not n."""
    if key in members:
        shape = members[key].shape
        if len(shape) < 1 or shape[0] != n:
            got = f"{shape[0]:,}" if shape else "no"
            raise DataError(path, f"'{key}' has {got} entries but 'images' has {n:,}; they must match")


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
    try:
        with zipfile.ZipFile(path) as zf:
            return _open(zf, root, path)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError,
            NotImplementedError) as e:
        raise DataError(path, f"not a readable .npz file ({e})") from None


def _open(zf: zipfile.ZipFile, root: Path, path: Path) -> ImageDataset:
    present = {name[:-4] for name in zf.namelist() if name.endswith(".npy")}
    members = {key: _read_header(zf, key, path) for key in KNOWN if key in present}
    total = sum(m.nbytes for m in members.values())
    if total > MAX_FILE_ARRAY_BYTES:
        raise DataError(path, f"its arrays declare {human_bytes(total)} in all, more than the "
                              f"{human_bytes(MAX_FILE_ARRAY_BYTES)} a data file may load into memory")
    if "images" not in members:
        found = sorted(name[:-4] if name.endswith(".npy") else name for name in zf.namelist())
        raise DataError(path, f"no 'images' array (found: {', '.join(found) or 'nothing'})")
    layout, chw = _image_layout(members["images"], path)
    n = members["images"].shape[0]
    if n == 0:
        raise DataError(path, "'images' is empty")
    for key in ("labels", "attributes", "split"):
        _check_length(members, key, n, path)

    labels = label_names = None
    if "labels" in members:
        labels = check_labels(path, _read_small(zf, members["labels"]), what="'labels'")
        n_classes = int(labels.max()) + 1
        label_names = (_names(_read_small(zf, members["label_names"]), "label_names", n_classes, path,
                              at_least=True) if "label_names" in members
                       else [str(i) for i in range(n_classes)])
    attributes = attribute_names = None
    if "attributes" in members:
        attributes = _read_small(zf, members["attributes"])
        if attributes.ndim != 2 or not np.isin(attributes, (0, 1)).all():
            raise DataError(path, "'attributes' must be 0/1 values shaped (N, A)")
        a = attributes.shape[1]
        attribute_names = (_names(_read_small(zf, members["attribute_names"]), "attribute_names", a, path)
                           if "attribute_names" in members else [f"attribute_{i}" for i in range(a)])
        attributes = attributes.astype(np.uint8)
    if "split" in members:
        split = _read_small(zf, members["split"])
        if split.ndim != 1 or not np.isin(split, (0, 1, 2)).all():
            raise DataError(path, "'split' must hold 0 (train), 1 (validation) or 2 (test) per image")
        split = split.astype(np.int64)
        order = np.argsort(split, kind="stable")
        counts = tuple(int(c) for c in np.bincount(split, minlength=3))
    else:
        order = np.random.default_rng(0).permutation(n)
        counts = split_counts(n)

    images = _read_images(zf, members["images"], layout, chw, order, path)
    train, validation, test = contiguous_splits(
        images, None if labels is None else labels[order],
        None if attributes is None else attributes[order], counts)
    c, h, w = chw
    extras = [f"{len(label_names)} labels" if label_names else "no labels",
              f"{len(attribute_names)} attributes" if attribute_names else "no attributes"]
    return ImageDataset(
        spec=DatasetSpec("npz", str(root), {}), train=train, validation=validation, test=test,
        label_names=label_names, attribute_names=attribute_names,
        description=f"Arrays from {path.name}: {n:,} images, {h}x{w} {'grey' if c == 1 else 'RGB'}, "
                    f"{', '.join(extras)}.",
    )

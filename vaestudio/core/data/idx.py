"""Reading IDX files (the MNIST format), plain or gzipped, checking the header against the size.

Layout: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
dimension, then the values. A file whose header and size disagree is refused with both numbers.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError

IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, decompressed when it ends in .gz; a DataError names what went wrong."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataError(path, f"not a readable gzip file ({e})") from None
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror or e})") from None


def parse_idx(data: bytes, path: str | os.PathLike, ndim: Optional[int] = None) -> np.ndarray:
    """The array held by IDX bytes `data` (read-only); `path` is only for messages."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(path, "not an IDX file (it must start with two zero bytes, a type code "
                              "and the number of dimensions)")
    code, dims_n = data[2], data[3]
    if code not in IDX_TYPES:
        raise DataError(path, f"unknown IDX value type 0x{code:02x}")
    if ndim is not None and dims_n != ndim:
        raise DataError(path, f"IDX header has {dims_n} dimensions; expected {ndim}")
    header = 4 + 4 * dims_n
    if len(data) < header:
        raise DataError(path, f"IDX header is cut short ({len(data)} bytes, needs {header})")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=dims_n, offset=4))
    dtype = IDX_TYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header
    if actual != expected:
        shape = "x".join(str(d) for d in dims)
        raise DataError(path, f"IDX header says {shape} values ({expected:,} bytes) but the file "
                              f"holds {actual:,} bytes after the header; the file is truncated "
                              f"or not what its name says")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)


def read_idx(path: str | os.PathLike, ndim: Optional[int] = None) -> np.ndarray:
    """Read an IDX file (plain or .gz) as a read-only array, checking its header."""
    return parse_idx(read_bytes(path), path, ndim)


def idx_bytes(array: np.ndarray) -> bytes:
    """An array as IDX file bytes (used to write test and benchmark data in the real format)."""
    array = np.asarray(array)
    code = {v.str.lstrip("<>|="): k for k, v in IDX_TYPES.items()}
    kind = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    key = kind.str.lstrip("<>|=")
    if key not in code:
        raise ValueError(f"no IDX type for {array.dtype}")
    header = bytes([0, 0, code[key], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(kind).tobytes()

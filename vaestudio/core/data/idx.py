"""Reading IDX files (the MNIST format), plain or gzipped, checking the header against the size.

Layout: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
dimension, then the values. The header is read first and what it declares is checked against
sane limits (`limits.check_declared`) and, for a plain file, against the file's size, before
anything is allocated; then exactly the declared bytes are read in chunks into a preallocated
array -- a gzipped file is inflated incrementally, never whole -- and a file holding fewer or
more bytes than its header says is refused with both numbers.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import BinaryIO, Optional

import numpy as np

from ..errors import DataError
from .limits import check_declared, shape_text

IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
IDX_TYPE_NAMES = {0x08: "uint8", 0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"}
CHUNK = 1 << 22  # bytes read (inflated) at a time


def _read_up_to(f: BinaryIO, buffer: memoryview) -> int:
    """Fill `buffer` from `f` in CHUNK pieces; the number of bytes read (less only at the end)."""
    done, total = 0, len(buffer)
    while done < total:
        n = f.readinto(buffer[done:min(total, done + CHUNK)])
        if not n:
            break
        done += n
    return done


def _mismatch(path, dims, expected: int, actual: str) -> DataError:
    return DataError(path, f"IDX header says {shape_text(dims)} values ({expected:,} bytes) but the file "
                           f"holds {actual} bytes after the header; the file is truncated or not what "
                           f"its name says")


def _read_idx(f: BinaryIO, path: Path, gz: bool, ndim: Optional[int], dtype: Optional[np.dtype]) -> np.ndarray:
    head = f.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise DataError(path, "not an IDX file (it must start with two zero bytes, a type code "
                              "and the number of dimensions)")
    code, dims_n = head[2], head[3]
    if code not in IDX_TYPES:
        raise DataError(path, f"unknown IDX value type 0x{code:02x}")
    if ndim is not None and dims_n != ndim:
        raise DataError(path, f"IDX header has {dims_n} dimensions; expected {ndim}")
    header = 4 + 4 * dims_n
    raw_dims = f.read(4 * dims_n)
    if len(raw_dims) < 4 * dims_n:
        raise DataError(path, f"IDX header is cut short ({4 + len(raw_dims)} bytes, needs {header})")
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    kind = IDX_TYPES[code]
    if dtype is not None and kind != np.dtype(dtype):
        raise DataError(path, f"holds {IDX_TYPE_NAMES[code]} values (IDX type 0x{code:02x}); this data set "
                              f"needs {np.dtype(dtype).name} (type 0x08), so the values would be misread")
    expected = check_declared(path, "IDX header", dims, kind.itemsize)
    if not gz:  # the size is known: refuse a mismatch before allocating anything
        actual = os.fstat(f.fileno()).st_size - header
        if actual != expected:
            raise _mismatch(path, dims, expected, f"{actual:,}")
    out = np.empty(dims, dtype=kind)
    got = _read_up_to(f, memoryview(out.reshape(-1).view(np.uint8)))
    if got < expected:
        raise _mismatch(path, dims, expected, f"{got:,}")
    if f.read(1):
        raise DataError(path, f"IDX header says {shape_text(dims)} values ({expected:,} bytes) but the data "
                              f"goes on past them; the header does not describe the file (damaged or hostile)")
    out.flags.writeable = False
    return out


def read_idx(path: str | os.PathLike, ndim: Optional[int] = None,
             dtype: Optional[np.dtype | type] = None) -> np.ndarray:
    """Read an IDX file (plain or .gz) as a read-only array, checking its header: `ndim` and
    `dtype`, when given, are required; sizes are bounded and must match the bytes present."""
    path = Path(path)
    gz = path.suffix == ".gz"
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            return _read_idx(f, path, gz, ndim, None if dtype is None else np.dtype(dtype))
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataError(path, f"not a readable gzip file ({e})") from None
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror or e})") from None


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

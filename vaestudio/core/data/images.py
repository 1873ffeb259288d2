"""Decoding image files into fixed-size uint8 arrays, and converting many into a cache entry.

Pillow decodes; for JPEG, `Image.draft` lets the decoder shrink by 2, 4 or 8 while decoding,
which is most of the speed of converting 200,000 CelebA photos. A file that does not decode
raises DataError naming it, as does one declaring more than MAX_DECODE_PIXELS pixels (before
decoding). Values wider than 8 bits (16-bit PNG and TIFF, float TIFF) are scaled to 0-255, not
clipped. Two decoder threads overlap decoding (Pillow releases the GIL).
"""
from __future__ import annotations

import math
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import DataError
from .base import CancelFn, ProgressFn
from .cache import build_cached
from .limits import MAX_DECODE_PIXELS

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

# Pillow modes of one grey value wider than 8 bits (I;16, I;16B, ... are matched by prefix).
WIDE_MODES = ("I", "F")
_OPEN_LOCK = threading.Lock()

# crop(width, height) -> (left, top, right, bottom) as fractions of the image
CropFn = Callable[[int, int], tuple[float, float, float, float]]


def centre_square(width: int, height: int) -> tuple[float, float, float, float]:
    """The largest centred square."""
    side = min(width, height)
    fx, fy = side / width, side / height
    return (1 - fx) / 2, (1 - fy) / 2, (1 + fx) / 2, (1 + fy) / 2


def _to_8bit(values: np.ndarray) -> np.ndarray:
    """Grey values of more than 8 bits as uint8 0-255, keeping their meaning: 16-bit integers
    (0-65535) scaled by 255/65535, floats in [0, 1] by 255, values already within 0-255 kept;
    anything else (negative, beyond 16 bits, floats beyond 255) stretched from its min to max."""
    v = values.astype(np.float64)
    v[~np.isfinite(v)] = 0.0
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
    is_float = np.issubdtype(values.dtype, np.floating)
    if lo >= 0 and hi <= 1.0 and is_float:
        v *= 255.0
    elif lo >= 0 and hi <= 255 and (is_float or values.dtype.itemsize > 2):
        pass  # 8-bit values stored in a wide type
    elif lo >= 0 and hi <= 65535 and not is_float:
        v *= 255.0 / 65535.0
    elif hi > lo:
        v = (v - lo) * (255.0 / (hi - lo))
    return np.clip(np.rint(v), 0, 255).astype(np.uint8)


def _open_image(path: str | os.PathLike) -> Image.Image:
    """Image.open (which reads only the header) with Pillow's decompression-bomb warning raised as
    an error: one line to the user, not a warning on stderr. The lock stops decoder threads from
    interleaving their changes to the process-wide warning filters."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(path)


def load_image(path: str | os.PathLike, size: int, grey: bool, crop: CropFn = centre_square) -> np.ndarray:
    """One image cropped, resized to size x size and returned as uint8 (C, size, size).

    Images of more than 8 bits per value (16-bit PNG/TIFF, 32-bit integer or float TIFF) are
    scaled to 0-255 (`_to_8bit`) rather than clipped; an image declaring more than
    MAX_DECODE_PIXELS pixels is refused before it is decoded."""
    mode = "L" if grey else "RGB"
    try:
        with _open_image(path) as im:
            w, h = im.size
            left, top, right, bottom = crop(w, h)
            # Ask the JPEG decoder for the smallest scale that still gives >= size pixels in the crop.
            im.draft(mode, (math.ceil(size / (right - left)), math.ceil(size / (bottom - top))))
            sw, sh = im.size
            if sw * sh > MAX_DECODE_PIXELS:
                raise DataError(path, f"image is {sw:,}x{sh:,} pixels, more than the {MAX_DECODE_PIXELS:,} "
                                      f"decoded per image; shrink it first")
            box = (left * sw, top * sh, right * sw, bottom * sh)
            if im.mode in WIDE_MODES or im.mode.startswith("I;16"):
                im = Image.fromarray(_to_8bit(np.asarray(im)), "L")
            im = im.convert(mode) if im.mode != mode else im
            out = im.resize((size, size), Image.Resampling.BICUBIC, box=box)
            arr = np.asarray(out, dtype=np.uint8)
    except UnidentifiedImageError:
        raise DataError(path, "not an image file in a format Pillow reads") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(path, "the image declares more pixels than is safe to decode") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(path, f"image does not decode ({e})") from None
    return arr[None] if grey else arr.transpose(2, 0, 1)


def convert_images(
    stem: str,
    paths: Sequence[Path],
    size: int,
    grey: bool,
    *,
    crop: CropFn = centre_square,
    fixed: Optional[dict[str, np.ndarray]] = None,
    required: Sequence[str] = (),
    sources: Optional[str] = None,
    message: str = "converting images",
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Decode `paths` in order into the cache entry `stem` (or open it if already converted and
    still valid: `required` keys and the `sources` fingerprint as in `cache.load_cached`)."""
    channels = 1 if grey else 3

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        def make_chunk(lo: int, hi: int):
            arrays = list(pool.map(lambda p: load_image(p, size, grey, crop), paths[lo:hi]))
            return np.stack(arrays), {}

        return build_cached(stem, len(paths), (channels, size, size), make_chunk, chunk=500,
                            fixed=fixed, required=required, sources=sources, message=message,
                            progress=progress, cancel=cancel)

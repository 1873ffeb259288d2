"""Decoding image files into fixed-size uint8 arrays, and converting many into a cache entry.

Pillow decodes; for JPEG, `Image.draft` lets the decoder shrink by 2, 4 or 8 while decoding,
which is most of the speed of converting 200,000 CelebA photos. A file that does not decode
raises DataError naming it. Two decoder threads overlap decoding (Pillow releases the GIL).
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import DataError
from .base import CancelFn, ProgressFn
from .cache import build_cached

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

# crop(width, height) -> (left, top, right, bottom) as fractions of the image
CropFn = Callable[[int, int], tuple[float, float, float, float]]


def centre_square(width: int, height: int) -> tuple[float, float, float, float]:
    """The largest centred square."""
    side = min(width, height)
    fx, fy = side / width, side / height
    return (1 - fx) / 2, (1 - fy) / 2, (1 + fx) / 2, (1 + fy) / 2


def load_image(path: str | os.PathLike, size: int, grey: bool, crop: CropFn = centre_square) -> np.ndarray:
    """One image cropped, resized to size x size and returned as uint8 (C, size, size)."""
    mode = "L" if grey else "RGB"
    try:
        with Image.open(path) as im:
            w, h = im.size
            left, top, right, bottom = crop(w, h)
            # Ask the JPEG decoder for the smallest scale that still gives >= size pixels in the crop.
            im.draft(mode, (math.ceil(size / (right - left)), math.ceil(size / (bottom - top))))
            sw, sh = im.size
            box = (left * sw, top * sh, right * sw, bottom * sh)
            im = im.convert(mode) if im.mode != mode else im
            out = im.resize((size, size), Image.Resampling.BICUBIC, box=box)
            arr = np.asarray(out, dtype=np.uint8)
    except (UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise DataError(path, f"not an image Pillow can decode ({e.__class__.__name__})") from None
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
    message: str = "converting images",
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Decode `paths` in order into the cache entry `stem` (or open it if already converted)."""
    channels = 1 if grey else 3

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        def make_chunk(lo: int, hi: int):
            arrays = list(pool.map(lambda p: load_image(p, size, grey, crop), paths[lo:hi]))
            return np.stack(arrays), {}

        return build_cached(stem, len(paths), (channels, size, size), make_chunk, chunk=500,
                            fixed=fixed, message=message, progress=progress, cancel=cancel)

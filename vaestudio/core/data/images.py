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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

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


@dataclass
class Decoded:
    """One decoded image and where it came from (what `decode_image` returns)."""

    array: np.ndarray  # uint8 (C, H, W)
    box: tuple[float, float, float, float]  # the crop, in the file's pixels (upright when asked)
    source_size: tuple[int, int]  # the file's (width, height) (upright when asked)
    preview: Optional[np.ndarray] = None  # uint8 (h, w, 3): the whole picture, small


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 is upright). A damaged EXIF block only loses the rotation."""
    try:
        value = int(im.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # noqa: BLE001 -- Pillow's EXIF parser raises many types on bad bytes
        return 1
    return value if 1 <= value <= 8 else 1


def load_image(path: str | os.PathLike, size: int, grey: bool, crop: CropFn = centre_square) -> np.ndarray:
    """One image cropped, resized to size x size and returned as uint8 (C, size, size)."""
    return decode_image(path, size, grey, crop).array


def decode_image(path: str | os.PathLike, size: int | tuple[int, int], grey: bool, crop: CropFn = centre_square,
                 *, resample: Image.Resampling = Image.Resampling.BICUBIC, upright: bool = False,
                 inside: bool = False, preview: int = 0) -> Decoded:
    """One image cropped by `crop`, resized to `size` (a side, or (width, height)) as uint8 (C, H, W).

    Images of more than 8 bits per value (16-bit PNG/TIFF, 32-bit integer or float TIFF) are
    scaled to 0-255 (`_to_8bit`) rather than clipped; an image declaring more than
    MAX_DECODE_PIXELS pixels is refused before it is decoded. `upright` turns a photo as its
    EXIF orientation says before cropping; `inside` cuts the crop out before resizing, so the
    filter reads no pixel outside it (by default it reads a few beyond its edges); `preview` > 0
    also returns the whole picture with that longest side (to show the crop)."""
    width, height = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    mode = "L" if grey else "RGB"
    try:
        with _open_image(path) as im:
            turn = _orientation(im) if upright else 1
            w, h = im.size[::-1] if turn >= 5 else im.size  # 5-8 swap the axes
            left, top, right, bottom = crop(w, h)
            # Ask the JPEG decoder for the smallest scale that still gives >= size pixels in the crop.
            want = (math.ceil(width / (right - left)), math.ceil(height / (bottom - top)))
            im.draft(mode, want[::-1] if turn >= 5 else want)
            sw, sh = im.size
            if sw * sh > MAX_DECODE_PIXELS:
                raise DataError(path, f"image is {sw:,}x{sh:,} pixels, more than the {MAX_DECODE_PIXELS:,} "
                                      f"decoded per image; shrink it first")
            if turn != 1:
                ImageOps.exif_transpose(im, in_place=True)
            if im.mode in WIDE_MODES or im.mode.startswith("I;16"):
                im = Image.fromarray(_to_8bit(np.asarray(im)), "L")
            sw, sh = im.size
            box = (left * sw, top * sh, right * sw, bottom * sh)
            small = _preview(im, preview) if preview > 0 else None
            im = im.convert(mode) if im.mode != mode else im
            if inside:
                im, box = im.crop(tuple(round(v) for v in box)), None
            out = im.resize((width, height), resample, box=box)
            arr = np.asarray(out, dtype=np.uint8)
    except UnidentifiedImageError:
        raise DataError(path, "not an image file in a format Pillow reads") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(path, "the image declares more pixels than is safe to decode") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(path, f"image does not decode ({e})") from None
    arr = arr[None] if grey else arr.transpose(2, 0, 1)
    box = tuple(round(v, 2) for v in (left * w, top * h, right * w, bottom * h))
    return Decoded(arr, box, (w, h), small)  # type: ignore[arg-type]


def _preview(im: Image.Image, side: int) -> np.ndarray:
    """The whole (decoded) picture as uint8 RGB (h, w, 3) whose longest side is at most `side`."""
    scale = min(1.0, side / max(im.size))
    size = (max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale)))
    return np.asarray(im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0).convert("RGB"), dtype=np.uint8)


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

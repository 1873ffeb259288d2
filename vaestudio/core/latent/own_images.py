"""Bring your own image: a picture file converted to what a model takes, and its code.

A file is turned upright (EXIF), centre-cropped to the model's aspect ratio (nothing outside
the crop is read), resized with Lanczos and converted to its channels (grey <-> RGB), giving
the uint8 (C, H, W) layout of a data set's images; so an image of a data set saved losslessly
at the model's size and read back here encodes to exactly the code `encode_images` gives it
in its split. Decoding goes through `data.images.decode_image`, with its checks on hostile files.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from ..data.images import IMAGE_EXTENSIONS, decode_image
from ..errors import ConfigError, DataError
from .encoding import encode_images

MAX_OWN_IMAGES = 256  # files encoded in one go (CLI options, one drop)
PREVIEW_SIDE = 160  # the longest side of the whole-picture preview that shows the crop


@dataclass(eq=False)
class OwnImage:
    """A picture file as the model takes it, and how it was cut from the file."""

    path: str
    image: np.ndarray  # uint8 (C, H, W): the model's size and channels
    crop: tuple[float, float, float, float]  # (left, top, right, bottom) in the file's pixels, upright
    source_size: tuple[int, int]  # the file's (width, height), upright
    preview: Optional[np.ndarray] = None  # uint8 (h, w, 3): the whole picture, small

    @property
    def name(self) -> str:
        return Path(self.path).name

    def describe_crop(self) -> str:
        """"the centre 30x30 of 40x30" / "all of 28x28"."""
        left, top, right, bottom = self.crop
        w, h = self.source_size
        cw, ch = right - left, bottom - top
        if (left, top, cw, ch) == (0, 0, w, h):
            return f"all of {w}x{h}"
        return f"the centre {cw:g}x{ch:g} of {w}x{h} (from {left:g},{top:g})"


def centre_crop(aspect: float):
    """A crop function: the largest centred box of width/height `aspect`, on whole pixels."""

    def crop(width: int, height: int) -> tuple[float, float, float, float]:
        if width / height > aspect:
            cw, ch = max(1, min(width, round(height * aspect))), height
        else:
            cw, ch = width, max(1, min(height, round(width / aspect)))
        left, top = (width - cw) // 2, (height - ch) // 2
        return left / width, top / height, (left + cw) / width, (top + ch) / height

    return crop


def is_image_file(path: str | os.PathLike) -> bool:
    """By suffix: what the window accepts in a drop."""
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS


def load_own_image(path: str | os.PathLike, image_shape: Sequence[int], *, preview: int = 0) -> OwnImage:
    """Read `path` as the model of `image_shape` (C, H, W) takes it (see the module notes).

    A missing file, a folder, a file that is not an image or declares too many pixels is a
    DataError naming it; `preview` > 0 also keeps the whole picture at that longest side."""
    c, h, w = (int(v) for v in image_shape)
    if c not in (1, 3):
        raise ConfigError(f"the model takes {c}-channel images; only grey or RGB pictures can be converted")
    p = Path(path)
    if not p.exists():
        raise DataError(p, "file not found")
    if not p.is_file():
        raise DataError(p, "not a file; give a picture file (PNG, JPEG, ...)")
    got = decode_image(p, (w, h), c == 1, centre_crop(w / h), resample=Image.Resampling.LANCZOS,
                       upright=True, inside=True, preview=preview)
    return OwnImage(str(p), got.array, got.box, got.source_size, got.preview)


def load_own_images(paths: Sequence[str | os.PathLike], image_shape: Sequence[int], *,
                    preview: int = 0) -> list[OwnImage]:
    """`load_own_image` for each path (at most MAX_OWN_IMAGES); the first bad file raises."""
    if len(paths) > MAX_OWN_IMAGES:
        raise DataError(None, f"{len(paths):,} image files at once; encode at most {MAX_OWN_IMAGES} in one go")
    return [load_own_image(p, image_shape, preview=preview) for p in paths]


def encode_own_images(model, images: Sequence[OwnImage]) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(codes (N, D), logvar (N, D) or None): `encode_images` on the converted pictures."""
    dim = int(model.config.latent_dim)
    if not images:
        return np.zeros((0, dim), dtype=np.float32), None
    want = tuple(int(v) for v in model.config.image_shape)
    for im in images:
        if tuple(im.image.shape) != want:
            raise ConfigError(f"{im.name} was converted to {im.image.shape} but the model takes {want}")
    return encode_images(model, np.stack([im.image for im in images]), with_logvar=True)


def encode_own_file(model, path: str | os.PathLike) -> tuple[OwnImage, np.ndarray]:
    """(the converted picture, its code (D,)): one file as the model takes it, encoded."""
    image = load_own_image(path, model.config.image_shape)
    return image, encode_own_images(model, [image])[0][0]

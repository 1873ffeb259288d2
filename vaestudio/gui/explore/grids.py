"""What the worker turns latent vectors into: decoded images and the picture of them (a grid or
a strip, drawn by the core's renderer). Runs off the GUI thread; returns None when superseded."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ...core.latent import decode_batch
from ...core.render import image_grid


def wrap_columns(n: int, most: int = 5) -> int:
    """Columns for showing a strip of n frames in a narrow panel (exports keep one row)."""
    return min(n, most)


def decode_grid(model, z: np.ndarray, ncols: Optional[int] = None, labels: Optional[Sequence[str]] = None,
                cancel=lambda: False):
    """(images (N, C, H, W), the picture as uint8 (H, W, 3)); `ncols` None: one row (a strip)."""
    images = decode_batch(model, z)
    if cancel():
        return None
    return images, np.asarray(image_grid(images, ncols=ncols or len(images), labels=labels, padding=1))

"""`faces`: built-in cartoon faces, 64x64 RGB, with CelebA-named binary attributes.

Faces vary in skin tone, face shape, position, tilt, background and hair (colour, length,
volume, bangs); attributes are drawn with real data's correlations (`face_traits`) and painted
as they say (`face_drawing`). Labels are the hair colour (`attributes.HAIR_LABELS`), for
colouring points. Generated in blocks of 500 seeded by (seed, block), cached as a memory map.

Options (`open_dataset("faces", ...)`): `seed` (default 0) and `n` (default 20000, split
80/10/10 in order; a smaller n gives the first n faces of the full set).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .attributes import HAIR_LABELS, hair_labels
from .base import CancelFn, DatasetSpec, ImageDataset, ProgressFn, contiguous_splits, split_counts
from .cache import build_cached, cache_key
from .face_drawing import SIZE, render_faces
from .face_traits import FACE_ATTRIBUTES, sample_traits

GENERATOR_VERSION = 1
BLOCK = 500


def face_block(seed: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Block `block` (BLOCK faces): uint8 images (BLOCK, 3, 64, 64) and attributes (BLOCK, A)."""
    rng = np.random.default_rng([seed, block, GENERATOR_VERSION])
    attributes, look = sample_traits(rng, BLOCK)
    return render_faces(look), attributes


def open_faces(seed: int = 0, n: int = 20000, *, progress: Optional[ProgressFn] = None,
               cancel: Optional[CancelFn] = None) -> ImageDataset:
    def make_chunk(lo: int, hi: int):
        images, attributes = face_block(seed, lo // BLOCK)
        return images[:hi - lo], {"attributes": attributes[:hi - lo]}

    stem = f"faces-{cache_key('faces', GENERATOR_VERSION, seed, n)}"
    images, arrays = build_cached(stem, n, (3, SIZE, SIZE), make_chunk, chunk=BLOCK, required=("attributes",),
                                  message=f"drawing {n:,} faces", progress=progress, cancel=cancel)
    attributes = arrays["attributes"]
    labels = hair_labels(attributes, FACE_ATTRIBUTES)
    train, validation, test = contiguous_splits(images, labels, attributes, split_counts(n))
    return ImageDataset(
        spec=DatasetSpec("faces", None, {"seed": seed, "n": n}),
        train=train, validation=validation, test=test,
        label_names=list(HAIR_LABELS), attribute_names=list(FACE_ATTRIBUTES),
        description=f"Built-in cartoon faces, 64x64 RGB, {n:,} images (seed {seed}) with "
                    f"{len(FACE_ATTRIBUTES)} CelebA-named attributes; labels are hair colours.",
    )

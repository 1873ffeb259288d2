"""Per-dimension traversals: vary one latent coordinate at a time around a base code (an image's
code or the cloud's mean) and decode, one row per coordinate, to see what each dimension does.

Pure numpy for the codes; the labelled picture is drawn with Pillow (no Qt).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..render import BACKGROUND, INK, font, image_grid

DEFAULT_DIMS = 10  # rows shown when no dimensions are chosen: every one up to this many, else the top ones


def traversal_latents(base_z, dims: Sequence[int], steps: int, span: float) -> np.ndarray:
    """(len(dims) * steps, D) float32 codes: row r holds `steps` codes that move coordinate dims[r]
    evenly from base_z[d] - span to base_z[d] + span (around the base, so the middle of an odd row is
    the base itself), every other coordinate fixed at base_z."""
    base = np.asarray(base_z, dtype=np.float32).reshape(-1)
    dims = [int(d) for d in dims]
    if steps < 2:
        raise ValueError(f"a traversal needs at least 2 steps, not {steps}")
    bad = [d for d in dims if not 0 <= d < base.size]
    if bad:
        raise ValueError(f"dimension {bad[0]} is out of range for a {base.size}-D code")
    offsets = np.linspace(-span, span, steps, dtype=np.float64)
    z = np.repeat(base[None, None], len(dims), axis=0).repeat(steps, axis=1)  # (rows, steps, D)
    for r, d in enumerate(dims):
        z[r, :, d] = (base[d] + offsets).astype(np.float32)
    return z.reshape(len(dims) * steps, base.size)


def kl_per_dim(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """(D,) KL(q(z_d|x) || N(0, 1)) averaged over the codes, in nats: a dimension near 0 is one the
    encoder ignores (it carries no information), which is why the default rows are ranked by it.
    Computed here rather than taken from core/metrics so a traversal needs only the encodings."""
    mu = np.asarray(mu, dtype=np.float64)
    lv = np.asarray(logvar, dtype=np.float64)
    return (0.5 * (mu ** 2 + np.exp(lv) - 1.0 - lv)).mean(axis=0)


def dimension_scores(enc) -> tuple[Optional[np.ndarray], np.ndarray]:
    """(KL per dimension or None, the score ranking dimensions): the KL when the encodings carry a
    posterior's log-variance, else the codes' variance (a plain autoencoder has no KL)."""
    if enc.logvar is not None:
        kl = kl_per_dim(enc.codes, enc.logvar)
        return kl, kl
    return None, np.asarray(enc.codes, dtype=np.float64).var(axis=0)


def default_dims(enc, limit: int = DEFAULT_DIMS) -> list[int]:
    """Every dimension (in order) when there are at most `limit`, else the `limit` that score highest
    (see `dimension_scores`), highest first: a 64-D model shows the rows that change something."""
    if enc.dim <= limit:
        return list(range(enc.dim))
    score = dimension_scores(enc)[1]
    return [int(d) for d in np.argsort(-score, kind="stable")[:limit]]


def traversal_picture(images, dims: Sequence[int], steps: int, *, kl: Optional[np.ndarray] = None,
                      scale: int = 1, padding: int = 2) -> Image.Image:
    """The decoded traversal as a grid of `steps` columns, one row per dimension, labelled at the left
    "z{d}" (and "KL x.xx" beneath when known). The grid's own height is unchanged by the labels."""
    grid = image_grid(images, ncols=steps, scale=scale, padding=padding)
    rows = len(dims)
    cell_h = (grid.height - padding) // rows - padding
    f = font(max(10, min(16, cell_h // 3)))
    texts = [[f"z{d}"] + ([f"KL {kl[d]:.2f}"] if kl is not None else []) for d in dims]
    gutter = int(max(f.getlength(t) for lines in texts for t in lines)) + 12
    out = Image.new("RGB", (gutter + grid.width, grid.height), BACKGROUND)
    out.paste(grid, (gutter, 0))
    d = ImageDraw.Draw(out)
    line_h = int(f.getbbox("Ag")[3]) + 2
    for r, lines in enumerate(texts):
        mid = padding + r * (cell_h + padding) + cell_h / 2
        top = mid - line_h * len(lines) / 2 + line_h / 2
        for k, text in enumerate(lines):
            d.text((gutter - 6, top + k * line_h), text, fill=INK, font=f, anchor="rm")
    return out

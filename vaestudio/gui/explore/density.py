"""The canvas's density mode: a 2-D histogram per class, blended into one RGBA image.

At 200,000 points a scatter redraws in 30-45 ms at 1000x800; an image of the same cloud in
~1.5 ms (both measured on a 2-core CPU). Each pixel takes the mean colour of the classes in it, and its opacity
grows with the log of its count, so both the clusters and where they overlap stay readable.
Hiding a class re-blends the kept histograms without binning again. Pure numpy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 360  # along the longer side


@dataclass(frozen=True, eq=False)
class Density:
    counts: np.ndarray  # int (K, ny, nx): row 0 is the lowest y
    x0: float
    y0: float
    width: float
    height: float


def density_bounds(points, circle=None, quantile: float = 0.001) -> tuple[float, float, float, float]:
    """(x0, y0, width, height) around the bulk of the points and the circle (outliers left out)."""
    pts = np.asarray(points, dtype=np.float64)
    lo = np.quantile(pts, quantile, axis=0)
    hi = np.quantile(pts, 1 - quantile, axis=0)
    if circle is not None:
        c, r = np.asarray(circle.centre, dtype=np.float64), float(circle.radius)
        lo, hi = np.minimum(lo, c - r), np.maximum(hi, c + r)
    pad = 0.04 * max(float((hi - lo).max()), 1e-9)
    lo, hi = lo - pad, hi + pad
    return float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])


def class_density(points, labels, n_classes: int, bounds, bins: int = BINS) -> Density:
    """Count the points of each class (labels 0..K-1, or None for one class) on a square-pixel grid."""
    x0, y0, w, h = bounds
    step = max(w, h) / bins
    nx, ny = max(1, int(np.ceil(w / step))), max(1, int(np.ceil(h / step)))
    pts = np.asarray(points, dtype=np.float64)
    ix = np.floor((pts[:, 0] - x0) / step).astype(np.int64)
    iy = np.floor((pts[:, 1] - y0) / step).astype(np.int64)
    keep = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    k = np.zeros(len(pts), dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    flat = (k[keep] * ny + iy[keep]) * nx + ix[keep]
    counts = np.bincount(flat, minlength=n_classes * ny * nx).reshape(n_classes, ny, nx)
    return Density(counts=counts, x0=x0, y0=y0, width=nx * step, height=ny * step)


def density_rgba(density: Density, colours, visible) -> np.ndarray:
    """uint8 (ny, nx, 4): the mean colour of the visible classes, opacity ~ log(1 + count)."""
    counts = density.counts[np.asarray(visible, dtype=bool)].astype(np.float32)
    rgb = np.asarray(colours, dtype=np.float32)[np.asarray(visible, dtype=bool)]
    ny, nx = density.counts.shape[1:]
    out = np.zeros((ny, nx, 4), dtype=np.uint8)
    if counts.size == 0:
        return out
    total = counts.sum(axis=0)
    mix = np.tensordot(rgb.T, counts, axes=1) / np.maximum(total, 1)[None]  # (3, ny, nx)
    alpha = np.log1p(total)
    alpha *= 255.0 / max(float(alpha.max()), 1e-9)
    out[..., :3] = np.moveaxis(mix, 0, -1).clip(0, 255)
    out[..., 3] = np.where(total > 0, np.maximum(alpha, 60), 0)  # single points stay visible
    return out

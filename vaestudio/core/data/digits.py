"""`digits`: handwritten-style digits drawn from pen strokes, the data set the app opens on.

Each image picks a way of writing its digit (`digit_strokes.DIGIT_STYLES`), jitters the pen
points, bends the whole digit with a smooth random warp, slants, rotates, scales and moves it,
and draws the strokes with a random pen width: points along each stroke are splatted onto the
28x28 grid weighted by the arc length they stand for, blurred with a per-image Gaussian (two
small matrix products) and saturated, so strokes have solid cores and soft edges like MNIST.
No fonts and no files are needed; 70,000 images take a few seconds and are cached.

Options (`open_dataset("digits", ...)`): `seed` (default 0), `n_train` (default 60000),
`n_test` (default 10000) and `validation`: how many of the n_train images, from the end,
validate -- "auto" (default: the last sixth, at most 10,000, so 50k/10k), a count (0: none, all
n_train train) or a fraction below 1. Images come in blocks of 1000 seeded by (seed, split,
block), so a small set is the first images of a full one.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Optional

import numpy as np

from .base import (AUTO_VALIDATION, CancelFn, DatasetSpec, ImageDataset, ProgressFn, Split,
                   ValidationOption, parse_validation, train_test_dataset, validation_count)
from .cache import build_cached, cache_key
from .digit_strokes import DIGIT_STYLES

GENERATOR_VERSION = 1
SIZE = 28
BLOCK = 1000
POINT_SPACING = 1 / 40  # along a stroke, in units of digit height (about half a pixel)
LABEL_NAMES = [str(d) for d in range(10)]


def _catmull_rom(points: np.ndarray, n: int) -> np.ndarray:
    """(n, K) weights taking K control points to n points on the smooth curve through them."""
    k = len(points)
    weights = np.zeros((n, k))
    for row, t in enumerate(np.linspace(0, k - 1, n)):
        i = min(int(t), k - 2)
        u = t - i
        idx = (max(i - 1, 0), i, i + 1, min(i + 2, k - 1))
        coef = ((-u + 2 * u**2 - u**3) / 2, (2 - 5 * u**2 + 3 * u**3) / 2,
                (u + 4 * u**2 - 3 * u**3) / 2, (-u**2 + u**3) / 2)
        for j, c in zip(idx, coef):
            weights[row, j] += c
    return weights


@lru_cache(maxsize=1)
def _style_tables():
    """Every style padded to common sizes: digit, control points, curve weights, neighbours."""
    styles = [(d, strokes) for d, ways in enumerate(DIGIT_STYLES) for strokes in ways]
    built = []
    for d, strokes in styles:
        ctrl, blocks, prev, nxt = [], [], [], []
        k0 = p0 = 0
        for stroke in strokes:
            pts = np.asarray(stroke, dtype=float)
            length = 1.3 * np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()
            n = max(6, math.ceil(length / POINT_SPACING))
            blocks.append((k0, p0, _catmull_rom(pts, n)))
            ctrl.append(pts)
            ar = np.arange(p0, p0 + n)
            prev.append(np.maximum(ar - 1, p0))
            nxt.append(np.minimum(ar + 1, p0 + n - 1))
            k0, p0 = k0 + len(pts), p0 + n
        built.append((d, np.concatenate(ctrl), blocks, np.concatenate(prev), np.concatenate(nxt), p0))
    n_styles = len(built)
    n_ctrl = max(len(b[1]) for b in built)
    n_pts = max(b[5] for b in built)
    digit = np.zeros(n_styles, dtype=np.int64)
    ctrl = np.zeros((n_styles, n_ctrl, 2))
    curve = np.zeros((n_styles, n_pts, n_ctrl))
    prev = np.tile(np.arange(n_pts), (n_styles, 1))
    nxt = prev.copy()
    valid = np.zeros((n_styles, n_pts))
    for i, (d, c, blocks, pv, nx, p) in enumerate(built):
        digit[i] = d
        ctrl[i, :len(c)] = c
        for k0, p0, w in blocks:
            curve[i, p0:p0 + w.shape[0], k0:k0 + w.shape[1]] = w
        prev[i, :p], nxt[i, :p], valid[i, :p] = pv, nx, 1.0
    return digit, ctrl, curve, prev, nxt, valid


def _pen_points(rng: np.random.Generator, labels: np.ndarray):
    """Pixel coordinates (n, P, 2) of points along each image's strokes, and their weights."""
    digit, ctrl0, curve, prev, nxt, valid = _style_tables()
    n = len(labels)
    counts = np.bincount(digit, minlength=10)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    style = first[labels] + (rng.random(n) * counts[labels]).astype(np.int64)
    ctrl = ctrl0[style] + rng.normal(0, 0.03, (n, ctrl0.shape[1], 2))
    pts = np.zeros((n, curve.shape[1], 2))
    for s in np.unique(style):
        sel = style == s
        pts[sel] = np.matmul(curve[s], ctrl[sel])
    x, y = pts[..., 0] - 0.5, pts[..., 1] - 0.5
    # A smooth random bend of the whole digit, so shared corners stay joined.
    bend = rng.normal(0, 0.18, (n, 2, 4))
    basis = np.stack([x * x, x * y, y * y, 0.15 * np.sin(2 * np.pi * y)], -1)
    x = x + np.einsum("bpf,bf->bp", basis, bend[:, 0])
    y = y + np.einsum("bpf,bf->bp", basis, bend[:, 1])
    slant = rng.normal(0.1, 0.22, (n, 1))
    turn = rng.normal(0, 0.08, (n, 1))
    height = rng.uniform(15.5, 21, (n, 1))
    aspect = rng.uniform(0.75, 1.2, (n, 1))
    x, y = (x * aspect - slant * y) * height, y * height
    x, y = np.cos(turn) * x - np.sin(turn) * y, np.sin(turn) * x + np.cos(turn) * y
    centre = (SIZE - 1) / 2 + rng.normal(0, 1.0, (n, 2))
    xy = np.stack([x + centre[:, :1], y + centre[:, 1:]], -1)
    rows = np.arange(n)[:, None]
    step = (np.linalg.norm(xy - xy[rows, prev[style]], axis=-1)
            + np.linalg.norm(xy[rows, nxt[style]] - xy, axis=-1))
    return xy, 0.5 * step * valid[style]


def _splat(xy: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Ink density (n, SIZE, SIZE): each point's weight shared bilinearly among 4 pixels."""
    n = xy.shape[0]
    x0 = np.floor(xy[..., 0]).astype(np.int64)
    y0 = np.floor(xy[..., 1]).astype(np.int64)
    fx, fy = xy[..., 0] - x0, xy[..., 1] - y0
    base = np.arange(n)[:, None] * SIZE * SIZE
    index, weights = [], []
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                      (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + dx, y0 + dy
        inside = (xi >= 0) & (xi < SIZE) & (yi >= 0) & (yi < SIZE)
        index.append(np.where(inside, base + yi * SIZE + xi, 0).ravel())
        weights.append(np.where(inside, weight * w, 0.0).ravel())
    dens = np.bincount(np.concatenate(index), np.concatenate(weights), minlength=n * SIZE * SIZE)
    return dens.reshape(n, SIZE, SIZE)


def render_digits(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 images (n, 1, 28, 28) of the given digit labels, white ink on black."""
    labels = np.asarray(labels, dtype=np.int64)
    xy, weight = _pen_points(rng, labels)
    dens = _splat(xy, weight)
    sigma = rng.uniform(0.7, 1.35, (len(labels), 1, 1))
    ar = np.arange(SIZE)
    blur = np.exp(-((ar[:, None] - ar[None, :]) ** 2)[None] / (2 * sigma**2)) / (np.sqrt(2 * np.pi) * sigma)
    ink = blur @ dens @ blur * sigma  # a line's centre reaches about 0.4 whatever the pen width
    gain = rng.uniform(4.5, 7.0, (len(labels), 1, 1))
    img = 1.0 - np.exp(-((ink * gain) ** 2))
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)[:, None]


def digit_block(seed: int, split: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Block `block` (BLOCK images) of split 0 (train) or 1 (test): images and labels."""
    rng = np.random.default_rng([seed, split, block, GENERATOR_VERSION])
    labels = rng.integers(0, 10, BLOCK)
    return render_digits(labels, rng), labels


def _generate(seed: int, split: int, n: int, progress, cancel) -> tuple[np.ndarray, np.ndarray]:
    def make_chunk(lo: int, hi: int):
        images, labels = digit_block(seed, split, lo // BLOCK)
        return images[:hi - lo], {"labels": labels[:hi - lo]}

    which = ("train", "test")[split]
    stem = f"digits-{which}-{cache_key('digits', GENERATOR_VERSION, seed, split, n)}"
    # The train file also holds the validation images (its end), as the status bar says.
    what = ("training and validation", "test")[split]
    images, arrays = build_cached(stem, n, (1, SIZE, SIZE), make_chunk, chunk=BLOCK, required=("labels",),
                                  message=f"drawing {n:,} {what} digits", progress=progress, cancel=cancel)
    return images, arrays["labels"]


def open_digits(seed: int = 0, n_train: int = 60000, n_test: int = 10000,
                validation: ValidationOption = AUTO_VALIDATION, *,
                progress: Optional[ProgressFn] = None, cancel: Optional[CancelFn] = None) -> ImageDataset:
    """The built-in digits: train and validation (its end, as `validation` says) from n_train, and test."""
    validation = parse_validation(validation, "digits")
    validation_count(validation, n_train, "digits")  # refuse a bad split before drawing anything
    return train_test_dataset(
        DatasetSpec("digits", None, {"seed": seed, "n_train": n_train, "n_test": n_test,
                                     "validation": validation}),
        Split(*_generate(seed, 0, n_train, progress, cancel)),
        Split(*_generate(seed, 1, n_test, progress, cancel)),
        label_names=list(LABEL_NAMES),
        description=f"Built-in handwritten-style digits, 28x28 grey, {n_train + n_test:,} images "
                    f"drawn from pen strokes (seed {seed}); labels 0-9.",
    )

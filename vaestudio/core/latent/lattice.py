"""A square lattice inscribed in the enclosing circle, mapped to latent vectors for decoding.

The blog's picture of "fake" digits: n x n sites on the square inscribed in the circle that
holds 99% of the encodings (corners on the circle). For D > 2 the sites lie in the view's
plane through the cloud's centre -- a coordinate pair with the other coordinates held at the
centre's values, or the PCA plane -- inside the great circle of the D-sphere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import VaeStudioError
from .circle import DEFAULT_COVERAGE, Circle, enclosing_circle
from .decoding import decode_batch
from .projection import Projection, make_projection


@dataclass(frozen=True, eq=False)
class Lattice:
    n: int
    points: np.ndarray  # (n*n, 2) view points, row-major, top row (largest y) first
    latents: np.ndarray  # float32 (n*n, D): projection.to_latent(points)
    circle: Circle  # in view coordinates
    projection: Projection

    @property
    def half_side(self) -> float:
        return self.circle.radius / math.sqrt(2)

    def decode(self, decoder_like, batch_size: int = 1024) -> np.ndarray:
        """Float images (n*n, C, H, W) in the lattice's order, ready for `render.image_grid`."""
        return decode_batch(decoder_like, self.latents, batch_size)


def square_lattice(centre, radius: float, n: int) -> np.ndarray:
    """(n*n, 2) sites of the n x n square inscribed in the circle; rows go top (max y) down."""
    if n < 1:
        raise VaeStudioError(f"a lattice needs n >= 1, got {n}")
    h = radius / math.sqrt(2)
    ticks = np.linspace(-h, h, n) if n > 1 else np.zeros(1)
    xs, ys = np.meshgrid(ticks, ticks[::-1])
    return np.stack([xs.ravel(), ys.ravel()], axis=1) + np.asarray(centre, dtype=np.float64)


def latent_circle(codes, projection: Projection, coverage: float = DEFAULT_COVERAGE) -> Circle:
    """The great circle, in view coordinates, of the D-sphere holding `coverage` of the codes."""
    sphere = enclosing_circle(codes, coverage)
    return Circle(centre=projection.to_view(sphere.centre), radius=sphere.radius, coverage=coverage)


def latent_lattice(
    codes,
    n: int = 15,
    projection: Optional[Projection] = None,
    coverage: float = DEFAULT_COVERAGE,
) -> Lattice:
    """An n x n lattice on `projection`'s plane (default coordinates 0 and 1) for `codes` (N, D)."""
    codes = np.asarray(codes)
    projection = projection if projection is not None else make_projection(codes)
    circle = latent_circle(codes, projection, coverage)
    points = square_lattice(circle.centre, circle.radius, n)
    return Lattice(n=n, points=points, latents=projection.to_latent(points), circle=circle,
                   projection=projection)

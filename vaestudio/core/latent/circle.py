"""The circle (or, in D dimensions, the sphere) concentric with a cloud that holds most of it.

Centre: the cloud's mean. Radius: the `coverage` quantile (0.99 by default) of the distances
to the centre, so 99% of the encodings lie inside. The same function serves a 2-D view and the
full latent space; a plane through the centre cuts the D-sphere in a great circle of the same
radius. For D > 2 that great circle is much wider than the view's own circle (the projected
cloud is narrower than the D-dimensional one), so lattices use the view's circle by default.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import VaeStudioError

DEFAULT_COVERAGE = 0.99


@dataclass(frozen=True, eq=False)
class Circle:
    centre: np.ndarray  # (k,): 2 for a view, D for the latent space
    radius: float
    coverage: float

    def contains(self, points, tol: float = 1e-6) -> np.ndarray:
        """Boolean (N,): which points lie inside or on the circle (relative tolerance `tol`)."""
        d = np.linalg.norm(np.atleast_2d(points) - self.centre, axis=1)
        return d <= self.radius * (1 + tol)


def enclosing_circle(points, coverage: float = DEFAULT_COVERAGE) -> Circle:
    """Circle (sphere) at the mean of `points` (N, k) holding a `coverage` fraction of them."""
    if not 0 < coverage <= 1:
        raise VaeStudioError(f"coverage must be in (0, 1], got {coverage}")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] == 0:
        raise VaeStudioError("the enclosing circle needs a non-empty (N, k) array of points")
    centre = pts.mean(axis=0)
    radius = float(np.quantile(np.linalg.norm(pts - centre, axis=1), coverage))
    return Circle(centre=centre, radius=radius, coverage=float(coverage))

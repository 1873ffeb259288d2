"""2-D views of a D-dimensional cloud that map back: a coordinate pair or the PCA plane.

Both are the same object, an affine plane in latent space: `to_view(z) = (z - origin) @ basis.T`
and `to_latent(p) = origin + p @ basis` with orthonormal `basis` rows. For a coordinate pair
(i, j) the basis is (e_i, e_j) and `origin` is the cloud's centre with coordinates i and j set
to 0, so the view shows the raw coordinates and a picked point decodes with every other
coordinate held at the centre's value. For PCA `origin` is the mean and the rows are the top
principal directions. The window's hover code only ever calls `to_latent`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..errors import VaeStudioError


@dataclass(frozen=True, eq=False)
class Projection:
    origin: np.ndarray  # (D,)
    basis: np.ndarray  # (2, D), orthonormal rows
    kind: str  # "dims" or "pca"
    dims: Optional[tuple[int, int]] = None  # the pair, for kind "dims"
    explained: Optional[tuple[float, float]] = None  # variance fractions, for kind "pca"

    @property
    def latent_dim(self) -> int:
        return int(self.origin.shape[0])

    def to_view(self, z) -> np.ndarray:
        """(N, D) or (D,) latent vectors -> (N, 2) or (2,) view points (orthogonal projection)."""
        return (np.asarray(z, dtype=np.float64) - self.origin) @ self.basis.T

    def to_latent(self, points) -> np.ndarray:
        """(N, 2) or (2,) view points -> float32 latent vectors on the plane, (N, D) or (D,)."""
        p = np.asarray(points, dtype=np.float64)
        return (self.origin + p @ self.basis).astype(np.float32)

    def axis_labels(self) -> tuple[str, str]:
        if self.kind == "pca":
            e = self.explained or (float("nan"), float("nan"))
            return f"PC1 ({e[0]:.0%})", f"PC2 ({e[1]:.0%})"
        i, j = self.dims or (0, 1)
        return f"z{i}", f"z{j}"


def coordinate_projection(centre, dims: Sequence[int] = (0, 1)) -> Projection:
    """The view on coordinates (i, j), the others held at `centre`'s values when mapping back."""
    centre = np.asarray(centre, dtype=np.float64).ravel()
    d = centre.shape[0]
    i, j = (int(k) for k in dims)
    if d < 2:
        raise VaeStudioError(f"a 2-D view needs a latent space of 2 or more dimensions, not {d}")
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise VaeStudioError(f"choose two different latent coordinates in 0..{d - 1}, not {i} and {j}")
    basis = np.zeros((2, d))
    basis[0, i] = basis[1, j] = 1.0
    origin = centre.copy()
    origin[[i, j]] = 0.0
    return Projection(origin=origin, basis=basis, kind="dims", dims=(i, j))


def pca_projection(codes) -> Projection:
    """The plane of the two principal directions through the cloud's mean."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise VaeStudioError("PCA needs a latent space of 2 or more dimensions")
    if codes.shape[0] < 2:
        raise VaeStudioError("PCA needs at least two encodings")
    mean = codes.mean(axis=0)
    _, s, vt = np.linalg.svd(codes - mean, full_matrices=False)
    var = s**2
    total = float(var.sum()) or 1.0
    basis = vt[:2].copy()
    # Fix the signs so the same cloud always gives the same picture.
    flip = np.sign(basis[np.arange(2), np.abs(basis).argmax(axis=1)])
    basis *= flip[:, None]
    return Projection(origin=mean, basis=basis, kind="pca",
                      explained=(float(var[0] / total), float(var[1] / total)))


def make_projection(codes, dims: Optional[Sequence[int]] = None, pca: bool = False) -> Projection:
    """The view the CLI and the window default to: coordinates `dims` (0, 1), or PCA."""
    codes = np.asarray(codes)
    if pca:
        return pca_projection(codes)
    return coordinate_projection(codes.mean(axis=0), (0, 1) if dims is None else dims)

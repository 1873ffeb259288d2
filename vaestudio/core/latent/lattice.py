"""An n x n lattice of latent points on a view's plane, mapped to latent vectors for decoding.

The blog's picture of "fake" digits: n x n sites on the square inscribed in the circle that
holds 99% of the encodings (corners on the circle). What can be chosen:

- circle: "view", the 2-D circle holding `coverage` of the *projected* codes (the default),
  or "sphere", the great circle of the D-sphere holding `coverage` of the codes. For D > 2
  the sphere is far larger than the view's cloud (a 10-D Gaussian's 99% sphere has 1.6 times
  the radius of its 2-D circle, 2.4 times the area; trained codes are often more uneven), so
  many of its sites decode empty space. For D == 2 both are the same circle.
- extent: "inscribed" (corners on the circle), "circumscribed" (sides touch it: half side =
  radius), or explicit view bounds (x0, x1, y0, y1).
- centre: "mean" (the cloud's centre), "origin" or a view point (x, y). Sites always map back
  through the plane: with "mean" and (x, y), `Projection.to_latent` holds the coordinates off
  the plane at the cloud's centre (a coordinate pair) or the mean (PCA). With "origin" the
  sites lie on the parallel plane through z = 0, so every coordinate off the plane is 0 too
  and z = 0 is the middle site (odd n) -- the prior's centre, not the view's (0, 0) with the
  others at the mean. `points` are always the sites' projections, where the canvas draws them.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np

from ..errors import VaeStudioError
from .circle import DEFAULT_COVERAGE, Circle, enclosing_circle
from .decoding import decode_batch
from .projection import Projection, make_projection

EXTENTS = ("inscribed", "circumscribed")
CENTRES = ("mean", "origin")
CIRCLES = ("view", "sphere")
Extent = Union[str, Sequence[float]]  # a name in EXTENTS, or (x0, x1, y0, y1)
Centre = Union[str, Sequence[float]]  # a name in CENTRES, or (x, y)


@dataclass(frozen=True, eq=False)
class Lattice:
    n: int
    points: np.ndarray  # (n*n, 2) view points, row-major, top row (largest y) first
    latents: np.ndarray  # float32 (n*n, D): the sites on the lattice's plane (see the module doc)
    circle: Circle  # the circle that sized it, in view coordinates
    projection: Projection
    bounds: tuple = (0.0, 0.0, 0.0, 0.0)  # x0, x1, y0, y1: the rectangle the sites fill
    extent: str = "inscribed"  # "inscribed", "circumscribed" or "explicit"
    centre: Centre = "mean"  # "mean", "origin", or the (x, y) asked for
    circle_kind: str = "view"  # "view" or "sphere" (always "view" for D == 2)

    @property
    def half_side(self) -> float:
        """Half the rectangle's width (the square's half side for the circle's extents)."""
        return (self.bounds[1] - self.bounds[0]) / 2

    def corners(self) -> np.ndarray:
        """(5, 2): the corners of the rectangle the sites fill, closed (the last is the first)."""
        x0, x1, y0, y1 = self.bounds
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]], dtype=np.float64)

    def circle_text(self) -> str:
        """Which circle sized the lattice, in words (the window and the CLI say it)."""
        cov = f"{self.circle.coverage:.0%}"
        if self.projection.latent_dim <= 2:
            return f"the {cov} circle"
        if self.circle_kind == "sphere":
            return f"the great circle of the {self.projection.latent_dim}-D {cov} sphere"
        return f"the view's {cov} circle"

    def placement(self) -> str:
        """E.g. "inscribed in the view's 99% circle, centred on the mean"."""
        if self.extent == "explicit":
            x0, x1, y0, y1 = self.bounds
            return f"on x from {x0:g} to {x1:g}, y from {y0:g} to {y1:g}"
        where = {"mean": "the mean", "origin": "z = 0"}.get(self.centre) if isinstance(self.centre, str) \
            else f"({self.centre[0]:g}, {self.centre[1]:g})"
        return f"{self.extent} in {self.circle_text()}, centred on {where}"

    def decode(self, decoder_like, batch_size: int = 1024) -> np.ndarray:
        """Float images (n*n, C, H, W) in the lattice's order, ready for `render.image_grid`."""
        return decode_batch(decoder_like, self.latents, batch_size)


def grid_sites(bounds: Sequence[float], n: int) -> np.ndarray:
    """(n*n, 2) sites filling the rectangle (x0, x1, y0, y1); rows go top (max y) down."""
    if n < 1:
        raise VaeStudioError(f"a lattice needs n >= 1, got {n}")
    x0, x1, y0, y1 = (float(v) for v in bounds)
    xt = np.linspace(x0, x1, n) if n > 1 else np.array([(x0 + x1) / 2])
    yt = np.linspace(y1, y0, n) if n > 1 else np.array([(y0 + y1) / 2])
    xs, ys = np.meshgrid(xt, yt)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def square_bounds(centre, radius: float, extent: str = "inscribed") -> tuple:
    """(x0, x1, y0, y1) of the square at `centre` inscribed in, or circumscribed about, a circle."""
    if extent not in EXTENTS:
        raise VaeStudioError(f"the extent must be one of {', '.join(EXTENTS)} or x0,x1,y0,y1, not {extent!r}")
    h = radius / math.sqrt(2) if extent == "inscribed" else float(radius)
    cx, cy = (float(v) for v in np.asarray(centre, dtype=np.float64).ravel()[:2])
    return cx - h, cx + h, cy - h, cy + h


def square_lattice(centre, radius: float, n: int, extent: str = "inscribed") -> np.ndarray:
    """(n*n, 2) sites of the n x n square inscribed in (or circumscribed about) the circle."""
    return grid_sites(square_bounds(centre, radius, extent), n)


def latent_circle(codes, projection: Projection, coverage: float = DEFAULT_COVERAGE) -> Circle:
    """The great circle, in view coordinates, of the D-sphere holding `coverage` of the codes."""
    sphere = enclosing_circle(codes, coverage)
    return Circle(centre=projection.to_view(sphere.centre), radius=sphere.radius, coverage=coverage)


def plane_circles(codes, projection: Projection, coverage: float = DEFAULT_COVERAGE,
                  points=None) -> tuple[Circle, Optional[Circle]]:
    """(the view's circle holding `coverage` of the projected codes, the D-sphere's great circle
    or None when D == 2, where both are the same circle). `points`: the projected codes, if known."""
    codes = np.asarray(codes)
    pts = projection.to_view(codes) if points is None else points
    view = enclosing_circle(pts, coverage)
    return view, (latent_circle(codes, projection, coverage) if codes.shape[1] > 2 else None)


def _explicit(values, count: int, what: str) -> tuple:
    v = tuple(float(x) for x in np.asarray(values, dtype=np.float64).ravel())
    if len(v) != count or not all(math.isfinite(x) for x in v):
        raise VaeStudioError(f"the {what} needs {count} finite numbers, got {values!r}")
    return v


def lattice_bounds(circle: Circle, extent: Extent, centre_xy) -> tuple:
    """(x0, x1, y0, y1) for `extent` (a name or explicit bounds) around `centre_xy`."""
    if isinstance(extent, str):
        return square_bounds(centre_xy, circle.radius, extent)
    x0, x1, y0, y1 = _explicit(extent, 4, "extent x0,x1,y0,y1")
    if not (x0 < x1 and y0 < y1):
        raise VaeStudioError(f"the extent needs x0 < x1 and y0 < y1, got {x0:g},{x1:g},{y0:g},{y1:g}")
    return x0, x1, y0, y1


def latent_lattice(
    codes,
    n: int = 15,
    projection: Optional[Projection] = None,
    coverage: float = DEFAULT_COVERAGE,
    *,
    extent: Extent = "inscribed",
    centre: Centre = "mean",
    circle: str = "view",
    circles: Optional[tuple[Circle, Optional[Circle]]] = None,
) -> Lattice:
    """An n x n lattice on `projection`'s plane (default coordinates 0 and 1) for `codes` (N, D).

    See the module doc for `extent`, `centre` and `circle`; an explicit extent fixes the centre.
    `circles`: the pair `plane_circles` returns, when the caller has it already.
    """
    codes = np.asarray(codes)
    projection = projection if projection is not None else make_projection(codes)
    if circle not in CIRCLES:
        raise VaeStudioError(f"the circle must be one of {', '.join(CIRCLES)}, not {circle!r}")
    view, sphere = circles if circles is not None else plane_circles(codes, projection, coverage)
    kind = "sphere" if circle == "sphere" and sphere is not None else "view"
    used = sphere if kind == "sphere" else view
    plane_origin = projection.origin
    if isinstance(centre, str):
        if centre not in CENTRES:
            raise VaeStudioError(f"the centre must be one of {', '.join(CENTRES)} or x,y, not {centre!r}")
        if centre == "origin":  # the parallel plane through z = 0 (see the module doc)
            plane_origin = (projection.origin @ projection.basis.T) @ projection.basis
            centre_xy = projection.to_view(np.zeros(projection.latent_dim))
        else:
            centre_xy = used.centre
    else:
        centre = _explicit(centre, 2, "centre x,y")
        centre_xy = np.array(centre)
    bounds = lattice_bounds(used, extent, centre_xy)
    points = grid_sites(bounds, n)
    latents = (plane_origin + points @ projection.basis).astype(np.float32)
    return Lattice(n=n, points=points, latents=latents, circle=used, projection=projection,
                   bounds=tuple(float(b) for b in bounds),
                   extent=extent if isinstance(extent, str) else "explicit", centre=centre, circle_kind=kind)


def sites_table(lattice: Lattice) -> tuple[list[str], np.ndarray]:
    """(header, float64 rows) of every site: row, col, view_x, view_y, z0 .. z{D-1}, top row first."""
    n, d = lattice.n, lattice.latents.shape[1]
    rows, cols = np.divmod(np.arange(n * n), n)
    table = np.column_stack([rows, cols, lattice.points, lattice.latents.astype(np.float64)])
    return ["row", "col", "view_x", "view_y"] + [f"z{k}" for k in range(d)], table


def write_sites_csv(lattice: Lattice, path: str | os.PathLike) -> None:
    """Every site as a CSV line `row,col,view_x,view_y,z0,...,z{D-1}` under that header, top row
    first, row-major. The z values are the float32 latents exactly (9 significant digits), so
    decoding the file's z columns decodes the lattice; view_x, view_y are where the canvas draws it."""
    header, table = sites_table(lattice)
    d = lattice.latents.shape[1]
    np.savetxt(os.fspath(path), table, delimiter=",", header=",".join(header), comments="",
               fmt=["%d", "%d", "%.17g", "%.17g"] + ["%.9g"] * d)

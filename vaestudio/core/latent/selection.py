"""Which 2-D points lie inside a lasso (a polygon) or a rectangle drawn over the canvas.

Built for 200,000 points and a hand-drawn lasso of a few hundred vertices. The even-odd rule
(a point is inside when a ray to its right crosses the outline an odd number of times) tested
edge by edge over all points costs N x edges; here the points are sorted by y once, so each
edge looks only at the points whose y lies within its own y span (a slice found by binary
search), and the total work is about N x (crossings per ray) instead.
"""
from __future__ import annotations

import numpy as np

from ..errors import VaeStudioError


def _as_points(points) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise VaeStudioError(f"points must be an (N, 2) array, got shape {pts.shape}")
    return pts


def points_in_polygon(points, polygon) -> np.ndarray:
    """Boolean (N,): which of the (N, 2) `points` are inside the closed `polygon` ((K, 2)
    vertices; closing it again is harmless). Even-odd rule; fewer than three distinct vertices
    enclose nothing. A point exactly on an edge may fall either side, as in any rasteriser."""
    pts = _as_points(points)
    poly = _as_points(polygon)
    inside = np.zeros(len(pts), dtype=bool)
    if len(poly) and np.array_equal(poly[0], poly[-1]):
        poly = poly[:-1]
    finite = np.isfinite(poly).all(axis=1)
    poly = poly[finite]
    if len(poly) < 3 or len(pts) == 0:
        return inside
    ok = np.isfinite(pts).all(axis=1)
    lo_xy, hi_xy = poly.min(axis=0), poly.max(axis=0)
    box = ok & (pts[:, 0] >= lo_xy[0]) & (pts[:, 0] <= hi_xy[0]) & (pts[:, 1] >= lo_xy[1]) & (pts[:, 1] <= hi_xy[1])
    cand = np.flatnonzero(box)  # only points in the outline's bounding box can be inside
    if len(cand) == 0:
        return inside
    order = cand[np.argsort(pts[cand, 1], kind="stable")]
    ys, xs = pts[order, 1], pts[order, 0]
    parity = np.zeros(len(order), dtype=bool)
    nxt = np.roll(poly, -1, axis=0)
    for (xi, yi), (xj, yj) in zip(poly, nxt):
        if yi == yj:
            continue  # a horizontal edge is never crossed by a horizontal ray (half-open rule)
        y0, y1 = (yi, yj) if yi < yj else (yj, yi)
        a = int(np.searchsorted(ys, y0, side="left"))
        b = int(np.searchsorted(ys, y1, side="left"))  # y0 <= y < y1: each vertex counted once
        if a >= b:
            continue
        x_cross = xi + (ys[a:b] - yi) * ((xj - xi) / (yj - yi))
        parity[a:b] ^= xs[a:b] < x_cross
    inside[order] = parity
    return inside


def points_in_rect(points, corner_a, corner_b) -> np.ndarray:
    """Boolean (N,): which points lie in the axis-aligned rectangle with opposite corners
    `corner_a` and `corner_b` (either order, edges included)."""
    pts = _as_points(points)
    a = np.asarray(corner_a, dtype=np.float64).reshape(2)
    b = np.asarray(corner_b, dtype=np.float64).reshape(2)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return (pts[:, 0] >= lo[0]) & (pts[:, 0] <= hi[0]) & (pts[:, 1] >= lo[1]) & (pts[:, 1] <= hi[1])


def rect_polygon(corner_a, corner_b) -> np.ndarray:
    """(5, 2): the rectangle's corners, closed (what the canvas draws as the outline)."""
    (x0, y0), (x1, y1) = np.asarray(corner_a, dtype=np.float64), np.asarray(corner_b, dtype=np.float64)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])

"""Point-in-lasso and point-in-rectangle for the canvas's selection tools, checked against the
textbook even-odd test (every point against every edge) on random, concave and self-crossing
outlines."""
from __future__ import annotations

import numpy as np
import pytest

from vaestudio.core.errors import VaeStudioError
from vaestudio.core.latent.selection import points_in_polygon, points_in_rect, rect_polygon


def reference(points, poly) -> np.ndarray:
    """PNPOLY: every point against every edge (slow and obvious)."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    n = len(poly)
    for i in range(n):
        (xi, yi), (xj, yj) = poly[i], poly[(i + 1) % n]
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = xi + (y - yi) * (xj - xi) / (yj - yi)
        inside ^= crosses & (x < xc)
    return inside


def star(k: int = 7, r_in: float = 0.3, r_out: float = 1.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 2 * k, endpoint=False)
    r = np.where(np.arange(2 * k) % 2 == 0, r_out, r_in)
    return np.column_stack([r * np.cos(t), r * np.sin(t)])


@pytest.mark.parametrize("seed", range(6))
def test_random_lassos_match_the_even_odd_rule(seed):
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(5000, 2))
    # a wobbly hand-drawn loop, sometimes crossing itself
    t = np.sort(rng.uniform(0, 2 * np.pi, 150))
    r = 1.0 + 0.4 * np.sin(3 * t + seed) + rng.uniform(-0.1, 0.1, len(t))
    poly = np.column_stack([r * np.cos(t), r * np.sin(t)])
    if seed % 2:
        poly = rng.normal(size=(40, 2))  # a scribble: many self-crossings
    got = points_in_polygon(pts, poly)
    assert got.dtype == bool and got.shape == (5000,)
    assert np.array_equal(got, reference(pts, poly))
    assert 0 < got.sum() < len(pts)


def test_a_concave_star_and_a_closed_outline():
    rng = np.random.default_rng(1)
    pts = rng.uniform(-1.2, 1.2, size=(20_000, 2))
    poly = star()
    got = points_in_polygon(pts, poly)
    assert np.array_equal(got, reference(pts, poly))
    closed = np.vstack([poly, poly[:1]])
    assert np.array_equal(points_in_polygon(pts, closed), got)  # closing it again changes nothing
    # the centre is in; a point between two arms (beyond the inner radius) is out
    probe = np.array([[0.0, 0.0], [0.6 * np.cos(np.pi / 7), 0.6 * np.sin(np.pi / 7)]])
    assert points_in_polygon(probe, poly).tolist() == [True, False]


def test_degenerate_outlines_select_nothing():
    pts = np.random.default_rng(2).normal(size=(100, 2))
    assert not points_in_polygon(pts, np.zeros((0, 2))).any()
    assert not points_in_polygon(pts, [[0, 0], [1, 1]]).any()
    assert not points_in_polygon(pts, [[0, 0], [1, 1], [2, 2]]).any()  # no area
    assert points_in_polygon(np.zeros((0, 2)), star()).shape == (0,)
    nan_pts = np.array([[np.nan, 0.0], [0.0, 0.0]])
    assert points_in_polygon(nan_pts, star()).tolist() == [False, True]
    with pytest.raises(VaeStudioError):
        points_in_polygon(np.zeros((3, 3)), star())


def test_many_points_agree_with_the_reference():
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(200_000, 2)).astype(np.float32)
    poly = star(k=30) * 1.5
    got = points_in_polygon(pts, poly)
    assert np.array_equal(got, reference(pts.astype(np.float64), poly))


def test_rectangle_either_corner_order():
    rng = np.random.default_rng(4)
    pts = rng.uniform(-2, 2, size=(3000, 2))
    a, b = (0.5, -1.0), (-0.25, 1.5)
    expected = (pts[:, 0] >= -0.25) & (pts[:, 0] <= 0.5) & (pts[:, 1] >= -1.0) & (pts[:, 1] <= 1.5)
    assert np.array_equal(points_in_rect(pts, a, b), expected)
    assert np.array_equal(points_in_rect(pts, b, a), expected)
    inside_poly = points_in_polygon(pts, rect_polygon(a, b))
    assert np.array_equal(inside_poly, expected)  # no point lies exactly on an edge here

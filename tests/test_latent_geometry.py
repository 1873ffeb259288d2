"""Projections, the enclosing circle and the lattice."""
import math

import numpy as np
import pytest

from vaestudio.core.errors import VaeStudioError
from vaestudio.core.latent import (coordinate_projection, enclosing_circle, latent_lattice,
                                   make_projection, pca_projection, square_lattice)


def test_circle_radius_of_a_known_cloud():
    # Radii 1..1000 (scaled) at random angles, centred on (3, -2): the 99th percentile is known.
    rng = np.random.default_rng(0)
    r = np.arange(1, 1001) / 100.0
    a = rng.uniform(0, 2 * np.pi, 1000)
    pts = np.stack([r * np.cos(a), r * np.sin(a)], 1)
    pts -= pts.mean(0)
    pts += [3.0, -2.0]
    c = enclosing_circle(pts, 0.99)
    np.testing.assert_allclose(c.centre, [3.0, -2.0], atol=1e-9)
    np.testing.assert_allclose(c.radius, np.quantile(np.linalg.norm(pts - [3, -2], axis=1), 0.99))
    assert abs(c.contains(pts).mean() - 0.99) <= 0.001
    assert abs(enclosing_circle(pts, 0.5).contains(pts).mean() - 0.5) <= 0.001


def test_circle_of_a_gaussian_matches_the_rayleigh_quantile():
    pts = np.random.default_rng(1).normal(size=(200_000, 2)) * 2.0
    # |N(0, s^2 I_2)| is Rayleigh: the q-quantile is s * sqrt(-2 ln(1 - q)).
    assert enclosing_circle(pts, 0.99).radius == pytest.approx(2.0 * math.sqrt(-2 * math.log(0.01)), rel=0.01)


def test_coverage_out_of_range_is_refused():
    with pytest.raises(VaeStudioError):
        enclosing_circle(np.zeros((3, 2)), 1.5)


def test_pair_projection_shows_raw_coordinates_and_maps_back_with_others_at_the_centre():
    rng = np.random.default_rng(2)
    codes = rng.normal(size=(500, 6)) + np.arange(6)
    proj = make_projection(codes, dims=(3, 1))
    np.testing.assert_allclose(proj.to_view(codes), codes[:, [3, 1]])
    z = proj.to_latent([[10.0, -7.0]])[0]
    assert z[3] == pytest.approx(10.0) and z[1] == pytest.approx(-7.0)
    others = [0, 2, 4, 5]
    np.testing.assert_allclose(z[others], codes.mean(0)[others], rtol=1e-6)
    assert proj.axis_labels() == ("z3", "z1")


def test_pca_round_trips():
    rng = np.random.default_rng(3)
    # A cloud on a tilted 2-D plane in 5-D: PCA recovers the plane, so codes -> 2-D -> codes.
    basis = np.linalg.qr(rng.normal(size=(5, 2)))[0].T
    codes = rng.normal(size=(400, 2)) * [3.0, 1.0] @ basis + rng.normal(size=5)
    proj = pca_projection(codes)
    np.testing.assert_allclose(proj.to_latent(proj.to_view(codes)), codes, atol=1e-5)
    # And any view point maps to a latent vector that projects back onto it.
    p = rng.normal(size=(10, 2))
    np.testing.assert_allclose(proj.to_view(proj.to_latent(p)), p, atol=1e-5)
    assert proj.explained[0] > proj.explained[1] and sum(proj.explained) == pytest.approx(1.0)
    # The first axis carries the larger spread.
    assert proj.to_view(codes)[:, 0].std() == pytest.approx(3.0, rel=0.15)


def test_bad_pairs_are_refused():
    with pytest.raises(VaeStudioError):
        coordinate_projection(np.zeros(4), (1, 1))
    with pytest.raises(VaeStudioError):
        coordinate_projection(np.zeros(4), (0, 4))
    with pytest.raises(VaeStudioError):
        coordinate_projection(np.zeros(1))


def test_square_lattice_is_inscribed_and_ordered_top_down():
    pts = square_lattice([1.0, 2.0], 5.0, 4).reshape(4, 4, 2)
    d = np.linalg.norm(pts.reshape(-1, 2) - [1, 2], axis=1)
    assert d.max() == pytest.approx(5.0)  # corners on the circle
    h = 5.0 / math.sqrt(2)
    np.testing.assert_allclose(pts[0, 0], [1 - h, 2 + h])  # top-left first
    np.testing.assert_allclose(pts[-1, -1], [1 + h, 2 - h])
    assert (np.diff(pts[:, 0, 1]) < 0).all() and (np.diff(pts[0, :, 0]) > 0).all()
    assert square_lattice([0, 0], 1.0, 1).tolist() == [[0.0, 0.0]]


@pytest.mark.parametrize("pca", [False, True])
def test_lattice_in_ten_d_lies_inside_the_circle_and_on_the_plane(pca):
    rng = np.random.default_rng(4)
    codes = rng.normal(size=(3000, 10)) * np.linspace(0.5, 2, 10) + 1.0
    proj = make_projection(codes, dims=(2, 7), pca=pca)
    lat = latent_lattice(codes, n=15, projection=proj, coverage=0.99, circle="sphere")  # the D-sphere's
    sphere = enclosing_circle(codes, 0.99)
    assert lat.latents.shape == (225, 10) and lat.n == 15
    # Inside the D-sphere's 99% circle (corners on it), and the circle is the great circle.
    dist = np.linalg.norm(lat.latents - sphere.centre, axis=1)
    assert dist.max() == pytest.approx(sphere.radius, rel=1e-5) and lat.circle.radius == sphere.radius
    assert lat.circle.contains(lat.points).all()
    # On the plane: the residual off the plane through the centre is zero.
    off = lat.latents - sphere.centre
    resid = off - (off @ proj.basis.T) @ proj.basis
    assert np.abs(resid).max() < 1e-4
    if not pca:  # coordinates other than 2 and 7 are held at the centre's values
        keep = [k for k in range(10) if k not in (2, 7)]
        np.testing.assert_allclose(lat.latents[:, keep], np.broadcast_to(sphere.centre[keep], (225, 8)),
                                   rtol=1e-5)


def test_two_d_lattice_uses_the_cloud_circle():
    codes = np.random.default_rng(5).normal(size=(2000, 2))
    lat = latent_lattice(codes, n=5, coverage=0.9)
    c = enclosing_circle(codes, 0.9)
    np.testing.assert_allclose(lat.circle.centre, c.centre)
    assert lat.circle.radius == pytest.approx(c.radius)
    np.testing.assert_allclose(lat.latents, lat.points, atol=1e-6)
    assert lat.half_side == pytest.approx(c.radius / math.sqrt(2))

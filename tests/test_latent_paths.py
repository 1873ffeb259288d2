import numpy as np
import pytest

from vaestudio.core.errors import VaeStudioError
from vaestudio.core.latent import interpolate, lerp_path, slerp_path


def test_lerp_is_a_straight_evenly_spaced_segment():
    p = lerp_path([0, 0, 0], [2, 4, 6], 5)
    np.testing.assert_allclose(p, [[0, 0, 0], [0.5, 1, 1.5], [1, 2, 3], [1.5, 3, 4.5], [2, 4, 6]])


def test_slerp_keeps_norms_and_ends():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20)
    b = rng.normal(size=20)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    p = slerp_path(a, b, 16)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), np.linalg.norm(a), rtol=1e-5)
    np.testing.assert_allclose(p[0], a, rtol=1e-5)
    np.testing.assert_allclose(p[-1], b, rtol=1e-5)
    # Equal angular steps along the great circle.
    u = p / np.linalg.norm(p, axis=1, keepdims=True)
    steps = np.arccos(np.clip((u[1:] * u[:-1]).sum(1), -1, 1))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-3)
    # Lerp between the same ends dips inside the sphere.
    assert np.linalg.norm(lerp_path(a, b, 16), axis=1)[8] < 0.9 * np.linalg.norm(a)


def test_slerp_with_unequal_norms_moves_the_norm_linearly():
    p = slerp_path([1.0, 0.0], [0.0, 3.0], 3)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), [1, 2, 3], rtol=1e-6)
    np.testing.assert_allclose(p[1] / 2, [np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-6)


def test_degenerate_and_bad_requests():
    np.testing.assert_allclose(slerp_path([1, 1], [2, 2], 3), [[1, 1], [1.5, 1.5], [2, 2]], rtol=1e-6)
    np.testing.assert_allclose(slerp_path([0, 0], [2, 2], 3), lerp_path([0, 0], [2, 2], 3))
    with pytest.raises(VaeStudioError):
        slerp_path([1, 0], [-1, 0], 4)
    with pytest.raises(VaeStudioError):
        interpolate([0], [1], 1)
    with pytest.raises(VaeStudioError):
        interpolate([0], [1], 4, method="cubic")

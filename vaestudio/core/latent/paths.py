"""Interpolation paths between two encodings: straight (lerp) or spherical (slerp).

Under the prior N(0, I) most mass sits near a sphere, and the straight line between two codes
dips towards the origin where the decoder has seen little. Slerp turns the direction along
the great circle and moves the norm linearly, so two codes of equal norm give a path of
constant norm.
"""
from __future__ import annotations

import numpy as np

from ..errors import VaeStudioError

METHODS = ("linear", "slerp")


def _ts(steps: int) -> np.ndarray:
    if steps < 2:
        raise VaeStudioError(f"a path needs at least 2 steps, got {steps}")
    return np.linspace(0.0, 1.0, steps)


def lerp_path(z0, z1, steps: int) -> np.ndarray:
    """(steps, D) points evenly spaced on the segment from z0 to z1 (both included)."""
    a, b = (np.asarray(v, dtype=np.float64).ravel() for v in (z0, z1))
    t = _ts(steps)[:, None]
    return ((1 - t) * a + t * b).astype(np.float32)


def slerp_path(z0, z1, steps: int) -> np.ndarray:
    """(steps, D): direction along the great circle from z0 to z1, norm linear between theirs."""
    a, b = (np.asarray(v, dtype=np.float64).ravel() for v in (z0, z1))
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return lerp_path(a, b, steps)
    ua, ub = a / na, b / nb
    omega = float(np.arccos(np.clip(ua @ ub, -1.0, 1.0)))
    t = _ts(steps)[:, None]
    if omega < 1e-6:  # same direction: only the norm changes
        u = np.repeat(ua[None], steps, axis=0)
    else:
        if np.pi - omega < 1e-6:  # opposite: every great circle joins them
            raise VaeStudioError("slerp between opposite directions is not unique; use a linear path")
        u = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return (u * ((1 - t) * na + t * nb)).astype(np.float32)


def interpolate(z0, z1, steps: int, method: str = "linear") -> np.ndarray:
    """The path from z0 to z1 in `steps` points; `method` is "linear" or "slerp"."""
    if method not in METHODS:
        raise VaeStudioError(f"interpolation must be one of {METHODS}, not {method!r}")
    return (slerp_path if method == "slerp" else lerp_path)(z0, z1, steps)

"""Attribute vectors: mean(mu | attribute) - mean(mu | not attribute), and applying them.

Adding growing multiples of the vector for "Blond_Hair" to a face's code turns its hair
blond; "is a 7" works the same way from labels. Attributes in real data are correlated
(blond with female), so a plain difference of means also carries the correlated ones. With
`balance_on`, the difference is taken within each combination of those other attributes and
averaged with the same weights for both groups -- equivalent to reweighting "with" and
"without" so the other attributes have one and the same distribution in each.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..errors import VaeStudioError
from .encoding import Encodings


@dataclass(frozen=True, eq=False)
class AttributeVector:
    name: str
    delta: np.ndarray  # float32 (D,)
    n_with: int
    n_without: int
    balanced_on: tuple[str, ...] = ()
    dropped: int = 0  # images in combinations seen in only one group (left out when balancing)


def attribute_mask(enc: Encodings, name: str) -> np.ndarray:
    """Boolean (N,): which images have `name` -- an attribute, a label name, or a label value
    ("7", "label=7")."""
    names = enc.attribute_names or []
    if enc.attributes is not None:
        lowered = [s.lower() for s in names]
        if name.lower() in lowered:
            i = names.index(name) if name in names else lowered.index(name.lower())
            return enc.attributes[:, i] > 0
    if enc.labels is not None:
        if enc.label_names and name in enc.label_names:
            return enc.labels == enc.label_names.index(name)
        m = re.fullmatch(r"(?:label\s*[=:]\s*)?(-?\d+)", name.strip(), flags=re.IGNORECASE)
        if m:
            return enc.labels == int(m.group(1))
    known = names + list(enc.label_names or [])
    hint = f"; known: {', '.join(known[:12])}{' ...' if len(known) > 12 else ''}" if known else \
        ("; this data set has labels: use a label value such as 7" if enc.labels is not None else
         "; this data set has neither attributes nor labels")
    raise VaeStudioError(f"no attribute or label called {name!r}{hint}")


def mean_difference(codes, mask, strata: Optional[np.ndarray] = None) -> tuple[np.ndarray, int]:
    """mean(codes[mask]) - mean(codes[~mask]); with `strata` (N,) ids, the difference within each
    stratum present in both groups, weighted by the stratum's share. Returns (delta, dropped)."""
    codes = np.asarray(codes, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if mask.all() or not mask.any():
        raise VaeStudioError(
            f"an attribute vector needs images with and without it; found {int(mask.sum())} "
            f"with and {int((~mask).sum())} without")
    if strata is None:
        return (codes[mask].mean(0) - codes[~mask].mean(0)).astype(np.float32), 0
    delta, total, dropped = np.zeros(codes.shape[1]), 0, 0
    for s in np.unique(strata):
        cell = strata == s
        w, wo = cell & mask, cell & ~mask
        if not w.any() or not wo.any():
            dropped += int(cell.sum())
            continue
        delta += cell.sum() * (codes[w].mean(0) - codes[wo].mean(0))
        total += int(cell.sum())
    if total == 0:
        raise VaeStudioError("no combination of the balancing attributes has images both with "
                             "and without the attribute; balance on fewer attributes")
    return (delta / total).astype(np.float32), dropped


def _strata(enc: Encodings, names: Sequence[str]) -> Optional[np.ndarray]:
    """One integer id per image for its combination of the named attributes."""
    if not names:
        return None
    bits = np.stack([attribute_mask(enc, n) for n in names], axis=1).astype(np.int64)
    return bits @ (1 << np.arange(bits.shape[1], dtype=np.int64))


def correlated_attributes(enc: Encodings, name: str, top: int = 2,
                          exclude: Sequence[str] = ()) -> list[str]:
    """The `top` attributes most correlated (|phi|) with `name`, strongest first."""
    if enc.attributes is None or not enc.attribute_names:
        return []
    target = attribute_mask(enc, name).astype(np.float64)
    skip = {name.lower(), *(e.lower() for e in exclude)}
    scored = []
    for i, other in enumerate(enc.attribute_names):
        col = (enc.attributes[:, i] > 0).astype(np.float64)
        if other.lower() in skip or col.std() == 0 or target.std() == 0:
            continue
        scored.append((abs(float(np.corrcoef(target, col)[0, 1])), other))
    return [n for _, n in sorted(scored, key=lambda t: -t[0])[:top]]


def attribute_vector(enc: Encodings, name: str, balance_on: Sequence[str] = ()) -> AttributeVector:
    """delta for `name` from encodings that carry attributes or labels."""
    mask = attribute_mask(enc, name)
    others = tuple(b for b in balance_on if b.lower() != name.lower())
    delta, dropped = mean_difference(enc.codes, mask, _strata(enc, others))
    return AttributeVector(name=name, delta=delta, n_with=int(mask.sum()),
                           n_without=int((~mask).sum()), balanced_on=others, dropped=dropped)


def attribute_vectors(enc: Encodings, names: Sequence[str], balance: bool = False,
                      balance_on: Sequence[str] = (), correlated: int = 0) -> list[AttributeVector]:
    """Vectors for several attributes; with `balance` each is balanced on the other chosen ones,
    plus `balance_on` and its `correlated` most correlated attributes."""
    out = []
    for name in names:
        extra = list(balance_on)
        if balance:
            extra += [n for n in names if n != name]
        if correlated:
            extra += correlated_attributes(enc, name, correlated, exclude=extra)
        out.append(attribute_vector(enc, name, balance_on=list(dict.fromkeys(extra))))
    return out


def combine(vectors: Sequence[AttributeVector | np.ndarray],
            weights: Optional[Sequence[float]] = None) -> np.ndarray:
    """sum_i w_i * delta_i (weights default to 1): blond hair and sunglasses at once."""
    deltas = [v.delta if isinstance(v, AttributeVector) else np.asarray(v) for v in vectors]
    if not deltas:
        raise VaeStudioError("combine needs at least one attribute vector")
    weights = [1.0] * len(deltas) if weights is None else list(weights)
    if len(weights) != len(deltas):
        raise VaeStudioError(f"{len(weights)} weights for {len(deltas)} attribute vectors")
    return sum(w * d.astype(np.float64) for w, d in zip(weights, deltas)).astype(np.float32)


def sweep_alphas(steps: int, max_alpha: float, min_alpha: float = 0.0) -> np.ndarray:
    """`steps` evenly spaced multipliers from min_alpha to max_alpha."""
    if steps < 1:
        raise VaeStudioError(f"steps must be >= 1, got {steps}")
    return np.linspace(min_alpha, max_alpha, steps)


def apply_vector(z, delta, alphas) -> np.ndarray:
    """z + alpha * delta for each alpha: float32 (len(alphas), D)."""
    z = np.asarray(z, dtype=np.float64).ravel()
    a = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    return (z[None] + a[:, None] * np.asarray(delta, dtype=np.float64)[None]).astype(np.float32)

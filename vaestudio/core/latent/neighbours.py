"""The k codes nearest a query point in latent space (Euclidean), for the window's neighbour strip.

The codes are walked in chunks of rows so memory stays bounded whatever N is: each chunk's
squared distances come from one matrix product in float64 (|c|^2 - 2 q.c + |q|^2, no (N, D)
temporary of differences), the k best of the chunk join the k best so far, and the winners'
distances are recomputed exactly from their differences at the end. Pure numpy, no Qt.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

CHUNK_ELEMENTS = 1 << 20  # floats of codes converted per chunk (8 MiB of float64)
MAX_K = 1024


class Neighbours(NamedTuple):
    rows: np.ndarray  # int64 (Q, k): row indices into the codes, nearest first
    distances: np.ndarray  # float64 (Q, k): Euclidean distances, ascending


def nearest_codes(codes, queries, k: int, *, chunk_elements: int = CHUNK_ELEMENTS,
                  cancel=lambda: False) -> Optional[Neighbours]:
    """The `k` rows of `codes` (N, D) nearest each of `queries` ((Q, D) or one (D,) point, then
    Q = 1), nearest first; ties go to the lower row. k is capped at N (N = 0 gives (Q, 0)).
    `cancel()` is asked between chunks: None when it turned true (a newer search superseded this)."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be (N, D), not shape {codes.shape}")
    q = np.asarray(queries, dtype=np.float64)
    if q.ndim == 1:
        q = q[None]
    n, d = codes.shape
    if q.ndim != 2 or q.shape[1] != d:
        raise ValueError(f"queries must be (Q, {d}) or ({d},), not shape {np.shape(queries)}")
    if not 1 <= int(k) <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, not {k}")
    if not np.isfinite(q).all():
        raise ValueError("the query holds NaN or infinite values")
    k = min(int(k), n)
    nq = q.shape[0]
    if k == 0:
        return Neighbours(np.zeros((nq, 0), np.int64), np.zeros((nq, 0)))
    q_sq = np.einsum("ij,ij->i", q, q)[:, None]
    step = max(1, int(chunk_elements) // max(d, 1))
    best_rows = np.zeros((nq, 0), np.int64)
    best_d2 = np.zeros((nq, 0))
    for start in range(0, n, step):
        if cancel():
            return None
        chunk = np.asarray(codes[start:start + step], dtype=np.float64)
        d2 = np.einsum("ij,ij->i", chunk, chunk)[None, :] - 2.0 * (q @ chunk.T) + q_sq
        rows = np.broadcast_to(np.arange(start, start + len(chunk), dtype=np.int64), d2.shape)
        d2 = np.concatenate([best_d2, d2], axis=1)
        rows = np.concatenate([best_rows, rows], axis=1)
        if d2.shape[1] > k:
            keep = np.argpartition(d2, k - 1, axis=1)[:, :k]
            d2 = np.take_along_axis(d2, keep, axis=1)
            rows = np.take_along_axis(rows, keep, axis=1)
        best_d2, best_rows = d2, rows
    # exact distances of the winners (the expansion above loses digits for near points), then
    # order them: by distance, ties by row
    diff = np.asarray(codes[best_rows.reshape(-1)], dtype=np.float64).reshape(nq, k, d) - q[:, None, :]
    dist = np.sqrt(np.einsum("qkd,qkd->qk", diff, diff))
    order = np.lexsort((best_rows, dist), axis=1) if nq else np.zeros((0, k), np.int64)
    return Neighbours(np.take_along_axis(best_rows, order, axis=1), np.take_along_axis(dist, order, axis=1))

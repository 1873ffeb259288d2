"""core.latent.neighbours: the k nearest codes to query points, chunked so N x D never becomes
an (N, D) float64 temporary."""
from __future__ import annotations

import numpy as np
import pytest

from vaestudio.core.latent.neighbours import nearest_codes


def brute(codes, q, k):
    d = np.sqrt(((codes.astype(np.float64) - q) ** 2).sum(1))
    rows = np.lexsort((np.arange(len(codes)), d))[:k]
    return rows, d[rows]


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])  # many chunks, a few, one
def test_matches_brute_force_whatever_the_chunk(chunk):
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 6)).astype(np.float32)
    queries = rng.normal(size=(3, 6))
    res = nearest_codes(codes, queries, 8, chunk_elements=chunk)
    assert res.rows.shape == (3, 8) and res.distances.shape == (3, 8)
    for i, q in enumerate(queries):
        rows, dist = brute(codes, q, 8)
        np.testing.assert_array_equal(res.rows[i], rows)
        np.testing.assert_allclose(res.distances[i], dist, rtol=1e-12)
        assert np.all(np.diff(res.distances[i]) >= 0)


def test_a_code_is_its_own_nearest_at_distance_zero_and_ties_go_to_the_lower_row():
    codes = np.array([[0, 0], [1, 0], [0, 1], [1, 0], [5, 5]], dtype=np.float32)
    res = nearest_codes(codes, codes[1], 3, chunk_elements=4)
    assert res.rows.tolist() == [[1, 3, 0]]  # rows 1 and 3 are equal: the lower first
    np.testing.assert_allclose(res.distances[0], [0, 0, 1])


def test_far_from_the_origin_the_order_is_exact():
    """Codes far out (|c| ~ 1e4) and 1e-3 apart: the expanded form alone would lose the order."""
    base = np.full((1, 4), 1e4)
    offsets = np.array([[3e-3, 0, 0, 0], [1e-3, 0, 0, 0], [2e-3, 0, 0, 0], [5.0, 0, 0, 0]])
    codes = base + offsets
    res = nearest_codes(codes, base[0], 3)
    assert res.rows.tolist() == [[1, 2, 0]]


def test_k_is_capped_and_bad_input_is_refused():
    codes = np.zeros((3, 2), np.float32)
    assert nearest_codes(codes, [0, 0], 8).rows.shape == (1, 3)
    assert nearest_codes(np.zeros((0, 2)), [0, 0], 8).rows.shape == (1, 0)
    with pytest.raises(ValueError, match="k must be"):
        nearest_codes(codes, [0, 0], 0)
    with pytest.raises(ValueError, match=r"\(Q, 2\)"):
        nearest_codes(codes, [0, 0, 0], 2)
    with pytest.raises(ValueError, match="NaN"):
        nearest_codes(codes, [np.nan, 0], 2)


def test_200k_by_100_stays_in_bounded_memory():
    """200,000 x 100 float32 codes (80 MB): the search's own allocations stay near one chunk
    (8 MiB of float64 plus the chunk's distances), far below a float64 copy of the codes (160 MB)."""
    import tracemalloc

    rng = np.random.default_rng(1)
    codes = rng.normal(size=(200_000, 100)).astype(np.float32)
    q = codes[123_456] + 1e-3
    tracemalloc.start()
    res = nearest_codes(codes, q, 8)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert res.rows[0, 0] == 123_456
    assert peak < 40 * 2 ** 20, f"peak {peak / 2 ** 20:.1f} MiB"
    rows, dist = brute(codes, q, 8)
    np.testing.assert_array_equal(res.rows[0], rows)


def test_a_cancelled_search_stops_between_chunks():
    codes = np.zeros((1000, 4), np.float32)
    asked = []

    def cancel():
        asked.append(1)
        return len(asked) > 2

    assert nearest_codes(codes, np.zeros(4), 3, chunk_elements=40, cancel=cancel) is None
    assert len(asked) == 3  # stopped at the third chunk of 100

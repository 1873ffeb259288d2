"""The image cache: built once in chunks, reused, rebuilt when damaged, nothing half-written."""
import numpy as np
import pytest

from vaestudio.core.data.cache import build_cached, cache_key, load_cached
from vaestudio.core.errors import Cancelled


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path))
    return tmp_path


def chunks(calls):
    def make(lo, hi):
        calls.append((lo, hi))
        images = np.arange(lo, hi, dtype=np.uint8)[:, None, None, None] * np.ones((1, 1, 2, 2), np.uint8)
        return images, {"labels": np.arange(lo, hi)}
    return make


def test_build_then_reuse(cache):
    calls = []
    images, arrays = build_cached("t", 25, (1, 2, 2), chunks(calls), chunk=10, fixed={"names": np.array(["a"])})
    assert calls == [(0, 10), (10, 20), (20, 25)]
    assert isinstance(images, np.memmap) and not images.flags.writeable
    assert images[:, 0, 0, 0].tolist() == list(range(25)) and arrays["labels"].tolist() == list(range(25))
    assert arrays["names"].tolist() == ["a"]
    build_cached("t", 25, (1, 2, 2), chunks(calls), chunk=10)
    assert len(calls) == 3  # second call read the cache


def test_damaged_or_stale_entry_is_rebuilt(cache):
    build_cached("t", 12, (1, 2, 2), chunks([]), chunk=5)
    path = cache / "t.npy"
    path.write_bytes(path.read_bytes()[:-7])
    assert load_cached("t", (12, 1, 2, 2)) is None
    calls = []
    images, _ = build_cached("t", 12, (1, 2, 2), chunks(calls), chunk=5)
    assert calls and images.shape == (12, 1, 2, 2)
    assert load_cached("t", (13, 1, 2, 2)) is None  # a different size is not this entry


def test_cancel_and_failure_remove_partial_files(cache):
    with pytest.raises(Cancelled):
        build_cached("c", 30, (1, 2, 2), chunks([]), chunk=10, cancel=iter([False, True]).__next__)
    assert list(cache.iterdir()) == []

    def broken(lo, hi):
        if lo:
            raise OSError("disk on fire")
        return chunks([])(lo, hi)

    with pytest.raises(OSError):
        build_cached("c", 30, (1, 2, 2), broken, chunk=10)
    assert list(cache.iterdir()) == []


def test_cache_key_is_stable_and_sensitive():
    assert cache_key("digits", 1, 0) == cache_key("digits", 1, 0)
    assert cache_key("digits", 1, 0) != cache_key("digits", 1, 1)
    assert len(cache_key("x")) == 16

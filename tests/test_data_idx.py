"""IDX files, plain and gzipped: read back exactly; a bad header or size is named clearly."""
import gzip

import numpy as np
import pytest

from vaestudio.core.data.idx import idx_bytes, read_idx
from vaestudio.core.data.sample_files import write_idx
from vaestudio.core.errors import DataError


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip(tmp_path, rng, name):
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    path = write_idx(tmp_path / name, images)
    if name.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"  # really gzipped
    out = read_idx(path, ndim=3)
    assert out.dtype == np.uint8 and out.shape == (7, 28, 28)
    assert np.array_equal(out, images)


def test_header_layout_is_the_real_one():
    data = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert data[:4] == bytes([0, 0, 0x08, 2])
    assert data[4:12] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    assert data[12:] == bytes(range(6))


def test_other_value_types(tmp_path):
    values = np.array([[1, -2], [300, 4]], dtype=np.int32)
    out = read_idx(write_idx(tmp_path / "x-idx2-int", values))
    assert np.array_equal(out, values)


def test_header_size_mismatch_names_file_and_sizes(tmp_path, rng):
    path = tmp_path / "train-images-idx3-ubyte"
    data = idx_bytes(rng.integers(0, 256, (10, 28, 28), dtype=np.uint8))
    path.write_bytes(data[:-100])
    with pytest.raises(DataError) as e:
        read_idx(path, ndim=3)
    msg = str(e.value)
    assert str(path) in msg and "10x28x28" in msg and "7,740" in msg and "7,840" in msg


@pytest.mark.parametrize("content, words", [
    (b"\x08\x03\x00\x00garbage", "not an IDX file"),
    (b"\x00\x00\x42\x01\x00\x00\x00\x01\x00", "unknown IDX value type 0x42"),
    (b"\x00\x00\x08\x03\x00\x00", "cut short"),
    (b"", "not an IDX file"),
])
def test_malformed_headers(tmp_path, content, words):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=words) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_wrong_number_of_dimensions(tmp_path):
    path = write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="1 dimensions; expected 3"):
        read_idx(path, ndim=3)


def test_broken_gzip(tmp_path, rng):
    good = gzip.compress(idx_bytes(rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)))
    truncated = tmp_path / "a-idx3-ubyte.gz"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="gzip") as e:
        read_idx(truncated)
    assert str(truncated) in str(e.value)
    not_gzip = tmp_path / "b-idx3-ubyte.gz"
    not_gzip.write_bytes(idx_bytes(np.zeros((2, 2, 2), np.uint8)))
    with pytest.raises(DataError, match="gzip"):
        read_idx(not_gzip)

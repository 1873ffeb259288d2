"""The `npz` data set: a user's own arrays with labels and attributes; bad arrays named."""
import numpy as np
import pytest

from vaestudio.core.data.registry import open_dataset
from vaestudio.core.errors import DataError, DataNotFoundError


def save(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.fixture
def good(tmp_path, rng):
    n = 50
    images = rng.integers(0, 256, (n, 12, 10, 3), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(n)  # index marker
    return save(tmp_path / "mine.npz", images=images, labels=np.arange(n) % 4,
                attributes=(rng.random((n, 3)) < 0.5).astype(np.uint8),
                attribute_names=np.array(["Smiling", "Young", "Hat"]),
                label_names=np.array(["a", "b", "c", "d"]))


def test_images_labels_attributes(good):
    ds = open_dataset("npz", good)
    z = np.load(good)
    assert ds.image_shape == (3, 12, 10)
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [40, 5, 5]
    assert ds.attribute_names == ["Smiling", "Young", "Hat"] and ds.label_names == ["a", "b", "c", "d"]
    idx = np.concatenate([s.images[:, 0, 0, 0] for s in (ds.train, ds.validation, ds.test)]).astype(int)
    assert sorted(idx) == list(range(50)) and idx.tolist() != list(range(50))  # shuffled, all there
    assert np.array_equal(ds.train.images[0].transpose(1, 2, 0), z["images"][idx[0]])
    assert np.array_equal(ds.train.attributes, z["attributes"][idx[:40]])
    assert np.array_equal(ds.test.labels, z["labels"][idx[45:]])
    assert ds.spec.root == str(good)
    assert np.array_equal(open_dataset(ds.spec).test.images, ds.test.images)


def test_grey_without_extras_and_split_array(tmp_path):
    path = save(tmp_path / "g.npz", images=np.zeros((6, 5, 5), np.uint8), split=np.array([2, 0, 0, 1, 0, 2]))
    ds = open_dataset("npz", path)
    assert ds.image_shape == (1, 5, 5) and ds.label_names is None and ds.attribute_names is None
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [3, 1, 2]


def test_folder_with_one_npz(tmp_path):
    save(tmp_path / "only.npz", images=np.zeros((4, 3, 8, 8), np.uint8), labels=np.array([0, 1, 1, 2]))
    ds = open_dataset("npz", tmp_path)
    assert ds.image_shape == (3, 8, 8) and ds.label_names == ["0", "1", "2"]


@pytest.mark.parametrize("arrays, words", [
    (dict(images=np.zeros((10, 4, 4), np.uint8), labels=np.zeros(9, int)),
     "'labels' has 9 entries but 'images' has 10"),
    (dict(images=np.zeros((10, 4, 4), np.uint8), attributes=np.zeros((11, 2), np.uint8)),
     "'attributes' has 11 entries but 'images' has 10"),
    (dict(images=np.zeros((4, 4, 4), np.uint8), attributes=np.zeros((4, 2), np.uint8),
          attribute_names=np.array(["x"])), "'attribute_names' has 1 entries but 2 are needed"),
    (dict(images=np.zeros((4, 4, 4), np.float32)), "'images' must be uint8"),
    (dict(images=np.zeros((4, 4), np.uint8)), r"must be shaped \(N, H, W\)"),
    (dict(images=np.zeros((4, 4, 4), np.uint8), attributes=np.full((4, 2), 2)), "must be 0/1"),
    (dict(images=np.zeros((4, 4, 4), np.uint8), labels=np.array([0, -1, 0, 0])), "non-negative integers"),
    (dict(pixels=np.zeros((4, 4, 4), np.uint8)), "no 'images' array"),
    (dict(images=np.zeros((0, 4, 4), np.uint8)), "'images' is empty"),
])
def test_bad_arrays_are_named(tmp_path, arrays, words):
    path = save(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=words) as e:
        open_dataset("npz", path)
    assert str(path) in str(e.value)


def test_pickled_names_are_refused_without_unpickling(tmp_path):
    path = save(tmp_path / "p.npz", images=np.zeros((2, 4, 4), np.uint8), attributes=np.zeros((2, 1), np.uint8),
                attribute_names=np.array([object()], dtype=object))
    with pytest.raises(DataError, match="string arrays"):
        open_dataset("npz", path)


def test_not_an_npz_and_missing(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(DataError, match="not a readable .npz file"):
        open_dataset("npz", tmp_path / "junk.npz")
    with pytest.raises(DataNotFoundError, match="file not found"):
        open_dataset("npz", tmp_path / "absent.npz")
    (tmp_path / "none").mkdir()
    with pytest.raises(DataNotFoundError, match=r"expected the path of an .npz file \(this folder holds 0\)"):
        open_dataset("npz", tmp_path / "none")

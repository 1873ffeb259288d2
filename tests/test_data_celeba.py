"""CelebA from a tiny folder in the official layout: parsing, crop, cache, splits, bad input."""
import numpy as np
import pytest

from vaestudio.core.data import images as images_module
from vaestudio.core.data.attributes import CELEBA_ATTRIBUTES, HAIR_LABELS
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.data.sample_files import write_celeba
from vaestudio.core.errors import Cancelled, DataError, DataNotFoundError

PARTITION = [2, 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 0]  # out of order on purpose


@pytest.fixture
def celeba(tmp_path):
    root = tmp_path / "data"
    values = write_celeba(root, 12, partition=PARTITION)
    return root, values


def red_of(images):
    """Each image's mean red in its bright corner, which encodes its index (i * 7)."""
    return np.asarray(images)[:, 0, :6, :6].mean(axis=(1, 2))


def test_converts_with_partition_order_and_attributes(cache, celeba):
    root, values = celeba
    progress = []
    ds = open_dataset("celeba", root, progress=lambda d, t, m: progress.append((d, t)))
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [8, 2, 2]
    assert ds.image_shape == (3, 64, 64) and ds.attribute_names == list(CELEBA_ATTRIBUTES)
    order = np.argsort(PARTITION, kind="stable")  # train files, then validation, then test
    expected = (values[order] == 1).astype(np.uint8)
    got = np.concatenate([ds.train.attributes, ds.validation.attributes, ds.test.attributes])
    assert np.array_equal(got, expected)
    reds = np.concatenate([red_of(s.images) for s in (ds.train, ds.validation, ds.test)])
    assert np.abs(reds - order * 7).max() < 4  # JPEG keeps flat colours within a few levels
    assert progress[-1] == (12, 12)
    assert ds.label_names == list(HAIR_LABELS) and ds.train.labels.dtype == np.int64
    assert "list_eval_partition.txt" in ds.description


def test_crop_is_the_148_box_at_15_40(cache, tmp_path):
    """The test image is bright with a dark middle third; after the crop the dark square fills
    the middle ~40% of the 64x64 face (59/148 of the crop width), not the middle third."""
    root = tmp_path / "c"
    write_celeba(root, 1, quality=98)
    img = open_dataset("celeba", root).train.images[0, 1].astype(float)  # green: 128, dark 64
    dark_cols = np.flatnonzero(img[32] < 100)
    dark_rows = np.flatnonzero(img[:, 32] < 100)
    # Columns 59..118 of 178 map to (59-15)/148*64 = 19.0 .. 44.6.
    assert abs(dark_cols[0] - 19) <= 1 and abs(dark_cols[-1] - 44) <= 1
    # Rows 72..145 of 218 map to (72-40)/148*64 = 13.8 .. 45.4.
    assert abs(dark_rows[0] - 14) <= 1 and abs(dark_rows[-1] - 45) <= 1


def test_second_open_uses_the_memory_mapped_cache(cache, celeba, monkeypatch):
    root, _ = celeba
    first = open_dataset("celeba", root)
    monkeypatch.setattr(images_module, "load_image", lambda *a, **k: pytest.fail("converted twice"))
    again = open_dataset("celeba", root)
    assert isinstance(again.train.images, np.memmap)
    assert np.array_equal(np.asarray(first.test.images), np.asarray(again.test.images))
    assert open_dataset(again.spec).spec == again.spec


def test_without_partition_file_splits_80_10_10_in_order(cache, tmp_path):
    root = tmp_path / "d"
    write_celeba(root / "celeba", 10)  # torchvision's layout: ROOT/celeba/...
    ds = open_dataset("celeba", root)
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [8, 1, 1]
    assert abs(red_of(ds.test.images)[0] - 63) < 4  # image 9 of 0..9
    assert "80/10/10" in ds.description


def test_cancel_leaves_no_cache(cache, celeba):
    root, _ = celeba
    with pytest.raises(Cancelled):
        open_dataset("celeba", root, cancel=lambda: True)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_image_that_does_not_decode_is_named_and_nothing_cached(cache, celeba):
    root, _ = celeba
    bad = root / "img_align_celeba" / "000005.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    with pytest.raises(DataError) as e:
        open_dataset("celeba", root)
    assert str(bad) in str(e.value)
    assert not cache.exists() or [p for p in cache.iterdir() if p.suffix == ".npy" or p.name.startswith(".")] == []


def test_missing_attribute_file(cache, celeba):
    root, _ = celeba
    (root / "list_attr_celeba.txt").unlink()
    with pytest.raises(DataNotFoundError) as e:
        open_dataset("celeba", root)
    assert "list_attr_celeba.txt" in str(e.value) and str(root) in str(e.value)


def test_no_celeba_at_all(cache, tmp_path):
    with pytest.raises(DataNotFoundError, match="img_align_celeba/"):
        open_dataset("celeba", tmp_path)


def _rewrite_attr(root, edit):
    path = root / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


@pytest.mark.parametrize("edit, words", [
    (lambda ls: ["twelve"] + ls[1:], "line 1 should be the number of images"),
    (lambda ls: ["13"] + ls[1:], "line 1 says 13 images but 12 image lines follow"),
    (lambda ls: ls[:4] + [ls[4].rsplit(" ", 1)[0]] + ls[5:], "line 5: expected a file name and 40 values, found 39"),
    (lambda ls: ls[:6] + [ls[6].replace("-1", " 2", 1)] + ls[7:], "line 7: value 2 for"),
    (lambda ls: ls[:3] + [ls[3].replace("-1", "no", 1)] + ls[4:], "line 4: values must be 1 or -1"),
    (lambda ls: ls[:1], "too short"),
])
def test_malformed_attribute_file(cache, celeba, edit, words):
    root, _ = celeba
    path = _rewrite_attr(root, edit)
    with pytest.raises(DataError, match=words) as e:
        open_dataset("celeba", root)
    assert str(path) in str(e.value)


def test_listed_image_missing(cache, celeba):
    root, _ = celeba
    (root / "img_align_celeba" / "000003.jpg").unlink()
    with pytest.raises(DataError) as e:
        open_dataset("celeba", root)
    assert "000003.jpg" in str(e.value) and "missing" in str(e.value)


def test_malformed_partition_file(cache, celeba):
    root, _ = celeba
    path = root / "list_eval_partition.txt"
    path.write_text(path.read_text().replace("000002.jpg 0", "000002.jpg 7"))
    with pytest.raises(DataError, match="line 2: expected 'file name' and 0, 1 or 2") as e:
        open_dataset("celeba", root)
    assert str(path) in str(e.value)
    path.write_text("000001.jpg 0\n")
    with pytest.raises(DataError, match="no partition for 11 listed images"):
        open_dataset("celeba", root)

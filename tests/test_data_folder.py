"""The `folder` data set: subfolders are labels, images resized, bad input named."""
import numpy as np
import pytest
from PIL import Image

from vaestudio.core.data.registry import open_dataset
from vaestudio.core.data.sample_files import write_image_folder
from vaestudio.core.errors import Cancelled, DataError, DataNotFoundError


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_labelled_folder(tmp_path):
    root = tmp_path / "pics"
    write_image_folder(root, {"cats": 12, "dogs": 8})
    (root / "dogs" / "more").mkdir()
    Image.new("RGB", (10, 10), (255, 255, 255)).save(root / "dogs" / "more" / "x.bmp")
    (root / "notes.txt").write_text("not an image")
    ds = open_dataset("folder", root, size=16)
    assert ds.label_names == ["cats", "dogs"]
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [17, 2, 2]
    assert ds.image_shape == (3, 16, 16)
    images = np.concatenate([ds.train.images, ds.validation.images, ds.test.images])
    labels = np.concatenate([ds.train.labels, ds.validation.labels, ds.test.labels])
    assert np.bincount(labels).tolist() == [12, 9]
    # The classes were written as different colours: red is 20 for cats, 60 for dogs.
    red = images[:, 0].mean(axis=(1, 2))
    assert (np.abs(red[labels == 0] - 20) < 8).all()
    assert set(labels[:10].tolist()) == {0, 1}  # shuffled before the split, not class by class
    assert ds.spec.options == {"size": 16, "grey": False} and ds.spec.root == str(root)
    assert np.array_equal(np.asarray(open_dataset(ds.spec).train.images), np.asarray(ds.train.images))


def test_unlabelled_grey_folder(tmp_path):
    write_image_folder(tmp_path, {"": 10}, size=(30, 40))
    ds = open_dataset("folder", tmp_path, size=8, grey="true")
    assert ds.image_shape == (1, 8, 8) and ds.label_names is None and ds.train.labels is None
    assert ds.spec.options["grey"] is True


def test_progress_and_cancel(tmp_path, cache):
    write_image_folder(tmp_path / "p", {"a": 3})
    seen = []
    open_dataset("folder", tmp_path / "p", size=8, progress=lambda d, t, m: seen.append((d, t, m)))
    assert seen[0][:2] == (0, 3) and seen[-1][:2] == (3, 3) and "3 images" in seen[-1][2]
    with pytest.raises(Cancelled):
        open_dataset("folder", tmp_path / "p", size=12, cancel=lambda: True)
    assert [p for p in cache.iterdir() if p.name.startswith(".")] == []


def test_empty_folder(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(DataError, match="no images found") as e:
        open_dataset("folder", tmp_path / "empty")
    assert str(tmp_path / "empty") in str(e.value) and ".png" in str(e.value)


def test_missing_or_not_a_folder(tmp_path):
    with pytest.raises(DataNotFoundError, match="folder not found"):
        open_dataset("folder", tmp_path / "nope")
    (tmp_path / "f.png").write_bytes(b"x")
    with pytest.raises(DataError, match="not a folder"):
        open_dataset("folder", tmp_path / "f.png")


def test_image_that_does_not_decode(tmp_path, cache):
    # One broken file is skipped and named; the folder still opens (tests/test_data_folder_skip.py).
    write_image_folder(tmp_path / "p", {"a": 4})
    bad = tmp_path / "p" / "a" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")
    ds = open_dataset("folder", tmp_path / "p")
    assert sum(len(ds.split(s)) for s in ("train", "validation", "test")) == 4
    assert len(ds.warnings) == 1 and "a/broken.png" in ds.warnings[0] and str(bad) in ds.warnings[0]


def test_bad_size_option(tmp_path):
    write_image_folder(tmp_path, {"": 2})
    with pytest.raises(DataError, match="size must be between 4 and 1024"):
        open_dataset("folder", tmp_path, size=2)
    with pytest.raises(DataError, match="size=.*must be int"):
        open_dataset("folder", tmp_path, size="big")

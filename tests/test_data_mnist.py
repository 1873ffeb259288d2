"""MNIST-family data sets from IDX files in torchvision's layout, through the registry."""
import sys

import numpy as np
import pytest

from vaestudio.core.data import download as download_module
from vaestudio.core.data.base import holdout_counts
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.data.sample_files import write_idx, write_idx_set
from vaestudio.core.errors import DataError, DataNotFoundError


@pytest.mark.parametrize("name, folder, gz", [
    ("mnist", "MNIST", False), ("mnist", "MNIST", True),
    ("fashion-mnist", "FashionMNIST", True), ("kmnist", "KMNIST", False),
])
def test_open_from_torchvision_layout(tmp_path, name, folder, gz):
    arrays = write_idx_set(tmp_path / folder / "raw", 120, 30, gz=gz)
    ds = open_dataset(name, tmp_path)
    # The blog's split: the end of the train file validates (a sixth of it here, 10,000 at full size).
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [100, 20, 30]
    assert ds.image_shape == (1, 28, 28) and ds.train.images.dtype == np.uint8
    assert ds.train.labels.dtype == np.int64 and len(ds.label_names) == 10
    assert np.array_equal(ds.train.images[:, 0], arrays["train_images"][:100])
    assert np.array_equal(ds.validation.labels, arrays["train_labels"][100:])
    assert np.array_equal(ds.test.images[:, 0], arrays["test_images"])
    assert ds.spec.root == str(tmp_path) and ds.spec.name == name
    again = open_dataset(ds.spec)
    assert np.array_equal(again.test.labels, ds.test.labels)


def test_full_size_split_is_50k_10k_10k():
    assert holdout_counts(60000, 10000) == (50000, 10000, 10000)
    assert holdout_counts(112800, 18800) == (102800, 10000, 18800)  # EMNIST balanced


def test_files_directly_in_root(tmp_path):
    write_idx_set(tmp_path, 60, 12)
    assert len(open_dataset("mnist", tmp_path).test) == 12


def test_fashion_label_names(tmp_path):
    write_idx_set(tmp_path / "FashionMNIST" / "raw", 60, 12)
    ds = open_dataset("fashion-mnist", tmp_path)
    assert ds.label_names[0] == "T-shirt/top" and ds.label_names[9] == "Ankle boot"


def test_emnist_balanced_is_transposed_upright(tmp_path):
    raw = tmp_path / "EMNIST" / "raw"
    arrays = write_idx_set(raw, 60, 12, prefix=("emnist-balanced-train", "emnist-balanced-test"), n_classes=47)
    ds = open_dataset("emnist", tmp_path)
    assert len(ds.label_names) == 47 and ds.label_names[10] == "A" and ds.label_names[-1] == "t"
    assert (ds.test.images[:, 0, 5, 0] == 255).all()  # the file's (row 0, col 5) marker, transposed
    assert np.array_equal(ds.test.images[:, 0], arrays["test_images"].transpose(0, 2, 1))
    assert ds.spec.options == {"split": "balanced", "validation": "auto"}
    write_idx_set(raw, 60, 12, prefix=("emnist-digits-train", "emnist-digits-test"))
    digits = open_dataset("emnist", tmp_path, split="digits")
    assert len(digits.label_names) == 10 and digits.spec.options == {"split": "digits", "validation": "auto"}
    with pytest.raises(DataError, match="split must be one of balanced, digits"):
        open_dataset("emnist", tmp_path, split="letters")


def test_missing_files_say_which_and_where(tmp_path):
    write_idx(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte", np.zeros((6, 28, 28), np.uint8))
    with pytest.raises(DataNotFoundError) as e:
        open_dataset("mnist", tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "MNIST" / "raw") in msg
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte", ".gz", "--download"):
        assert name in msg


def test_download_only_when_asked(tmp_path, monkeypatch):
    calls = []

    def fake_download(class_name, root, **kw):
        calls.append(class_name)
        write_idx_set(root / class_name / "raw", 60, 12, gz=True)

    monkeypatch.setattr("vaestudio.core.data.mnist.download_with_torchvision", fake_download)
    with pytest.raises(DataNotFoundError):
        open_dataset("kmnist", tmp_path)
    assert calls == []
    ds = open_dataset("kmnist", tmp_path, download=True)
    assert calls == ["KMNIST"] and len(ds.test) == 12


def test_failed_download_is_one_clear_error(tmp_path, monkeypatch):
    class Offline:
        def __init__(self, *a, **kw):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://...")

    monkeypatch.setattr("torchvision.datasets.MNIST", Offline)
    with pytest.raises(DataNotFoundError) as e:
        download_module.download_with_torchvision("MNIST", tmp_path)
    msg = str(e.value)
    assert "Error downloading train-images-idx3-ubyte.gz" in msg and "\n" not in msg
    assert str(tmp_path) in msg


def test_label_count_mismatch_names_the_label_file(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx_set(raw, 60, 12)
    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(11, np.uint8))
    with pytest.raises(DataError) as e:
        open_dataset("mnist", tmp_path)
    assert "t10k-labels-idx1-ubyte" in str(e.value) and "11 labels" in str(e.value) and "12 images" in str(e.value)


def test_label_out_of_range(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx_set(raw, 60, 12)
    write_idx(raw / "train-labels-idx1-ubyte", np.full(60, 12, np.uint8))
    with pytest.raises(DataError, match="label 12 is out of range 0-9"):
        open_dataset("mnist", tmp_path)


def test_corrupt_image_file_is_refused_whole(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx_set(raw, 60, 12)
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-28])
    with pytest.raises(DataError) as e:
        open_dataset("mnist", tmp_path)
    assert str(path) in str(e.value) and "60x28x28" in str(e.value)


def test_download_without_torchvision_says_so_naming_the_folder(tmp_path, monkeypatch):
    """An app built without torchvision: a clear message, not "No module named ..."."""
    from vaestudio.core.data import download

    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)
    with pytest.raises(DataNotFoundError) as err:
        download.download_with_torchvision("MNIST", tmp_path / "MNIST")
    text = str(err.value)
    assert "torchvision" in text and str(tmp_path / "MNIST") in text and "copy the files" in text

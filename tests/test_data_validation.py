"""The `validation` option of the data sets shipped as train and test files: auto, none, a count
or a fraction of the train file, refused clearly when out of bounds, kept in the spec."""
import numpy as np
import pytest

from vaestudio.core.data.base import holdout_counts, parse_validation, validation_count
from vaestudio.core.data.registry import dataset_info, open_dataset, resolve_options
from vaestudio.core.data.sample_files import write_cifar10, write_idx_set
from vaestudio.core.errors import DataError

TRAIN_FILE_DATA_SETS = ("digits", "mnist", "fashion-mnist", "kmnist", "emnist", "cifar10")


@pytest.fixture
def mnist_root(tmp_path):
    arrays = write_idx_set(tmp_path / "MNIST" / "raw", 120, 30, gz=True)
    return tmp_path, arrays


def test_every_train_file_data_set_offers_the_option_defaulting_to_auto():
    for name in TRAIN_FILE_DATA_SETS:
        assert dataset_info(name).options["validation"] == "auto"
    for name in ("faces", "celeba", "folder", "npz"):
        assert "validation" not in dataset_info(name).options


@pytest.mark.parametrize("value, counts, stored", [
    ("auto", (100, 20, 30), "auto"),
    ("0", (120, 0, 30), 0),
    (0, (120, 0, 30), 0),
    ("50", (70, 50, 30), 50),
    ("0.25", (90, 30, 30), 0.25),
    (0.1, (108, 12, 30), 0.1),
])
def test_idx_files_split_as_the_option_says(mnist_root, value, counts, stored):
    root, arrays = mnist_root
    ds = open_dataset("mnist", root, validation=value)
    assert (len(ds.train), len(ds.validation), len(ds.test)) == counts
    assert ds.spec.options == {"validation": stored}
    n_train = counts[0]
    # Train is the start of the train file, validation its end, test the test file.
    assert np.array_equal(ds.train.images[:, 0], arrays["train_images"][:n_train])
    assert np.array_equal(ds.validation.labels, arrays["train_labels"][n_train:])
    assert np.array_equal(ds.test.images[:, 0], arrays["test_images"])
    again = open_dataset(ds.spec)  # the spec reopens the same split
    assert (len(again.train), len(again.validation)) == counts[:2]


def test_no_validation_split_still_works_for_consumers(mnist_root):
    root, _ = mnist_root
    ds = open_dataset("mnist", root, validation=0)
    assert ds.validation.images.shape == (0, 1, 28, 28) and ds.validation.labels.shape == (0,)
    assert ds.image_shape == (1, 28, 28)
    assert ds.summary()["counts"] == {"train": 120, "validation": 0, "test": 30}
    assert len(ds.split("val")) == 0


@pytest.mark.parametrize("value, words", [
    ("-1", "option validation='-1' of mnist must not be negative"),
    ("-0.2", "must not be negative"),
    ("1.5", "option validation='1.5' of mnist is a fraction of 1 or more"),
    ("1.0", "a fraction must be below 1"),
    ("some", "option validation='some' of mnist must be auto, a count"),
    ("", "must be auto, a count"),
    ("nan", "must be auto, a count"),
    ("120", "option validation=120 of mnist leaves no training image: the train file holds only 120"),
    ("0.999", "leaves no training image"),
])
def test_bad_values_are_clear_errors_naming_the_option(mnist_root, value, words):
    root, _ = mnist_root
    with pytest.raises(DataError) as e:
        open_dataset("mnist", root, validation=value)
    assert words in str(e.value)


def test_static_bounds_are_checked_before_any_file_is_read(tmp_path):
    # No files at all: a malformed value is still the error, not "files not found".
    with pytest.raises(DataError, match="validation='-5' of kmnist must not be negative"):
        open_dataset("kmnist", tmp_path, validation="-5")
    with pytest.raises(DataError, match="validation=2.5 of cifar10 is a fraction"):
        resolve_options("cifar10", {"validation": 2.5})


def test_resolve_options_parses_and_keeps_the_other_options():
    assert resolve_options("emnist", {"validation": " 0.5 "}) == {"split": "balanced", "validation": 0.5}
    assert resolve_options("emnist", {"validation": "AUTO"})["validation"] == "auto"
    assert resolve_options("digits", {"validation": "3000"})["validation"] == 3000
    assert resolve_options("mnist", {}) == {"validation": "auto"}


def test_parse_and_count_helpers():
    assert parse_validation("auto") == "auto" and parse_validation(np.int64(7)) == 7
    assert parse_validation(parse_validation("0.3")) == 0.3  # idempotent
    with pytest.raises(DataError, match="option validation=True must be auto"):
        parse_validation(True)
    assert validation_count("auto", 60000) == 10000 and validation_count("auto", 600) == 100
    assert validation_count(0, 5) == 0 and validation_count(0.5, 10) == 5
    assert holdout_counts(60000, 10000, "5000") == (55000, 5000, 10000)
    assert holdout_counts(60000, 10000, 0) == (60000, 0, 10000)
    with pytest.raises(DataError, match="leaves no training image"):
        holdout_counts(10, 0, 10, "x")


def test_digits_without_validation(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path))
    ds = open_dataset("digits", n_train=600, n_test=100, validation="0")
    assert (len(ds.train), len(ds.validation), len(ds.test)) == (600, 0, 100)
    assert ds.spec.options == {"seed": 0, "n_train": 600, "n_test": 100, "validation": 0}
    auto = open_dataset("digits", n_train=600, n_test=100)
    assert np.array_equal(np.asarray(ds.train.images[:500]), np.asarray(auto.train.images))
    assert np.array_equal(np.asarray(ds.train.images[500:]), np.asarray(auto.validation.images))
    counted = open_dataset("digits", n_train=600, n_test=100, validation="0.5")
    assert (len(counted.train), len(counted.validation)) == (300, 300)


def test_digits_refuse_a_bad_split_before_drawing(tmp_path, monkeypatch):
    from vaestudio.core.data import digits

    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path))
    monkeypatch.setattr(digits, "digit_block", lambda *a: pytest.fail("drew digits for a bad option"))
    with pytest.raises(DataError, match="validation=600 of digits leaves no training image"):
        open_dataset("digits", n_train=600, n_test=100, validation=600)
    with pytest.raises(DataError, match="validation='x' of digits"):
        open_dataset("digits", n_train=600, n_test=100, validation="x")
    assert list(tmp_path.iterdir()) == []


def test_cifar10_without_validation(tmp_path):
    write_cifar10(tmp_path / "cifar-10-batches-py", per_batch=12)
    ds = open_dataset("cifar10", tmp_path, validation=0)
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [60, 0, 12]
    assert ds.spec.options == {"validation": 0}
    assert len(open_dataset("cifar10", tmp_path, validation=0.5).validation) == 30

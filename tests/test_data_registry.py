"""The registry: names, infos, options, specs that reopen the same data, shared helpers."""
import numpy as np
import pytest

from vaestudio.core.data.base import DatasetSpec, array_dataset, split_counts
from vaestudio.core.data.registry import DATASET_NAMES, list_datasets, open_dataset, resolve_options
from vaestudio.core.errors import DataError, VaeStudioError


def test_every_issue_data_set_is_listed_with_menu_fields():
    assert set(DATASET_NAMES) >= {"digits", "faces", "mnist", "fashion-mnist", "kmnist", "emnist",
                                  "cifar10", "celeba", "folder", "npz"}
    infos = {i.name: i for i in list_datasets()}
    assert list(infos) == list(DATASET_NAMES)
    assert infos["fashion-mnist"].title == "Fashion-MNIST"
    assert infos["digits"].kind == "builtin" and not infos["digits"].needs_root
    assert infos["digits"].default_root is None
    assert infos["folder"].needs_root and infos["npz"].needs_root
    assert "MNIST/raw/" in infos["mnist"].expected_files and infos["mnist"].downloadable
    for info in infos.values():
        assert info.description and info.title and info.kind in ("builtin", "file")


def test_default_root_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_DATA", str(tmp_path))
    mnist = next(i for i in list_datasets() if i.name == "mnist")
    assert mnist.default_root == str(tmp_path)
    with pytest.raises(DataError) as e:
        open_dataset("mnist")
    assert str(tmp_path / "MNIST" / "raw") in str(e.value)


def test_spec_round_trip_with_options(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path))
    ds = open_dataset("digits", n_train="600", n_test=100, seed=3)
    assert ds.spec == DatasetSpec("digits", None, {"seed": 3, "n_train": 600, "n_test": 100, "validation": "auto"})
    saved = DatasetSpec.from_dict(ds.spec.to_dict())
    again = open_dataset(saved)
    assert np.array_equal(np.asarray(again.train.images), np.asarray(ds.train.images))
    bigger = open_dataset(saved, n_test=200)  # options given alongside a spec override it
    assert len(bigger.test) == 200 and bigger.spec.options["seed"] == 3


def test_relative_root_is_stored_absolute(tmp_path, monkeypatch):
    np.savez(tmp_path / "a.npz", images=np.zeros((10, 4, 4), np.uint8))
    monkeypatch.chdir(tmp_path)
    ds = open_dataset("npz", "a.npz")
    assert ds.spec.root == str(tmp_path / "a.npz")


def test_unknown_names_and_options_are_clear():
    with pytest.raises(DataError, match="unknown data set 'imagenet'; choose one of digits"):
        open_dataset("imagenet")
    with pytest.raises(DataError, match=r"unknown option colour for digits \(options: seed, n_train, n_test, validation\)"):
        open_dataset("digits", colour=True)
    with pytest.raises(DataError, match="unknown option size for mnist"):
        resolve_options("mnist", {"size": 3})
    with pytest.raises(DataError, match="n_train of digits must be at least 10"):
        resolve_options("digits", {"n_train": 0})
    with pytest.raises(DataError, match="grey='maybe' of folder must be bool"):
        resolve_options("folder", {"grey": "maybe"})
    assert resolve_options("folder", {"grey": "no", "size": "32"}) == {"size": 32, "grey": False}


def test_folder_and_npz_need_a_root():
    for name in ("folder", "npz"):
        with pytest.raises(DataError, match=f"the {name} data set needs --data-root"):
            open_dataset(name)


def test_errors_are_vaestudio_errors():
    assert issubclass(DataError, VaeStudioError)


def test_array_dataset_still_splits_in_order():
    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1)
    ds = array_dataset(images, np.arange(20))
    assert split_counts(20) == (16, 2, 2)
    assert ds.validation.labels.tolist() == [16, 17] and ds.test.images[:, 0, 0, 0].tolist() == [18, 19]

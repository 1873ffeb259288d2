"""CIFAR-10 from its python batches, read without letting a pickle run code."""
import pickle

import numpy as np
import pytest

from vaestudio.core.data.registry import open_dataset
from vaestudio.core.data.sample_files import write_cifar10
from vaestudio.core.errors import DataError, DataNotFoundError


def test_open_batches(tmp_path):
    write_cifar10(tmp_path / "cifar-10-batches-py", per_batch=12)
    ds = open_dataset("cifar10", tmp_path)
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [50, 10, 12]
    assert ds.image_shape == (3, 32, 32) and ds.label_names[0] == "airplane"
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_5", "rb") as f:
        last = pickle.load(f, encoding="latin1")
    # Rows are R, G, B planes of 32x32: the last batch's tail is the validation split's tail.
    assert np.array_equal(ds.validation.images[-1].reshape(-1), last["data"][-1])
    assert ds.validation.labels[-1] == last["labels"][-1]
    assert open_dataset(ds.spec).test.labels.tolist() == ds.test.labels.tolist()


def test_missing_batches_say_where(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        open_dataset("cifar10", tmp_path)
    assert str(tmp_path / "cifar-10-batches-py") in str(e.value) and "data_batch_1" in str(e.value)
    assert "--download" in str(e.value)


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_a_pickle_that_runs_code_is_refused(tmp_path, capsys):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder, per_batch=4)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": Evil(), "labels": [0]}, f)
    with pytest.raises(DataError, match="not a CIFAR-10 python batch") as e:
        open_dataset("cifar10", tmp_path)
    assert "test_batch" in str(e.value) and "pwned" not in capsys.readouterr().out


def test_wrong_shapes_are_named(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder, per_batch=4)
    with open(folder / "data_batch_2", "wb") as f:
        pickle.dump({"data": np.zeros((4, 100), np.uint8), "labels": [0, 1, 2, 3]}, f, protocol=2)
    with pytest.raises(DataError, match=r"data_batch_2: 'data' must be uint8 shaped \(N, 3072\)"):
        open_dataset("cifar10", tmp_path)

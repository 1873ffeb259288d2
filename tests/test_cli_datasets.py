"""`vaestudio datasets` and the --dataset/--data-root options other verbs share."""
import argparse

import numpy as np
import pytest

from vaestudio.cli import main
from vaestudio.core.data.base import DatasetSpec
from vaestudio.core.data.sample_files import write_celeba, write_idx_set, write_image_folder
from vaestudio.verbs.data_args import add_data_args, dataset_from_args


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAESTUDIO_DATA", str(tmp_path / "data"))


def test_list(capsys, tmp_path):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("digits", "faces", "mnist", "fashion-mnist", "kmnist", "emnist", "cifar10", "celeba",
                 "folder", "npz"):
        assert f"\n{name} " in out
    assert str(tmp_path / "data") in out and "MNIST/raw/" in out and "img_align_celeba/" in out
    assert "n_test=10000, validation=auto" in out and "--data-option KEY=VALUE" in out
    words = " ".join(out.split())
    assert "a count (0: no validation split" in words and "a fraction below 1" in words


@pytest.mark.parametrize("argv", [["datasets", "--help"], ["datasets", "show", "--help"]])
def test_help(capsys, argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: vaestudio datasets")
    if "show" in argv:
        assert "--data-root PATH" in out and "fashion-mnist" in out


def test_show_mnist_from_gzipped_idx(capsys, tmp_path):
    write_idx_set(tmp_path / "m" / "MNIST" / "raw", 120, 30, gz=True)
    assert main(["datasets", "show", "mnist", "--data-root", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "train 100, validation 20, test 30" in out and "shape 1x28x28 (grey)" in out
    assert "labels (10): 0, 1, 2" in out and "attributes: none" in out


def test_show_celeba_lists_attributes(capsys, tmp_path):
    write_celeba(tmp_path / "c", 10)
    assert main(["datasets", "show", "celeba", "--data-root", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "attributes (40): 5_o_Clock_Shadow, Arched_Eyebrows" in out and "Young" in out
    assert "shape 3x64x64 (RGB)" in out


def test_show_folder_with_options_and_npz(capsys, tmp_path):
    write_image_folder(tmp_path / "f", {"x": 6, "y": 4})
    assert main(["datasets", "show", "folder", "--data-root", str(tmp_path / "f"),
                 "--data-option", "size=20", "--data-option", "grey=yes"]) == 0
    out = capsys.readouterr().out
    assert "shape 1x20x20 (grey)" in out and "labels (2): x, y" in out and "size=20, grey=True" in out
    np.savez(tmp_path / "d.npz", images=np.zeros((10, 6, 6, 3), np.uint8),
             attributes=np.ones((10, 2), np.uint8), attribute_names=np.array(["Smiling", "Male"]))
    assert main(["datasets", "show", "npz", "--data-root", str(tmp_path / "d.npz")]) == 0
    assert "attributes (2): Smiling, Male" in capsys.readouterr().out


def test_show_digits_small(capsys):
    assert main(["datasets", "show", "digits", "--data-option", "n_train=600",
                 "--data-option", "n_test=100"]) == 0
    assert "train 500, validation 100, test 100" in capsys.readouterr().out


def test_show_mnist_with_a_validation_option(capsys, tmp_path):
    write_idx_set(tmp_path / "MNIST" / "raw", 120, 30)
    for option, counts in (("validation=0", "train 120, validation 0, test 30"),
                           ("validation=40", "train 80, validation 40, test 30"),
                           ("validation=0.25", "train 90, validation 30, test 30")):
        assert main(["datasets", "show", "mnist", "--data-root", str(tmp_path), "--data-option", option]) == 0
        out = capsys.readouterr().out
        assert counts in out and f"options: {option}" in out


@pytest.mark.parametrize("argv, words", [
    (["datasets", "show", "mnist"], "MNIST files not found"),
    (["datasets", "show", "digits", "--data-option", "validation=-3"],
     "option validation='-3' of digits must not be negative"),
    (["datasets", "show", "digits", "--data-option", "n_train=600", "--data-option", "validation=1.2"],
     "is a fraction of 1 or more"),
    (["datasets", "show", "folder"], "needs --data-root"),
    (["datasets", "show", "digits", "--data-option", "sizes"], "needs KEY=VALUE"),
    (["datasets", "show", "digits", "--data-option", "size=3"], "unknown option size for digits"),
])
def test_errors_are_one_line_without_traceback(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaestudio datasets: error: ") and words in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_bad_idx_file_message_names_it(capsys, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx_set(raw, 60, 12)
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 20)
    assert main(["datasets", "show", "mnist", "--data-root", str(tmp_path)]) == 2
    assert str(raw / "t10k-images-idx3-ubyte") in capsys.readouterr().err


def parse(argv):
    p = argparse.ArgumentParser()
    add_data_args(p)
    return p.parse_args(argv)


def test_data_args_and_dataset_from_args(tmp_path):
    args = parse([])
    assert args.dataset is None and args.data_root is None and args.download is False
    write_idx_set(tmp_path / "MNIST" / "raw", 60, 12)
    ds = dataset_from_args(parse(["--dataset", "mnist", "--data-root", str(tmp_path)]))
    assert ds.name == "mnist" and len(ds.test) == 12
    with pytest.raises(SystemExit):
        parse(["--dataset", "imagenet"])


def test_dataset_from_args_falls_back_to_saved_spec_then_digits(tmp_path):
    saved = DatasetSpec("digits", None, {"seed": 2, "n_train": 600, "n_test": 100})
    ds = dataset_from_args(parse([]), default_spec=saved)
    assert ds.spec == DatasetSpec("digits", None, {**saved.options, "validation": "auto"})
    more = dataset_from_args(parse(["--data-option", "n_test=200"]), default_spec=saved)
    assert more.spec.options == {"seed": 2, "n_train": 600, "n_test": 200, "validation": "auto"}
    write_idx_set(tmp_path / "MNIST" / "raw", 60, 12)
    other = dataset_from_args(parse(["--dataset", "mnist", "--data-root", str(tmp_path)]), default_spec=saved)
    assert other.name == "mnist"
    default = dataset_from_args(parse(["--data-option", "n_train=600", "--data-option", "n_test=100"]))
    assert default.name == "digits"

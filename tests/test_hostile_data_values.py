"""Hostile and faulty data files, class 3 (data part): files that used to load as silent garbage.

An int8 IDX image file trained to a loss of -1.8 million; 16-bit PNGs saturated to white and
float TIFFs went black in image folders. Now the first is refused naming the file and its value
type, and the others come out with their values scaled to 0-255.
"""
import numpy as np
import pytest
from PIL import Image

from vaestudio.core.data.images import load_image
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.data.sample_files import write_idx, write_idx_set
from vaestudio.core.errors import DataError


@pytest.mark.parametrize("gz", [False, True])
def test_int8_idx_images_are_refused_naming_file_and_type(tmp_path, gz):
    raw = tmp_path / "MNIST" / "raw"
    write_idx_set(raw, 60, 20, gz=gz)
    path = raw / ("t10k-images-idx3-ubyte" + (".gz" if gz else ""))
    write_idx(path, np.full((20, 28, 28), -56, np.int8))  # 200 as int8
    with pytest.raises(DataError) as e:
        open_dataset("mnist", tmp_path)
    msg = str(e.value)
    assert str(path) in msg and "int8" in msg and "uint8" in msg and "\n" not in msg


def test_negative_idx_labels_are_refused(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx_set(raw, 60, 20)
    write_idx(raw / "train-labels-idx1-ubyte", np.full(60, -3, np.int8))
    with pytest.raises(DataError, match="label -3 is out of range 0-9") as e:
        open_dataset("mnist", tmp_path)
    assert "train-labels-idx1-ubyte" in str(e.value)


def _flat(path, array, **save):
    Image.fromarray(array).save(path, **save)
    return path


def test_16_bit_png_is_scaled_not_saturated(tmp_path):
    for value, expected in ((65535, 255), (32768, 128), (257, 1), (0, 0)):
        path = _flat(tmp_path / f"v{value}.png", np.full((10, 12), value, np.uint16))
        assert Image.open(path).mode.startswith("I;16")  # really a 16-bit file
        for grey in (True, False):
            out = load_image(path, 8, grey)
            assert out.shape == ((1 if grey else 3), 8, 8) and out.dtype == np.uint8
            assert np.all(out == expected), (value, grey, np.unique(out))


def test_16_bit_gradient_keeps_its_order(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (64, 1))
    out = load_image(_flat(tmp_path / "ramp.tif", ramp), 64, True)[0]
    assert np.all(np.abs(out[32].astype(int) - np.round(ramp[32] / 257)) <= 2)
    assert out[32, 0] < 5 and out[32, -1] > 250


@pytest.mark.parametrize("values, expected", [
    ((0.5, 1.0, 0.0), (128, 255, 0)),  # [0, 1] floats: scaled by 255
    ((100.0, 255.0, 0.0), (100, 255, 0)),  # already 0-255
    ((-1.0, 3.0, 1.0), (0, 255, 128)),  # any other range: stretched from min to max
])
def test_float_tiff_is_scaled_not_black(tmp_path, values, expected):
    array = np.zeros((12, 36), np.float32)
    for i, v in enumerate(values):
        array[:, 12 * i:12 * (i + 1)] = v
    path = _flat(tmp_path / "f.tif", array)
    assert Image.open(path).mode == "F"
    out = load_image(path, 36, True, crop=lambda w, h: (0, 0, 1, 1))[0]
    for i, e in enumerate(expected):
        block = out[:, 12 * i + 3:12 * (i + 1) - 3]  # inside each band, away from resize blur
        assert np.all(np.abs(block.astype(int) - e) <= 1), (values[i], np.unique(block))


def test_folder_of_wide_images_reads_right_values(tmp_path, cache):
    root = tmp_path / "pictures"
    for name, array in (("white16", np.full((16, 16), 65535, np.uint16)),
                        ("mid16", np.full((16, 16), 32768, np.uint16)),
                        ("halffloat", np.full((16, 16), 0.5, np.float32)),
                        ("plain8", np.full((16, 16), 77, np.uint8))):
        (root / name).mkdir(parents=True)
        _flat(root / name / f"a{'.tif' if array.dtype == np.float32 else '.png'}", array)
        _flat(root / name / "b.tif", array)
    ds = open_dataset("folder", root, size=8)
    want = {"white16": 255, "mid16": 128, "halffloat": 128, "plain8": 77}
    seen = set()
    for split in (ds.train, ds.validation, ds.test):
        for image, label in zip(split.images, split.labels):
            name = ds.label_names[label]
            assert np.all(np.asarray(image) == want[name]), (name, np.unique(image))
            seen.add(name)
    assert seen == set(want)

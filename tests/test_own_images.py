"""Bring your own image, in the core and the CLI: a picture file converted to the model's images
(centre crop to its aspect ratio, resize, grey <-> RGB, EXIF orientation), hostile files refused
in one line, and the key property: a test image saved as PNG at the model's size encodes to the
code `vaestudio encode` gives it."""
from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from helpers import assert_refused, one_line, run_cli, run_cli_bounded
from test_cli_latent import train_run
from vaestudio.cli import main
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.errors import DataError
from vaestudio.core.kinds import build_model, make_model_config
from vaestudio.core.latent import encode_images
from vaestudio.core.latent.own_images import encode_own_images, load_own_image, load_own_images
from vaestudio.core.run import Run


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    ds = open_dataset("digits", n_train=600, n_test=200)
    cfg = make_model_config(kind="vae", latent_dim=3, hidden=(64,))
    return train_run(tmp_path_factory.mktemp("digits"), ds, cfg, epochs=1), ds


def save_png(path, chw: np.ndarray):
    """A data set image (C, H, W) uint8 as a lossless PNG at its own size."""
    arr = chw[0] if chw.shape[0] == 1 else chw.transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(arr), "L" if chw.shape[0] == 1 else "RGB").save(path)
    return path


def png_declaring(path, width: int, height: int):
    """A tiny PNG whose header declares width x height grey pixels (its data is a few bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


# -- conversion -----------------------------------------------------------------------------

def test_a_wide_rgb_picture_is_centre_cropped_to_a_grey_square(tmp_path):
    a = np.zeros((30, 40, 3), np.uint8)
    a[:, :5] = 255  # white bands left and right fall outside the centre square
    a[:, 35:] = 255
    a[:, 5:35] = (0, 128, 255)
    path = tmp_path / "wide.png"
    Image.fromarray(a).save(path)
    own = load_own_image(path, (1, 28, 28), preview=160)
    assert own.image.shape == (1, 28, 28) and own.image.dtype == np.uint8
    assert own.crop == (5, 0, 35, 30) and own.source_size == (40, 30)
    grey = round(0.299 * 0 + 0.587 * 128 + 0.114 * 255)
    assert np.abs(own.image.astype(int) - grey).max() <= 1  # no white from the bands
    assert own.preview.shape == (30, 40, 3)  # the whole picture, for showing the crop
    assert "the centre 30x30 of 40x30" in own.describe_crop()

    wide = load_own_image(path, (3, 8, 16))  # a 2:1 model: the crop keeps the full width
    assert wide.image.shape == (3, 8, 16) and wide.crop == (0, 5, 40, 25)
    assert (wide.image[:, :, 0] > 250).all() and (np.abs(wide.image[:, 4, 8].astype(int) - [0, 128, 255]) <= 2).all()


def test_grey_becomes_rgb_and_a_tall_picture_crops_its_middle(tmp_path):
    a = np.full((50, 20), 10, np.uint8)
    a[15:35] = 200  # the centre 20x20 is bright, the ends dark
    path = tmp_path / "tall.png"
    Image.fromarray(a, "L").save(path)
    own = load_own_image(path, (3, 12, 12))
    assert own.crop == (0, 15, 20, 35)
    assert own.image.shape == (3, 12, 12)
    assert (own.image == own.image[0]).all() and np.abs(own.image.astype(int) - 200).max() <= 1


def test_a_photo_is_turned_upright_before_cropping(tmp_path):
    a = np.zeros((20, 40), np.uint8)
    a[:, :20] = 255  # in the file: left half white
    img = Image.fromarray(a, "L")
    exif = img.getexif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: the left half is on top
    path = tmp_path / "phone.jpg"
    img.save(path, quality=100, exif=exif)
    own = load_own_image(path, (1, 8, 8))
    assert own.source_size == (20, 40) and own.crop == (0, 10, 20, 30)
    assert own.image[0, :3].min() > 200 and own.image[0, 5:].max() < 50


def test_the_round_trip_is_exact_for_grey_and_rgb_images(tmp_path, rng):
    for shape in ((1, 28, 28), (3, 16, 16)):
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        own = load_own_image(save_png(tmp_path / f"x{shape[0]}.png", img), shape)
        assert own.crop == (0, 0, shape[2], shape[1])
        np.testing.assert_array_equal(own.image, img)
    model = build_model(make_model_config(kind="vae", arch="conv", image_shape=(3, 16, 16), latent_dim=4,
                                          conv_width=4)).eval()
    codes, logvar = encode_own_images(model, [own])
    expected, expected_lv = encode_images(model, img[None], with_logvar=True)
    np.testing.assert_allclose(codes, expected, atol=1e-6)
    np.testing.assert_allclose(logvar, expected_lv, atol=1e-6)


# -- hostile files --------------------------------------------------------------------------

def test_hostile_and_missing_files_are_one_line_errors_naming_them(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture at all\n")
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(good)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:60])
    cases = [(text, "not an image file"), (cut, "does not decode"), (tmp_path / "gone.png", "file not found"),
             (tmp_path, "not a file"), (png_declaring(tmp_path / "bomb.png", 60000, 60000), "more pixels than"),
             (png_declaring(tmp_path / "big.png", 9000, 8000), "9,000x8,000 pixels")]
    for path, problem in cases:
        with pytest.raises(DataError) as err:
            load_own_image(path, (1, 28, 28))
        message = str(err.value)
        assert str(path) in message and problem in message and "\n" not in message, message
    with pytest.raises(DataError, match="at most 256"):
        load_own_images([good] * 257, (1, 28, 28))


def test_a_huge_declared_picture_is_refused_without_a_huge_allocation(digits_run, tmp_path):
    huge = png_declaring(tmp_path / "huge.png", 9000, 8000)
    assert_refused(run_cli_bounded(["encode", digits_run[0], "--image", str(huge)], tmp_path), "huge.png", "9,000x8,000")


# -- the CLI --------------------------------------------------------------------------------

def test_a_saved_test_image_encodes_to_its_split_code(digits_run, tmp_path, capsys):
    """The key property, end to end: `encode --image` of test images saved as PNG equals `encode --out`."""
    run, ds = digits_run
    out = tmp_path / "codes.npz"
    assert main(["encode", run, "--split", "test", "--out", str(out)]) == 0
    rows = [0, 7, 123]
    files = [save_png(tmp_path / f"test{i}.png", ds.test.images[i]) for i in rows]
    capsys.readouterr()
    assert main(["encode", run, *[a for f in files for a in ("--image", str(f))], "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["code"] == "mu(x)" and got["latent_dim"] == 3 and got["kind"] == "vae"
    with np.load(out) as z:
        for i, item in zip(rows, got["images"]):
            assert set(item) == {"file", "crop", "source_size", "image_shape", "code", "logvar"}
            assert item["file"] == str(tmp_path / f"test{i}.png")
            assert item["crop"] == [0, 0, 28, 28] and item["image_shape"] == [1, 28, 28]
            np.testing.assert_allclose(item["code"], z["codes"][i], atol=1e-5)
            np.testing.assert_allclose(item["logvar"], z["logvar"][i], atol=1e-5)


def test_encode_image_prints_the_crop_and_the_codes_as_text(digits_run, tmp_path, capsys):
    run, ds = digits_run
    wide = np.zeros((30, 40), np.uint8)
    wide[:, 5:35] = ds.test.images[3, 0, 0:30, 0:30].max()
    Image.fromarray(wide, "L").save(tmp_path / "wide.png")
    assert main(["encode", run, "--image", str(tmp_path / "wide.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{tmp_path / 'wide.png'}: the centre 30x30 of 40x30 (from 5,0) -> 28x28 grey"
    assert lines[1].startswith("  mu(x)  = [") and lines[1].count(",") == 2
    assert lines[2].startswith("  logvar = [") and len(lines) == 3
    code = Run.load(run).model
    own = load_own_image(tmp_path / "wide.png", (1, 28, 28))
    expected = encode_own_images(code, [own])[0][0]
    shown = [float(v) for v in lines[1].split("[")[1].rstrip("]").split(",")]
    np.testing.assert_allclose(shown, expected, atol=1e-5)


@pytest.mark.parametrize("argv, message", [
    (["encode", "RUN", "--image", "PIC", "--out", "x.npz"], "give one of them"),
    (["encode", "RUN"], "give --out FILE"),
    (["encode", "RUN", "--json", "--out", "x.npz"], "--json prints the codes of --image files"),
    (["encode", "RUN", "--image", "notes.txt"], "notes.txt: not an image file"),
    (["attribute", "RUN", "--attribute", "7", "--image", "0", "--image-file", "PIC", "--out", "x.png"],
     "not allowed with argument"),
    (["attribute", "RUN", "--attribute", "7", "--out", "x.png"], "one of the arguments --image --image-file"),
    (["interpolate", "RUN", "--from", "0", "--from-file", "PIC", "--to", "1", "--out", "x.png"],
     "not allowed with argument"),
    (["interpolate", "RUN", "--from-file", "PIC", "--out", "x.png"], "one of the arguments --to --to-file"),
    (["interpolate", "RUN", "--from-file", "missing.png", "--to", "1", "--out", "x.png"], "missing.png: file not found"),
])
def test_bad_image_requests_print_one_line(digits_run, tmp_path, capsys, argv, message):
    pic = save_png(tmp_path / "pic.png", digits_run[1].test.images[0])
    (tmp_path / "notes.txt").write_text("hello")
    names = {"RUN": digits_run[0], "PIC": str(pic)}
    argv = [names.get(a, str(tmp_path / a) if a.startswith(("x.", "notes", "missing")) else a) for a in argv]
    one_line(*run_cli(argv, capsys), message)


def test_attribute_from_a_picture_file_matches_the_same_test_image(digits_run, tmp_path, capsys):
    run, ds = digits_run
    pic = save_png(tmp_path / "three.png", ds.test.images[3])
    by_index, by_file = tmp_path / "index.png", tmp_path / "file.png"
    common = ["attribute", run, "--attribute", "7", "--steps", "3", "--scale", "1"]
    assert main([*common, "--image", "3", "--out", str(by_index)]) == 0
    assert main([*common, "--image-file", str(pic), "--out", str(by_file)]) == 0
    a = np.asarray(Image.open(by_index).convert("L")).astype(int)
    b = np.asarray(Image.open(by_file).convert("L")).astype(int)
    assert a.shape == b.shape and np.abs(a - b).max() <= 1  # the same frames and captions
    assert "three.png + a * delta" in capsys.readouterr().out


def test_interpolate_between_picture_files_and_indices(digits_run, tmp_path, capsys):
    run, ds = digits_run
    a_png = save_png(tmp_path / "a.png", ds.test.images[2])
    b_png = save_png(tmp_path / "b.png", ds.test.images[5])
    outs = {k: tmp_path / f"{k}.png" for k in ("index", "files", "mixed")}
    common = ["interpolate", run, "--steps", "4", "--scale", "1"]
    assert main([*common, "--from", "2", "--to", "5", "--out", str(outs["index"])]) == 0
    # two files: no data set is opened (a data root that does not exist is never read)
    assert main([*common, "--from-file", str(a_png), "--to-file", str(b_png), "--data-root", str(tmp_path / "none"),
                 "--out", str(outs["files"])]) == 0
    assert main([*common, "--from-file", str(a_png), "--to", "5", "--out", str(outs["mixed"])]) == 0
    strips = {k: np.asarray(Image.open(p).convert("L")).astype(int) for k, p in outs.items()}
    assert np.abs(strips["files"] - strips["index"]).max() <= 1
    assert np.abs(strips["mixed"] - strips["index"]).max() <= 1
    text = capsys.readouterr().out
    assert "linear path test[2] -> [5]" in text and "linear path a.png -> b.png" in text
    assert "linear path a.png -> test[5]" in text

"""The latent verbs end to end on small trained runs: digits (labels) and faces (attributes)."""
import numpy as np
import pytest
from PIL import Image

from test_animation import gif_timing
from vaestudio.cli import main
from vaestudio.core.config import TrainConfig
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.kinds import make_model_config
from vaestudio.core.latent import decode_batch, encode_split, latent_lattice, make_projection
from vaestudio.core.render import to_uint8_hwc
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer


def train_run(folder, dataset, cfg, epochs: int):
    run = Run.new(cfg, TrainConfig(epochs=epochs, batch_size=50, lr=2e-3, seed=0, device="cpu"))
    assert Trainer(run, dataset).train().status == "finished"
    run.save(folder)
    return str(folder)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    ds = open_dataset("digits", n_train=600, n_test=200)
    cfg = make_model_config(kind="vae", latent_dim=3, hidden=(64,))
    return train_run(tmp_path_factory.mktemp("digits"), ds, cfg, epochs=2), ds


@pytest.fixture(scope="module")
def faces_run(tmp_path_factory):
    ds = open_dataset("faces", n=400)
    cfg = make_model_config(kind="vae", arch="conv", image_shape=(3, 64, 64), latent_dim=8, conv_width=4,
                            likelihood="gaussian")
    return train_run(tmp_path_factory.mktemp("faces"), ds, cfg, epochs=1), ds


def test_encode_writes_the_split_codes_with_labels(digits_run, tmp_path, capsys):
    run, ds = digits_run
    out = tmp_path / "codes.npz"
    assert main(["encode", run, "--split", "test", "--out", str(out)]) == 0
    assert "encoded 200 digits test images to 3-D mu(x)" in capsys.readouterr().out
    with np.load(out) as z:
        expected = encode_split(Run.load(run).model, ds, "test")
        np.testing.assert_allclose(z["codes"], expected.codes, atol=1e-5)
        np.testing.assert_array_equal(z["labels"], ds.test.labels)
        assert z["logvar"].shape == (200, 3) and list(z["label_names"]) == ds.label_names


def test_scatter_draws_a_png_for_a_pair_and_for_pca(digits_run, tmp_path, capsys):
    run, _ = digits_run
    for extra in ([], ["--pca", "--square"]):
        out = tmp_path / f"s{len(extra)}.png"
        assert main(["scatter", run, "--size", "400", "--out", str(out), *extra]) == 0
        img = np.asarray(Image.open(out).convert("RGB")).astype(int)
        assert img.shape == (400, 400, 3)
        assert (np.abs(img - [31, 119, 180]).sum(-1) < 40).sum() > 20  # label 0's points are there
    assert "100 validation codes, circle radius" in capsys.readouterr().out


def test_lattice_grid_holds_the_decoded_sites(digits_run, tmp_path):
    run, ds = digits_run
    out = tmp_path / "lattice.png"
    assert main(["lattice", run, "--n", "5", "--dims", "0", "2", "--coverage", "0.9", "--out", str(out)]) == 0
    grid = np.asarray(Image.open(out).convert("L"))
    assert grid.shape == (5 * 28 + 6, 5 * 28 + 6)
    model = Run.load(run).model
    codes = encode_split(model, ds, "validation").codes
    lat = latent_lattice(codes, 5, make_projection(codes, dims=(0, 2)), coverage=0.9)
    expected = to_uint8_hwc(decode_batch(model, lat.latents))[..., 0]
    for k in (0, 7, 24):
        r, c = divmod(k, 5)
        cell = grid[1 + r * 29: 29 + r * 29, 1 + c * 29: 29 + c * 29].astype(int)
        assert np.abs(cell - expected[k]).max() <= 1


def test_attribute_from_a_label_to_a_strip_and_a_looping_gif(digits_run, tmp_path, capsys):
    run, _ = digits_run
    strip = tmp_path / "strip.png"
    assert main(["attribute", run, "--attribute", "7", "--image", "3", "--steps", "4",
                 "--max-alpha", "2", "--scale", "2", "--out", str(strip)]) == 0
    w, h = Image.open(strip).size
    assert w == 4 * 56 + 5 * 2 and h > 56 + 2 * 2  # four cells with captions
    gif = tmp_path / "sweep.gif"
    assert main(["attribute", run, "--attribute", "7", "--image", "3", "--steps", "5",
                 "--fps", "10", "--out", str(gif)]) == 0
    assert gif_timing(gif) == (5, [100] * 5, 0)
    out = capsys.readouterr().out
    assert "7: " in out and "with /" in out and "5 frames" in out


def test_attributes_combined_and_balanced_on_faces_to_mp4(faces_run, tmp_path, capsys):
    imageio = pytest.importorskip("imageio.v2")
    run, _ = faces_run
    out = tmp_path / "sweep.mp4"
    assert main(["attribute", run, "--attribute", "Blond_Hair", "--attribute", "Eyeglasses",
                 "--weight", "1", "--weight", "0.5", "--balance", "--image", "0", "--steps", "6",
                 "--out", str(out)]) == 0
    reader = imageio.get_reader(out)
    try:
        assert reader.count_frames() == 6
    finally:
        reader.close()
    text = capsys.readouterr().out
    assert "Blond_Hair:" in text and "balanced on Eyeglasses" in text


def test_interpolate_to_gif_png_and_mp4(digits_run, tmp_path, capsys):
    imageio = pytest.importorskip("imageio.v2")
    run, ds = digits_run
    gif = tmp_path / "path.gif"
    assert main(["interpolate", run, "--from", "0", "--to", "1", "--steps", "6", "--slerp",
                 "--no-loop", "--out", str(gif)]) == 0
    n, durations, loop = gif_timing(gif)
    assert n == 6 and durations == [130] * 6 and loop is None  # 8 fps: 125 ms stored as 130
    png = tmp_path / "path.png"
    assert main(["interpolate", run, "--from", "0", "--to", "1", "--steps", "6", "--scale", "1",
                 "--out", str(png)]) == 0
    assert Image.open(png).size[0] == 6 * 28 + 7 * 2
    mp4 = tmp_path / "path.mp4"
    assert main(["interpolate", run, "--from", "2", "--to", "5", "--steps", "7", "--out", str(mp4)]) == 0
    reader = imageio.get_reader(mp4)
    try:
        assert reader.count_frames() == 7
    finally:
        reader.close()
    assert "slerp path test[0] -> [1]" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["interpolate", "RUN", "--from", "0", "--to", "9999", "--out", "x.gif"], "--to 9999 is out of range"),
    (["attribute", "RUN", "--attribute", "Blond_Hair", "--image", "0", "--out", "x.png"],
     "no attribute or label called 'Blond_Hair'"),
    (["attribute", "RUN", "--attribute", "7", "--weight", "1", "--weight", "2", "--image", "0",
      "--out", "x.png"], "one --weight per --attribute"),
    (["interpolate", "RUN", "--from", "0", "--to", "1", "--out", "x.avi"], "cannot write .avi"),
    (["lattice", "RUN", "--dims", "0", "3", "--out", "x.png"], "two different latent coordinates"),
    (["lattice", "RUN", "--data-option", "validation=0", "--out", "x.png"],
     "the validation split of digits is empty (it was opened with validation=0); choose another with --split"),
    (["scatter", "RUN", "--data-option", "validation=0", "--out", "x.png"],
     "choose another with --split"),
    (["attribute", "RUN", "--data-option", "validation=0", "--attribute", "7", "--image", "0", "--out", "x.png"],
     "the validation split of digits is empty (it was opened with validation=0); choose another with "
     "--vector-split"),
    (["encode", "RUN", "--data-option", "validation=0", "--split", "validation", "--out", "x.npz"],
     "the validation split of digits is empty"),
])
def test_bad_requests_print_one_line_and_exit_2(digits_run, tmp_path, capsys, argv, message):
    argv = [digits_run[0] if a == "RUN" else (str(tmp_path / a) if a.startswith("x.") else a) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_lattice_on_another_split_when_there_is_no_validation(digits_run, tmp_path, capsys):
    out = tmp_path / "l.png"
    assert main(["lattice", digits_run[0], "--data-option", "validation=0", "--split", "train", "--n", "3",
                 "--out", str(out)]) == 0
    assert "of 600 train codes" in capsys.readouterr().out and out.exists()

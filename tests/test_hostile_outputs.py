"""Classes 3 (verb part) and 6 of the hostile-input review: absurd output sizes are refused in one
line before anything is allocated, and no verb writes garbage with exit 0.

Roots: bounded option types (`verbs/numbers.py`), a pixel cap checked by `render` before any
picture is enlarged or allocated, pictures written in the format their name says, weights
checked finite when a run is loaded for a verb, empty splits refused.
"""
import pytest
import torch
from PIL import Image

from helpers import assert_refused, one_line, run_cli, run_cli_bounded, train_tiny_run
from vaestudio.cli import main
from vaestudio.core import checkpoint
from vaestudio.core.render import MAX_PICTURE_PIXELS, image_grid


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return train_tiny_run(tmp_path_factory)


@pytest.fixture(scope="module")
def data_root(tiny_run):
    """The MNIST-format folder the tiny run was trained on."""
    import json
    return json.loads((tiny_run / "metrics.json").read_text())["dataset"]["root"]


@pytest.mark.parametrize("argv,option", [
    (["interpolate", "{run}", "--from", "0", "--to", "1", "--steps", "100000", "--out", "{tmp}/a.gif"], "--steps"),
    (["attribute", "{run}", "--attribute", "1", "--image", "0", "--steps", "100000", "--out", "{tmp}/a.gif"],
     "--steps"),
    (["sample", "{run}", "--n", "10000000", "--out", "{tmp}/s.png"], "--n"),
    (["lattice", "{run}", "--n", "3000", "--out", "{tmp}/l.png"], "--n"),
    (["scatter", "{run}", "--size", "100000", "--out", "{tmp}/s.png"], "--size"),
    (["sample", "{run}", "--scale", "1000", "--out", "{tmp}/s.png"], "--scale"),
], ids=["interpolate-steps", "attribute-steps", "sample-n", "lattice-n", "scatter-size", "sample-scale"])
def test_absurd_output_sizes_are_refused_naming_the_option(argv, option, tiny_run, tmp_path, capsys):
    argv = [a.format(run=tiny_run, tmp=tmp_path) for a in argv]
    one_line(*run_cli(argv, capsys), option)
    assert list(tmp_path.iterdir()) == []


def test_a_picture_over_the_pixel_cap_is_refused_before_it_is_allocated(tiny_run, tmp_path):
    """Each option in range, together too big: 10,000 samples at 16x are ~2 gigapixels. Measured
    in a child process: refused in one line, far below the memory the picture would need."""
    r = run_cli_bounded(["sample", tiny_run, "--n", "10000", "--scale", "16", "--out", tmp_path / "s.png"], tmp_path)
    line = assert_refused(r, "pixels")
    assert f"{MAX_PICTURE_PIXELS:,}" in line and not (tmp_path / "s.png").exists()


def test_the_pixel_cap_guards_every_grid_in_core():
    images = torch.zeros(400, 1, 28, 28).numpy()
    from vaestudio.core.errors import ConfigError
    with pytest.raises(ConfigError, match="pixels"):
        image_grid(images, scale=40)
    assert image_grid(images[:4], scale=2).size == (2 * 56 + 3 * 2, 2 * 56 + 3 * 2)


def test_pictures_are_written_in_the_format_their_name_says(tiny_run, tmp_path, capsys):
    for name, fmt in (("s.jpg", "JPEG"), ("s.jpeg", "JPEG"), ("s.png", "PNG"), ("s.webp", "WEBP")):
        assert main(["sample", str(tiny_run), "--n", "4", "--out", str(tmp_path / name)]) == 0
        assert Image.open(tmp_path / name).format == fmt
    capsys.readouterr()
    one_line(*run_cli(["sample", str(tiny_run), "--out", str(tmp_path / "s.xyz")], capsys), "s.xyz", ".png")
    one_line(*run_cli(["lattice", str(tiny_run), "--out", str(tmp_path / "l")], capsys), "without a suffix")
    assert not (tmp_path / "s.xyz").exists() and not (tmp_path / "l").exists()


def test_a_run_with_non_finite_weights_is_refused_not_decoded_to_black(tiny_run, tmp_path, capsys):
    from vaestudio.core.run import Run

    run = Run.load(tiny_run)
    with torch.no_grad():
        next(run.model.parameters()).fill_(float("nan"))
    bad = checkpoint.write_run(tmp_path / "nan.pt", run)
    for argv in (["sample", str(bad), "--out", str(tmp_path / "s.png")],
                 ["lattice", str(bad), "--out", str(tmp_path / "l.png")],
                 ["evaluate", str(bad)]):
        one_line(*run_cli(argv, capsys), "nan.pt", "NaN")
    assert not (tmp_path / "s.png").exists() and not (tmp_path / "l.png").exists()


def test_an_empty_split_is_refused_not_reported_as_zero(data_root, tiny_run, tmp_path, capsys):
    argv = ["--dataset", "mnist", "--data-root", str(data_root), "--data-option", "validation=0",
            "--split", "validation"]
    one_line(*run_cli(["evaluate", str(tiny_run), *argv], capsys), "empty")
    one_line(*run_cli(["encode", str(tiny_run), *argv, "--out", str(tmp_path / "e.npz")], capsys), "empty")
    assert not (tmp_path / "e.npz").exists()

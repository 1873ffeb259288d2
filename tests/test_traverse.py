"""Per-dimension traversals: the codes (core) and `vaestudio traverse` end to end on a tiny run."""
import numpy as np
import pytest
from PIL import Image

from helpers import one_line, run_cli, train_tiny_run
from vaestudio.cli import main
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.latent import Encodings, decode_batch, encode_split
from vaestudio.core.latent.traversal import (default_dims, dimension_scores, kl_per_dim, traversal_latents,
                                             traversal_picture)
from vaestudio.core.render import auto_scale, image_grid, to_uint8_hwc
from vaestudio.core.run import Run

PAD = 2  # traversal_picture's default padding


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A one-epoch 2-D VAE (the default latent size) on 300 + 60 28x28 MNIST-format images."""
    return train_tiny_run(tmp_path_factory)


# -- core ------------------------------------------------------------------------------------------

def test_each_row_moves_only_its_dimension_linearly_around_the_base():
    base = np.array([0.5, -1.0, 2.0, 0.0], dtype=np.float32)
    dims, steps, span = [2, 0, 3], 5, 1.5
    z = traversal_latents(base, dims, steps, span)
    assert z.shape == (len(dims) * steps, 4) and z.dtype == np.float32
    rows = z.reshape(len(dims), steps, 4)
    for r, d in enumerate(dims):
        others = [k for k in range(4) if k != d]
        np.testing.assert_array_equal(rows[r][:, others], np.broadcast_to(base[others], (steps, 3)))
        np.testing.assert_allclose(rows[r][:, d], base[d] + np.linspace(-span, span, steps), atol=1e-6)
        np.testing.assert_array_equal(rows[r][steps // 2], base)  # odd steps: the middle is the base
    even = traversal_latents(base, [1], 4, 3.0)[:, 1]
    np.testing.assert_allclose(even, [-4, -2, 0, 2], atol=1e-6)  # base -1 +- 3, evenly


def test_bad_dimensions_and_steps_are_refused():
    with pytest.raises(ValueError, match="dimension 4"):
        traversal_latents(np.zeros(4), [1, 4], 5, 1.0)
    with pytest.raises(ValueError, match="2 steps"):
        traversal_latents(np.zeros(4), [1], 1, 1.0)


def test_kl_per_dimension_matches_the_gaussian_formula():
    mu = np.array([[0.0, 1.0], [0.0, 3.0]])
    logvar = np.array([[0.0, np.log(2.0)], [0.0, 0.0]])
    kl = kl_per_dim(mu, logvar)
    np.testing.assert_allclose(kl, [0.0, (0.5 * (1 + 2 - 1 - np.log(2)) + 0.5 * 9) / 2])


def test_default_dims_all_when_few_else_the_top_ten_by_kl_or_variance():
    rng = np.random.default_rng(0)
    assert default_dims(Encodings(codes=rng.standard_normal((50, 7)).astype(np.float32))) == list(range(7))
    # 16 dims, each spread (1 + order[d]) times the unit: the variance ranks them by `order`
    order = rng.permutation(16)
    unit = rng.standard_normal((400, 16))
    unit = (unit - unit.mean(0)) / unit.std(0)
    codes = (unit * (1 + order)).astype(np.float32)
    by_spread = [int(d) for d in np.argsort(-order)]
    plain = Encodings(codes=codes)
    assert dimension_scores(plain)[0] is None
    assert default_dims(plain) == by_spread[:10]
    # with a posterior the KL ranks them: the narrowest dim, given a confident posterior, comes first
    logvar = np.zeros_like(codes)
    logvar[:, by_spread[-1]] = -8.0  # KL about 3.5 nats, far above the others' 0.5 * mu^2
    vae = Encodings(codes=codes * 0.01, logvar=logvar)
    kl = dimension_scores(vae)[0]
    assert kl is not None and kl.argmax() == by_spread[-1]
    assert default_dims(vae) == [by_spread[-1]] + by_spread[:9]


def test_picture_has_one_row_per_dimension_and_labels_left_of_the_grid():
    images = np.random.default_rng(0).random((3 * 5, 1, 10, 10)).astype(np.float32)
    pic = traversal_picture(images, [4, 0, 7], 5, kl=np.arange(8) / 10, scale=2)
    grid = image_grid(images, ncols=5, scale=2, padding=PAD)
    assert pic.height == 3 * 20 + 4 * PAD == grid.height
    gutter = pic.width - grid.width
    assert gutter > 10
    np.testing.assert_array_equal(np.asarray(pic)[:, gutter:], np.asarray(grid))  # the grid, untouched
    assert (np.asarray(pic)[:, :gutter] < 128).any()  # ink: the labels


# -- CLI -------------------------------------------------------------------------------------------

def _tile(picture, steps: int, row: int, col: int, side: int) -> np.ndarray:
    """Tile (row, col) of a traversal picture (the grid is flush right)."""
    gutter = picture.shape[1] - (steps * side + (steps + 1) * PAD)
    y, x = PAD + row * (side + PAD), gutter + PAD + col * (side + PAD)
    return picture[y:y + side, x:x + side]


def test_cli_default_dims_of_a_2d_model_are_0_and_1_around_an_image(tiny_run, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["traverse", str(tiny_run), "--image", "3", "--steps", "7", "--range", "2", "--scale", "1",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"traversed 2 dimensions x 7 steps around test image 3 -> {out}"
    pic = np.asarray(Image.open(out).convert("RGB"))
    assert pic.shape[0] == 2 * 28 + 3 * PAD  # exactly two rows: z0 and z1
    assert pic.shape[1] > 7 * 28 + 8 * PAD  # and the label gutter
    # a tile is the decode of the expected code: row 1 (z1), column 0 (base - 2)
    run = Run.load(tiny_run)
    ds = open_dataset(run.dataset_spec)
    base = encode_split(run.model, ds, "test").codes[3]
    want_z = base.copy()
    want_z[1] -= 2.0
    want = to_uint8_hwc(decode_batch(run.model, want_z[None]))[0]
    got = _tile(pic, 7, 1, 0, 28)
    assert np.abs(got[..., 0].astype(int) - want[..., 0].astype(int)).max() <= 1
    # the middle column is the base's own decode, in both rows
    mid = to_uint8_hwc(decode_batch(run.model, base[None]))[0][..., 0].astype(int)
    for r in (0, 1):
        assert np.abs(_tile(pic, 7, r, 3, 28)[..., 0].astype(int) - mid).max() <= 1


def test_cli_chosen_dims_around_the_mean_and_automatic_scale(tiny_run, tmp_path, capsys):
    out = tmp_path / "g.png"
    assert main(["traverse", str(tiny_run), "--mean", "--dims", "1", "1", "0", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == \
        f"traversed 3 dimensions x 9 steps around the mean of 60 test codes -> {out}"
    side = 28 * auto_scale((1, 28, 28), 56)
    assert Image.open(out).height == 3 * side + 4 * PAD


def test_cli_errors_are_one_line(tiny_run, tmp_path, capsys):
    out = str(tmp_path / "x.png")
    line = one_line(*run_cli(["traverse", str(tiny_run), "--dims", "0", "5", "--out", out], capsys), "--dims", "5")
    assert "2 dimensions" in line
    one_line(*run_cli(["traverse", str(tiny_run), "--steps", "1", "--out", out], capsys), "--steps")
    one_line(*run_cli(["traverse", str(tiny_run), "--steps", "32", "--out", out], capsys), "--steps")
    one_line(*run_cli(["traverse", str(tiny_run), "--range", "0", "--out", out], capsys), "--range")
    one_line(*run_cli(["traverse", str(tiny_run), "--range", "21", "--out", out], capsys), "--range")
    one_line(*run_cli(["traverse", str(tiny_run), "--dims", *["0"] * 65, "--out", out], capsys), "--dims", "64")
    one_line(*run_cli(["traverse", str(tiny_run), "--image", "60", "--out", out], capsys), "--image", "60")
    one_line(*run_cli(["traverse", str(tiny_run), "--image", "1", "--mean", "--out", out], capsys), "--mean")
    one_line(*run_cli(["traverse", str(tiny_run), "--out", str(tmp_path / "x.gif")], capsys), ".gif")
    assert not (tmp_path / "x.png").exists()

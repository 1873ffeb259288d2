"""Comparing runs: core.compare's columns, metrics and figure, and `vaestudio compare`, on a tiny
2-D autoencoder next to a tiny 2-D VAE trained here on a small digits set."""
import json

import numpy as np
import pytest
from PIL import Image

from helpers import one_line, run_cli
from vaestudio.cli import main
from vaestudio.core.compare import METRIC_KEYS, compare_runs, metrics_row, render_comparison, shared_circle
from vaestudio.core.config import TrainConfig
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.errors import Cancelled, ConfigError
from vaestudio.core.kinds import make_model_config
from vaestudio.core.latent import Circle, decode_batch, encode_images
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer

TINY = dict(n_train=600, n_test=200)


def _train(folder, kind: str, dataset, latent_dim: int = 2, epochs: int = 2) -> str:
    cfg = make_model_config(kind=kind, latent_dim=latent_dim, hidden=(32,))
    run = Run.new(cfg, TrainConfig(epochs=epochs, batch_size=50, lr=2e-3, seed=0, device="cpu"))
    assert Trainer(run, dataset).train().status == "finished"
    run.save(folder)
    return str(folder)


@pytest.fixture(scope="module")
def digits():
    return open_dataset("digits", **TINY)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, digits):
    """(ae folder, vae folder), both 2-D, two epochs on 500 digits."""
    base = tmp_path_factory.mktemp("runs")
    return _train(base / "ae", "ae", digits), _train(base / "vae", "vae", digits)


@pytest.fixture(scope="module")
def columns(pair, digits):
    return compare_runs([Run.load(p) for p in pair], digits, images=(3, 0, 5), n=4, prior_n=6, quality=False)


def test_columns_show_the_same_test_images_and_what_each_kind_has(columns, digits):
    ae, vae = columns
    assert [c.name for c in columns] == ["ae", "vae"]
    expected = digits.test.images[[3, 0, 5]].astype(np.float32) / 255
    for c in columns:
        np.testing.assert_allclose(c.originals, expected)
        assert c.recons.shape == (3, 1, 28, 28) and c.lattice_images.shape == (16, 1, 28, 28)
        assert c.points.shape == (200, 2) and len(c.encodings) == 200
        assert c.encodings.split == "test"
        assert 0.0 <= c.recons.min() and c.recons.max() <= 1.0
        # own sites: the lattice sits in the run's own 99% circle, which holds 99% of its codes
        assert c.lattice.circle is c.circle
        assert c.circle.contains(c.points).mean() == pytest.approx(0.99, abs=0.006)
        assert c.sweep_images is None and c.sweep_attribute is None  # digits have no attributes
    assert ae.prior_images is None  # an autoencoder has no prior
    assert vae.prior_images.shape == (6, 1, 28, 28)
    # the reconstructions are each model's own, not the originals again
    assert not np.allclose(ae.recons, vae.recons)
    for c in columns:  # decodes of the encodings of those very images
        codes, _ = encode_images(c.run.model, digits.test.images[[3, 0, 5]])
        np.testing.assert_allclose(c.recons, decode_batch(c.run.model, codes), atol=1e-5)


def test_shared_sites_are_one_set_of_points_and_own_sites_differ(pair, digits, columns):
    own = [c.lattice.points for c in columns]
    assert not np.allclose(own[0], own[1])
    shared = compare_runs([Run.load(p) for p in pair], digits, sites="shared", images=(0,), n=4, quality=False)
    np.testing.assert_array_equal(shared[0].lattice.points, shared[1].lattice.points)
    circle = shared[0].lattice.circle
    for c_shared, c_own in zip(shared, columns):
        # 2-D runs: the same view coordinates are the same codes
        np.testing.assert_allclose(c_shared.lattice.latents, c_shared.lattice.points, atol=1e-5)
        # the shared circle holds each run's own circle, and each column keeps its own circle
        own_c = c_own.circle
        assert np.linalg.norm(own_c.centre - circle.centre) + own_c.radius <= circle.radius * (1 + 1e-9)
        np.testing.assert_allclose(c_shared.circle.centre, own_c.centre)
    assert not np.allclose(shared[0].lattice_images, shared[1].lattice_images)


def test_shared_circle_holds_every_circle():
    a = Circle(centre=np.array([0.0, 0.0]), radius=1.0, coverage=0.99)
    b = Circle(centre=np.array([4.0, 0.0]), radius=2.0, coverage=0.99)
    s = shared_circle([a, b])
    np.testing.assert_allclose(s.centre, [2.5, 0.0])  # the middle of the box x in [-1, 6]
    assert s.radius == pytest.approx(3.5)
    assert shared_circle([a, a]).radius == pytest.approx(1.0)


def test_a_wider_latent_space_is_viewed_in_its_pca_plane(pair, digits, tmp_path):
    wide = _train(tmp_path / "vae5", "vae", digits, latent_dim=5, epochs=1)
    runs = [Run.load(pair[0]), Run.load(wide)]
    cols = compare_runs(runs, digits, sites="shared", images=(0, 1), n=3, quality=False)
    assert cols[1].lattice.projection.kind == "pca" and cols[0].lattice.projection.kind == "dims"
    np.testing.assert_array_equal(cols[0].lattice.points, cols[1].lattice.points)
    assert cols[1].lattice.latents.shape == (9, 5)
    np.testing.assert_allclose(cols[1].lattice.projection.to_view(cols[1].lattice.latents),
                               cols[1].lattice.points, atol=1e-4)
    assert cols[1].prior_images.shape[0] == 8


def test_metrics_row_keys_and_none_for_what_an_autoencoder_lacks(pair, digits, cache):
    ae = metrics_row(Run.load(pair[0]), digits, quality_samples=100, iw_samples=5)
    vae = metrics_row(Run.load(pair[1]), digits, quality_samples=100, iw_samples=5)
    for row in (ae, vae):
        assert tuple(row) == METRIC_KEYS
        assert row["latent_dim"] == 2 and row["epochs"] == 2
        assert row["test_recon"] > 0 and row["sharpness_recon"] > 0 and row["seconds_per_epoch"] > 0
    assert ae["name"] == "ae" and ae["kind"] == "ae" and ae["path"] == pair[0]
    assert [ae[k] for k in ("neg_elbo", "iwae_nll", "sharpness_prior", "frechet", "active_units")] == [None] * 5
    from vaestudio.core.metrics import latent_usage
    want_units = latent_usage(Run.load(pair[1]).model, digits.test.images)["active_units"]
    assert vae["active_units"] == want_units and 0 <= want_units <= 2
    assert vae["kind"] == "vae"
    assert vae["neg_elbo"] > vae["test_recon"]  # -ELBO = reconstruction + KL
    assert vae["iwae_nll"] <= vae["neg_elbo"] + 1.0  # the tighter bound (K=5, sampled)
    assert vae["sharpness_prior"] > 0 and vae["frechet"] > 0
    run = Run.load(pair[1])
    want = np.mean([r["seconds"] for r in run.history])
    assert vae["seconds_per_epoch"] == pytest.approx(want)
    assert metrics_row(run, digits, quality=False, iw_samples=0)["iwae_nll"] is None


def test_progress_reaches_the_end_and_cancel_stops(pair, digits):
    seen = []
    runs = [Run.load(p) for p in pair]
    compare_runs(runs, digits, images=(0,), n=2, quality=False, progress=lambda d, t, m: seen.append((d, t, m)))
    dones = [d for d, _, _ in seen]
    assert dones == sorted(dones) and seen[-1][0] <= seen[-1][1]
    assert any("vae" in m for _, _, m in seen) and any("encoding" in m for _, _, m in seen)
    with pytest.raises(Cancelled):
        compare_runs(runs, digits, images=(0,), n=2, quality=False, cancel=lambda: True)


def test_refusals_name_the_problem(pair, digits):
    runs = [Run.load(p) for p in pair]
    with pytest.raises(ConfigError, match="2 to 4 runs, not 1"):
        compare_runs(runs[:1], digits, quality=False)
    with pytest.raises(ConfigError, match="2 to 4 runs, not 5"):
        compare_runs(runs * 2 + runs[:1], digits, quality=False)
    with pytest.raises(ConfigError, match="image index 200 is out of range.*0..199"):
        compare_runs(runs, digits, images=(0, 200), quality=False)
    with pytest.raises(ConfigError, match="quality samples must be between 2 and 10,000, not 1"):
        compare_runs(runs, digits, quality_samples=1)
    with pytest.raises(ConfigError, match="sites must be one of own, shared"):
        compare_runs(runs, digits, sites="mine", quality=False)
    faces = open_dataset("faces", n=200)
    with pytest.raises(ConfigError, match=r"ae.*1x28x28.*faces has 3x64x64"):
        compare_runs(runs, faces, quality=False)


def test_attribute_sweep_from_a_label_value_is_the_same_attribute_in_every_column(pair, digits):
    cols = compare_runs([Run.load(p) for p in pair], digits, images=(4, 1), n=2, quality=False, attribute="7")
    for c in cols:
        assert c.sweep_attribute == "7" and c.sweep_images.shape == (8, 1, 28, 28)
        # alpha 0 is the first chosen image's own reconstruction
        np.testing.assert_allclose(c.sweep_images[0], c.recons[0], atol=1e-5)


def test_the_figure_has_a_column_per_run_and_grows_with_runs(columns, pair, digits):
    two = render_comparison(columns, title="ae vs vae")
    three = render_comparison(compare_runs([Run.load(p) for p in (*pair, pair[1])], digits,
                                           images=(3, 0, 5), n=4, prior_n=6, quality=False), title="three")
    assert three.width - two.width > 400 and abs(three.height - two.height) < 60  # the same rows
    img = np.asarray(two.convert("RGB")).astype(int)
    assert img.shape[0] > 1000
    # label colours of the scatter (tableau blue for label 0) and the grey "no prior" box are drawn
    assert (np.abs(img - [31, 119, 180]).sum(-1) < 40).sum() > 50
    assert (np.abs(img - [215, 215, 215]).sum(-1) == 0).sum() > 2000
    # the AE's column (left half) has the grey box, the VAE's does not
    mid = two.width // 2 + 80
    assert (np.abs(img[:, :mid] - [215, 215, 215]).sum(-1) == 0).sum() > 2000
    assert (np.abs(img[:, mid:] - [215, 215, 215]).sum(-1) == 0).sum() < 100


# -- the verb --------------------------------------------------------------------------------

def test_cli_writes_the_png_and_prints_json_with_nulls(pair, tmp_path, capsys):
    out = tmp_path / "cmp.png"
    assert main(["compare", *pair, "--out", str(out), "--json", "--no-quality", "--n", "3",
                 "--images", "0", "1", "--iw-samples", "3"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["ae", "vae"] and all(tuple(r) == METRIC_KEYS for r in rows)
    assert rows[0]["neg_elbo"] is None and rows[0]["iwae_nll"] is None and rows[0]["sharpness_prior"] is None
    assert rows[1]["neg_elbo"] > 0 and rows[1]["iwae_nll"] > 0
    assert all(r["frechet"] is None and r["sharpness_recon"] is None for r in rows)  # --no-quality
    two = Image.open(out)
    assert two.width > 900 and two.height > 900
    out3 = tmp_path / "cmp3.png"
    assert main(["compare", *pair, pair[0], "--out", str(out3), "--no-quality", "--n", "3",
                 "--images", "0", "1", "--sites", "shared"]) == 0
    text = capsys.readouterr().out
    assert "ae (2): ae, latent 2" in text and f"-> {out3}" in text
    assert Image.open(out3).width > two.width + 400


def test_cli_refusals_are_one_line(pair, tmp_path, capsys):
    out = str(tmp_path / "c.png")
    one_line(*run_cli(["compare", pair[0], "--out", out], capsys), "2 to 4 runs, not 1")
    one_line(*run_cli(["compare", *pair, *pair, pair[0], "--out", out], capsys), "2 to 4 runs, not 5")
    missing = str(tmp_path / "nope")
    one_line(*run_cli(["compare", pair[0], missing, "--out", out], capsys), missing)
    one_line(*run_cli(["compare", *pair, "--images", "0", "200", "--out", out, "--no-quality"], capsys),
             "image index 200", "0..199")
    one_line(*run_cli(["compare", *pair, "--images", "-1", "--out", out], capsys), "--images")
    one_line(*run_cli(["compare", *pair, "--n", "1", "--out", out], capsys), "--n")
    one_line(*run_cli(["compare", *pair, "--out", str(tmp_path / "c.txt")], capsys), ".txt")
    assert not list(tmp_path.iterdir())


def test_cli_refuses_runs_on_different_image_shapes(pair, tmp_path, capsys):
    faces = open_dataset("faces", n=200)
    cfg = make_model_config(kind="vae", arch="conv", image_shape=(3, 64, 64), latent_dim=2, conv_width=4,
                            likelihood="gaussian")
    run = Run.new(cfg, TrainConfig(epochs=1, batch_size=50, seed=0, device="cpu"))
    run.use_dataset(faces)
    folder = tmp_path / "faces-run"
    run.save(folder)
    line = one_line(*run_cli(["compare", pair[0], str(folder), "--no-quality", "--out", str(tmp_path / "c.png")],
                             capsys), "faces-run", "3x64x64", "1x28x28")
    assert not (tmp_path / "c.png").exists() and "mat1" not in line

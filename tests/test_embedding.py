"""t-SNE and UMAP maps (core/latent/embedding.py): progress, cancel, subsampling, the map's
nearest-real-point "inverse", and the message when the optional package is missing."""
from __future__ import annotations

import multiprocessing
import sys
import time

import numpy as np
import pytest

from vaestudio.core.errors import Cancelled, VaeStudioError
from vaestudio.core.latent import embedding as maps
from vaestudio.core.latent.embedding import MapProjection, MapUnavailable, embed, nearest_rows, subsample_rows


def clusters(n: int = 120, d: int = 5, seed: int = 0) -> np.ndarray:
    """Three well separated clusters of codes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=8.0, size=(3, d))
    return (centres[np.arange(n) % 3] + rng.normal(size=(n, d))).astype(np.float32)


def test_nearest_rows_matches_brute_force(rng):
    refs = rng.normal(size=(70, 3)).astype(np.float32)
    queries = rng.normal(size=(5000, 3)).astype(np.float32)  # more than one block
    brute = ((queries[:, None, :] - refs[None]) ** 2).sum(-1).argmin(1)
    assert np.array_equal(nearest_rows(queries, refs), brute)
    assert nearest_rows(refs[[4]], refs)[0] == 4


def test_subsample_is_seeded_sorted_and_bounded():
    assert np.array_equal(subsample_rows(30, 50, 0), np.arange(30))
    a, b, c = subsample_rows(1000, 100, 0), subsample_rows(1000, 100, 0), subsample_rows(1000, 100, 1)
    assert len(a) == 100 and np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(np.diff(a) > 0)


def test_map_projection_answers_with_the_nearest_real_code():
    codes = np.array([[0, 0, 0], [1, 1, 1], [5, 5, 5]], dtype=np.float32)
    points = np.array([[0, 0], [10, 0], [0, 10]], dtype=np.float32)
    m = MapProjection(kind="tsne", codes=codes, points=points, embedded=np.arange(3))
    assert m.has_inverse is False and m.latent_dim == 3
    assert np.array_equal(m.to_latent([9.0, 1.0]), codes[1])  # between points: the nearest's code
    assert np.array_equal(m.to_latent(np.array([[0.4, 8.0], [1, 1]])), codes[[2, 0]])
    assert np.allclose(m.to_view(codes[2]), points[2])  # exact for the cloud's own codes
    assert np.allclose(m.to_view(np.array([[0.9, 1.2, 1.0]])), points[[1]])
    assert m.nearest_row((9.0, 1.0)) == 1
    assert m.axis_labels() == ("t-SNE 1", "t-SNE 2")
    assert "no inverse" in m.describe() and "nearest real point" in m.describe()


def test_tsne_reports_progress_and_separates_clusters():
    pytest.importorskip("openTSNE")  # the optional `maps` extra (in `test` too)
    codes = clusters()
    seen = []
    m = embed(codes, "tsne", seed=0, iterations=60, progress=lambda d, t, s: seen.append((d, t, s)))
    assert m.kind == "tsne" and m.points.shape == (len(codes), 2) and not m.subsampled
    assert np.isfinite(m.points).all()
    steps = [(d, t) for d, t, _ in seen if t]
    assert steps[-1][0] == steps[-1][1] == 90  # 60 iterations + 30 of early exaggeration
    assert [d for d, _ in steps] == sorted(d for d, _ in steps) and len(steps) >= 9
    # Neighbours stay neighbours: every point's nearest other point is in its own cluster.
    d = ((m.points[:, None] - m.points[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert np.mean(d.argmin(1) % 3 == np.arange(len(codes)) % 3) > 0.95
    again = embed(codes, "tsne", seed=0, iterations=60)
    assert np.allclose(again.points, m.points)  # the seed fixes the picture


def test_tsne_cancel_stops_within_a_callback():
    pytest.importorskip("openTSNE")
    seen = []
    with pytest.raises(Cancelled):
        embed(clusters(), "tsne", iterations=2000, progress=lambda d, t, s: seen.append(d),
              cancel=lambda: any(seen))  # true from the first iteration report on
    assert 0 < max(seen) <= 2 * maps.CALLBACK_EVERY  # stopped at once, not after 3,000 iterations


def test_big_clouds_are_subsampled_and_the_rest_placed_on_their_nearest():
    pytest.importorskip("openTSNE")
    codes = clusters(n=300)
    m = embed(codes, "tsne", seed=3, max_points=60, iterations=30)
    assert m.subsampled and len(m.embedded) == 60 and m.points.shape == (300, 2)
    assert np.array_equal(m.embedded, subsample_rows(300, 60, 3))
    rest = np.setdiff1d(np.arange(300), m.embedded)
    near = nearest_rows(codes[rest], codes[m.embedded])
    assert np.array_equal(m.points[rest], m.points[m.embedded[near]])
    assert "60 of 300" in m.describe()


def test_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # an import of it now fails
    assert not maps.available("tsne")
    with pytest.raises(MapUnavailable, match=r"pip install 'vaestudio\[maps\]'"):
        embed(clusters(), "tsne")
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(MapUnavailable, match="umap-learn"):
        embed(clusters(), "umap")


@pytest.mark.parametrize("kwargs, match", [
    ({"codes": np.full((20, 3), np.nan)}, "NaN"),
    ({"codes": np.zeros((20, 1))}, "D of 2"),
    ({"codes": np.zeros((3, 4))}, "at least 5"),
    ({"codes": np.ones((20, 4))}, "all the same"),
    ({"max_points": 5}, "max_points"),
    ({"iterations": 0}, "iterations"),
    ({"method": "pca"}, "unknown map"),
])
def test_bad_requests_are_refused_with_a_message(kwargs, match):
    args = {"codes": clusters(30), "method": "tsne", **kwargs}
    with pytest.raises(VaeStudioError, match=match):
        embed(args.pop("codes"), args.pop("method"), **args)


def test_umap_cancel_terminates_its_process():
    """UMAP has no progress hook: it runs in a child process, which cancel terminates (a whole
    fit takes 15 s or more of numba compiling, so only the cancel is tested here)."""
    pytest.importorskip("umap")
    start = time.monotonic()
    texts = []
    with pytest.raises(Cancelled):
        embed(clusters(), "umap", progress=lambda d, t, s: texts.append(s),
              cancel=lambda: time.monotonic() - start > 0.3)
    assert texts and all("UMAP" in t for t in texts)
    assert not [p for p in multiprocessing.active_children() if p.name == "vaestudio-umap"]


# -- `vaestudio scatter RUN --map tsne|umap` -------------------------------------------------------
@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.data.registry import open_dataset
    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.run import Run
    from vaestudio.core.training import Trainer

    ds = open_dataset("digits", n_train=600, n_test=60)
    run = Run.new(make_model_config(kind="vae", latent_dim=3, hidden=(32,)),
                  TrainConfig(epochs=1, batch_size=50, seed=0, device="cpu"))
    assert Trainer(run, ds).train().status == "finished"
    folder = tmp_path_factory.mktemp("digits")
    run.save(folder)
    return str(folder)


def test_scatter_draws_a_tsne_map(digits_run, tmp_path, capsys):
    pytest.importorskip("openTSNE")
    from PIL import Image

    from vaestudio.cli import main

    out = tmp_path / "map.png"
    assert main(["scatter", digits_run, "--map", "tsne", "--map-points", "60", "--size", "300",
                 "--out", str(out)]) == 0
    assert "t-SNE map of 60 of 100 codes" in capsys.readouterr().out
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (300, 300, 3) and (np.abs(img - [31, 119, 180]).sum(-1) < 40).sum() > 5  # label 0


@pytest.mark.parametrize("extra, block, names", [
    (["--map", "tsne", "--pca"], None, ("--map", "--pca")),
    (["--map", "tsne"], "openTSNE", ("pip install 'vaestudio[maps]'",)),
    (["--map", "umap", "--map-points", "5"], None, ("--map-points",)),
])
def test_scatter_map_mistakes_are_one_line(digits_run, tmp_path, capsys, monkeypatch, extra, block, names):
    from helpers import one_line, run_cli

    if block:
        monkeypatch.setitem(sys.modules, block, None)
    rc, err = run_cli(["scatter", digits_run, "--out", str(tmp_path / "x.png"), *extra], capsys)
    one_line(rc, err, *names)

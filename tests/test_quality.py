"""Offline blur measures (core.quality): sharpness, the LeNet-feature Frechet distance, the cached
feature classifier, and `vaestudio evaluate --quality`."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import blob_dataset, one_line, run_cli, train_tiny_run
from vaestudio.cli import main
from vaestudio.core import quality
from vaestudio.core.data.base import array_dataset
from vaestudio.core.data.registry import open_dataset


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian-blurred float copy (N, C, H, W) in [0, 1] of uint8 or float images."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32) / (255.0 if images.dtype == np.uint8 else 1.0))
    r = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return x.numpy()


def noisy(images: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    x = images.astype(np.float32) / 255.0
    return np.clip(x + np.random.default_rng(seed).normal(0, std, x.shape).astype(np.float32), 0, 1)


@pytest.fixture(scope="module")
def digits():
    return open_dataset("digits", n_train=2000, n_test=500)


@pytest.fixture(scope="module")
def classifier(digits, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("VAESTUDIO_CACHE", str(tmp_path_factory.mktemp("cache")))
    try:
        yield quality.feature_classifier(digits)
    finally:
        mp.undo()


# -- sharpness --------------------------------------------------------------------------------

def test_gradient_energy_is_the_mean_squared_difference_down_plus_across():
    x = np.zeros((1, 1, 3, 4), dtype=np.float32)
    x[0, 0, :, 2:] = 1.0  # a vertical edge: 3 of the 9 horizontal differences are 1, no vertical ones
    assert quality.gradient_energies(x)[0] == pytest.approx(3 / 9)
    assert quality.gradient_energies(x.transpose(0, 1, 3, 2))[0] == pytest.approx(3 / 9)
    assert quality.gradient_energies((x * 255).astype(np.uint8))[0] == pytest.approx(3 / 9)  # uint8 is /255
    assert quality.gradient_energy(np.concatenate([x, np.zeros_like(x)])) == pytest.approx(3 / 18)


def test_sharpness_is_one_for_real_images_and_falls_with_blur(digits):
    real = digits.test.images
    assert quality.sharpness(real.astype(np.float32) / 255.0, real) == pytest.approx(1.0, abs=1e-6)
    s1, s2 = quality.sharpness(blur(real, 1.0), real), quality.sharpness(blur(real, 2.0), real)
    assert s1 < 0.7 and s2 < s1
    assert quality.sharpness(noisy(real, 0.2), real) > 1.0  # noise adds high-frequency energy
    assert math.isnan(quality.sharpness(real, np.zeros_like(real)))  # flat references have nothing to compare


# -- Frechet distance -------------------------------------------------------------------------

def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (20_000, 3)) * [1.0, 2.0, 3.0]
    b = rng.normal(0, 1, (20_000, 3)) * [2.0, 2.0, 1.0] + [1.0, 0.0, 0.0]
    # |dmu|^2 + sum (s_a - s_b)^2 for commuting (diagonal) covariances: 1 + (1 + 0 + 4) = 6
    assert quality.frechet_distance(a, b) == pytest.approx(6.0, rel=0.03)
    assert quality.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert quality.frechet_distance(b, a) == pytest.approx(quality.frechet_distance(a, b), rel=1e-9)
    with pytest.raises(ValueError):
        quality.frechet_distance(a[:1], b)


def test_frechet_is_zero_against_itself_and_grows_with_blur_and_noise(digits, classifier):
    real = digits.test.images
    f_real = classifier.features(real)
    assert f_real.shape == (len(real), quality.FEATURES) and f_real.dtype == np.float64
    blurred = [quality.frechet_distance(classifier.features(blur(real, s)), f_real) for s in (0.5, 1.0, 2.0)]
    same = quality.frechet_distance(classifier.features(real.astype(np.float32) / 255.0), f_real)
    assert same < 1e-6 * blurred[0]
    assert blurred[0] < blurred[1] < blurred[2], blurred
    noise = [quality.frechet_distance(classifier.features(noisy(real, s)), f_real) for s in (0.05, 0.2, 0.5)]
    assert 0 < noise[0] < noise[1] < noise[2], noise


# -- the feature classifier -------------------------------------------------------------------

def test_the_classifier_learns_the_labels(digits, classifier):
    assert classifier.target == "labels" and classifier.n_out == 10 and classifier.n_train == len(digits.train)
    with torch.inference_mode():
        pred = classifier.net(torch.from_numpy(digits.test.images.astype(np.float32) / 255)).argmax(1).numpy()
    assert (pred == digits.test.labels).mean() > 0.8


def test_the_classifier_is_cached_and_deterministic(digits, cache, tmp_path, monkeypatch):
    trainings = []
    real_train = quality._train
    monkeypatch.setattr(quality, "_train", lambda *a, **k: (trainings.append(1), real_train(*a, **k)))
    first = quality.feature_classifier(digits)
    assert first.trained_now and len(trainings) == 1
    assert first.path.parent == cache and first.path.is_file()
    assert isinstance(torch.load(first.path, weights_only=True), dict)
    stamp = first.path.stat().st_mtime_ns
    second = quality.feature_classifier(digits)
    assert not second.trained_now and len(trainings) == 1 and first.path.stat().st_mtime_ns == stamp
    imgs = digits.test.images[:100]
    assert np.array_equal(first.features(imgs), second.features(imgs))

    # the same seed in another cache folder trains the same classifier
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "other"))
    third = quality.feature_classifier(digits)
    assert third.trained_now and len(trainings) == 2 and third.path.name == first.path.name
    np.testing.assert_allclose(third.features(imgs), first.features(imgs), rtol=1e-5, atol=1e-5)

    # a damaged cache file is a miss, retrained in place
    third.path.write_bytes(b"not a state dict")
    fourth = quality.feature_classifier(digits)
    assert fourth.trained_now and len(trainings) == 3


def test_the_cache_key_follows_the_training_data(cache):
    a = quality.feature_classifier(blob_dataset(300, seed=0))
    b = quality.feature_classifier(blob_dataset(300, seed=1))
    assert a.key != b.key and a.path != b.path


def test_attributes_train_a_multi_label_classifier_and_nothing_is_unavailable(cache):
    ds = blob_dataset(300)
    attrs = np.stack([ds.train.labels % 2, ds.train.labels // 2], 1).astype(np.uint8)
    imgs = np.concatenate([ds.train.images, ds.test.images])
    with_attrs = array_dataset(imgs[:len(attrs)], attributes=attrs, name="blob-attrs", fractions=(1.0, 0.0))
    clf = quality.feature_classifier(with_attrs)
    assert clf.target == "attributes" and clf.n_out == 2
    bare = array_dataset(imgs, name="bare")
    assert "neither labels" in quality.unavailable_reason(bare)
    with pytest.raises(quality.QualityUnavailable, match="frechet is unavailable"):
        quality.feature_classifier(bare)


# -- measure and the CLI ----------------------------------------------------------------------

class _Identity(torch.nn.Module):
    """A 'model' whose codes are the images and whose decodes are its codes, blurred or not."""

    def __init__(self, shape, kind="vae", sigma=0.0):
        super().__init__()
        from vaestudio.core.kinds import make_model_config
        self.config = make_model_config(kind=kind, image_shape=shape, latent_dim=int(np.prod(shape)), hidden=(8,))
        self.shape, self.sigma = shape, sigma
        self.w = torch.nn.Parameter(torch.zeros(()))

    def encode(self, x):
        return x.flatten(1), None

    def decode(self, z):
        x = z.view(-1, *self.shape).clamp(0, 1)
        return torch.from_numpy(blur(x.numpy(), self.sigma)) if self.sigma else x


def test_measure_reports_recon_sharpness_and_needs_a_prior_for_the_rest(digits, cache):
    exact = quality.measure(_Identity((1, 28, 28), kind="ae"), digits, samples=300)
    assert exact["sharpness_recon"] == pytest.approx(1.0, abs=1e-6) and exact["n"] == 300
    assert exact["sharpness_prior"] is None and exact["frechet"] is None and "no prior" in exact["frechet_note"]
    assert exact["classifier"] is None  # nothing trained when frechet cannot apply
    blurred = quality.measure(_Identity((1, 28, 28), kind="ae", sigma=1.5), digits, samples=300)
    assert blurred["sharpness_recon"] < 0.7


def test_evaluate_quality_json_and_text(tmp_path_factory, cache, capsys):
    run = train_tiny_run(tmp_path_factory)
    capsys.readouterr()
    assert main(["evaluate", str(run), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert "sharpness" not in plain and "frechet" not in plain  # off by default
    assert main(["evaluate", str(run), "--json", "--quality", "--quality-samples", "200"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert {k: res[k] for k in plain} == plain  # the existing keys are unchanged
    assert set(res["sharpness"]) == {"recon", "prior"}
    for v in (res["sharpness"]["recon"], res["sharpness"]["prior"], res["frechet"]):
        assert isinstance(v, float) and math.isfinite(v) and v >= 0
    assert res["quality_samples"] == {"real": 60, "prior": 200}
    assert main(["evaluate", str(run), "--quality", "--quality-samples", "200"]) == 0
    text = capsys.readouterr().out
    assert "sharpness" in text and f"{res['frechet']:.3f}" in text  # cached classifier: the same number
    one_line(*run_cli(["evaluate", str(run), "--quality", "--quality-samples", "1"], capsys), "--quality-samples")


def test_a_measurement_is_kept_in_the_run_saved_with_it_and_shown_by_info(tmp_path_factory, cache, capsys):
    from vaestudio.core.run import Run

    folder = train_tiny_run(tmp_path_factory)
    run = Run.load(folder)
    ds = blob_dataset(200, size=run.model_config.image_shape[1])
    res = quality.measure(run.model, ds, samples=50)
    rec = quality.record(run, res, ds)
    assert rec["sharpness_recon"] == res["sharpness_recon"] and rec["epochs"] == run.epochs_done
    run.save(tmp_path_factory.mktemp("kept") / "model.pt")
    again = Run.load(run.path)
    assert again.extra["quality"] == rec and again.info()["quality"] == rec
    capsys.readouterr()
    assert main(["info", str(run.path)]) == 0
    out = capsys.readouterr().out
    assert f"blur at epoch {run.epochs_done:g} (blobs" in out and f"{rec['sharpness_recon']:.3f} reconstructions" in out
    assert "trained on to epoch" not in out
    run.progress.epoch += 1  # trained on since: the line says the measurement is older
    assert f"trained on to epoch {run.epochs_done:g}" in run.describe()


@pytest.mark.parametrize("bad", [None, "text", [], {"epochs": "five"}, {"epochs": float("nan")},
                                 {"epochs": True}])
def test_a_hostile_quality_record_in_a_file_is_ignored(bad):
    assert quality.describe_record(bad) is None


def test_a_hostile_record_with_odd_values_still_describes_safely():
    text = quality.describe_record({"epochs": 2, "sharpness_recon": "x", "sharpness_prior": float("inf"),
                                    "frechet": True, "frechet_note": 7, "dataset": "d" * 10_000})
    assert text.startswith("blur at epoch 2") and "n/a reconstructions" in text and len(text) < 400

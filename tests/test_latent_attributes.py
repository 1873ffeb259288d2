import numpy as np
import pytest

from vaestudio.core.config import TrainConfig
from vaestudio.core.data.base import array_dataset
from vaestudio.core.errors import VaeStudioError
from vaestudio.core.latent import (Encodings, apply_vector, attribute_mask, attribute_vector,
                                   attribute_vectors, combine, correlated_attributes, decode_batch,
                                   encode_split, sweep_alphas)
from vaestudio.core.kinds import make_model_config
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer

NAMES = ["Bright_Top", "Bright_Left", "Noise"]


def planted_images(n=1500, size=10, seed=0):
    """Dim noise; 'Bright_Top' lights the top rows, 'Bright_Left' (correlated with it) the left columns."""
    rng = np.random.default_rng(seed)
    top = rng.random(n) < 0.5
    left = np.where(top, rng.random(n) < 0.8, rng.random(n) < 0.2)
    noise = rng.random(n) < 0.5
    imgs = (rng.random((n, 1, size, size)) * 50).astype(np.uint8)
    imgs[top, :, :4, :] = 220
    imgs[left, :, :, :4] = np.maximum(imgs[left, :, :, :4], 160)
    attrs = np.stack([top, left, noise], 1).astype(np.uint8)
    return imgs, attrs


@pytest.fixture(scope="module")
def trained():
    imgs, attrs = planted_images()
    ds = array_dataset(imgs, attributes=attrs, attribute_names=NAMES)
    run = Run.new(make_model_config(kind="vae", image_shape=(1, 10, 10), latent_dim=4, hidden=(64,)),
                  TrainConfig(epochs=6, batch_size=32, lr=3e-3, seed=0, device="cpu"))
    res = Trainer(run, ds).train()
    assert res.status == "finished"
    return run.model.eval(), ds


def test_planted_attribute_vector_moves_the_decoded_property_monotonically(trained):
    model, ds = trained
    enc = encode_split(model, ds, "train")
    vec = attribute_vector(enc, "bright_top", balance_on=["Bright_Left"])  # names match any case
    assert vec.n_with + vec.n_without == len(enc) and vec.balanced_on == ("Bright_Left",)
    base = encode_split(model, ds, "test")
    i = int(np.flatnonzero(ds.test.attributes[:, 0] == 0)[0])  # an image without it
    images = decode_batch(model, apply_vector(base.codes[i], vec.delta, sweep_alphas(6, 1.5)))
    top = images[:, 0, :4, 4:].mean(axis=(1, 2))  # the planted region, away from the left bar
    assert (np.diff(top) > 0).all(), top
    assert top[-1] - top[0] > 0.3
    # It points the planted way: along the delta, the with-group sits higher than the without-group.
    proj = enc.codes @ vec.delta
    mask = attribute_mask(enc, "Bright_Top")
    assert proj[mask].mean() > proj[~mask].mean()


def codes_with_correlated_attributes(n=20000, seed=1):
    """codes = A e0 + B e1 + noise, with B much likelier when A holds."""
    rng = np.random.default_rng(seed)
    a = rng.random(n) < 0.5
    b = np.where(a, rng.random(n) < 0.9, rng.random(n) < 0.1)
    codes = np.stack([a, b, np.zeros(n)], 1).astype(np.float64) + rng.normal(scale=0.1, size=(n, 3))
    return Encodings(codes=codes.astype(np.float32), attributes=np.stack([a, b], 1).astype(np.uint8),
                     attribute_names=["A", "B"], labels=rng.integers(0, 3, n), label_names=["x", "y", "z"])


def test_plain_difference_leaks_the_correlated_attribute_and_balancing_removes_it():
    enc = codes_with_correlated_attributes()
    plain = attribute_vector(enc, "A").delta
    assert plain[1] == pytest.approx(0.8, abs=0.03)  # P(B|A) - P(B|not A)
    balanced = attribute_vector(enc, "A", balance_on=["B"]).delta
    np.testing.assert_allclose(balanced, [1.0, 0.0, 0.0], atol=0.02)
    # balance=True balances each chosen attribute on the others; correlated=1 finds B by itself.
    both = attribute_vectors(enc, ["A", "B"], balance=True)
    np.testing.assert_allclose(both[1].delta, [0, 1, 0], atol=0.02)
    assert correlated_attributes(enc, "A") == ["B"]
    np.testing.assert_allclose(attribute_vectors(enc, ["A"], correlated=1)[0].delta, balanced)


def test_vectors_from_labels_combine_and_apply():
    enc = codes_with_correlated_attributes()
    by_name = attribute_mask(enc, "y")
    np.testing.assert_array_equal(by_name, enc.labels == 1)
    np.testing.assert_array_equal(attribute_mask(enc, "label=2"), enc.labels == 2)
    np.testing.assert_array_equal(attribute_mask(enc, "2"), enc.labels == 2)
    a, b = attribute_vectors(enc, ["A", "B"], balance=True)
    np.testing.assert_allclose(combine([a, b], [2.0, -1.0]), 2 * a.delta - b.delta, rtol=1e-6)
    np.testing.assert_allclose(combine([a.delta]), a.delta)
    out = apply_vector([1.0, 1.0, 1.0], [1.0, 0.0, -1.0], [0.0, 0.5, 2.0])
    np.testing.assert_allclose(out, [[1, 1, 1], [1.5, 1, 0.5], [3, 1, -1]])


def test_unknown_or_one_sided_attributes_are_clear_errors():
    enc = codes_with_correlated_attributes()
    with pytest.raises(VaeStudioError, match="no attribute or label called 'Blond_Hair'.*A, B"):
        attribute_mask(enc, "Blond_Hair")
    one_sided = Encodings(codes=np.zeros((4, 2), np.float32), labels=np.zeros(4, np.int64))
    with pytest.raises(VaeStudioError, match="with and without"):
        attribute_vector(one_sided, "0")
    with pytest.raises(VaeStudioError, match="weights"):
        combine([np.zeros(2)], [1.0, 2.0])

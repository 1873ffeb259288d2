import numpy as np
import pytest
import torch

from helpers import blob_dataset
from vaestudio.core.errors import Cancelled
from vaestudio.core.kinds import build_model, make_model_config
from vaestudio.core.latent import Encodings, decode_batch, encode_images, encode_split, sample_prior


def model(kind="vae", dim=3):
    torch.manual_seed(0)
    return build_model(make_model_config(kind=kind, image_shape=(1, 12, 12), latent_dim=dim, hidden=(16,))).eval()


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_batched_encoding_matches_one_big_forward_pass(kind):
    m = model(kind)
    ds = blob_dataset(100)
    codes, logvar = encode_images(m, ds.train.images, batch_size=7, with_logvar=True)
    with torch.no_grad():
        mu, lv = m.encode(torch.from_numpy(ds.train.images).float() / 255)
    assert codes.shape == (80, 3) and codes.dtype == np.float32
    np.testing.assert_allclose(codes, mu.numpy(), rtol=1e-5, atol=1e-6)
    if kind == "vae":
        np.testing.assert_allclose(logvar, lv.numpy(), rtol=1e-5, atol=1e-6)
    else:
        assert logvar is None


def test_encode_split_keeps_labels_and_names_and_round_trips_through_npz(tmp_path):
    ds = blob_dataset(100)
    enc = encode_split(model(), ds, "val", batch_size=4)
    assert enc.split == "validation" and len(enc) == 10 and enc.dim == 3
    np.testing.assert_array_equal(enc.labels, ds.validation.labels)
    assert enc.label_names == ["TL", "TR", "BL", "BR"] and enc.logvar.shape == (10, 3)
    enc.save(tmp_path / "codes.npz")
    back = Encodings.load(tmp_path / "codes.npz")
    np.testing.assert_array_equal(back.codes, enc.codes)
    np.testing.assert_array_equal(back.labels, enc.labels)
    assert back.label_names == enc.label_names and back.split == "validation" and back.attributes is None


def test_progress_is_reported_and_cancel_stops():
    seen = []
    encode_images(model(), blob_dataset(100).train.images, batch_size=30,
                  progress=lambda d, t, m: seen.append((d, t)))
    assert seen == [(30, 80), (60, 80), (80, 80)]
    with pytest.raises(Cancelled):
        encode_images(model(), blob_dataset(100).train.images, cancel=lambda: True)


def test_decode_batch_takes_a_model_or_its_cpu_copy_and_agrees():
    m = model()
    z = sample_prior(9, 3, seed=1)
    a = decode_batch(m, z, batch_size=4)
    b = decode_batch(m.cpu_copy(), z)
    assert a.shape == (9, 1, 12, 12) and a.dtype == np.float32
    assert 0 <= a.min() and a.max() <= 1
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(decode_batch(m, z[0]), a[0], atol=1e-6)


def test_prior_samples_are_standard_normal_and_seeded():
    z = sample_prior(20000, 4, seed=3)
    assert z.shape == (20000, 4) and z.dtype == np.float32
    assert np.abs(z.mean(0)).max() < 0.05 and np.abs(z.std(0) - 1).max() < 0.05
    np.testing.assert_array_equal(z, sample_prior(20000, 4, seed=3))

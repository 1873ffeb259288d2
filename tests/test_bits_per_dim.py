"""Bits per dimension from a Gaussian likelihood's nats: checked against the exact probability of
each grey level's bin, with the models' own reconstruction loss supplying the nats."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaestudio.core.kinds import make_model_config
from vaestudio.core.models import reconstruction_nll
from vaestudio.core.units import bits_per_dim, likelihood_bits_per_dim


def test_uniform_density_over_the_grey_levels_costs_eight_bits():
    # A density uniform over the 256 bins centred on u / 255 is 255/256 everywhere: each bin holds 1/256.
    d = 784
    nats = d * -math.log(255 / 256)
    assert bits_per_dim(nats, d) == pytest.approx(8.0, abs=1e-12)


def test_gaussian_loss_converts_to_the_exact_bin_probability():
    """Images drawn from a Gaussian discretised to 0..255: the models' Gaussian -log p(x|z), turned
    into bits/dim, matches -log2 of the exact probability of each pixel's bin."""
    sigma, mean = 0.1, 0.5
    cfg = make_model_config(kind="vae", image_shape=(1, 8, 8), hidden=(4,), likelihood="gaussian",
                            gaussian_sigma=sigma)
    rng = np.random.default_rng(0)
    u = np.clip(np.rint(rng.normal(mean, sigma, size=(50, 1, 8, 8)) * 255), 0, 255)
    x = torch.from_numpy(u / 255.0).float()
    logits = torch.zeros_like(x)  # sigmoid(0) = 0.5: the decoder's mean
    nats = float(reconstruction_nll(cfg, logits, x).mean())
    assert nats < 0  # the density's -log: negative, as on the faces

    def cdf(t):
        return 0.5 * (1 + math.erf((t - mean) / (sigma * math.sqrt(2))))

    exact = np.mean([-math.log2(cdf((v + 0.5) / 255) - cdf((v - 0.5) / 255)) for v in u.ravel()])
    got = bits_per_dim(nats, 64)
    assert got == pytest.approx(exact, abs=2e-3)
    assert 2.0 < got < 8.0  # sigma 0.1 is about 25 grey levels: log2(25 * sqrt(2 pi e)) ~ 6.7


def test_epoch_records_convert_for_gaussian_runs_only():
    gauss = make_model_config(kind="vae", image_shape=(3, 4, 4), hidden=(4,), likelihood="gaussian")
    record = {"train_loss": -9.0, "train_recon": -10.0, "train_kl": 2.0,
              "val_loss": -7.0, "val_recon": -8.0, "val_kl": 1.0}
    what, bits = likelihood_bits_per_dim(gauss, record)
    assert what == "validation −ELBO" and bits == pytest.approx(bits_per_dim(-7.0, 48))
    what, bits = likelihood_bits_per_dim(gauss, {**record, "val_recon": None, "val_kl": None})
    assert what == "training −ELBO" and bits == pytest.approx(bits_per_dim(-8.0, 48))
    ae = make_model_config(kind="ae", image_shape=(3, 4, 4), hidden=(4,), likelihood="gaussian")
    what, bits = likelihood_bits_per_dim(ae, {"train_loss": -10.0, "train_recon": -10.0, "val_recon": -9.0})
    assert what == "validation reconstruction" and bits == pytest.approx(bits_per_dim(-9.0, 48))
    bern = make_model_config(kind="vae", image_shape=(1, 4, 4), hidden=(4,))
    assert likelihood_bits_per_dim(bern, record) is None

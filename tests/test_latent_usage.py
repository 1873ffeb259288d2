"""Posterior-collapse diagnostics: core.metrics.latent_usage (KL per latent dimension, active
units) and what `vaestudio evaluate` prints of it, on a 10-D VAE trained here for one short epoch
on a small built-in digits set."""
import copy
import json

import numpy as np
import pytest
import torch

from vaestudio.cli import main
from vaestudio.core.config import TrainConfig
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.kinds import make_model_config
from vaestudio.core.latent import encode_images
from vaestudio.core.metrics import ACTIVE_UNIT_THRESHOLD, evaluate, latent_usage
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer

D = 10
COLLAPSED = 3


def _train(folder, kind: str, dataset, latent_dim: int) -> Run:
    cfg = make_model_config(kind=kind, latent_dim=latent_dim, hidden=(32,))
    run = Run.new(cfg, TrainConfig(epochs=1, batch_size=50, lr=3e-3, seed=0, device="cpu"))
    assert Trainer(run, dataset).train().status == "finished"
    run.save(folder)
    return run


@pytest.fixture(scope="module")
def digits():
    return open_dataset("digits", n_train=600, n_test=200)


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory, digits):
    return _train(tmp_path_factory.mktemp("runs") / "vae", "vae", digits, D)


@pytest.fixture(scope="module")
def collapsed(vae_run):
    """The trained VAE with dimension COLLAPSED forced to q(z_d|x) = N(0, 1) for every x: the rows
    of the encoder's last layer that give mu_d and logvar_d set to 0."""
    model = copy.deepcopy(vae_run.model)
    head = model.encoder.head
    assert head.out_features == 2 * D  # (mu, logvar) = head(h).chunk(2)
    with torch.no_grad():
        for row in (COLLAPSED, D + COLLAPSED):
            head.weight[row].zero_()
            head.bias[row].zero_()
    return model


def test_kl_per_dim_sums_to_the_evaluated_kl(vae_run, digits):
    images = digits.test.images
    usage = latent_usage(vae_run.model, images, batch_size=37)
    kl = usage["kl_per_dim"]
    print(f"[latent usage] {usage['active_units']} of {D} active {usage['active_dims']}; "
          f"KL per dim {' '.join(f'{v:.2f}' for v in kl)}; var of mean "
          f"{' '.join(f'{v:.3f}' for v in usage['mean_variance'])}")
    assert len(kl) == D and all(isinstance(v, float) and v >= 0 for v in kl)
    assert sum(kl) == pytest.approx(evaluate(vae_run.model, images)["kl"], rel=0.01)
    assert usage["active_units"] == len(usage["active_dims"]) >= 1  # one epoch already uses some dimensions
    assert sum(kl) > 0.5


def test_streamed_numbers_match_the_whole_split_at_once(vae_run, digits):
    """Batches of 37 merged give what numpy gives on all codes together."""
    images = digits.test.images
    mu, logvar = encode_images(vae_run.model, images, with_logvar=True)
    mu, logvar = mu.astype(np.float64), logvar.astype(np.float64)
    usage = latent_usage(vae_run.model, images, batch_size=37)
    np.testing.assert_allclose(usage["mean_variance"], mu.var(axis=0), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(usage["kl_per_dim"], (0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar)).mean(0),
                               rtol=1e-4, atol=1e-7)
    assert usage["active_dims"] == [int(d) for d in np.flatnonzero(mu.var(axis=0) > ACTIVE_UNIT_THRESHOLD)]
    whole = latent_usage(vae_run.model, images, batch_size=len(images))
    assert whole["active_dims"] == usage["active_dims"]
    np.testing.assert_allclose(whole["kl_per_dim"], usage["kl_per_dim"], rtol=1e-6, atol=1e-9)


def test_a_collapsed_dimension_has_no_kl_and_is_inactive(collapsed, vae_run, digits):
    images = digits.test.images
    before = latent_usage(vae_run.model, images)
    after = latent_usage(collapsed, images, batch_size=64)
    assert after["kl_per_dim"][COLLAPSED] == pytest.approx(0.0, abs=1e-9)
    assert after["mean_variance"][COLLAPSED] == pytest.approx(0.0, abs=1e-12)
    assert COLLAPSED not in after["active_dims"]
    assert after["active_units"] == before["active_units"] - (COLLAPSED in before["active_dims"])
    others = [d for d in range(D) if d != COLLAPSED]
    np.testing.assert_allclose([after["kl_per_dim"][d] for d in others],
                               [before["kl_per_dim"][d] for d in others], rtol=1e-6)
    assert sum(after["kl_per_dim"]) == pytest.approx(evaluate(collapsed, images)["kl"], rel=0.01)


def test_the_model_is_left_in_the_mode_it_was_in(vae_run, digits):
    vae_run.model.train()
    latent_usage(vae_run.model, digits.test.images[:10])
    assert vae_run.model.training
    vae_run.model.eval()


def test_an_autoencoder_has_no_latent_usage(tmp_path, digits, capsys):
    ae = _train(tmp_path / "ae", "ae", digits, 2)
    assert latent_usage(ae.model, digits.test.images) is None
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "ae"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert "recon" in res and not {"kl_per_dim", "active_units", "active_dims", "mean_variance"} & set(res)
    assert main(["evaluate", str(tmp_path / "ae")]) == 0
    text = capsys.readouterr().out
    assert "latent usage: not measured" in text and "no posterior" in text


def test_evaluate_cli_json_and_text(vae_run, capsys):
    folder = str(vae_run.path)
    capsys.readouterr()
    assert main(["evaluate", folder, "--json", "--batch-size", "64"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 200
    assert len(res["kl_per_dim"]) == D and all(v >= 0 for v in res["kl_per_dim"])
    assert sum(res["kl_per_dim"]) == pytest.approx(res["kl"], rel=0.01)
    assert isinstance(res["active_units"], int) and res["active_units"] == len(res["active_dims"])
    assert all(0 <= d < D for d in res["active_dims"])
    assert main(["evaluate", folder]) == 0
    text = capsys.readouterr().out
    line = next(line for line in text.splitlines() if line.startswith("active units:"))
    assert line.startswith(f"active units: {res['active_units']} of {D} (variance of the posterior mean > 0.01)")
    shown = [float(v) for v in line.split("KL per dimension:")[1].split()]
    np.testing.assert_allclose(shown, res["kl_per_dim"], atol=0.006)

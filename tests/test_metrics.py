import numpy as np
import pytest
import torch

from helpers import blob_dataset
from vaestudio.core.batches import images_to_float
from vaestudio.core.config import TrainConfig
from vaestudio.core.kinds import build_model, make_model_config
from vaestudio.core.metrics import evaluate, iw_log_likelihood
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer


@pytest.fixture(scope="module")
def vae_and_data():
    ds = blob_dataset(800)
    run = Run.new(make_model_config(kind="vae", image_shape=(1, 12, 12), latent_dim=2, hidden=(32,)),
                  TrainConfig(epochs=3, batch_size=32, lr=3e-3, device="cpu"))
    Trainer(run, ds).train()
    return run.model, ds


def test_evaluate_parts_add_up(vae_and_data):
    m, ds = vae_and_data
    res = evaluate(m, ds.test.images, batch_size=37)
    assert res["n"] == len(ds.test)
    assert res["neg_elbo"] == pytest.approx(res["recon"] + res["kl"], rel=1e-5)
    assert res["kl"] > 0 and res["recon"] > 0


def test_iwae_bound_below_elbo_and_tightens_with_k(vae_and_data):
    m, ds = vae_and_data
    x = images_to_float(torch.from_numpy(np.ascontiguousarray(ds.test.images[:60])))
    torch.manual_seed(1)
    # average over repeats to compare expectations, not single noisy draws
    nll = {k: float(np.mean([-iw_log_likelihood(m, x, k).mean() for _ in range(5)])) for k in (1, 10, 200)}
    torch.manual_seed(1)
    with torch.no_grad():
        elbo = float(np.mean([float(m(x, beta=1.0)["neg_elbo"]) for _ in range(5)]))
    assert nll[1] == pytest.approx(elbo, rel=0.05)  # K = 1 is the ELBO in expectation
    assert nll[200] < nll[10] < nll[1] + 0.1
    assert nll[200] <= elbo


def test_iwae_chunking_does_not_change_the_estimate(vae_and_data):
    m, ds = vae_and_data
    x = images_to_float(torch.from_numpy(np.ascontiguousarray(ds.test.images[:10])))
    torch.manual_seed(3)
    one = float(iw_log_likelihood(m, x, 400, chunk_elems=10_000_000).mean())
    torch.manual_seed(3)
    many = float(iw_log_likelihood(m, x, 400, chunk_elems=100).mean())  # 40 chunks of 10 samples
    # a wrong combination of chunks would be off by about log(40) = 3.7 nats
    assert abs(one - many) < 0.3


def test_evaluate_reports_nll_iw_for_vae_only(vae_and_data):
    m, ds = vae_and_data
    res = evaluate(m, ds.test.images[:40], iw_samples=20)
    assert res["nll_iw"] <= res["neg_elbo"] + 1.0
    ae = build_model(make_model_config(kind="ae", image_shape=(1, 12, 12), latent_dim=2, hidden=(8,)))
    with pytest.raises(ValueError, match="does not apply"):
        evaluate(ae, ds.test.images[:10], iw_samples=5)
    res = evaluate(ae, ds.test.images[:10])
    assert set(res) == {"recon", "n"}  # an autoencoder has no ELBO and no KL to report

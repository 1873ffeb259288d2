import math

import pytest
import torch

from vaestudio.core.errors import ConfigError
from vaestudio.core.kinds import build_model, config_from_dict, make_model_config
from vaestudio.core.models import conv_plan, kl_normal

CASES = [
    ("mlp", (1, 28, 28)),
    ("conv", (1, 28, 28)),
    ("conv", (3, 64, 64)),
    ("conv", (3, 32, 32)),
]


@pytest.mark.parametrize("arch,shape", CASES)
@pytest.mark.parametrize("kind", ["ae", "vae"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_shapes_and_losses(arch, shape, kind, likelihood):
    cfg = make_model_config(kind=kind, arch=arch, image_shape=shape, latent_dim=7, hidden=(32,), conv_width=4,
                            likelihood=likelihood)
    m = build_model(cfg)
    x = torch.rand(5, *shape)
    mu, logvar = m.encode(x)
    assert mu.shape == (5, 7)
    assert (logvar is None) == (kind == "ae")
    if logvar is not None:
        assert logvar.shape == (5, 7)
    with torch.no_grad():
        img = m.decode(torch.randn(5, 7))
    assert img.shape == (5, *shape)
    assert float(img.min()) >= 0.0 and float(img.max()) <= 1.0
    out = m(x)
    assert set(out) == ({"loss", "recon"} if kind == "ae" else {"loss", "recon", "kl", "neg_elbo"})
    for key in out:
        assert out[key].shape == () and math.isfinite(float(out[key].detach()))
    if kind == "vae":
        assert float(out["kl"]) >= 0.0
    out["loss"].backward()
    assert all(p.grad is not None for p in m.parameters() if p.requires_grad)


def test_kl_matches_closed_form():
    mu = torch.tensor([[0.5, -1.0, 2.0]])
    var = torch.tensor([[0.25, 1.0, 4.0]])
    expected = 0.5 * sum(float(v + m * m - 1 - math.log(v)) for m, v in zip(mu[0], var[0]))
    assert float(kl_normal(mu, var.log())[0]) == pytest.approx(expected, rel=1e-6)
    assert float(kl_normal(torch.zeros(1, 4), torch.zeros(1, 4))[0]) == pytest.approx(0.0, abs=1e-7)


def test_bernoulli_recon_is_summed_bce():
    cfg = make_model_config(kind="ae", arch="mlp", image_shape=(1, 2, 2), latent_dim=1, hidden=(3,))
    m = build_model(cfg)
    logits = torch.zeros(1, 1, 2, 2)
    x = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]])
    assert float(m.recon_nll(logits, x)[0]) == pytest.approx(4 * math.log(2), rel=1e-6)


def test_gaussian_recon_is_a_density_in_nats():
    cfg = make_model_config(kind="ae", arch="mlp", image_shape=(1, 1, 2), latent_dim=1, hidden=(3,),
                            likelihood="gaussian", gaussian_sigma=0.5)
    m = build_model(cfg)
    logits = torch.zeros(1, 1, 1, 2)  # mean 0.5
    x = torch.tensor([[[[0.5, 1.0]]]])
    expected = sum(0.5 * ((0.5 - v) / 0.5) ** 2 + math.log(0.5) + 0.5 * math.log(2 * math.pi) for v in (0.5, 1.0))
    assert float(m.recon_nll(logits, x)[0]) == pytest.approx(expected, rel=1e-5)


def test_learned_sigma_is_a_parameter():
    m = build_model(make_model_config(image_shape=(1, 4, 4), hidden=(8,), likelihood="gaussian", gaussian_sigma=None))
    assert any(p is m.log_sigma for p in m.parameters())
    assert m.sigma() == pytest.approx(0.1, rel=1e-5)


def test_conv_plan_sizes():
    assert conv_plan((3, 64, 64)) == (4, (4, 4))
    assert conv_plan((1, 28, 28)) == (2, (7, 7))
    assert conv_plan((3, 32, 32)) == (3, (4, 4))
    assert conv_plan((3, 128, 128)) == (4, (8, 8))
    with pytest.raises(ConfigError, match="halves"):
        conv_plan((1, 7, 7))


@pytest.mark.parametrize("bad", [dict(kind="gan"), dict(arch="rnn"), dict(latent_dim=0), dict(kind="ae", beta=2),
                                 dict(likelihood="poisson"), dict(beta=-1), dict(hidden=())])
def test_bad_config_is_refused(bad):
    with pytest.raises(ConfigError):
        make_model_config(**bad)


def test_config_round_trip():
    cfg = make_model_config(kind="ae", arch="conv", image_shape=(3, 64, 64), latent_dim=100, conv_width=8)
    assert config_from_dict(cfg.to_dict()) == cfg and cfg.to_dict()["kind"] == "ae"
    with pytest.raises(ConfigError, match="unknown"):
        config_from_dict({**cfg.to_dict(), "evil": 1})


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_fast_vae_path_matches_the_textbook_step(likelihood):
    """The fused autograd functions give the textbook expressions' values and gradients."""
    cfg = make_model_config(kind="vae", image_shape=(1, 6, 6), latent_dim=3, hidden=(16,), likelihood=likelihood)
    torch.manual_seed(0)
    m = build_model(cfg)
    x = torch.rand(8, 1, 6, 6)
    results = []
    for fast in (True, False):
        m.fast = fast
        m.zero_grad()
        torch.manual_seed(1)
        out = m(x, beta=0.7)
        out["loss"].backward()
        results.append((out, [p.grad.clone() for p in m.parameters()]))
    (fast_out, fast_grads), (book_out, book_grads) = results
    for key in ("loss", "recon", "kl"):
        assert float(fast_out[key]) == pytest.approx(float(book_out[key]), rel=1e-5)
    for a, b in zip(fast_grads, book_grads):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def test_bernoulli_nll_matches_torch_bce_including_extremes():
    from torch.nn import functional as F

    from vaestudio.core.models import bernoulli_nll
    torch.manual_seed(0)
    logits = torch.cat([torch.randn(4, 1, 5, 5) * 8, torch.full((1, 1, 5, 5), 90.0), torch.full((1, 1, 5, 5), -90.0)])
    x = torch.rand(6, 1, 5, 5)
    ref = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    assert torch.allclose(bernoulli_nll(logits, x), ref, rtol=1e-5, atol=1e-4)


def test_hand_written_gradients_match_autograd():
    from vaestudio.core.models import _BernoulliNLL, _SampleAndKL

    torch.manual_seed(0)
    logits = (torch.randn(3, 1, 4, 4, dtype=torch.float64) * 4).requires_grad_()
    x = torch.rand(3, 1, 4, 4, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(_BernoulliNLL.apply, (logits, x))
    mu = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    logvar = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    eps = torch.randn(4, 3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda m, lv: _SampleAndKL.apply(m, lv, eps), (mu, logvar))
    z, kl = _SampleAndKL.apply(mu, logvar, eps)
    assert torch.allclose(z, mu + eps * (0.5 * logvar).exp())
    assert torch.allclose(kl, kl_normal(mu, logvar))

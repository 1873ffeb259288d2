"""Held-out quality in nats per image: the terms a model kind declares for evaluation (a VAE's
negative ELBO and its two parts, an autoencoder's reconstruction), and the IWAE bound.

Units match the classic PyTorch VAE example (summed over pixels, averaged over images), so
its ~105.6 on the MNIST test set after 10 epochs is directly comparable.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch

from .batches import float_batch
from .kinds import IW_BOUND, POSTERIOR, kind_of
from .models import LOG_2PI, AutoEncoder


def _batches(images: np.ndarray, batch_size: int, device):
    for i in range(0, images.shape[0], batch_size):
        yield float_batch(images[i:i + batch_size], device)


@torch.inference_mode()
def iw_log_likelihood(model: AutoEncoder, x: torch.Tensor, k: int, chunk_elems: int = 64_000) -> torch.Tensor:
    """log p(x) estimated with K importance samples from q(z|x), per image (N,).

    log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x): a lower bound that tightens as K grows and
    equals the ELBO's expectation at K = 1.
    """
    mu, logvar = model.encode(x)
    if logvar is None:
        raise ValueError("the importance-weighted bound needs a VAE (a plain autoencoder has no q(z|x))")
    n, d = mu.shape
    std = (0.5 * logvar).exp()
    per = max(1, chunk_elems // max(n, 1))
    parts = []
    done = 0
    while done < k:
        kk = min(per, k - done)
        eps = torch.randn(kk, n, d, device=x.device)
        z = mu + eps * std  # (kk, n, d)
        log_q = (-0.5 * (eps.pow(2) + logvar + LOG_2PI)).sum(-1)
        log_pz = (-0.5 * (z.pow(2) + LOG_2PI)).sum(-1)
        logits = model.decode_logits(z.reshape(kk * n, d))
        xr = x.unsqueeze(0).expand(kk, *x.shape).reshape(kk * n, *x.shape[1:])
        log_px = -model.recon_nll(logits, xr).view(kk, n)
        parts.append(torch.logsumexp(log_px + log_pz - log_q, dim=0))
        done += kk
    stacked = torch.stack(parts)  # each part is a logsumexp over its own chunk
    return torch.logsumexp(stacked, dim=0) - math.log(k)


@torch.inference_mode()
def evaluate(model: AutoEncoder, images: np.ndarray, *, batch_size: int = 500, iw_samples: int = 0,
             device=None, seed: Optional[int] = 0) -> dict:
    """Mean per-image evaluation terms of the model's kind (and `nll_iw` when iw_samples > 0)
    over uint8 images."""
    kind = kind_of(model.config)
    if iw_samples > 0 and not kind.has(IW_BOUND):
        raise ValueError(f"the importance-weighted bound does not apply to a {kind.title}")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    if seed is not None:
        torch.manual_seed(seed)
    tot = {t.name: 0.0 for t in kind.eval_terms}
    nll = 0.0
    n = int(images.shape[0])
    for x in _batches(images, batch_size, device):
        out = kind.evaluation_terms(model, x, model.config)
        b = x.shape[0]
        for key in tot:
            tot[key] += float(out[key]) * b
        if iw_samples > 0:
            nll += float(-iw_log_likelihood(model, x, iw_samples).sum())
    model.train(was_training)
    res = {k: v / max(n, 1) for k, v in tot.items()}
    res["n"] = n
    if iw_samples > 0:
        res["nll_iw"] = nll / max(n, 1)
        res["iw_samples"] = iw_samples
    return res


ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. 2016: a dimension is active when Var_x E[z_d | x] > 0.01
NO_POSTERIOR_USAGE = "no posterior q(z|x), so no KL per dimension or active units"


@torch.inference_mode()
def latent_usage(model: AutoEncoder, images: np.ndarray, *, batch_size: int = 500, device=None) -> Optional[dict]:
    """How much of the latent space the posterior uses, over uint8 images (None for a kind
    without a posterior: see `NO_POSTERIOR_USAGE`).

    `kl_per_dim`: the mean over images of each dimension's analytic KL(q(z_d|x) || N(0, 1)); the D
    numbers sum to the kind's `kl` evaluation term, so a dimension near 0 carries no information
    (posterior collapse). `mean_variance`: the variance over the images of E[z_d|x]; a dimension is
    active (`active_dims`, counted in `active_units`) when it exceeds ACTIVE_UNIT_THRESHOLD.
    Computed batch by batch (float64 running sums merged with Chan's update), so only one batch is
    ever held as floats.
    """
    if not kind_of(model.config).has(POSTERIOR):
        return None
    n_total = int(images.shape[0])
    if n_total == 0:
        raise ValueError("latent usage needs at least one image")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    dim = int(model.config.latent_dim)
    kl_sum = np.zeros(dim)
    mean = np.zeros(dim)
    m2 = np.zeros(dim)  # sum of squared deviations from the running mean
    n = 0
    try:
        for x in _batches(images, batch_size, device):
            mu, logvar = model.encode(x)
            mu, logvar = mu.double(), logvar.double()
            kl_sum += (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)).sum(0).cpu().numpy()
            b = mu.shape[0]
            b_mean = mu.mean(0)
            b_m2 = (mu - b_mean).pow(2).sum(0).cpu().numpy()
            b_mean = b_mean.cpu().numpy()
            delta = b_mean - mean
            total = n + b
            mean = mean + delta * (b / total)
            m2 = m2 + b_m2 + delta ** 2 * (n * b / total)
            n = total
    finally:
        model.train(was_training)
    variance = m2 / n
    active = [int(d) for d in np.flatnonzero(variance > ACTIVE_UNIT_THRESHOLD)]
    kl = np.maximum(kl_sum / n, 0.0)  # each term is >= 0; rounding may leave -1e-17 on a collapsed one
    return {"kl_per_dim": [float(v) for v in kl], "active_units": len(active), "active_dims": active,
            "mean_variance": [float(v) for v in variance]}

"""`vae`: the variational autoencoder, q(z|x) = N(mu(x), diag exp(logvar(x))), prior N(0, I).

The training step is the textbook one (the PyTorch example's `loss_function` + `train`): encode,
draw z with the reparameterisation trick, decode, loss = reconstruction + beta * KL, backward,
Adam step. `forward` runs it through two fused autograd functions (`sample_and_kl`, the
Bernoulli NLL) that give the same numbers faster; `fast = False` on a model switches to the
plain textbook expressions (`textbook_terms`), which the tests hold the fast path to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

import torch
from torch.nn import functional as F

from ..config import ModelConfig, option
from ..models import AutoEncoder, kl_normal, reconstruction_nll, sample_and_kl
from .base import CUDA_GRAPH, IW_BOUND, POSTERIOR, PRIOR, LossTerm, ModelKind, StepContext

RECON = LossTerm("recon", "Reconstruction", help="-log p(x | z), z drawn from q(z | x)")
KL = LossTerm("kl", "KL divergence", help="KL(q(z | x) || N(0, I))")
NEG_ELBO = LossTerm("neg_elbo", "-ELBO", plotted=False, help="reconstruction + KL: an upper bound on -log p(x)")


@dataclass
class VAEConfig(ModelConfig):
    kind: ClassVar[str] = "vae"
    beta: float = option(1.0, "β (KL weight)", "weight on the KL term (β-VAE); 1 is the plain VAE",
                         lo=0.0, hi=1000.0)
    kl_warmup_epochs: int = option(0, "KL warm-up (epochs)", "ramp the KL weight linearly from 0 to β "
                                   "over this many epochs", flag="--kl-warmup", lo=0, hi=100_000)


def kl_weight(beta: float, warmup_epochs: int, epoch_progress: float) -> float:
    """Linear KL warm-up: 0 -> beta over the first `warmup_epochs` epochs (progress in epochs)."""
    if warmup_epochs <= 0:
        return beta
    return beta * min(1.0, epoch_progress / warmup_epochs)


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


class VariationalAutoEncoder(AutoEncoder):
    fast = True  # the fused autograd functions; False: the textbook expressions

    @staticmethod
    def encoder_outputs(cfg: ModelConfig) -> int:
        return 2 * cfg.latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def forward(self, x: torch.Tensor, beta: Optional[float] = None) -> dict:
        """Per-image means: `loss` = recon + beta * kl (the objective), `neg_elbo` = recon + kl."""
        beta = self.config.beta if beta is None else beta
        mu, logvar = self.encode(x)
        if self.fast:
            z, kl_rows = sample_and_kl(mu, logvar)
            recon = self.recon_nll(self.decode_logits(z), x).mean()
            kl = kl_rows.mean()
        else:
            recon, kl = textbook_terms(self, x, mu, logvar)
        return {"loss": recon + beta * kl, "recon": recon, "kl": kl, "neg_elbo": recon + kl}


def textbook_terms(model: VariationalAutoEncoder, x, mu, logvar) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstruction and KL per image as the PyTorch example writes them (BCE + the analytic KL)."""
    z = reparameterise(mu, logvar)
    logits = model.decode_logits(z)
    if model.config.likelihood == "bernoulli":
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    else:
        recon = reconstruction_nll(model.config, logits, x, model.log_sigma).mean()
    return recon, kl_normal(mu, logvar).mean()


class VAEKind(ModelKind):
    name = "vae"
    title = "VAE (variational)"
    description = "a variational autoencoder: q(z|x) Gaussian, prior N(0, I), loss = recon + β·KL"
    config_class = VAEConfig
    loss_terms = (LossTerm("loss", "Loss (−ELBO with β)", help="reconstruction + β × KL: the training "
                                                                "objective (the −ELBO when β = 1)"), RECON, KL)
    eval_terms = (NEG_ELBO, RECON, KL)
    capabilities = frozenset({PRIOR, POSTERIOR, IW_BOUND, CUDA_GRAPH})

    def build(self, config: VAEConfig) -> VariationalAutoEncoder:
        return VariationalAutoEncoder(config)

    def step_args(self, config: VAEConfig, ctx: StepContext) -> dict:
        beta = kl_weight(config.beta, config.kl_warmup_epochs, ctx.epoch_progress)
        ctx.extras["beta"] = beta
        return {"beta": beta}

    def validation_terms(self, model, x, config: VAEConfig) -> dict:
        return model(x, beta=config.beta)

    def evaluation_terms(self, model, x, config: VAEConfig) -> dict:
        out = model(x, beta=1.0)
        return {t.name: out[t.name] for t in self.eval_terms}


KIND = VAEKind()

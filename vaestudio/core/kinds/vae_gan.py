"""`vae-gan`: the VAE/GAN of Larsen et al. 2015, "Autoencoding beyond pixels using learned
similarity metrics" (arXiv 1512.09300).

Three networks in one module: the encoder q(z|x) and the decoder (the GAN's generator) of a
VAE, and a discriminator D. The reconstruction error is measured in D's feature space: with
Dis_l(x) the discriminator's last hidden layer and a Gaussian of std `feature_sigma` on it,

    recon_feature = -log N(Dis_l(x) | Dis_l(x~), sigma^2 I) = ||Dis_l(x) - Dis_l(x~)||^2 / 2 sigma^2  (+ const)

where x~ = Dec(z), z ~ q(z|x). The GAN sees real images x, reconstructions x~ and prior samples
x_p = Dec(z_p), z_p ~ N(0, I). Each network has its own objective and its own optimiser
(Algorithm 1 of the paper, plus a pixel term):

    encoder:       kl + recon_feature + pixel_weight * recon          (reported as `loss`)
    decoder:       gamma * recon_feature + gan_g + pixel_weight * recon
    discriminator: gan_d = -log D(x) - log(1 - D(x~)) - log(1 - D(x_p))

`gan_g` is the non-saturating generator loss -log D(x~) - log D(x_p); `recon` is the pixel NLL
(what a VAE trains on). The paper has no pixel term (`pixel_weight` 0). Here it defaults to 1:
a spectrally normalised D's last hidden layer has fewer numbers than the image (250 against 784
for the 784-500-250 MLP), so matching features alone leaves the decoder a null space it fills
with speckle noise, and a 2-D latent collapses; the pixel term pins that down while the feature
and GAN terms sharpen. `evaluate` reports the pixel -ELBO, comparable with a VAE's.

Stabilisers: spectral norm on every layer of D (`torch.nn.utils.parametrizations`; its power
iteration vectors are buffers, so they are saved and resumed with the weights) and the
equilibrium gating of the authors' code: D is not updated in a step where its mean loss on real
or on fake images is below `equilibrium - margin` (it wins too easily), the decoder is not
updated where either is above `equilibrium + margin` (it loses too badly); never both. How often
each was updated in the epoch lands in the history as `d_update_rate` and `g_update_rate`.

One forward call does the step's computation (`module(x, part="train")`), so the module can be
wrapped; the kind's `train_step` backpropagates each objective into its own network's parameters
(taken from that network's optimiser) before any of them steps. (Three backward passes, each
restricted to one network, which DistributedDataParallel's reducer cannot follow: on several
processes each optimiser averages its gradients just before it steps, see core/distributed.py.) Randomness comes from torch's
global generator only, which the trainer saves and restores, so a resumed run is exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from ..config import ModelConfig, TrainConfig, option
from ..distributed import global_mean
from ..models import conv_plan, sample_and_kl
from .base import POSTERIOR, PRIOR, LossTerm, ModelKind, StepContext
from .vae import KL, NEG_ELBO, RECON, VariationalAutoEncoder

NETWORKS = ("encoder", "decoder", "discriminator")  # optimiser names, one per network


@dataclass
class VAEGANConfig(ModelConfig):
    kind: ClassVar[str] = "vae-gan"
    gamma: float = option(0.5, "γ (feature vs GAN weight)",
                          "the decoder minimises γ × feature reconstruction + GAN loss", lo=0.0, hi=1000.0)
    feature_sigma: float = option(0.2, "Feature σ",
                                  "std of the Gaussian on the discriminator's features: the feature "
                                  "reconstruction is ||Dis_l(x) - Dis_l(x~)||² / 2σ²", lo=0.001, hi=100.0)
    pixel_weight: float = option(1.0, "Pixel reconstruction weight",
                                 "weight of the pixel NLL in the encoder's and decoder's objectives "
                                 "(0: the paper's pure learned similarity; the pixel term is then reported only)", lo=0.0, hi=1000.0)
    equilibrium: float = option(0.68, "GAN equilibrium (nats)",
                                "the discriminator's loss per image when neither side wins (about ln 2)",
                                lo=0.0, hi=10.0)
    margin: float = option(0.35, "Gating margin (nats)",
                           "skip updating D when its real or fake loss is below equilibrium - margin, "
                           "the decoder when above equilibrium + margin (large: no gating)", lo=0.0, hi=100.0)
    encoder_lr_scale: float = option(1.0, "Encoder LR (× learning rate)",
                                     "the encoder's learning rate, as a multiple of the run's", lo=0.001, hi=1000.0)
    decoder_lr_scale: float = option(1.0, "Decoder LR (× learning rate)",
                                     "the decoder's learning rate, as a multiple of the run's", lo=0.001, hi=1000.0)
    discriminator_lr_scale: float = option(1.0, "Discriminator LR (× learning rate)",
                                           "the discriminator's learning rate, as a multiple of the run's",
                                           flag="--disc-lr-scale", lo=0.001, hi=1000.0)

    def extra_parameters(self) -> int:
        return discriminator_parameters(self)


def discriminator_parameters(cfg: ModelConfig) -> int:
    """D's parameter count by arithmetic: the encoder's backbone with one output."""
    c, h, w = (tuple(cfg.image_shape) + (1, 1, 1))[:3]
    if cfg.arch == "conv":
        n = 0
        while n < 4 and h % 2 == 0 and w % 2 == 0 and h > 4 and w > 4:
            h, w, n = h // 2, w // 2, n + 1
        widths = [c] + [cfg.conv_width * 2**i for i in range(max(n, 1))]
        return sum(a * b * 16 + b for a, b in zip(widths, widths[1:])) + widths[-1] * h * w + 1
    sizes = [c * h * w, *cfg.hidden]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:])) + sizes[-1] + 1


class Discriminator(nn.Module):
    """The encoder's backbone (MLP or strided convs) with LeakyReLU and spectral norm on every
    layer; returns (Dis_l features: the last hidden layer, flattened; the logit of "real")."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        layers: list[nn.Module] = []
        if cfg.arch == "mlp":
            d = math.prod(cfg.image_shape)
            layers.append(nn.Flatten())
            for h in cfg.hidden:
                layers += [spectral_norm(nn.Linear(d, h)), nn.LeakyReLU(0.2)]
                d = h
        else:
            n, (h, w) = conv_plan(cfg.image_shape)
            c_in = cfg.image_shape[0]
            for i in range(n):
                c = cfg.conv_width * 2**i
                layers += [spectral_norm(nn.Conv2d(c_in, c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
                c_in = c
            layers.append(nn.Flatten())
            d = c_in * h * w
        self.body = nn.Sequential(*layers)
        self.head = spectral_norm(nn.Linear(d, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(x)
        return f, self.head(f).squeeze(1)


def gate(real_loss, fake_loss, equilibrium: float, margin: float) -> tuple[bool, bool]:
    """The equilibrium rule: (update D?, update the decoder?) from D's mean losses per image
    on real and on fake images. D rests while it wins too easily (either loss below
    equilibrium - margin), the decoder while it loses too badly (either above equilibrium +
    margin); when both would rest, both train."""
    real_loss, fake_loss = float(real_loss), float(fake_loss)
    update_d = not (real_loss < equilibrium - margin or fake_loss < equilibrium - margin)
    update_g = not (real_loss > equilibrium + margin or fake_loss > equilibrium + margin)
    if not (update_d or update_g):
        return True, True
    return update_d, update_g


class VAEGAN(VariationalAutoEncoder):
    """Encoder, decoder and discriminator in one module; the VAE's encode/decode language."""

    def __init__(self, cfg: VAEGANConfig):
        super().__init__(cfg)
        self.discriminator = Discriminator(cfg)
        # Steps, D updates and decoder updates in the current epoch: saved with the weights, so
        # the update rates of an epoch that was stopped and resumed are those of one that was not.
        self.register_buffer("gate_counts", torch.zeros(3))

    def networks(self) -> dict:
        """Optimiser name -> that network's parameters (a learned pixel sigma goes with the decoder)."""
        decoder = list(self.decoder.parameters()) + ([self.log_sigma] if self.log_sigma is not None else [])
        return {"encoder": list(self.encoder.parameters()), "decoder": decoder,
                "discriminator": list(self.discriminator.parameters())}

    def forward(self, x: torch.Tensor, part: str = "terms", new_epoch: bool = False) -> dict:
        """`part`: "terms" (every loss term, per-image means), "train" (the terms, the three
        objectives and the gating decision of one training step), "elbo" (the pixel -ELBO and
        its parts, as a VAE reports them)."""
        if part == "elbo":
            mu, logvar = self.encode(x)
            z, kl_rows = sample_and_kl(mu, logvar)
            recon, kl = self.recon_nll(self.decode_logits(z), x).mean(), kl_rows.mean()
            return {"neg_elbo": recon + kl, "recon": recon, "kl": kl}
        if part not in ("terms", "train"):
            raise ValueError(f"unknown part {part!r}")
        cfg: VAEGANConfig = self.config
        n = x.shape[0]
        mu, logvar = self.encode(x)
        z, kl_rows = sample_and_kl(mu, logvar)
        logits = self.decode_logits(z)
        recon = self.recon_nll(logits, x).mean()
        kl = kl_rows.mean()
        x_p = self.decode(torch.randn_like(z))
        feats, d = self.discriminator(torch.cat([x, torch.sigmoid(logits), x_p]))
        f_real, f_tilde = feats[:n].detach(), feats[n:2 * n]
        d_real, d_tilde, d_p = d[:n], d[n:2 * n], d[2 * n:]
        recon_feature = (0.5 / cfg.feature_sigma**2) * (f_tilde - f_real).pow(2).sum(1).mean()
        real_loss = F.softplus(-d_real).mean()  # -log D(x)
        fake_loss = 0.5 * (F.softplus(d_tilde).mean() + F.softplus(d_p).mean())  # -log(1 - D(.)), both fakes
        gan_d = real_loss + 2 * fake_loss
        gan_g = F.softplus(-d_tilde).mean() + F.softplus(-d_p).mean()
        loss = kl + recon_feature + cfg.pixel_weight * recon
        out = {"loss": loss, "recon_feature": recon_feature, "kl": kl, "gan_g": gan_g, "gan_d": gan_d,
               "recon": recon, "neg_elbo": recon + kl}
        if part == "train":
            out["decoder_objective"] = cfg.gamma * recon_feature + gan_g + cfg.pixel_weight * recon
            # on several processes, the whole batch's losses: every rank gates as one process would
            d_real_loss, d_fake_loss = global_mean(real_loss.detach(), fake_loss.detach())
            update_d, update_g = gate(d_real_loss, d_fake_loss, cfg.equilibrium, cfg.margin)
            with torch.no_grad():
                if new_epoch:
                    self.gate_counts.zero_()
                self.gate_counts.add_(torch.tensor([1.0, float(update_d), float(update_g)]))
            out.update(update_d=update_d, update_g=update_g, d_real_loss=d_real_loss,
                       d_fake_loss=d_fake_loss, d_update_rate=float(self.gate_counts[1] / self.gate_counts[0]),
                       g_update_rate=float(self.gate_counts[2] / self.gate_counts[0]))
        return out


class VAEGANKind(ModelKind):
    name = "vae-gan"
    title = "VAE-GAN (learned similarity)"
    description = ("a VAE whose reconstruction is measured in a discriminator's features, trained with "
                   "that discriminator as a GAN (Larsen et al. 2015)")
    config_class = VAEGANConfig
    loss_terms = (
        LossTerm("loss", "Loss (encoder: feature recon + KL)",
                 help="what the encoder minimises: the feature reconstruction + KL"),
        LossTerm("recon_feature", "Feature reconstruction",
                 help="0.5 ||Dis_l(x) - Dis_l(x~)||²: -log N(Dis_l(x) | Dis_l(x~), I) up to a constant"),
        KL,
        LossTerm("gan_g", "GAN loss (decoder)", help="-log D(x~) - log D(x_p): the decoder's GAN term"),
        LossTerm("gan_d", "GAN loss (discriminator)",
                 help="-log D(x) - log(1 - D(x~)) - log(1 - D(x_p)): what the discriminator minimises"),
        LossTerm("recon", "Pixel reconstruction", help="-log p(x | z) in pixels, z drawn from q(z | x): "
                                                       "reported for comparison with a VAE"),
    )
    eval_terms = (NEG_ELBO, RECON, KL)
    capabilities = frozenset({PRIOR, POSTERIOR})

    def build(self, config: VAEGANConfig) -> VAEGAN:
        return VAEGAN(config)

    def learning_rate(self, name: str, config: VAEGANConfig, train: TrainConfig) -> float:
        return train.lr * getattr(config, f"{name}_lr_scale")

    def optimizers(self, model: VAEGAN, train: TrainConfig, device: torch.device) -> dict:
        """Adam per network with beta1 = 0.5, the usual choice for GANs."""
        return {name: _adam(params, self.learning_rate(name, model.config, train), device)
                for name, params in model.networks().items()}

    def train_step(self, module: nn.Module, x: torch.Tensor, optimizers: dict, ctx: StepContext,
                   config: VAEGANConfig) -> dict:
        out = module(x, part="train", new_epoch=float(ctx.epoch_progress).is_integer())
        update_d, update_g = out.pop("update_d"), out.pop("update_g")
        for key in ("d_real_loss", "d_fake_loss", "d_update_rate", "g_update_rate"):
            ctx.extras[key] = out.pop(key)
        objectives = [("encoder", out["loss"])]
        if update_g:
            objectives.append(("decoder", out["decoder_objective"]))
        if update_d:
            objectives.append(("discriminator", out["gan_d"]))
        for opt in optimizers.values():
            opt.zero_grad(set_to_none=True)
        # every gradient before any step: a step changes weights the other objectives' graphs hold
        for i, (name, objective) in enumerate(objectives):
            params = [p for g in optimizers[name].param_groups for p in g["params"]]
            ctx.backward(objective, inputs=params, retain_graph=i < len(objectives) - 1)
        for name, _ in objectives:
            ctx.step(optimizers[name])
        del out["decoder_objective"]
        return out

    def validation_terms(self, model, x, config) -> dict:
        return model(x, part="terms")

    def evaluation_terms(self, model, x, config) -> dict:
        return model(x, part="elbo")


def _adam(params, lr: float, device: torch.device) -> torch.optim.Optimizer:
    if device.type in ("cpu", "cuda"):
        try:
            return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=True)
        except (RuntimeError, TypeError):
            pass
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))


KIND = VAEGANKind()

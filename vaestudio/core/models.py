"""The building blocks every model kind shares: MLP and conv backbones, pixel likelihoods, the
KL to the prior, and `AutoEncoder`, the plain autoencoder the other kinds extend.

Every model speaks the same small language, which the trainer, the latent tools and the
window rely on:

- `encode(x) -> (mu, logvar)`; `logvar` is None for a plain autoencoder (mu is then E(x)).
- `decode_logits(z)`: raw decoder output, (N, C, H, W); `decode(z)`: images in [0, 1].
- `forward(x, **step_args)`: the loss terms its kind declares, per-image means in nats, with
  the objective under "loss". Training goes through `forward` so the module can be wrapped.

Inputs are float images in [0, 1] shaped (N, C, H, W).
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

from .config import ModelConfig
from .errors import ConfigError
from .precision import upcast_under_autocast

LOG_2PI = math.log(2 * math.pi)


def conv_plan(image_shape) -> tuple[int, tuple[int, int]]:
    """How many stride-2 layers a conv net uses and the feature-map size it ends on.

    It halves while both sides are even and larger than 4, at most 4 times: 64 -> 4x4 after
    four layers, 28 -> 7x7 after two, 32 -> 4x4 after three.
    """
    _, h, w = image_shape
    n = 0
    while n < 4 and h % 2 == 0 and w % 2 == 0 and h > 4 and w > 4:
        h, w, n = h // 2, w // 2, n + 1
    if n == 0:
        raise ConfigError(
            f"a conv net needs an image size that halves at least once (even sides > 4), "
            f"not {image_shape[1]}x{image_shape[2]}; use the MLP"
        )
    return n, (h, w)


class MLPEncoder(nn.Module):
    def __init__(self, cfg: ModelConfig, n_out: int):
        super().__init__()
        d_in = math.prod(cfg.image_shape)
        layers: list[nn.Module] = []
        for h in cfg.hidden:
            layers += [nn.Linear(d_in, h), nn.ReLU(inplace=True)]
            d_in = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d_in, n_out)

    def forward(self, x):
        return self.head(self.body(x.flatten(1)))


class MLPDecoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.image_shape = tuple(cfg.image_shape)
        d_in = cfg.latent_dim
        layers: list[nn.Module] = []
        for h in reversed(cfg.hidden):
            layers += [nn.Linear(d_in, h), nn.ReLU(inplace=True)]
            d_in = h
        layers.append(nn.Linear(d_in, math.prod(cfg.image_shape)))
        self.body = nn.Sequential(*layers)

    def forward(self, z):
        return self.body(z).view(z.shape[0], *self.image_shape)


class ConvEncoder(nn.Module):
    def __init__(self, cfg: ModelConfig, n_out: int):
        super().__init__()
        n, (h, w) = conv_plan(cfg.image_shape)
        c_in, layers = cfg.image_shape[0], []
        for i in range(n):
            c = cfg.conv_width * 2**i
            layers += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            c_in = c
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c_in * h * w, n_out)

    def forward(self, x):
        return self.head(self.body(x).flatten(1))


class ConvDecoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        n, (h, w) = conv_plan(cfg.image_shape)
        c = cfg.conv_width * 2 ** (n - 1)
        self.start = (c, h, w)
        self.fc = nn.Linear(cfg.latent_dim, c * h * w)
        layers: list[nn.Module] = []
        for i in reversed(range(n)):
            c_out = cfg.image_shape[0] if i == 0 else cfg.conv_width * 2 ** (i - 1)
            layers.append(nn.ConvTranspose2d(c, c_out, 4, stride=2, padding=1))
            if i:
                layers.append(nn.ReLU(inplace=True))
            c = c_out
        self.body = nn.Sequential(*layers)

    def forward(self, z):
        return self.body(F.relu(self.fc(z)).view(z.shape[0], *self.start))


def build_decoder(cfg: ModelConfig) -> nn.Module:
    return MLPDecoder(cfg) if cfg.arch == "mlp" else ConvDecoder(cfg)


def build_encoder(cfg: ModelConfig, n_out: int) -> nn.Module:
    return MLPEncoder(cfg, n_out) if cfg.arch == "mlp" else ConvEncoder(cfg, n_out)


class AutoEncoder(nn.Module):
    """The plain autoencoder: z = E(x), trained on the reconstruction term alone."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.config = cfg
        self.encoder = build_encoder(cfg, self.encoder_outputs(cfg))
        self.decoder = build_decoder(cfg)
        if cfg.likelihood == "gaussian" and cfg.gaussian_sigma is None:
            self.log_sigma = nn.Parameter(torch.full((), math.log(0.1)))
        else:
            self.log_sigma = None

    @staticmethod
    def encoder_outputs(cfg: ModelConfig) -> int:
        return cfg.latent_dim

    # -- the shared language -------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        return self.encoder(x), None

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> dict:
        recon = self.recon_nll(self.decode_logits(self.encoder(x)), x).mean()
        return {"loss": recon, "recon": recon}

    def sigma(self) -> float:
        if self.log_sigma is not None:
            return float(self.log_sigma.detach().exp())
        return float(self.config.gaussian_sigma or 0.1)

    def recon_nll(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) per image (nats), shape (N,)."""
        return reconstruction_nll(self.config, logits, x, self.log_sigma)

    def cpu_copy(self) -> "AutoEncoder":
        """A frozen CPU copy of the whole model (encoder too): what the window explores while
        the original keeps training in a worker thread."""
        twin = type(self)(self.config)
        twin.load_state_dict({k: v.detach().to("cpu", copy=True) for k, v in self.state_dict().items()})
        twin.eval()
        for p in twin.parameters():
            p.requires_grad_(False)
        return twin


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per row, in nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


class _BernoulliNLL(torch.autograd.Function):
    """Binary cross-entropy from logits, summed per image, with a hand-written backward.

    Value: relu(l) - x*l + log(1 + exp(-|l|)), equal to `F.binary_cross_entropy_with_logits`
    (to ~1e-7 relative). Gradient: sigmoid(l) - x. torch's own kernel spent 12% of a CPU
    training step in an unvectorised log-sigmoid; this forward runs in place on vectorised ops
    and the backward is three of them.
    """

    @staticmethod
    def forward(ctx, logits, x):
        ctx.save_for_backward(logits, x)
        t = logits.abs().neg_().exp_().add_(1.0).log_()
        t.add_(logits.clamp(min=0)).addcmul_(x, logits, value=-1.0)
        return t.flatten(1).sum(1)

    @staticmethod
    def backward(ctx, g):
        logits, x = ctx.saved_tensors
        g = g.view(-1, *([1] * (logits.dim() - 1)))
        d_logits = torch.sigmoid(logits).sub_(x).mul_(g) if ctx.needs_input_grad[0] else None
        d_x = (-logits * g) if ctx.needs_input_grad[1] else None
        return d_logits, d_x


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) under independent Bernoullis on the pixels, per image (N,), in nats.

    Under autocast (bf16 / fp16 training) it runs in float32 with autocast off, as autocast runs
    torch's own `binary_cross_entropy_with_logits`; the gradient flows back to the low-precision
    logits through the cast."""
    on, (logits32, x32) = upcast_under_autocast(logits, x)
    if on:
        with torch.autocast(logits.device.type, enabled=False):
            return _BernoulliNLL.apply(logits32, x32)
    return _BernoulliNLL.apply(logits, x)


class _SampleAndKL(torch.autograd.Function):
    """z = mu + eps * exp(logvar / 2) and KL(q || N(0, I)) per row, with an analytic backward.

    The same values as `reparameterise` + `kl_normal`; one node instead of a dozen small ones,
    which on a CPU cost more in bookkeeping than in arithmetic.
    """

    @staticmethod
    def forward(ctx, mu, logvar, eps):
        std = logvar.mul(0.5).exp_()
        z = torch.addcmul(mu, eps, std)
        var = std * std
        kl = (mu * mu).add_(var).sub_(logvar).sub_(1.0).sum(1).mul_(0.5)
        ctx.save_for_backward(mu, eps, std, var)
        return z, kl

    @staticmethod
    def backward(ctx, g_z, g_kl):
        mu, eps, std, var = ctx.saved_tensors
        g_kl = g_kl.unsqueeze(1)
        g_mu = torch.addcmul(g_z, g_kl, mu)
        g_lv = (var - 1.0).mul_(g_kl).addcmul_(g_z, eps * std).mul_(0.5)
        return g_mu, g_lv, None


def sample_and_kl(mu: torch.Tensor, logvar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A reparameterised draw from q(z|x) and its KL to the prior per row (in float32 with
    autocast off under autocast: exp(logvar) and the KL's sum lose too much in bf16)."""
    on, (mu32, logvar32) = upcast_under_autocast(mu, logvar)
    if on:
        with torch.autocast(mu.device.type, enabled=False):
            return _SampleAndKL.apply(mu32, logvar32, torch.randn_like(mu32))
    return _SampleAndKL.apply(mu, logvar, torch.randn_like(mu))


def reconstruction_nll(cfg: ModelConfig, logits, x, log_sigma=None) -> torch.Tensor:
    if cfg.likelihood == "bernoulli":
        return bernoulli_nll(logits, x)
    if logits.dtype in (torch.bfloat16, torch.float16):  # autocast: sum thousands of squares in fp32
        logits = logits.float()
    mean = torch.sigmoid(logits)
    if log_sigma is None:
        ls = math.log(cfg.gaussian_sigma)
        inv_var = math.exp(-2 * ls)
        sq = (mean - x).pow(2).flatten(1).sum(1)
        d = mean[0].numel()
        return 0.5 * inv_var * sq + d * (ls + 0.5 * LOG_2PI)
    sq = (mean - x).pow(2).flatten(1).sum(1)
    d = mean[0].numel()
    return 0.5 * sq * torch.exp(-2 * log_sigma) + d * (log_sigma + 0.5 * LOG_2PI)

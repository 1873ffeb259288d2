"""Model and training settings as plain dataclasses, saved inside every checkpoint.

A checkpoint holds `ModelConfig.to_dict()`; `ModelConfig.from_dict` rebuilds the exact
architecture, so a saved model re-opens with no code from the user.
"""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar, Optional

from .errors import ConfigError

# The allowed values, in one place for the core, the CLI and the window. Model kinds come from
# their registry (`core.kinds.kind_names()`), split names from `core.data.base.SPLITS`.
ARCHS = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")
DEVICES = ("auto", "cpu", "cuda", "mps")
# Arithmetic of the training step: fp32 (the default, bit-reproducible on the CPU), or autocast
# to bfloat16 / float16 (float16 with a gradient scaler); weights and optimiser states stay fp32.
PRECISIONS = ("fp32", "bf16", "fp16")


def _from_dict(cls, d: dict):
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} settings: {', '.join(sorted(unknown))}")
    return cls(**d)


def option(default, label: str, help: str = "", flag: str = "", lo=None, hi=None, choices=None, **kw):
    """A kind-specific setting with what the CLI and the window need to offer it.

    `flag` is the command-line option (default: --name with dashes), `lo`/`hi` bound a number,
    `choices` lists the values a text setting may take (a text setting without them is free text,
    at most `MAX_OPTION_TEXT` characters: e.g. a file path).
    """
    return field(default=default, metadata={"label": label, "help": help, "flag": flag, "lo": lo, "hi": hi,
                                            "choices": None if choices is None else tuple(choices)}, **kw)


MAX_OPTION_TEXT = 4096


@dataclass
class ModelConfig:
    """The backbone every kind shares. Kinds subclass it (one dataclass per kind) and set `kind`;
    fields they add are declared with `option(...)` so the CLI and the window can offer them."""

    kind: ClassVar[str] = ""
    arch: str = "mlp"
    image_shape: tuple = (1, 28, 28)  # (C, H, W)
    latent_dim: int = 2
    hidden: tuple = (400,)  # MLP hidden sizes, encoder order; the decoder mirrors them
    conv_width: int = 32  # channels of the first conv layer; doubles per layer (32/64/128/256)
    likelihood: str = "bernoulli"
    gaussian_sigma: Optional[float] = 0.1  # fixed pixel std of the Gaussian likelihood; None: learned

    def __post_init__(self):
        self.image_shape = _whole_numbers(self.image_shape, "image shape")
        self.hidden = _whole_numbers(self.hidden, "hidden sizes")
        self.validate()

    def validate(self) -> None:
        self.check_size()
        if self.arch not in ARCHS:
            raise ConfigError(f"architecture must be one of {ARCHS}, not {self.arch!r}")
        if self.likelihood not in LIKELIHOODS:
            raise ConfigError(f"likelihood must be one of {LIKELIHOODS}, not {self.likelihood!r}")
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ConfigError(f"image shape must be (C, H, W), got {self.image_shape}")
        if self.latent_dim < 1:
            raise ConfigError(f"latent dimension must be at least 1, got {self.latent_dim}")
        if self.arch == "mlp" and (not self.hidden or min(self.hidden) < 1):
            raise ConfigError("an MLP needs at least one hidden layer size >= 1")
        if self.conv_width < 1:
            raise ConfigError(f"conv width must be at least 1, got {self.conv_width}")
        if self.gaussian_sigma is not None and self.gaussian_sigma <= 0:
            raise ConfigError("the Gaussian sigma must be > 0 (or None to learn it)")
        for f in kind_options(type(self)):
            lo, hi, v = f.metadata["lo"], f.metadata["hi"], getattr(self, f.name)
            choices = f.metadata.get("choices")
            if isinstance(f.default, str):
                if not isinstance(v, str) or len(v) > MAX_OPTION_TEXT:
                    raise ConfigError(f"{f.metadata['label']} must be text of at most {MAX_OPTION_TEXT} "
                                      f"characters, not {v!r:.60}")
                if choices and v not in choices:
                    raise ConfigError(f"{f.metadata['label']} must be one of {', '.join(choices)}, not {v!r:.60}")
                continue
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise ConfigError(f"{f.metadata['label']} must be within [{lo}, {hi}], not {v}")

    def check_size(self) -> None:
        """Refuse a model too large to build: every size field within its bound, and at most
        `MAX_PARAMETERS` parameters by `estimate_parameters`. Pure arithmetic, so a hostile
        checkpoint's settings are refused before a single weight is allocated."""
        for name, value, hi in (("latent dimension", self.latent_dim, MAX_LATENT_DIM),
                                ("conv width", self.conv_width, MAX_CONV_WIDTH)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ConfigError(f"{name} must be a whole number, not {value!r}")
            if value > hi:
                raise ConfigError(f"{name} must be at most {hi:,}, got {value:,}")
        if len(self.image_shape) == 3:
            c, h, w = self.image_shape
            if c > MAX_CHANNELS or max(h, w) > MAX_IMAGE_SIDE:
                raise ConfigError(f"images of shape {self.image_shape} are too large: at most {MAX_CHANNELS} "
                                  f"channels and {MAX_IMAGE_SIDE} pixels a side")
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise ConfigError(f"an MLP has at most {MAX_HIDDEN_LAYERS} hidden layers, not {len(self.hidden):,}")
        if self.hidden and max(self.hidden) > MAX_HIDDEN:
            raise ConfigError(f"hidden sizes must be at most {MAX_HIDDEN:,}, got {max(self.hidden):,}")
        n = estimate_parameters(self)
        if n > MAX_PARAMETERS:
            raise ConfigError(f"these settings make a model of about {n:,} parameters, more than the "
                              f"{MAX_PARAMETERS:,} VAE Studio builds")

    def extra_parameters(self) -> int:
        """Parameters of networks a kind adds to the encoder and decoder (e.g. a discriminator),
        by arithmetic: `estimate_parameters` counts them."""
        return 0

    def to_dict(self) -> dict:
        d = {"kind": self.kind, **asdict(self)}
        d["image_shape"] = list(self.image_shape)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        kind = d.pop("kind", cls.kind)
        if kind != cls.kind:
            raise ConfigError(f"a {cls.__name__} is of kind {cls.kind!r}, not {kind!r}")
        return _from_dict(cls, d)


# The largest model VAE Studio builds (a 200 M-parameter model is 800 MB of float32 weights, and
# Adam keeps two more copies), and bounds on each size setting (the window and the CLI offer less).
MAX_PARAMETERS = 200_000_000
MAX_LATENT_DIM = 1024
MAX_CONV_WIDTH = 512
MAX_HIDDEN = 65_536
MAX_HIDDEN_LAYERS = 32
MAX_IMAGE_SIDE = 4096
MAX_CHANNELS = 16


def _whole_numbers(values, what: str) -> tuple:
    try:
        return tuple(int(v) for v in values)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{what} must be whole numbers, not {values!r:.80}") from None


def estimate_parameters(cfg: ModelConfig) -> int:
    """The parameter count of the model `cfg` describes (an upper bound: the encoder is counted
    with two outputs per latent dimension, as a VAE has), by arithmetic alone."""
    c, h, w = (tuple(cfg.image_shape) + (1, 1, 1))[:3]
    latent, out = cfg.latent_dim, 2 * cfg.latent_dim
    total = 1 + cfg.extra_parameters()  # a learned pixel sigma, and any networks a kind adds
    if cfg.arch == "conv":
        n = 0  # stride-2 layers, as `models.conv_plan` plans them
        while n < 4 and h % 2 == 0 and w % 2 == 0 and h > 4 and w > 4:
            h, w, n = h // 2, w // 2, n + 1
        n = max(n, 1)
        widths = [c] + [cfg.conv_width * 2**i for i in range(n)]
        convs = sum(a * b * 16 + b for a, b in zip(widths, widths[1:]))
        convs += sum(b * a * 16 + a for a, b in zip(widths, widths[1:]))  # the decoder's transposed convs
        flat = widths[-1] * h * w
        return total + convs + flat * out + out + latent * flat + flat
    sizes = [c * h * w, *cfg.hidden]
    layers = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    layers += sum(b * a + a for a, b in zip(sizes, sizes[1:]))  # the decoder mirrors them
    return total + layers + sizes[-1] * out + out + latent * sizes[-1] + sizes[-1]


def kind_options(config_class: type) -> list:
    """The fields a kind's config adds to the shared backbone (declared with `option`)."""
    base = {f.name for f in fields(ModelConfig)}
    return [f for f in fields(config_class) if f.name not in base and "label" in f.metadata]


MAX_EPOCHS = 1_000_000
MAX_BATCH = 1_000_000


@dataclass
class TrainConfig:
    """How a run trains. `epochs` is always the total the run trains to, never "this many more"."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"  # a run saved before this setting existed trained in fp32
    val_batch_size: int = 1000
    # Keep the data set on the device as uint8 when it is smaller than this (bytes).
    max_device_bytes: int = 2 * 1024**3

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        if not 0 <= self.epochs <= MAX_EPOCHS:
            raise ConfigError(f"epochs must be within [0, {MAX_EPOCHS}], got {self.epochs}")
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ConfigError(f"batch size must be within [1, {MAX_BATCH}], got {self.batch_size}")
        if not 0 < self.lr <= 10:
            raise ConfigError(f"learning rate must be > 0 and at most 10, got {self.lr}")
        if not 1 <= self.val_batch_size <= MAX_BATCH:
            raise ConfigError(f"validation batch size must be within [1, {MAX_BATCH}], got {self.val_batch_size}")
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {DEVICES}, not {self.device!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r:.40}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return _from_dict(cls, dict(d))


@dataclass
class Preset:
    """A named starting point for the settings (used by the CLI and the window)."""

    name: str
    description: str
    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    dataset: str = "digits"


def presets(have_gpu: bool = False) -> list[Preset]:
    """Classic set-ups; without a GPU the conv widths shrink so a CPU trains them in minutes."""
    from .kinds import make_model_config

    w = 32 if have_gpu else 16
    return [
        Preset("MNIST MLP VAE, 2-D latent", "784-500-250-2, the MNIST model of the 'Variational autoencoders' blog "
                                             "post's TensorFlow code; its 2-D latent plots directly",
               make_model_config(kind="vae", arch="mlp", latent_dim=2, hidden=(500, 250)),
               TrainConfig(epochs=10, batch_size=100, lr=1e-3)),
        Preset("MNIST MLP VAE, 10-D latent", "784-500-250-10; explore with coordinate pairs or PCA",
               make_model_config(kind="vae", arch="mlp", latent_dim=10, hidden=(500, 250)),
               TrainConfig(epochs=10, batch_size=100, lr=1e-3)),
        Preset("Classic PyTorch VAE (784-400-20)", "the PyTorch example: about 105.6 nats after 10 epochs on MNIST",
               make_model_config(kind="vae", arch="mlp", latent_dim=20, hidden=(400,)),
               TrainConfig(epochs=10, batch_size=128, lr=1e-3)),
        Preset("MNIST MLP autoencoder, 2-D", "a plain autoencoder for comparison",
               make_model_config(kind="ae", arch="mlp", latent_dim=2, hidden=(500, 250)),
               TrainConfig(epochs=10, batch_size=100, lr=1e-3)),
        Preset("CelebA conv VAE, 64x64", f"the same blog post's CelebA model: four 4x4 conv layers from {w} "
                                               f"channels, latent 100",
               make_model_config(kind="vae", arch="conv", image_shape=(3, 64, 64), latent_dim=100,
                                 conv_width=w, likelihood="gaussian", gaussian_sigma=0.1),
               TrainConfig(epochs=10, batch_size=100, lr=1e-3), dataset="faces"),
        Preset("Faces DFC-VAE (conv, 64x64)", "feature-consistent VAE (Hou et al. 2016): a conv net learned on "
                                              "the faces' attributes first, features + 0.1 x pixels, latent 100",
               make_model_config(kind="dfc-vae", arch="conv", image_shape=(3, 64, 64), latent_dim=100,
                                 conv_width=w, likelihood="gaussian", gaussian_sigma=0.1, feature_net="learned",
                                 perceptual_weight=1.0, pixel_weight=0.1),
               TrainConfig(epochs=10, batch_size=100, lr=1e-3), dataset="faces"),
        Preset("Digits DFC-VAE (MLP, 2-D)", "feature-consistent VAE: a conv net learned on the digit labels "
                                            "first, features + 0.1 x pixels, 784-500-250-2",
               make_model_config(kind="dfc-vae", arch="mlp", latent_dim=2, hidden=(500, 250), feature_net="learned",
                                 perceptual_weight=1.0, pixel_weight=0.1),
               TrainConfig(epochs=10, batch_size=100, lr=1e-3), dataset="digits"),
        Preset("Digits VAE-GAN (MLP, 2-D)", "VAE/GAN (Larsen et al. 2015): reconstruction in a spectrally "
                                            "normalised discriminator's features + 0.3 x pixels, GAN loss, "
                                            "784-500-250-2; a loose gate and a 2x discriminator rate (measured "
                                            "1.4x the VAE's sharpness after 5 epochs)",
               make_model_config(kind="vae-gan", arch="mlp", latent_dim=2, hidden=(500, 250), pixel_weight=0.3,
                                 margin=0.6, discriminator_lr_scale=2.0),
               TrainConfig(epochs=10, batch_size=100, lr=1e-3), dataset="digits"),
        Preset("Faces VAE-GAN (conv, 64x64)", f"VAE/GAN (Larsen et al. 2015): four 4x4 conv layers from {w} "
                                              f"channels in each network, latent 100, the digits preset's "
                                              f"pixel weight 0.3, loose gate and 2x discriminator rate (after 5 "
                                              f"CPU epochs: sharper reconstructions, prior samples still soft)",
               make_model_config(kind="vae-gan", arch="conv", image_shape=(3, 64, 64), latent_dim=100,
                                 conv_width=w, likelihood="gaussian", gaussian_sigma=0.1, pixel_weight=0.3,
                                 margin=0.6, discriminator_lr_scale=2.0),
               TrainConfig(epochs=10, batch_size=100, lr=1e-3), dataset="faces"),
    ]

"""`dfc-vae`: the Deep Feature Consistent VAE (Hou, Shen, Sun and Qiu, 2016, arXiv 1610.00291).

A VAE whose reconstruction term compares feature maps of a fixed feature network instead of
(or, with `pixel_weight` > 0, besides) pixels:

    loss = perceptual_weight * perceptual + pixel_weight * recon + beta * KL

`perceptual` is 0.5 * D * mean over the chosen layers of the mean squared difference between
the feature maps of x and of the reconstruction sigmoid(decoder(z)), each layer divided by its
RMS activation on the training data (measured once when the run starts), D the number of
pixel values of an image: a Gaussian-like term in per-image units, so one weight suits 28x28
grey and 64x64 colour images alike. `recon` is the pixel likelihood's -log p(x|z), reported
(and used by the ELBO and the importance-weighted bound) even when its weight is 0, the paper's
pure feature loss.

The feature network (`feature_net`):

- "learned" (the default; works offline): a 3-layer conv net (16/32/64 channels, 3x3, strides
  1/2/2; its ReLU outputs are the layers) trained once on the current data set when the run
  starts (`prepare`): a classifier of its labels and/or its binary attributes (multi-label),
  or the encoder of a small autoencoder when the set has neither; its own seed, Adam, 200 steps
  of 100 (`LEARNED_IMAGES` images: one pass over a random 20,000 of a larger training split,
  repeated passes over a smaller one). 1 or 3 (any) channels, any image size.
- "vgg19": torchvision's VGG19 with ImageNet weights up to relu3_1 (layers relu1_1, relu2_1,
  relu3_1), read from `vgg_weights` or torchvision's cache (`torch.hub.get_dir()/checkpoints/
  vgg19-dcbb9e9d.pth`); never downloaded unless asked (`--download`). Grey images are repeated
  to 3 channels, all are normalised with the ImageNet mean and std, and images whose shorter
  side is under `VGG_MIN_SIDE` pixels are upsampled bilinearly by a whole factor (28x28 -> 56x56)
  so relu3_1 still sees a useful map.

Either way the feature network is a submodule (`model.features`) of the model, so its weights
(and the per-layer scales, and whether it was prepared) live in the model's state_dict and in
every checkpoint: a run re-opens alone, with no file and no retraining. It is frozen
(requires_grad False, in no optimiser) and, once attached, never written in place: preparing,
moving it to a device or loading other values replaces the module object. That lets
`cpu_copy()` (every per-epoch snapshot of the window) share it by reference instead of
copying it; when the model lives on a GPU, one CPU copy is made and reused.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Optional

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..config import option
from ..errors import ConfigError
from ..models import sample_and_kl
from .base import IW_BOUND, POSTERIOR, PRIOR, LossTerm, adam
from .vae import KL, NEG_ELBO, RECON, VAEConfig, VAEKind, VariationalAutoEncoder

FEATURE_NETS = ("learned", "vgg19")
LEARNED_WIDTHS = (16, 32, 64)
LEARNED_IMAGES = 20_000  # the learned network's training sees this many images: one pass over a random
# 20,000 of a larger training split, repeated passes over a smaller one (200 steps of 100)
LEARNED_BATCH = 100
LEARNED_LR = 3e-3
SCALE_IMAGES = 500  # images the per-layer RMS is measured on
VGG_FILE = "vgg19-dcbb9e9d.pth"
VGG_URL = "https://download.pytorch.org/models/" + VGG_FILE
VGG_LAYERS = ("relu1_1", "relu2_1", "relu3_1")
VGG_MIN_SIDE = 48
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

PERCEPTUAL = LossTerm("perceptual", "Feature distance",
                      help="0.5 · D · mean over layers of the scaled squared feature difference between x and its "
                           "reconstruction")


@dataclass
class DFCVAEConfig(VAEConfig):
    """The VAE's settings (β, KL warm-up) and the feature term's."""

    kind: ClassVar[str] = "dfc-vae"
    feature_net: str = option("learned", "Feature network",
                              "the fixed network whose feature maps are compared: learned (a small conv net "
                              "trained on the data set when the run starts) or vgg19 (ImageNet weights, read "
                              "from disk)", choices=FEATURE_NETS)
    perceptual_weight: float = option(1.0, "Feature weight", "weight on the feature (perceptual) distance",
                                      lo=0.0, hi=10_000.0)
    pixel_weight: float = option(0.1, "Pixel weight", "weight on the pixel likelihood -log p(x|z); 0 is the "
                                 "paper's pure feature loss (a learned network may then lose colours)",
                                 lo=0.0, hi=10_000.0)
    vgg_weights: str = option("", "VGG19 weights file", f"vgg19 only: the torchvision file {VGG_FILE} "
                              "(default: torchvision's cache folder)", flag="--vgg-weights")

    def extra_parameters(self) -> int:
        """The frozen feature network's parameters, by arithmetic."""
        if self.feature_net == "vgg19":
            widths, c = (64, 64, 128, 128, 256), 3
        else:
            widths, c = LEARNED_WIDTHS, (tuple(self.image_shape) + (1,))[0]
        total = 0
        for w in widths:
            total += c * w * 9 + w
            c = w
        return total

    def validate(self) -> None:
        super().validate()
        if self.perceptual_weight == 0 and self.pixel_weight == 0:
            raise ConfigError("the feature weight and the pixel weight cannot both be 0: nothing would be "
                              "reconstructed")


# -- the feature network ----------------------------------------------------------------------

class FeatureNet(nn.Module):
    """A frozen conv net whose ReLU outputs at `taps` are the compared feature maps.

    Buffers in the state_dict: `scales` (each layer's RMS activation on the training data) and
    `ready` (1 once prepared). The ImageNet mean/std of vgg19 are constants, not saved.
    """

    def __init__(self, network: str, channels: int):
        super().__init__()
        self.network = network
        self.channels = int(channels)
        if network == "vgg19":
            c, layers = 3, []
            for i, (width, pool) in enumerate(((64, False), (64, True), (128, False), (128, True), (256, False))):
                layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
                if pool:
                    layers.append(nn.MaxPool2d(2, 2))
                c = width
            self.body = nn.Sequential(*layers[:12])  # torchvision's vgg19.features[:12]: up to relu3_1
            self.taps = (1, 6, 11)
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        else:
            c, layers = self.channels, []
            for i, width in enumerate(LEARNED_WIDTHS):
                layers += [nn.Conv2d(c, width, 3, stride=1 if i == 0 else 2, padding=1), nn.ReLU()]
                c = width
            self.body = nn.Sequential(*layers)
            self.taps = (1, 3, 5)
        self.register_buffer("scales", torch.ones(len(self.taps)))
        self.register_buffer("ready", torch.zeros(()))
        self.requires_grad_(False)

    @property
    def prepared(self) -> bool:
        return bool(self.ready.item() > 0.5)

    def layer_names(self) -> tuple[str, ...]:
        if self.network == "vgg19":
            return VGG_LAYERS
        return tuple(f"relu{i + 1}" for i in range(len(self.taps)))

    def prep(self, x: torch.Tensor) -> torch.Tensor:
        if self.network != "vgg19":
            return x
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] != 3:
            x = x[:, :3] if x.shape[1] > 3 else x.mean(1, keepdim=True).expand(-1, 3, -1, -1)
        side = min(x.shape[-2:])
        if side < VGG_MIN_SIDE:
            x = F.interpolate(x, scale_factor=math.ceil(VGG_MIN_SIDE / side), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature maps of images `x` in [0, 1], one per layer."""
        h, out = self.prep(x), []
        for i, layer in enumerate(self.body):
            h = layer(h)
            if i in self.taps:
                out.append(h)
                if len(out) == len(self.taps):
                    break
        return out

    def distance(self, x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per image (N,): 0.5 * D * mean over layers of mean((phi(x_hat) - phi(x))^2) / scale^2."""
        with torch.no_grad():
            target = self(x)
        inv = self.scales.clamp(min=1e-6).pow(-2)
        total = None
        for i, (a, b) in enumerate(zip(self(x_hat), target)):
            d = (a - b).pow(2).flatten(1).mean(1) * inv[i]
            total = d if total is None else total + d
        return total * (0.5 * x[0].numel() / len(self.taps))


def _moved(module: nn.Module, fn) -> nn.Module:
    """`module` with `fn` applied to its tensors: the module itself when `fn` changes none of them,
    else a new module object (the original, perhaps shared with snapshots, is left as it was)."""
    memo, changed = {}, False
    for m in module.modules():
        for p in m._parameters.values():
            if p is not None:
                t = fn(p.detach())
                changed |= t.data_ptr() != p.data_ptr() or t.dtype != p.dtype or t.device != p.device
                memo[id(p)] = nn.Parameter(t, requires_grad=False)
        for b in m._buffers.values():
            if b is not None:
                t = fn(b)
                changed |= t.data_ptr() != b.data_ptr() or t.dtype != b.dtype or t.device != b.device
                memo[id(b)] = t
    return copy.deepcopy(module, memo) if changed else module


def _on_cpu(module: nn.Module) -> bool:
    return all(t.device.type == "cpu" for t in (*module.parameters(), *module.buffers()))


class DFCVAE(VariationalAutoEncoder):
    """A VAE with a frozen feature network `features` (registered last, so it is saved with it)."""

    def __init__(self, cfg: DFCVAEConfig, features: Optional[FeatureNet] = None):
        super().__init__(cfg)
        self.features = features if features is not None else FeatureNet(cfg.feature_net, cfg.image_shape[0])

    def trainable_parameters(self):
        return [p for name, p in self.named_parameters() if not name.startswith("features.")]

    def forward(self, x: torch.Tensor, beta: Optional[float] = None) -> dict:
        cfg = self.config
        beta = cfg.beta if beta is None else beta
        mu, logvar = self.encode(x)
        z, kl_rows = sample_and_kl(mu, logvar)
        logits = self.decode_logits(z)
        recon = self.recon_nll(logits, x).mean()
        kl = kl_rows.mean()
        perceptual = self.features.distance(torch.sigmoid(logits), x).mean()
        loss = cfg.perceptual_weight * perceptual + beta * kl
        if cfg.pixel_weight:
            loss = loss + cfg.pixel_weight * recon
        return {"loss": loss, "recon": recon, "perceptual": perceptual, "kl": kl, "neg_elbo": recon + kl}

    # -- the frozen feature network is never written in place ---------------------------------
    def _apply(self, fn, recurse=True):
        feats = self._modules.pop("features")
        try:
            super()._apply(fn, recurse)
        finally:
            self._modules["features"] = feats
        if recurse:
            self._modules["features"] = _moved(feats, fn)
        return self

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        prefix = "features."
        own = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        rest = {k: v for k, v in state_dict.items() if not k.startswith(prefix)}
        feats = self._modules.pop("features")
        try:
            result = super().load_state_dict(rest, strict=strict, assign=assign)
        finally:
            self._modules["features"] = feats
        current = feats.state_dict()
        same = own.keys() == current.keys() and all(
            isinstance(v, torch.Tensor) and v.shape == current[k].shape and torch.equal(v.to(current[k]), current[k])
            for k, v in own.items())
        if not same and (own or strict):
            fresh = FeatureNet(feats.network, feats.channels)
            fresh.load_state_dict(own, strict=strict)
            fresh.requires_grad_(False)
            self._modules["features"] = _moved(fresh, lambda t: t.to(feats.scales.device))
        return result

    def cpu_features(self) -> FeatureNet:
        """The feature network on the CPU: itself there, else one CPU copy made once and reused."""
        feats = self.features
        if _on_cpu(feats):
            return feats
        cached = self.__dict__.get("_cpu_features")
        if cached is None or cached[0] is not feats:
            cached = (feats, _moved(feats, lambda t: t.detach().to("cpu", copy=True)))
            self.__dict__["_cpu_features"] = cached
        return cached[1]

    def cpu_copy(self) -> "DFCVAE":
        """A frozen CPU copy whose encoder and decoder are copies and whose feature network is
        shared (it never changes): snapshots stay cheap, and saving one still writes it."""
        twin = type(self)(self.config, features=self.cpu_features())
        state = {k: v.detach().to("cpu", copy=True) for k, v in self.state_dict().items()
                 if not k.startswith("features.")}
        feats = twin._modules.pop("features")
        try:
            nn.Module.load_state_dict(twin, state)
        finally:
            twin._modules["features"] = feats
        twin.eval()
        for name, p in twin.named_parameters():
            if not name.startswith("features."):
                p.requires_grad_(False)
        return twin


# -- preparing the feature network when a run starts ------------------------------------------

def default_vgg_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG_FILE


def vgg_weights_path(cfg: DFCVAEConfig) -> Path:
    return Path(os.path.expanduser(cfg.vgg_weights)) if cfg.vgg_weights else default_vgg_path()


def _missing_vgg(path: Path, cfg: DFCVAEConfig) -> ConfigError:
    where = (f"the file given by --vgg-weights, {path}, does not exist" if cfg.vgg_weights else
             f"put {VGG_FILE} (from {VGG_URL}) at {path}")
    return ConfigError(f"the vgg19 feature network needs torchvision's ImageNet weights and works offline only "
                       f"with them on disk: {where}, or pass --vgg-weights FILE, or pass --download when online "
                       f"(or use --feature-net learned)")


def load_vgg_features(path: Path, channels: int) -> FeatureNet:
    """VGG19's layers up to relu3_1 from torchvision's state-dict file `path`."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - truncated, not a torch file, or holding code
        raise ConfigError(f"{path} is not a readable VGG19 weights file ({' '.join(str(e).split())[:120]})") from None
    net = FeatureNet("vgg19", channels)
    want = {f"body.{k}": None for k in net.body.state_dict()}
    mapped = {}
    for k in want:
        src = "features." + k[len("body."):]
        v = state.get(src) if isinstance(state, dict) else None
        if not isinstance(v, torch.Tensor) or v.shape != net.state_dict()[k].shape:
            raise ConfigError(f"{path} is not torchvision's VGG19 weights file: {src} is missing or has another shape")
        mapped[k[len("body."):]] = v.float()
    net.body.load_state_dict(mapped)
    return net


def _download_vgg(path: Path) -> None:
    """torchvision's own download into its cache (only with --download)."""
    try:
        from torchvision.models import VGG19_Weights, vgg19
        vgg19(weights=VGG19_Weights.IMAGENET1K_V1)
    except Exception as e:  # noqa: BLE001 - offline, a proxy, a full disk: one line
        raise ConfigError(f"downloading the VGG19 weights failed ({' '.join(str(e).split())[:120]}); put "
                          f"{VGG_FILE} (from {VGG_URL}) at {path}") from None


def _targets(split):
    """(labels or None, number of classes, attributes or None) a classifier can learn from."""
    labels, n_classes = split.labels, 0
    if labels is not None:
        valid = labels[labels >= 0] if len(labels) else labels
        n_classes = int(valid.max()) + 1 if len(valid) else 0
        if len(np.unique(valid)) < 2 or n_classes > 100_000:
            labels, n_classes = None, 0
    attributes = split.attributes
    if attributes is not None and (attributes.ndim != 2 or attributes.shape[1] == 0):
        attributes = None
    return labels, n_classes, attributes


class _Decoder(nn.Module):
    """The small decoder the learned network is trained with when the data has no labels."""

    def __init__(self, channels: int, sizes: list):
        super().__init__()
        self.sizes = sizes  # the spatial size of each feature layer, then the image's
        w = LEARNED_WIDTHS
        self.a = nn.Conv2d(w[2], w[1], 3, padding=1)
        self.b = nn.Conv2d(w[1], w[0], 3, padding=1)
        self.c = nn.Conv2d(w[0], channels, 3, padding=1)

    def forward(self, h):
        h = F.relu(self.a(F.interpolate(h, size=self.sizes[1], mode="nearest")))
        h = F.relu(self.b(F.interpolate(h, size=self.sizes[0], mode="nearest")))
        return self.c(h)


def _learn_features(net: FeatureNet, split, seed: int, device, progress, cancel) -> Optional[dict]:
    """Train `net` (in place: a copy nobody shares yet) on `split`; None when cancelled."""
    from ..batches import float_batch

    n = len(split)
    rng = np.random.default_rng(seed)
    idx = np.arange(n) if n <= LEARNED_IMAGES else np.sort(rng.choice(n, LEARNED_IMAGES, replace=False))
    passes = max(1, LEARNED_IMAGES // len(idx))
    order = np.concatenate([idx[rng.permutation(len(idx))] for _ in range(passes)])
    labels, n_classes, attributes = _targets(split)
    n_attr = 0 if attributes is None else attributes.shape[1]
    classify = n_classes > 0 or n_attr > 0
    net.requires_grad_(True)
    with torch.no_grad():
        probe = [f.shape[-2:] for f in net(float_batch(split.images[:1], device))]
    if classify:
        head = nn.Linear(LEARNED_WIDTHS[-1], n_classes + n_attr).to(device)
    else:
        head = _Decoder(net.channels, [tuple(s) for s in probe]).to(device)
    opt = adam([*net.parameters(), *head.parameters()], LEARNED_LR, torch.device(device))
    steps = math.ceil(len(order) / LEARNED_BATCH)
    losses = []
    for step in range(steps):
        if cancel is not None and cancel():
            return None
        rows = np.sort(order[step * LEARNED_BATCH:(step + 1) * LEARNED_BATCH])
        x = float_batch(split.images[rows], device)
        feats = net(x)
        if classify:
            logits = head(feats[-1].mean((2, 3)))
            loss = x.new_zeros(())
            if n_classes:
                y = torch.as_tensor(labels[rows], device=x.device)
                keep = y >= 0
                if bool(keep.any()):
                    loss = loss + F.cross_entropy(logits[keep, :n_classes], y[keep])
            if n_attr:
                a = torch.as_tensor(attributes[rows], device=x.device).float()
                loss = loss + F.binary_cross_entropy_with_logits(logits[:, n_classes:], a)
        else:
            loss = F.binary_cross_entropy_with_logits(head(feats[-1]), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
        if progress is not None:
            progress(step + 1, steps, "training the feature network")
    net.requires_grad_(False)
    if n_classes and n_attr:
        task = f"a classifier of its {n_classes} labels and {n_attr} attributes"
    elif n_classes:
        task = f"a classifier of its {n_classes} labels"
    elif n_attr:
        task = f"a classifier of its {n_attr} attributes (multi-label)"
    else:
        task = "the encoder of an autoencoder (the data has no labels or attributes)"
    final = float(torch.stack(losses[-20:]).mean()) if losses else float("nan")
    return {"task": task, "images": int(len(idx)), "passes": passes, "steps": steps, "final_loss": round(final, 4)}


@torch.no_grad()
def _measure_scales(net: FeatureNet, split, device) -> torch.Tensor:
    from ..batches import float_batch

    m = min(len(split), SCALE_IMAGES)
    sums = torch.zeros(len(net.taps), dtype=torch.float64, device=device)
    counts = torch.zeros(len(net.taps), dtype=torch.float64, device=device)
    for i in range(0, m, 250):
        for j, f in enumerate(net(float_batch(split.images[i:min(i + 250, m)], device))):
            sums[j] += f.double().pow(2).sum()
            counts[j] += f.numel()
    return (sums / counts.clamp(min=1)).sqrt().float().clamp(min=1e-3)


class DFCVAEKind(VAEKind):
    """The VAE's step (beta, KL warm-up) and evaluation, over a model with a feature term."""

    name = "dfc-vae"
    title = "DFC-VAE (feature-consistent)"
    description = ("a VAE whose reconstruction compares feature maps of a fixed network (Hou et al. 2016): "
                   "loss = feature weight·distance + pixel weight·recon + β·KL")
    config_class = DFCVAEConfig
    loss_terms = (LossTerm("loss", "Loss (features + β·KL)",
                           help="feature weight × feature distance + pixel weight × reconstruction + β × KL"),
                  RECON, PERCEPTUAL, KL)
    eval_terms = (NEG_ELBO, RECON, KL, PERCEPTUAL)
    capabilities = frozenset({PRIOR, POSTERIOR, IW_BOUND})

    def build(self, config: DFCVAEConfig) -> DFCVAE:
        return DFCVAE(config)

    def optimizers(self, model, train, device) -> dict:
        """One Adam over the encoder and decoder: the feature network is never trained here."""
        return {"adam": adam(model.trainable_parameters(), train.lr, device)}

    # -- the feature network, once per run ---------------------------------------------------
    def prepare(self, run, dataset, device, progress=None, *, cancel=None, download=False) -> None:
        """Make the feature network ready on the run's first training: train the learned one on
        `dataset`, or read VGG19's weights; then measure each layer's RMS on the training data.
        A no-op once done (a re-opened run). Its own random state; cancelled, nothing changes."""
        from .. import run as run_module

        model, cfg = run.model, run.model_config
        if model.features.prepared:
            return
        device = torch.device(device)
        split = dataset.train
        seed = (int(run.train_config.seed) * 7919 + 104_729) % (2**63)
        info: dict = {"network": cfg.feature_net}
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            if cfg.feature_net == "vgg19":
                path = vgg_weights_path(cfg)
                if not path.is_file() and download and not cfg.vgg_weights:
                    _download_vgg(path)
                if not path.is_file():
                    raise _missing_vgg(path, cfg)
                net = load_vgg_features(path, cfg.image_shape[0]).to(device)
                info.update(weights=str(path), layers=", ".join(VGG_LAYERS))
            else:
                net = FeatureNet("learned", cfg.image_shape[0]).to(device)
                net.load_state_dict(model.features.state_dict())  # start from the run's own initial weights
                learned = _learn_features(net, split, seed, device, progress, cancel)
                if learned is None:
                    return
                info.update(learned, dataset=run_module.describe_spec(dataset.spec), seed=seed,
                            layers=", ".join(net.layer_names()))
            net.scales.copy_(_measure_scales(net, split, device))
            net.ready.fill_(1.0)
        net.eval().requires_grad_(False)
        model._modules["features"] = net  # a new object: snapshots holding the old one keep it
        run.extra["feature_net"] = info

    def offline_alternative(self, config: DFCVAEConfig):
        if config.feature_net != "vgg19":
            return None
        path = vgg_weights_path(config)
        if path.is_file():
            return None
        where = (f"the weights file {path} does not exist" if config.vgg_weights else
                 f"torchvision's ImageNet weights are not on disk: put {VGG_FILE} (from {VGG_URL}) at {path}")
        return (f"The VGG19 feature network cannot load: {where}. The feature network learned on the data set "
                f"works offline.", dataclasses.replace(config, feature_net="learned", vgg_weights=""))

    def facts(self, run) -> dict:
        return {"feature network": describe_features(run)}


def describe_features(run) -> str:
    cfg, feats = run.model_config, run.model.features
    info = run.extra.get("feature_net") if isinstance(run.extra.get("feature_net"), dict) else {}
    if cfg.feature_net == "vgg19":
        text = f"vgg19 (ImageNet weights), layers {', '.join(VGG_LAYERS)}"
        if not feats.prepared:
            return text + f"; not loaded yet (read from {vgg_weights_path(cfg)} when training starts)"
        return text + (f", weights from {info['weights']}" if info.get("weights") else "") + "; frozen, saved in the run"
    text = f"learned (3 conv layers, {'/'.join(map(str, LEARNED_WIDTHS))} channels, layers relu1-relu3)"
    if not feats.prepared:
        return text + "; not trained yet: it trains on the data set when training starts"
    if not info:
        return text + "; trained on the run's data set, frozen, saved in the run"
    passes = info.get("passes", 1)
    return (text + f"; trained as {info.get('task')} on {info.get('dataset')}: {passes} pass{'es' if passes != 1 else ''} "
            f"over {info.get('images')} training images, {info.get('steps')} steps (seed {info.get('seed')}, "
            f"final loss {info.get('final_loss')}); frozen, saved in the run")


KIND = DFCVAEKind()

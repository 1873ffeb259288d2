"""Offline measures of blur: how sharp a model's decodes are, and how far its prior samples lie
from real images in the features of a small classifier.

Both compare decodes with the real images of one split (the test split by default): up to
`samples` of them, spread evenly over the split (`np.arange(k) * n // k`, so the same images for
every run on that split).

`sharpness` -- mean gradient energy of decodes divided by that of the real images.
    The gradient energy of one image (floats in [0, 1], shaped C x H x W) is
    mean((x[:, i+1, j] - x[:, i, j])^2) + mean((x[:, i, j+1] - x[:, i, j])^2): the mean squared
    finite difference down plus the one across, each averaged over every channel and every
    position where it exists. It is averaged over the images, and the ratio of the two averages
    is reported. 1.0: as sharp as the real images; below 1: blurrier (a plain VAE's decodes
    typically sit well below 1); above 1: more high-frequency energy than real (noise,
    ringing, checkerboard artefacts). Computed for reconstructions (decodes of the posterior
    mean, or of E(x) for an autoencoder, of the real images: `sharpness_recon`) and for decodes
    of N(0, I) draws (`sharpness_prior`, only for kinds with the `prior` capability).

`frechet` -- the Frechet distance between Gaussians fitted to the features of `samples` prior
    samples and of the (up to `samples`) real images:
    |mu_1 - mu_2|^2 + tr(S_1) + tr(S_2) - 2 tr((S_1 S_2)^(1/2)), in float64, the trace of the
    square root taken as the sum of the square roots of the eigenvalues of
    S_1^(1/2) S_2 S_1^(1/2) (a symmetric matrix; tiny negative eigenvalues from rounding are
    clamped to 0). This is the "LeNet FID" used for MNIST-like data: the features are the 128
    activations of the hidden fully connected layer (before its ReLU) of a small conv net
    trained on the data set's own labels (or, without labels, on its binary attributes as a
    multi-label task). IT IS NOT COMPARABLE WITH INCEPTION FID, nor across data sets, nor across
    different sample counts (the estimate is biased upwards at small counts): compare runs on the
    same data set with the same `samples`.

The classifier (`feature_classifier`) is trained once per data set, on CPU in one thread (the same
arithmetic whatever the machine's core count, and no collapse on a busy CPU), with a fixed seed:
two 3x3 conv layers (16 and 32 channels, each followed by ReLU and 2x2 max-pooling), an average
pool to 7x7, a hidden fully connected layer of 128 features and the output layer; Adam (lr 2e-3,
batches of 128) for 2 epochs over at most 20,000 training images picked with a fixed seed.
Images larger than 32 pixels on a side are first downscaled (area averaging) to at most 32.
It is cached in `cache_dir()` as a plain state_dict (written atomically, read back with
`torch.load(weights_only=True)`), under a key made of the data set's name, image shape, target
(labels or attributes and how many) and a digest of the exact training images and targets the
classifier learns from -- so every run on the same data shares one classifier and its numbers
are comparable, while data that changed behind the same name gets a classifier of its own.
"""
from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .batches import float_batch
from .data.base import CancelFn, ImageDataset, ProgressFn
from .errors import Cancelled, VaeStudioError
from .kinds import PRIOR, kind_of
from .latent.decoding import decode_batch, sample_prior
from .latent.encoding import encode_images
from .paths import atomic_write, cache_dir

# -- the classifier's recipe: changing any of these changes CLASSIFIER_VERSION's meaning --------
CLASSIFIER_VERSION = 1  # part of the cache key: bump when the recipe below changes
CLASSIFIER_SEED = 0
MAX_TRAIN = 20_000  # training images the classifier sees at most
EPOCHS = 2
BATCH = 128
LR = 2e-3
FEATURES = 128  # width of the hidden layer whose activations are the features
MAX_SIDE = 32  # larger images are downscaled to at most this many pixels on a side
POOLED = 7  # the conv features are average-pooled to POOLED x POOLED before the hidden layer

DEFAULT_SAMPLES = 2_000
MIN_SAMPLES = 2  # a covariance needs two samples
MAX_SAMPLES = 10_000
CHUNK = 500  # images decoded, measured and featurised at a time


class QualityUnavailable(VaeStudioError):
    """A measure cannot be computed here (e.g. a data set with neither labels nor attributes)."""


# -- sharpness ---------------------------------------------------------------------------------

def _as_float(images) -> torch.Tensor:
    if isinstance(images, torch.Tensor):
        t = images.detach().cpu()
        return t.to(torch.float32).div_(255.0) if t.dtype == torch.uint8 else t.to(torch.float32)
    return float_batch(np.asarray(images), "cpu")


def gradient_energies(images) -> np.ndarray:
    """Per-image gradient energy (float64 (N,)) of images (N, C, H, W): floats in [0, 1], or
    uint8 (read as /255). Mean squared difference down plus mean squared difference across; a
    direction of size 1 contributes 0."""
    x = _as_float(images).to(torch.float64)
    if x.ndim != 4:
        raise ValueError(f"images must be shaped (N, C, H, W), not {tuple(x.shape)}")
    n = x.shape[0]
    e = torch.zeros(n, dtype=torch.float64)
    if x.shape[2] > 1:
        e += (x[:, :, 1:, :] - x[:, :, :-1, :]).pow(2).flatten(1).mean(1)
    if x.shape[3] > 1:
        e += (x[:, :, :, 1:] - x[:, :, :, :-1]).pow(2).flatten(1).mean(1)
    return e.numpy()


def gradient_energy(images, chunk: int = CHUNK) -> float:
    """Mean gradient energy over images (see `gradient_energies`), in chunks of `chunk`."""
    n = int(images.shape[0])
    if n == 0:
        raise ValueError("no images to measure")
    total = 0.0
    for lo in range(0, n, chunk):
        total += float(gradient_energies(images[lo:lo + chunk]).sum())
    return total / n


def sharpness(decodes, real) -> float:
    """gradient_energy(decodes) / gradient_energy(real): 1.0 is as sharp as the real images,
    below 1 blurrier. NaN when the real images are perfectly flat (no energy to compare with)."""
    ref = gradient_energy(real)
    if ref <= 0.0:
        return math.nan
    return gradient_energy(decodes) / ref


# -- Frechet distance -------------------------------------------------------------------------

def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(feat_a: np.ndarray, feat_b: np.ndarray) -> float:
    """The Frechet distance between Gaussians fitted to two feature sets (N, F) and (M, F):
    |mu_a - mu_b|^2 + tr S_a + tr S_b - 2 tr((S_a S_b)^(1/2)), all in float64, with
    tr((S_a S_b)^(1/2)) = sum sqrt(eig(S_a^(1/2) S_b S_a^(1/2))) (negatives from rounding clamped
    to 0). Never below 0."""
    a = np.asarray(feat_a, dtype=np.float64)
    b = np.asarray(feat_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, F) and (M, F), not {a.shape} and {b.shape}")
    if len(a) < MIN_SAMPLES or len(b) < MIN_SAMPLES:
        raise ValueError("a Frechet distance needs at least two samples on each side")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a = np.atleast_2d(np.cov(a, rowvar=False))
    s_b = np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _sqrt_psd(s_a)
    mid = root_a @ s_b @ root_a
    mid = 0.5 * (mid + mid.T)  # symmetric up to rounding; make it exactly so for eigvalsh
    tr_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh(mid), 0.0, None)).sum())
    d = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2.0 * tr_sqrt)
    return max(d, 0.0)


# -- the feature classifier -------------------------------------------------------------------

def fitted_size(h: int, w: int) -> tuple[int, int]:
    """(H, W) after downscaling so that neither side exceeds MAX_SIDE (unchanged when it fits)."""
    side = max(h, w)
    if side <= MAX_SIDE:
        return h, w
    s = MAX_SIDE / side
    return max(1, round(h * s)), max(1, round(w * s))


def fit_images(x: torch.Tensor) -> torch.Tensor:
    """Float images downscaled by area averaging to `fitted_size` (unchanged when they fit)."""
    size = fitted_size(int(x.shape[2]), int(x.shape[3]))
    if size == tuple(x.shape[2:]):
        return x
    return F.interpolate(x, size=size, mode="area")


class FeatureNet(nn.Module):
    """A LeNet-like classifier; `features` is its hidden layer (FEATURES wide, before the ReLU)."""

    def __init__(self, channels: int, n_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.hidden = nn.Linear(32 * POOLED * POOLED, FEATURES)
        self.out = nn.Linear(FEATURES, n_out)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Fitted float images (N, C, h, w) -> (N, FEATURES)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, ceil_mode=True)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, ceil_mode=True)
        x = F.adaptive_avg_pool2d(x, POOLED)
        return self.hidden(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.features(x)))


@dataclass(eq=False)
class FeatureClassifier:
    """The trained (or cached) classifier of one data set and how it came to be."""

    net: FeatureNet
    path: Path  # its cache file
    key: str
    target: str  # "labels" or "attributes"
    n_out: int
    n_train: int  # training images it learnt from
    trained_now: bool  # False: read from the cache
    seconds: float  # training time when trained_now, else the time to read it

    @torch.inference_mode()
    def features(self, images, batch_size: int = CHUNK) -> np.ndarray:
        """Images (N, C, H, W), uint8 or floats in [0, 1] -> float64 features (N, FEATURES)."""
        n = int(images.shape[0])
        out = np.empty((n, FEATURES), dtype=np.float64)
        for lo in range(0, n, batch_size):
            x = fit_images(_as_float(images[lo:lo + batch_size]))
            out[lo:lo + len(x)] = self.net.features(x).double().numpy()
        return out


def unavailable_reason(dataset: ImageDataset) -> Optional[str]:
    """Why no feature classifier can be trained on `dataset`, or None when one can."""
    train = dataset.train
    if len(train) == 0:
        return f"frechet is unavailable: the train split of {dataset.name} is empty, so there is nothing " \
               f"to train its feature classifier on"
    if train.labels is not None:
        valid = train.labels[train.labels >= 0]
        if len(valid) and int(valid.max()) >= 1:
            return None
    if train.attributes is not None and train.attributes.ndim == 2 and train.attributes.shape[1] > 0:
        return None
    return (f"frechet is unavailable: {dataset.name} has neither labels (of two or more classes) nor "
            f"attributes to train its feature classifier on")


def _targets(dataset: ImageDataset) -> tuple[str, np.ndarray, int]:
    """("labels", int64 (N,), classes) or ("attributes", uint8 (N, A), A); -1 labels are unknown."""
    train = dataset.train
    if train.labels is not None:
        labels = np.asarray(train.labels, dtype=np.int64)
        valid = labels[labels >= 0]
        if len(valid) and int(valid.max()) >= 1:
            n_out = max(int(valid.max()) + 1, len(dataset.label_names or ()))
            return "labels", labels, n_out
    attrs = np.asarray(train.attributes, dtype=np.uint8)
    return "attributes", attrs, int(attrs.shape[1])


def _chunks(images: np.ndarray, idx: np.ndarray, chunk: int = 2048) -> Iterator[tuple[int, np.ndarray]]:
    for lo in range(0, len(idx), chunk):
        yield lo, np.ascontiguousarray(images[idx[lo:lo + chunk]])


def _training_set(dataset: ImageDataset, cancel: Optional[CancelFn]):
    """The classifier's training images (uint8, fitted), targets, recipe and cache key."""
    target, all_targets, n_out = _targets(dataset)
    images = dataset.train.images
    candidates = np.arange(len(images))
    if target == "labels":
        candidates = candidates[all_targets >= 0]
    rng = np.random.default_rng(CLASSIFIER_SEED)
    idx = np.sort(rng.choice(candidates, size=min(MAX_TRAIN, len(candidates)), replace=False))
    c, h, w = dataset.image_shape
    fh, fw = fitted_size(h, w)
    fitted = np.empty((len(idx), c, fh, fw), dtype=np.uint8)
    digest = hashlib.blake2b(digest_size=16)
    for lo, rows in _chunks(images, idx):
        if cancel is not None and cancel():
            raise Cancelled("feature classifier cancelled")
        digest.update(rows.tobytes())
        if (fh, fw) == (h, w):
            fitted[lo:lo + len(rows)] = rows
        else:
            small = fit_images(torch.from_numpy(rows).float().div_(255.0))
            fitted[lo:lo + len(rows)] = small.mul_(255.0).round_().clamp_(0, 255).to(torch.uint8).numpy()
    ys = np.ascontiguousarray(all_targets[idx])
    digest.update(ys.tobytes())
    recipe = (CLASSIFIER_VERSION, CLASSIFIER_SEED, MAX_TRAIN, EPOCHS, BATCH, LR, FEATURES, MAX_SIDE, POOLED)
    key_text = repr((dataset.name, (c, h, w), target, n_out, len(idx), recipe, digest.hexdigest()))
    key = hashlib.sha1(key_text.encode("utf-8")).hexdigest()[:16]
    return fitted, ys, target, n_out, key


def classifier_path(name: str, key: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name)[:40] or "data"
    return cache_dir() / f"quality-classifier-{safe}-{key}.pt"


def _load(path: Path, net: FeatureNet) -> bool:
    """Load a cached state_dict into `net`; False (a miss) on any problem."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or not all(torch.is_tensor(v) and torch.isfinite(v).all() for v in state.values()):
            return False
        net.load_state_dict(state, strict=True)
    except Exception:  # absent, truncated, not a state_dict, wrong shapes: retrain
        return False
    return True


def _train(net: FeatureNet, images: np.ndarray, ys: np.ndarray, target: str,
           progress: Optional[ProgressFn], cancel: Optional[CancelFn]) -> None:
    n = len(images)
    steps_per_epoch = math.ceil(n / BATCH)
    total = EPOCHS * steps_per_epoch
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    rng = np.random.default_rng(CLASSIFIER_SEED + 1)
    step = 0
    net.train()
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        for lo in range(0, n, BATCH):
            if cancel is not None and cancel():
                raise Cancelled("feature classifier cancelled")
            b = order[lo:lo + BATCH]
            x = torch.from_numpy(images[b]).float().div_(255.0)
            logits = net(x)
            if target == "labels":
                loss = F.cross_entropy(logits, torch.from_numpy(ys[b]))
            else:
                loss = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(ys[b]).float())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if progress is not None:
                progress(step, total, "training the feature classifier")
    net.eval()


def feature_classifier(dataset: ImageDataset, progress: Optional[ProgressFn] = None,
                       cancel: Optional[CancelFn] = None) -> FeatureClassifier:
    """The data set's feature classifier: read from the cache, or trained (seeded, on CPU) and
    cached. Raises QualityUnavailable for a data set with neither labels nor attributes."""
    reason = unavailable_reason(dataset)
    if reason:
        raise QualityUnavailable(reason)
    fitted, ys, target, n_out, key = _training_set(dataset, cancel)
    path = classifier_path(dataset.name, key)
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):  # leave the caller's random stream alone
        torch.manual_seed(CLASSIFIER_SEED)
        net = FeatureNet(dataset.image_shape[0], n_out)
        if _load(path, net):
            trained_now = False
        else:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # the same arithmetic on every machine, and no slowdown on a busy CPU
            try:
                _train(net, fitted, ys, target, progress, cancel)
            finally:
                torch.set_num_threads(threads)
            with atomic_write(path, "wb") as f:
                torch.save({k: v.detach().clone() for k, v in net.state_dict().items()}, f)
            trained_now = True
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return FeatureClassifier(net=net, path=path, key=key, target=target, n_out=n_out, n_train=len(fitted),
                             trained_now=trained_now, seconds=time.perf_counter() - t0)


# -- everything at once -----------------------------------------------------------------------

def spread_indices(n: int, k: int) -> np.ndarray:
    """k indices (k <= n) spread evenly over range(n), the same for every call."""
    k = min(k, n)
    return np.arange(k, dtype=np.int64) * n // max(k, 1)


def measure(model, dataset: ImageDataset, *, samples: int = DEFAULT_SAMPLES, seed: Optional[int] = 0,
            split: str = "test", progress: Optional[ProgressFn] = None,
            cancel: Optional[CancelFn] = None) -> dict:
    """Sharpness of reconstructions and prior samples, and the Frechet distance of prior samples
    to real images (see the module docstring), for `model` on `dataset`'s `split`.

    Returns {"sharpness_recon", "sharpness_prior", "frechet", "n", "n_prior", "frechet_note",
    "classifier"} (the last: the feature classifier's cache path, target, training size, whether
    it was trained by this call and in how many seconds; None when none was needed):
    a value that does not apply is None (sharpness_prior and frechet for kinds without a prior;
    frechet for a data set with neither labels nor attributes), and then `frechet_note` says
    why. `n` real images (at most `samples`, spread over the split) and `n_prior` prior samples
    (`samples`, drawn with `seed`) are used.
    """
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be between {MIN_SAMPLES} and {MAX_SAMPLES:,}, not {samples}")
    kind = kind_of(model.config)
    part = dataset.split(split)
    if len(part) == 0:
        raise QualityUnavailable(f"the {split} split of {dataset.name} is empty")
    real = part.images[spread_indices(len(part), samples)]
    n = len(real)
    has_prior = kind.has(PRIOR)
    note = None
    clf = None
    if not has_prior:
        note = (f"frechet is unavailable: it compares prior samples with real images, and this model kind "
                f"({kind.title}) has no prior to sample from")
    else:
        note = unavailable_reason(dataset)
        if note is None:
            clf = feature_classifier(dataset, progress=progress, cancel=cancel)

    was_training = model.training
    model.eval()
    try:
        # reconstructions: decode the posterior mean (E(x) for an autoencoder) of each real image
        real_energy = recon_energy = 0.0
        real_feats = []
        for lo in range(0, n, CHUNK):
            if cancel is not None and cancel():
                raise Cancelled("quality measurement cancelled")
            rows = np.ascontiguousarray(real[lo:lo + CHUNK])
            codes, _ = encode_images(model, rows, batch_size=CHUNK)
            recon = decode_batch(model, codes, batch_size=CHUNK)
            real_energy += float(gradient_energies(rows).sum())
            recon_energy += float(gradient_energies(recon).sum())
            if clf is not None:
                real_feats.append(clf.features(rows))
            if progress is not None:
                progress(min(lo + CHUNK, n), n, "measuring reconstructions")
        res: dict = {"sharpness_recon": _ratio(recon_energy / n, real_energy / n), "sharpness_prior": None,
                     "frechet": None, "n": n, "n_prior": 0, "frechet_note": note,
                     "classifier": None if clf is None else {
                         "path": str(clf.path), "target": clf.target, "n_train": clf.n_train,
                         "trained_now": clf.trained_now, "seconds": clf.seconds}}
        if has_prior:
            z = sample_prior(samples, int(model.config.latent_dim), seed)
            prior_energy = 0.0
            prior_feats = []
            for lo in range(0, samples, CHUNK):
                if cancel is not None and cancel():
                    raise Cancelled("quality measurement cancelled")
                dec = decode_batch(model, z[lo:lo + CHUNK], batch_size=CHUNK)
                prior_energy += float(gradient_energies(dec).sum())
                if clf is not None:
                    prior_feats.append(clf.features(dec))
                if progress is not None:
                    progress(min(lo + CHUNK, samples), samples, "measuring prior samples")
            res["sharpness_prior"] = _ratio(prior_energy / samples, real_energy / n)
            res["n_prior"] = samples
            if clf is not None:
                if n < MIN_SAMPLES:
                    res["frechet_note"] = f"frechet is unavailable: the {split} split holds a single image"
                else:
                    res["frechet"] = frechet_distance(np.concatenate(prior_feats), np.concatenate(real_feats))
    finally:
        model.train(was_training)
    return res


def _ratio(num: float, den: float) -> Optional[float]:
    if den <= 0.0 or not math.isfinite(num) or not math.isfinite(den):
        return None
    return num / den


# -- a measurement kept in the run --------------------------------------------------------------

def record(run, res: dict, dataset: ImageDataset, split: str = "test") -> dict:
    """Keep the result of `measure` in `run.extra["quality"]`, stamped with the epochs the model had
    trained and the data it was measured on: `info` and the window's About This Model show it and
    a saved run keeps it. Returns the record."""
    from .run import describe_spec

    rec = {"epochs": float(run.epochs_done), "dataset": describe_spec(dataset.spec), "split": str(split),
           "sharpness_recon": res.get("sharpness_recon"), "sharpness_prior": res.get("sharpness_prior"),
           "frechet": res.get("frechet"), "frechet_note": res.get("frechet_note"),
           "n": int(res.get("n", 0)), "n_prior": int(res.get("n_prior", 0))}
    run.extra["quality"] = rec
    return rec


def describe_record(rec, epochs_done: Optional[float] = None) -> Optional[str]:
    """The line About This Model and `info` show for a record of `record` (None when `rec` is not
    one: it comes from a file, so every field is checked before use)."""
    if not isinstance(rec, dict):
        return None

    def num(key: str, fmt: str) -> str:
        v = rec.get(key)
        return format(v, fmt) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) \
            else "n/a"

    epochs = rec.get("epochs")
    if not isinstance(epochs, (int, float)) or isinstance(epochs, bool) or not math.isfinite(epochs):
        return None
    where = f"{str(rec.get('dataset', '?'))[:200]}, {str(rec.get('split', 'test'))[:20]} split"
    text = (f"blur at epoch {epochs:g} ({where}): sharpness {num('sharpness_recon', '.3f')} reconstructions, "
            f"{num('sharpness_prior', '.3f')} prior samples (1 = as sharp as real images)")
    if isinstance(rec.get("frechet"), (int, float)) and not isinstance(rec.get("frechet"), bool):
        text += (f"; frechet {num('frechet', '.1f')} (LeNet features, {num('n_prior', 'd')} samples; "
                 f"not Inception FID)")
    elif isinstance(rec.get("frechet_note"), str):
        text += "; " + rec["frechet_note"][:300]
    if epochs_done is not None and abs(float(epochs_done) - float(epochs)) > 1e-9:
        text += f" [measured before the model trained on to epoch {epochs_done:g}]"
    return text


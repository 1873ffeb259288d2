"""Two to four runs side by side on one data set: the same test images, the same prior draws and
the same numbers for each, so an autoencoder's awkward code shapes and broken lattice digits can
be set against a VAE's disk and realistic digits in one figure (`vaestudio compare`, and the
window's comparison view).

Views. Latent sizes may differ (a 2-D AE next to a 10-D VAE): each run gets its own 2-D view.
A 2-D run is shown as it is (coordinates z0, z1). A run with D > 2 is shown in the plane of its
two principal components through the mean of its test codes (`pca_projection`): coordinates 0
and 1 of one run mean nothing for another, while the PCA plane shows the most of each cloud, so
the pictures compare like with like. (`view="dims"` keeps coordinates 0 and 1 instead.)

Lattice sites. `sites="own"`: each run's n x n lattice is inscribed in its own 99% circle, the
one `latent_lattice` gives by default for its test codes (as `vaestudio lattice` draws it).
`sites="shared"`: one set of view coordinates for every run: the circle centred on
the middle of the box that holds every run's own circle, just large enough to hold them all, with
its inscribed square lattice. `lattice.points` is then the same array in every column, and each
run maps those points to its latent space through its own view (`Projection.to_latent`): for a
2-D run the very same codes; for D > 2 the same offsets from its codes' mean along its own two
principal directions. Runs whose clouds differ in size show, in shared mode, what each decodes
where the other keeps its codes.
"""
from __future__ import annotations

import dataclasses
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from .data.base import CancelFn, ImageDataset, ProgressFn
from .errors import Cancelled, ConfigError, VaeStudioError
from .kinds import IW_BOUND, PRIOR
from .latent import (Circle, Encodings, Lattice, apply_vector, attribute_mask, attribute_vector,
                     decode_batch, encode_split, latent_lattice, make_projection,
                     sample_prior, square_lattice, sweep_alphas)
from .render import BACKGROUND, INK, font, image_grid, scatter_plot
from .run import Run

MIN_RUNS, MAX_RUNS = 2, 4
SITES = ("own", "shared")
VIEWS = ("auto", "dims", "pca")
SPLIT = "test"
METRIC_KEYS = ("name", "path", "kind", "latent_dim", "epochs", "test_recon", "neg_elbo", "iwae_nll",
               "sharpness_recon", "sharpness_prior", "frechet", "active_units", "seconds_per_epoch")
SWEEP_STEPS, SWEEP_MAX_ALPHA = 8, 1.5  # the defaults of `vaestudio attribute`
DEFAULT_QUALITY_SAMPLES = 500
DEFAULT_IW_SAMPLES = 10  # a small K: a rough -log p(x), cheap even on 10,000 test images


@dataclass(eq=False)
class RunColumn:
    """Everything one run's column shows; arrays are floats in [0, 1] shaped (N, C, H, W)."""

    name: str  # the run folder (or checkpoint file) stem, made unique among the columns
    run: Run
    encodings: Encodings  # of the test split
    points: np.ndarray  # (N, 2) view coordinates of the encodings
    circle: Circle  # this run's own 99% circle in view coordinates
    lattice: Lattice  # own circle, or the shared sites (then `lattice.circle` is the shared circle)
    lattice_images: np.ndarray  # (n*n, C, H, W)
    originals: np.ndarray  # (k, C, H, W): the chosen test images
    recons: np.ndarray  # (k, C, H, W)
    prior_images: Optional[np.ndarray]  # (m, C, H, W); None for kinds without a prior
    sweep_images: Optional[np.ndarray]  # (s, C, H, W) of the first chosen image; None without attributes
    sweep_attribute: Optional[str]
    metrics: dict  # `metrics_row`


# -- names, checks, progress -------------------------------------------------------------------

def run_name(run: Run, index: int = 0) -> str:
    """The run folder's name (a checkpoint file's stem when it is not a folder's model.pt)."""
    if run.path is None:
        return f"run {index + 1}"
    p = Path(run.path)
    if p.is_dir():
        return p.name
    return p.parent.name if p.name == "model.pt" and p.parent.name else p.stem


def unique_names(names: Sequence[str]) -> list[str]:
    """`names` with repeats told apart: ae, ae (2), ae (3)."""
    out: list[str] = []
    for name in names:
        new, k = name, 2
        while new in out:
            new, k = f"{name} ({k})", k + 1
        out.append(new)
    return out


def check_runs(runs: Sequence[Run], dataset: ImageDataset, names: Sequence[str]) -> None:
    """2-4 runs, each taking the data set's image shape; a clear error otherwise."""
    if not MIN_RUNS <= len(runs) <= MAX_RUNS:
        raise ConfigError(f"compare takes {MIN_RUNS} to {MAX_RUNS} runs, not {len(runs)}")
    want = tuple(dataset.image_shape)
    for run, name in zip(runs, names):
        have = tuple(run.model_config.image_shape)
        if have != want:
            raise ConfigError(f"run {run.path or name} takes {_shape(have)} images but {dataset.name} has "
                              f"{_shape(want)}: compare runs trained on images of one shape")


def check_images(indices: Sequence[int], n: int, dataset: ImageDataset) -> list[int]:
    idx = [int(i) for i in indices]
    if not idx:
        raise ConfigError("choose at least one test image to compare")
    bad = [i for i in idx if not 0 <= i < n]
    if bad:
        raise ConfigError(f"image index {bad[0]} is out of range: the {SPLIT} split of {dataset.name} has "
                          f"{n} images (0..{n - 1})")
    return idx


def _shape(shape) -> str:
    return "x".join(str(v) for v in shape)


class _Steps:
    """Overall progress over `total` equal steps; inner progress moves within the current one."""

    UNIT = 1000

    def __init__(self, total: int, progress: Optional[ProgressFn], cancel: Optional[CancelFn]):
        self.total, self.progress, self.cancel, self.done = total, progress, cancel, 0

    def start(self, message: str) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled("comparison cancelled")
        self._report(0, message)

    def inner(self, prefix: str) -> ProgressFn:
        return lambda d, t, msg: self._report(d / t if t else 1.0, f"{prefix}: {msg}")

    def finish(self) -> None:
        self.done += 1

    def _report(self, frac: float, message: str) -> None:
        if self.progress is not None:
            frac = min(max(frac, 0.0), 1.0)
            self.progress(int((self.done + frac) * self.UNIT), self.total * self.UNIT, message)


# -- metrics -----------------------------------------------------------------------------------

def metrics_row(run: Run, dataset: ImageDataset, *, name: Optional[str] = None, quality: bool = True,
                quality_samples: int = DEFAULT_QUALITY_SAMPLES, iw_samples: int = DEFAULT_IW_SAMPLES,
                seed: int = 0, progress: Optional[ProgressFn] = None,
                cancel: Optional[CancelFn] = None) -> dict:
    """One run's numbers on the test split (keys `METRIC_KEYS`; None where the kind has no such
    number or it was not asked for). In nats per image: test_recon, neg_elbo (kinds that report
    it) and iwae_nll (kinds with the importance-weighted bound, when iw_samples > 0). With
    `quality`: `core.quality.measure`'s sharpness and frechet on `quality_samples` images.
    active_units: latent dimensions whose posterior mean varies over the data by more than 0.01
    (`metrics.latent_usage`; kinds with a posterior). seconds_per_epoch: the mean of the run's
    history records' training seconds."""
    from . import quality as q
    from .metrics import evaluate, latent_usage

    kind = run.kind
    part = dataset.split(SPLIT)
    if len(part) == 0:
        raise ConfigError(f"the {SPLIT} split of {dataset.name} is empty: nothing to compare on")
    _check_quality_samples(quality, quality_samples)
    if cancel is not None and cancel():
        raise Cancelled("comparison cancelled")
    k = int(iw_samples) if kind.has(IW_BOUND) else 0
    if progress is not None:
        progress(0, 1, "evaluating")
    res = evaluate(run.model, part.images, iw_samples=k, seed=seed)
    usage = latent_usage(run.model, part.images)  # None for kinds without a posterior
    row = {"name": name or run_name(run), "path": None if run.path is None else str(run.path),
           "kind": kind.name, "latent_dim": int(run.model_config.latent_dim), "epochs": _num(run.epochs_done),
           "test_recon": res.get("recon"), "neg_elbo": res.get("neg_elbo"), "iwae_nll": res.get("nll_iw"),
           "sharpness_recon": None, "sharpness_prior": None, "frechet": None,
           "active_units": None if usage is None else int(usage["active_units"]),
           "seconds_per_epoch": seconds_per_epoch(run.history)}
    if quality:
        m = q.measure(run.model, dataset, samples=quality_samples, seed=seed, split=SPLIT,
                      progress=progress, cancel=cancel)
        row.update({key: m[key] for key in ("sharpness_recon", "sharpness_prior", "frechet")})
    return {key: _finite(row[key]) for key in METRIC_KEYS}


def _check_quality_samples(quality: bool, samples: int) -> None:
    from .quality import MAX_SAMPLES, MIN_SAMPLES

    if quality and not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise ConfigError(f"quality samples must be between {MIN_SAMPLES} and {MAX_SAMPLES:,}, not {samples}")


def seconds_per_epoch(history) -> Optional[float]:
    """Mean training seconds of the history's epoch records (None without any)."""
    secs = [float(r["seconds"]) for r in history if isinstance(r, dict)
            and isinstance(r.get("seconds"), (int, float)) and not isinstance(r.get("seconds"), bool)
            and math.isfinite(r["seconds"])]
    return sum(secs) / len(secs) if secs else None


def _finite(v):
    """Floats that JSON can hold: a non-finite number becomes None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _num(x: float):
    x = float(x)
    return int(x) if x.is_integer() else round(x, 4)


# -- the comparison ----------------------------------------------------------------------------

def compare_runs(
    runs: Sequence[Run],
    dataset: ImageDataset,
    *,
    sites: str = "own",
    images: Sequence[int] = (0, 1, 2, 3, 4, 5, 6, 7),
    n: int = 10,
    prior_n: int = 8,
    seed: int = 0,
    quality: bool = True,
    quality_samples: int = DEFAULT_QUALITY_SAMPLES,
    iw_samples: int = DEFAULT_IW_SAMPLES,
    attribute: Optional[str] = None,
    view: str = "auto",
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
) -> list[RunColumn]:
    """One `RunColumn` per run, on `dataset`'s test split (see the module docstring for views and
    `sites`). `images`: test indices shown as originals and reconstructions in every column;
    the prior row decodes `prior_n` draws of seed `seed` (the same numbers for equal latent
    sizes). The attribute sweep moves the first chosen image along `attribute` (default: the
    data set's attribute nearest half of the test images; none for a data set without attributes;
    a label value such as "7" works too), its vector taken over each run's test codes."""
    if sites not in SITES:
        raise ConfigError(f"sites must be one of {', '.join(SITES)}, not {sites!r}")
    if view not in VIEWS:
        raise ConfigError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    if not 2 <= int(n) <= 100:
        raise ConfigError(f"the lattice needs 2 to 100 sites a side, not {n}")
    if prior_n < 1:
        raise ConfigError(f"prior_n must be at least 1, not {prior_n}")
    _check_quality_samples(quality, quality_samples)
    runs = list(runs)
    names = unique_names([run_name(r, i) for i, r in enumerate(runs)])
    check_runs(runs, dataset, names)
    part = dataset.split(SPLIT)
    idx = check_images(images, len(part), dataset)
    steps = _Steps(3 * len(runs), progress, cancel)

    encs, projections = [], []
    for run, name in zip(runs, names):
        steps.start(f"{name}: encoding")
        enc = encode_split(run.model, dataset, SPLIT, progress=steps.inner(name), cancel=cancel)
        encs.append(enc)
        projections.append(_projection(enc, view))
        steps.finish()
    lattices = [latent_lattice(e.codes, n=n, projection=p) for e, p in zip(encs, projections)]
    own_circles = [lat.circle for lat in lattices]
    if sites == "shared":
        shared = shared_circle(own_circles)
        points = square_lattice(shared.centre, shared.radius, n)
        lattices = [_on_sites(lat, points, shared) for lat in lattices]
    sweep_name = _sweep_attribute(encs[0], attribute)
    originals = part.images[idx].astype(np.float32) / 255.0

    columns = []
    for run, name, enc, lat, circle in zip(runs, names, encs, lattices, own_circles):
        steps.start(f"{name}: decoding")
        model = run.model
        prior = None
        if run.kind.has(PRIOR):
            prior = decode_batch(model, sample_prior(prior_n, enc.dim, seed=seed))
        sweep = None
        if sweep_name is not None:
            vec = attribute_vector(enc, sweep_name)
            sweep = decode_batch(model, apply_vector(enc.codes[idx[0]], vec.delta,
                                                     sweep_alphas(SWEEP_STEPS, SWEEP_MAX_ALPHA)))
        column = RunColumn(
            name=name, run=run, encodings=enc, points=lat.projection.to_view(enc.codes), circle=circle,
            lattice=lat, lattice_images=lat.decode(model), originals=originals,
            recons=decode_batch(model, enc.codes[idx]), prior_images=prior, sweep_images=sweep,
            sweep_attribute=sweep_name, metrics={})
        steps.finish()
        steps.start(f"{name}: measuring")
        column.metrics = metrics_row(run, dataset, name=name, quality=quality, quality_samples=quality_samples,
                                     iw_samples=iw_samples, seed=seed, progress=steps.inner(name),
                                     cancel=cancel)
        steps.finish()
        columns.append(column)
    return columns


def _on_sites(lat: Lattice, points: np.ndarray, circle: Circle) -> Lattice:
    """`lat` moved to the shared `points` (inscribed in `circle`), mapped through its own view."""
    changes = {"points": points, "latents": lat.projection.to_latent(points), "circle": circle}
    if "bounds" in {f.name for f in dataclasses.fields(Lattice)}:  # lattices that know their rectangle
        h = circle.radius / math.sqrt(2)
        (cx, cy) = (float(v) for v in circle.centre[:2])
        changes["bounds"] = (cx - h, cx + h, cy - h, cy + h)
    return dataclasses.replace(lat, **changes)


def _projection(enc: Encodings, view: str):
    pca = view == "pca" or (view == "auto" and enc.dim > 2)
    return make_projection(enc.codes, pca=pca)


def shared_circle(circles: Sequence[Circle]) -> Circle:
    """The circle centred on the middle of the box holding every circle, just holding them all."""
    centres = np.stack([np.asarray(c.centre, dtype=np.float64) for c in circles])
    radii = np.array([float(c.radius) for c in circles])
    lo, hi = (centres - radii[:, None]).min(0), (centres + radii[:, None]).max(0)
    centre = (lo + hi) / 2
    radius = float((np.linalg.norm(centres - centre, axis=1) + radii).max())
    return Circle(centre=centre, radius=radius, coverage=float(circles[0].coverage))


def _sweep_attribute(enc: Encodings, attribute: Optional[str]) -> Optional[str]:
    """The attribute every column sweeps along (checked to have images with and without it)."""
    if attribute is not None:
        mask = attribute_mask(enc, attribute)
        if mask.all() or not mask.any():
            raise VaeStudioError(f"every or no {SPLIT} image has {attribute!r}: no attribute vector to sweep")
        return attribute
    if enc.attributes is None or not enc.attribute_names:
        return None
    share = (np.asarray(enc.attributes) > 0).mean(axis=0)
    usable = [(abs(float(s) - 0.5), i) for i, s in enumerate(share) if 0 < s < 1]
    return enc.attribute_names[min(usable)[1]] if usable else None


# -- the figure --------------------------------------------------------------------------------

GUTTER = 190  # the left band that names each row
GAP = 24  # between columns
SECTION_GAP = 16  # between rows
NO_PRIOR_GREY = (215, 215, 215)
NOTE = ("nats per image on the test split, lower is better; sharpness: gradient energy of decodes over that "
        "of real images (1 = as sharp as real); frechet: LeNet-feature distance of prior samples to real "
        "images, lower is better (not Inception FID); n/a: the kind has no such number or it was not measured")
METRIC_ROWS = (  # (key, label, format)
    ("test_recon", "test reconstruction (nats)", "{:.2f}"),
    ("neg_elbo", "-ELBO (nats)", "{:.2f}"),
    ("iwae_nll", "IWAE -log p(x) (nats)", "{:.2f}"),
    ("sharpness_recon", "sharpness, reconstructions", "{:.3f}"),
    ("sharpness_prior", "sharpness, prior samples", "{:.3f}"),
    ("frechet", "frechet (LeNet features)", "{:.2f}"),
    ("active_units", "active latent units", "{}"),
    ("seconds_per_epoch", "seconds per epoch", "{:.1f}"),
)


def render_comparison(columns: Sequence[RunColumn], *, title: Optional[str] = None,
                      note: Optional[str] = None) -> Image.Image:
    """One figure: a column per run, rows aligned across columns -- header, latent scatter with its
    circle, lattice, originals over reconstructions, prior samples (a grey box for a kind without
    a prior), the attribute sweep when there is one, then the metrics table and `note` under it
    (default: how to read the numbers)."""
    if not columns:
        raise ConfigError("nothing to draw: no runs were compared")
    c0 = columns[0]
    shape = c0.originals.shape[1:]
    n = c0.lattice.n
    lattice_scale = max(1, 560 // (n * shape[-1]))
    width = max(460, n * shape[-1] * lattice_scale + n + 1, 8 * (shape[-1] + 2) + 2)  # 8 images a row at least
    strip_scale = _strip_scale(shape, max(len(c0.originals), 8), width)
    shared = all(np.array_equal(c.lattice.points, c0.lattice.points) for c in columns[1:]) and \
        any(c.lattice.circle is not c.circle for c in columns)

    rows: list[tuple[str, list[Image.Image]]] = []
    rows.append(("", [_header(c, width) for c in columns]))
    rows.append(("latent codes of the test split, coloured by label; solid circle: holds 99% of them"
                 + ("; dashed: the shared circle" if shared else "") + "; square: the lattice",
                 [_scatter(c, width, shared) for c in columns]))
    rows.append((f"{n} x {n} lattice in " + ("the shared circle (the same view coordinates for every run)"
                                              if shared else "each run's own 99% circle"),
                 [image_grid(c.lattice_images, ncols=n, scale=lattice_scale, padding=1) for c in columns]))
    k = len(c0.originals)
    rows.append((f"{k} test images (top) and their reconstructions (below)",
                 [_pairs(c.originals, c.recons, strip_scale, width) for c in columns]))
    prior_n = next((len(c.prior_images) for c in columns if c.prior_images is not None), 0)
    if prior_n:
        strips = [None if c.prior_images is None else _strip(c.prior_images, strip_scale, width) for c in columns]
        size = next(s.size for s in strips if s is not None)
        rows.append((f"{prior_n} prior samples, z ~ N(0, I)",
                     [s if s is not None else _grey_box(size, f"no prior: {c.run.kind.a_title()} "
                                                        f"has nothing to sample from")
                      for s, c in zip(strips, columns)]))
    if any(c.sweep_images is not None for c in columns):
        name = next(c.sweep_attribute for c in columns if c.sweep_attribute)
        rows.append((f"the first test image + a x the {name} vector (mean code with - without), "
                     f"a = 0 to {SWEEP_MAX_ALPHA:g}",
                     [_strip(c.sweep_images, strip_scale, width) for c in columns]))
    rows.append(("", [_metrics_block(c.metrics, width) for c in columns]))
    return _assemble(rows, width, title, NOTE if note is None else note)


def _strip_scale(shape, count: int, width: int) -> int:
    per_row = min(count, 8)
    return max(1, min(4, (width - 2 * (per_row + 1)) // (per_row * shape[-1])))


def _cols_for(count: int, shape, scale: int, width: int) -> int:
    return max(1, min(count, (width - 2) // (shape[-1] * scale + 2)))


def _strip(images, scale: int, width: int) -> Image.Image:
    return image_grid(images, ncols=_cols_for(len(images), images.shape[1:], scale, width), scale=scale)


def _pairs(originals, recons, scale: int, width: int) -> Image.Image:
    """Originals over reconstructions, chunk by chunk when they do not fit one row."""
    ncols = _cols_for(len(originals), originals.shape[1:], scale, width)
    rows = []
    for lo in range(0, len(originals), ncols):
        rows += [originals[lo:lo + ncols], recons[lo:lo + ncols]]
    ordered = np.concatenate([_pad(r, ncols) for r in rows])
    return image_grid(ordered, ncols=ncols, scale=scale)


def _pad(images, ncols: int):
    if len(images) == ncols:
        return images
    blank = np.ones((ncols - len(images), *images.shape[1:]), dtype=images.dtype)
    return np.concatenate([images, blank])


def _grey_box(size, text: str) -> Image.Image:
    img = Image.new("RGB", size, NO_PRIOR_GREY)
    d = ImageDraw.Draw(img)
    f = font(15)
    lines = textwrap.wrap(text, max(10, size[0] // 8))
    y = size[1] / 2 - 9 * (len(lines) - 1)
    for line in lines:
        d.text((size[0] / 2, y), line, fill=(90, 90, 90), font=f, anchor="mm")
        y += 18
    return img


def _header(c: RunColumn, width: int) -> Image.Image:
    m = c.metrics
    proj = c.lattice.projection
    view = "PCA plane" if proj.kind == "pca" else "coordinates " + ", ".join(proj.axis_labels())
    epochs = m.get("epochs", _num(c.run.epochs_done))
    lines = [(c.name, font(24)), (f"{c.run.kind.title}, latent {c.run.model_config.latent_dim}", font(16)),
             (f"{epochs} epoch{'' if epochs == 1 else 's'}; view: {view}", font(14))]
    img = Image.new("RGB", (width, 78), BACKGROUND)
    d = ImageDraw.Draw(img)
    y = 2
    for text, f in lines:
        d.text((width / 2, y), _fit(text, f, width), fill=INK, font=f, anchor="mt")
        y += int(f.size * 1.35) if hasattr(f, "size") else 20
    return img


def _scatter(c: RunColumn, width: int, shared: bool) -> Image.Image:
    enc, lat = c.encodings, c.lattice
    circles = [c.circle, lat.circle] if shared else [c.circle]
    corners = np.asarray(square_lattice(lat.circle.centre, lat.circle.radius, 2))[[0, 1, 3, 2]]
    return scatter_plot(c.points, enc.labels, enc.label_names, circles=circles, polygons=[corners],
                        axis_labels=lat.projection.axis_labels(), size=width, point_radius=1.3)


def _format(fmt: str, value) -> str:
    return "n/a" if value is None else fmt.format(value)


def _metrics_block(metrics: dict, width: int) -> Image.Image:
    f = font(16)
    img = Image.new("RGB", (width, 26 * len(METRIC_ROWS) + 8), BACKGROUND)
    d = ImageDraw.Draw(img)
    for i, (key, _label, fmt) in enumerate(METRIC_ROWS):
        value = metrics.get(key)
        d.text((width / 2, 4 + 26 * i + 13), _format(fmt, value), font=f, anchor="mm",
               fill=INK if value is not None else (150, 150, 150))
    return img


def _fit(text: str, f, width: int) -> str:
    """`text`, cut with an ellipsis to fit `width` pixels."""
    if f.getlength(text) <= width:
        return text
    while text and f.getlength(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _wrap(text: str, f, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and f.getlength(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _assemble(rows, width: int, title: Optional[str], note: str) -> Image.Image:
    ncols = len(rows[0][1])
    label_font, title_font = font(15), font(26)
    heights = [max(max(im.height for im in cells), 19 * len(_wrap(label, label_font, GUTTER - 20)) + 4)
               for label, cells in rows]
    title_h = 56 if title else 8
    total_w = GUTTER + ncols * width + (ncols - 1) * GAP + 16
    note_lines = _wrap(note, label_font, total_w - 20) if note else []
    total_h = title_h + sum(heights) + SECTION_GAP * (len(rows) - 1) + 16 + 19 * len(note_lines)
    fig = Image.new("RGB", (total_w, total_h), BACKGROUND)
    d = ImageDraw.Draw(fig)
    if title:
        d.text((total_w / 2, 12), _fit(title, title_font, total_w - 20), fill=INK, font=title_font, anchor="mt")
    y = title_h
    for r, ((label, cells), h) in enumerate(zip(rows, heights)):
        for k, cell in enumerate(cells):
            x = GUTTER + k * (width + GAP)
            fig.paste(cell, (x + (width - cell.width) // 2, y))
        if r == len(rows) - 1:  # the metrics table: one label per line, ruled
            for i, (_key, text, _fmt) in enumerate(METRIC_ROWS):
                ty = y + 4 + 26 * i + 13
                d.text((10, ty), text, fill=INK, font=label_font, anchor="lm")
                d.line([(8, ty + 13), (total_w - 8, ty + 13)], fill=(225, 225, 225), width=1)
            d.line([(8, y - 6), (total_w - 8, y - 6)], fill=INK, width=1)
        elif label:
            ty = y + 4
            for line in _wrap(label, label_font, GUTTER - 20):
                d.text((10, ty), line, fill=INK, font=label_font)
                ty += 19
        y += h + SECTION_GAP
    y -= SECTION_GAP - 6
    for line in note_lines:
        d.text((10, y), line, fill=(90, 90, 90), font=label_font)
        y += 19
    return fig

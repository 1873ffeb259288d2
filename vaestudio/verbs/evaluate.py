"""`vaestudio evaluate`: the evaluation terms a run's kind declares, in nats per image, on a split
(a VAE: -ELBO, reconstruction, KL and optionally the IWAE bound, plus the KL per latent dimension
and the active units that show posterior collapse; an autoencoder: reconstruction), and with
--quality the blur measures of `core.quality` (sharpness and a LeNet-feature Frechet distance)."""
from __future__ import annotations

import json
import sys

from ..core.data.base import SPLITS
from .common import TerminalProgress, add_data_args, add_run_arg, load_run, open_run_dataset
from .numbers import MAX_INDEX, int_in, seed_type

# The same bounds as core.quality's (not imported here: it pulls in torch before the verb runs).
DEFAULT_QUALITY_SAMPLES = 2_000
MIN_QUALITY_SAMPLES = 2
MAX_QUALITY_SAMPLES = 10_000


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="measure a trained model on a data split",
                       description="Print the run's evaluation terms in nats per image (a VAE: neg_elbo, "
                                   "recon and kl; an autoencoder: recon) and, for a VAE with --iw-samples K, "
                                   "nll_iw: the importance-weighted estimate of -log p(x). A kind with a "
                                   "posterior also gets kl_per_dim (each latent dimension's mean KL; they "
                                   "sum to kl) and active_units/active_dims (dimensions whose posterior mean "
                                   "varies over the data by more than 0.01: Burda et al. 2016); a dimension "
                                   "with KL near 0 has collapsed to the prior.")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--iw-samples", type=int_in(0, 100_000), default=0, metavar="K",
                   help="importance samples for nll_iw (kinds with a posterior only; 0 skips it)")
    p.add_argument("--batch-size", type=int_in(1, 100_000), default=500)
    p.add_argument("--limit", type=int_in(0, MAX_INDEX), default=0, metavar="N", help="use only the first N images")
    p.add_argument("--seed", type=seed_type(), default=0)
    p.add_argument("--quality", action="store_true",
                   help="also measure blur: sharpness of reconstructions and prior samples (gradient energy "
                        "relative to real images, 1.0 = as sharp as real) and frechet, the Frechet distance "
                        "of prior samples to real images in the features of a small classifier trained on "
                        "the data set's labels (trained once per data set and cached; NOT comparable with "
                        "Inception FID). See docs/quality.md")
    p.add_argument("--quality-samples", type=int_in(MIN_QUALITY_SAMPLES, MAX_QUALITY_SAMPLES),
                   default=DEFAULT_QUALITY_SAMPLES, metavar="N",
                   help=f"prior samples, and at most this many real images of --split (spread over the "
                        f"whole split; --limit does not apply), for --quality (default "
                        f"{DEFAULT_QUALITY_SAMPLES:,}; compare frechet only at equal N)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.errors import ConfigError
    from ..core.kinds import IW_BOUND
    from ..core.metrics import evaluate, latent_usage

    if not 0 <= args.iw_samples <= 100_000:
        raise ConfigError(f"--iw-samples must be between 0 and 100000, not {args.iw_samples}")
    if not 1 <= args.batch_size <= 100_000:
        raise ConfigError(f"--batch-size must be between 1 and 100000, not {args.batch_size}")
    if args.limit < 0:
        raise ConfigError(f"--limit must be >= 0, not {args.limit}")
    if not MIN_QUALITY_SAMPLES <= args.quality_samples <= MAX_QUALITY_SAMPLES:
        raise ConfigError(f"--quality-samples must be between {MIN_QUALITY_SAMPLES} and {MAX_QUALITY_SAMPLES}, "
                          f"not {args.quality_samples}")
    run_ = load_run(args)
    kind = run_.kind
    if args.iw_samples and not kind.has(IW_BOUND):
        raise ConfigError(f"--iw-samples needs a model with a posterior q(z|x); this run is a {kind.title}")
    ds = open_run_dataset(args, run_)
    images = ds.split(args.split).images
    if args.limit:
        images = images[: args.limit]
    if len(images) == 0:
        raise ConfigError(f"the {args.split} split of {ds.name} is empty: choose another --split")
    res = evaluate(run_.model, images, batch_size=args.batch_size, iw_samples=args.iw_samples, seed=args.seed)
    res.update({"split": args.split, "dataset": ds.name, "model": kind.name, "terms": [t.name for t in kind.eval_terms]})
    usage = latent_usage(run_.model, images, batch_size=args.batch_size)
    if usage is not None:
        res.update(usage)
    quality = _quality(args, run_, ds) if args.quality else None
    if quality is not None:
        res.update(quality)
    if args.json:
        print(json.dumps(res))
    else:
        parts = ", ".join(f"{t.title} {res[t.name]:.2f}" for t in kind.eval_terms)
        print(f"{ds.name} {args.split} ({res['n']} images), nats per image: {parts}"
              + (f"; -log p(x) <= {res['nll_iw']:.2f} (K={args.iw_samples})" if "nll_iw" in res else ""))
        print(_usage_text(usage, kind))
        if quality is not None:
            print(_quality_text(quality))
    return 0


def _usage_text(usage, kind) -> str:
    """One line on posterior collapse: active units and each dimension's share of the KL."""
    from ..core.metrics import ACTIVE_UNIT_THRESHOLD, NO_POSTERIOR_USAGE

    if usage is None:
        return f"latent usage: not measured ({kind.title}: {NO_POSTERIOR_USAGE})"
    kl = " ".join(f"{v:.2f}" for v in usage["kl_per_dim"])
    return (f"active units: {usage['active_units']} of {len(usage['kl_per_dim'])} (variance of the posterior "
            f"mean > {ACTIVE_UNIT_THRESHOLD:g}); KL per dimension: {kl}")


def _quality(args, run_, ds) -> dict:
    """The --quality keys: sharpness {"recon", "prior"}, frechet, and how they were measured."""
    from ..core import quality

    bar = TerminalProgress()
    m = quality.measure(run_.model, ds, samples=args.quality_samples, seed=args.seed, split=args.split,
                        progress=bar.bar)
    if bar.tty:
        bar.stream.write("\r\x1b[K")
        bar.stream.flush()
    clf = m["classifier"]
    if clf is not None and clf["trained_now"]:
        print(f"trained the feature classifier of {ds.name} in {clf['seconds']:.1f} s "
              f"(cached for later runs: {clf['path']})", file=sys.stderr)
    out = {"sharpness": {"recon": m["sharpness_recon"], "prior": m["sharpness_prior"]},
           "frechet": m["frechet"],
           "quality_samples": {"real": m["n"], "prior": m["n_prior"]}}
    if m["frechet_note"]:
        out["frechet_note"] = m["frechet_note"]
    return out


def _quality_text(q: dict) -> str:
    def num(v) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    s = q["sharpness"]
    n = q["quality_samples"]
    line = (f"sharpness (gradient energy / real, 1 = as sharp as real): reconstructions {num(s['recon'])}, "
            f"prior samples {num(s['prior'])}; ")
    if q["frechet"] is not None:
        line += (f"frechet (LeNet features, not Inception FID) {q['frechet']:.3f} "
                 f"({n['prior']} prior samples vs {n['real']} real images)")
    else:
        line += q.get("frechet_note") or "frechet is unavailable"
    return line

"""`vaestudio compare`: 2 to 4 runs side by side on one data set's test split -- latent scatter with
its 99% circle, lattice, the same test images and their reconstructions, prior samples, an
attribute sweep when the data set has attributes, and a table of numbers -- in one PNG, and with
--json the numbers as a JSON list (see `core.compare`)."""
from __future__ import annotations

import argparse
import json

from ..core.config import DEVICES
from .common import TerminalProgress, load_run, open_run_dataset
from .data_args import add_data_args
from .numbers import MAX_INDEX, int_in, seed_type

# The same bounds as core.compare's and core.quality's (not imported here: they pull in torch).
MIN_RUNS, MAX_RUNS = 2, 4
MAX_IMAGES = 32
MAX_COMPARE_LATTICE = 30
DEFAULT_QUALITY_SAMPLES = 500
MIN_QUALITY_SAMPLES, MAX_QUALITY_SAMPLES = 2, 10_000


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help="compare 2 to 4 runs side by side in one picture (and JSON numbers)",
                       description="One column per run on the test split of the first run's data set (or "
                                   "--dataset): latent codes with their 99% circle, an N x N lattice, the same "
                                   "test images and their reconstructions, prior samples (kinds with a prior), "
                                   "an attribute sweep when the data set has attributes, and the numbers: "
                                   "reconstruction, -ELBO, IWAE -log p(x), sharpness, frechet, seconds per "
                                   "epoch. Runs with more than 2 latent dimensions are viewed in their PCA plane.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="2 to 4 run folders (holding model.pt) or checkpoint files")
    p.add_argument("--device", default="cpu", choices=DEVICES, help="where to run the models (default: cpu)")
    add_data_args(p)
    p.add_argument("--out", required=True, metavar="FILE.png", help="the picture to write")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list with one object of numbers per run (null where a kind has none)")
    p.add_argument("--sites", choices=("own", "shared"), default="own",
                   help="own: each lattice in its run's own 99%% circle (default); shared: the same view "
                        "coordinates for every run, in the circle that holds all their circles")
    p.add_argument("--images", type=int_in(0, MAX_INDEX), nargs="+", default=list(range(8)), metavar="INDEX",
                   help=f"test images shown with their reconstructions, 1 to {MAX_IMAGES} (default 0 to 7)")
    p.add_argument("--n", type=int_in(2, MAX_COMPARE_LATTICE), default=10,
                   help=f"lattice sites per side, 2 to {MAX_COMPARE_LATTICE} (default 10)")
    p.add_argument("--attribute", default=None, metavar="NAME",
                   help="sweep the first image along this attribute (or label value such as 7); default: "
                        "the data set's most balanced attribute, none for a data set without attributes")
    p.add_argument("--seed", type=seed_type(), default=0, help="prior draws and sampled bounds (default 0)")
    p.add_argument("--iw-samples", type=int_in(0, 1_000), default=10, metavar="K",
                   help="importance samples for the IWAE -log p(x) of kinds with a posterior (0 skips it; "
                        "default 10)")
    p.add_argument("--no-quality", action="store_true",
                   help="skip sharpness and frechet (the first measurement on a data set trains a small "
                        "classifier, cached after)")
    p.add_argument("--quality-samples", type=int_in(MIN_QUALITY_SAMPLES, MAX_QUALITY_SAMPLES),
                   default=DEFAULT_QUALITY_SAMPLES, metavar="N",
                   help=f"images and prior samples for sharpness and frechet (default {DEFAULT_QUALITY_SAMPLES})")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.compare import NOTE, compare_runs, render_comparison
    from ..core.errors import ConfigError
    from ..core.render import picture_format, save_image

    if not MIN_RUNS <= len(args.runs) <= MAX_RUNS:
        raise ConfigError(f"compare takes {MIN_RUNS} to {MAX_RUNS} runs, not {len(args.runs)}")
    if len(args.images) > MAX_IMAGES:
        raise ConfigError(f"--images takes at most {MAX_IMAGES} indices, not {len(args.images)}")
    picture_format(args.out)  # a wrong suffix is refused before any work
    runs = [load_run(argparse.Namespace(run=path, device=args.device)) for path in args.runs]
    ds = open_run_dataset(args, runs[0])  # --dataset, else the first run's
    bar = TerminalProgress()
    columns = compare_runs(runs, ds, sites=args.sites, images=args.images, n=args.n, seed=args.seed,
                           quality=not args.no_quality, quality_samples=args.quality_samples,
                           iw_samples=args.iw_samples, attribute=args.attribute, progress=bar.bar)
    if bar.tty:
        bar.stream.write("\r\x1b[K")
        bar.stream.flush()
    names = " vs ".join(c.name for c in columns)
    how = [f"IWAE with K = {args.iw_samples}" if args.iw_samples else "IWAE skipped (--iw-samples 0)",
           "quality skipped (--no-quality)" if args.no_quality else
           f"sharpness and frechet on {args.quality_samples} images and prior samples"]
    fig = render_comparison(columns, title=f"{names} on {ds.name} (test split, {args.sites} lattice sites)",
                            note=f"{NOTE}. {'; '.join(how)}.")
    save_image(fig, args.out)
    if args.json:
        print(json.dumps([c.metrics for c in columns], indent=2))
    else:
        for c in columns:
            print(_summary(c.metrics))
        print(f"{len(columns)} runs, {fig.width}x{fig.height} -> {args.out}")
    return 0


def _summary(m: dict) -> str:
    parts = [f"{label} {m[key]:.{digits}f}" for key, label, digits in
             (("test_recon", "recon", 2), ("neg_elbo", "-ELBO", 2), ("iwae_nll", "IWAE NLL", 2),
              ("sharpness_recon", "sharpness recon", 3), ("sharpness_prior", "sharpness prior", 3),
              ("frechet", "frechet", 2), ("seconds_per_epoch", "s/epoch", 1)) if m[key] is not None]
    return f"{m['name']}: {m['kind']}, latent {m['latent_dim']}, {m['epochs']} epochs: " + ", ".join(parts)

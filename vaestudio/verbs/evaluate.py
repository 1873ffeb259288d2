"""`vaestudio evaluate`: the evaluation terms a run's kind declares, in nats per image, on a split
(a VAE: -ELBO, reconstruction, KL and optionally the IWAE bound; an autoencoder: reconstruction)."""
from __future__ import annotations

import json

from ..core.data.base import SPLITS
from .common import add_data_args, add_run_arg, load_run, open_run_dataset
from .numbers import MAX_INDEX, int_in, seed_type


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="measure a trained model on a data split",
                       description="Print the run's evaluation terms in nats per image (a VAE: neg_elbo, "
                                   "recon and kl; an autoencoder: recon) and, for a VAE with --iw-samples K, "
                                   "nll_iw: the importance-weighted estimate of -log p(x).")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--iw-samples", type=int_in(0, 100_000), default=0, metavar="K",
                   help="importance samples for nll_iw (kinds with a posterior only; 0 skips it)")
    p.add_argument("--batch-size", type=int_in(1, 100_000), default=500)
    p.add_argument("--limit", type=int_in(0, MAX_INDEX), default=0, metavar="N", help="use only the first N images")
    p.add_argument("--seed", type=seed_type(), default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.errors import ConfigError
    from ..core.kinds import IW_BOUND
    from ..core.metrics import evaluate

    if not 0 <= args.iw_samples <= 100_000:
        raise ConfigError(f"--iw-samples must be between 0 and 100000, not {args.iw_samples}")
    if not 1 <= args.batch_size <= 100_000:
        raise ConfigError(f"--batch-size must be between 1 and 100000, not {args.batch_size}")
    if args.limit < 0:
        raise ConfigError(f"--limit must be >= 0, not {args.limit}")
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
    if args.json:
        print(json.dumps(res))
    else:
        parts = ", ".join(f"{t.title} {res[t.name]:.2f}" for t in kind.eval_terms)
        print(f"{ds.name} {args.split} ({res['n']} images), nats per image: {parts}"
              + (f"; -log p(x) <= {res['nll_iw']:.2f} (K={args.iw_samples})" if "nll_iw" in res else ""))
    return 0

"""`vaestudio evaluate`: negative ELBO, its parts and the IWAE bound on a split, in nats per image."""
from __future__ import annotations

import json

from .common import add_data_args, add_run_arg, load_run, open_run_dataset


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="measure a trained model on a data split",
                       description="Print neg_elbo, recon and kl (nats per image) and, with --iw-samples K, "
                                   "nll_iw: the importance-weighted estimate of -log p(x).")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--split", default="test", choices=("train", "validation", "test"))
    p.add_argument("--iw-samples", type=int, default=0, metavar="K",
                   help="importance samples for nll_iw (VAE only; 0 skips it)")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--limit", type=int, default=0, metavar="N", help="use only the first N images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.errors import ConfigError
    from ..core.metrics import evaluate

    ckpt = load_run(args)
    if args.iw_samples and not ckpt.model_config.is_vae:
        raise ConfigError("--iw-samples needs a VAE; this run is a plain autoencoder")
    ds = open_run_dataset(args, ckpt)
    images = ds.split(args.split).images
    if args.limit:
        images = images[: args.limit]
    res = evaluate(ckpt.model, images, batch_size=args.batch_size, iw_samples=args.iw_samples, seed=args.seed)
    res.update({"split": args.split, "dataset": ds.name, "model": ckpt.model_config.kind})
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{ds.name} {args.split} ({res['n']} images): -ELBO {res['neg_elbo']:.2f} nats "
              f"= recon {res['recon']:.2f} + KL {res['kl']:.2f}"
              + (f"; -log p(x) <= {res['nll_iw']:.2f} (K={args.iw_samples})" if "nll_iw" in res else ""))
    return 0

"""`vaestudio encode`: a split's latent codes (mu(x) for a VAE, E(x) for an AE) to an .npz."""
from __future__ import annotations

import time

from ..core.data.base import SPLITS
from .common import add_run_arg, load_run
from .data_args import add_data_args
from .run_views import encode_run
from .numbers import int_in


def add_parser(sub) -> None:
    p = sub.add_parser("encode", help="encode a data split to latent codes (.npz)",
                       description="Write the split's codes (mu for a VAE, E(x) for an AE) with logvar, "
                                   "labels, attributes and their names to an .npz file.")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--out", required=True, metavar="FILE.npz")
    p.add_argument("--batch-size", type=int_in(1, 100_000), default=4096)
    p.set_defaults(func=run)


def run(args) -> int:
    ckpt = load_run(args)
    t0 = time.perf_counter()
    enc, ds = encode_run(args, ckpt, args.split, args.batch_size)
    seconds = time.perf_counter() - t0
    enc.save(args.out)
    from ..core.kinds import POSTERIOR
    what = "mu(x)" if ckpt.kind.has(POSTERIOR) else "E(x)"
    print(f"encoded {len(enc)} {ds.name} {args.split} images to {enc.dim}-D {what} "
          f"in {seconds:.2f} s -> {args.out}")
    return 0

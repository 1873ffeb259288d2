"""`vaestudio encode`: a split's latent codes (mu(x) for a VAE, E(x) for an AE) to an .npz.

Also home of `encode_run`, which the other latent verbs use to get a run's encodings.
"""
from __future__ import annotations

import time

from .common import TerminalProgress, add_data_args, add_run_arg, load_run, open_run_dataset

SPLITS = ("train", "validation", "test")


def add_parser(sub) -> None:
    p = sub.add_parser("encode", help="encode a data split to latent codes (.npz)",
                       description="Write the split's codes (mu for a VAE, E(x) for an AE) with logvar, "
                                   "labels, attributes and their names to an .npz file.")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--out", required=True, metavar="FILE.npz")
    p.add_argument("--batch-size", type=int, default=4096)
    p.set_defaults(func=run)


def encode_run(args, ckpt, split: str, batch_size: int = 4096):
    """(Encodings of `split`, the data set) for a loaded run, with a progress bar on a terminal."""
    from ..core.latent import encode_split

    ds = open_run_dataset(args, ckpt)
    bar = TerminalProgress()
    enc = encode_split(ckpt.model, ds, split, batch_size=batch_size, progress=bar.bar)
    return enc, ds


def run(args) -> int:
    ckpt = load_run(args)
    t0 = time.perf_counter()
    enc, ds = encode_run(args, ckpt, args.split, args.batch_size)
    seconds = time.perf_counter() - t0
    enc.save(args.out)
    what = "mu(x)" if ckpt.model_config.is_vae else "E(x)"
    print(f"encoded {len(enc)} {ds.name} {args.split} images to {enc.dim}-D {what} "
          f"in {seconds:.2f} s -> {args.out}")
    return 0

"""`vaestudio interpolate`: decode the path between two images' codes to a GIF, MP4 or PNG strip."""
from __future__ import annotations

from ..core.data.base import SPLITS
from .common import add_run_arg, load_run
from .data_args import add_data_args
from .run_views import add_output_args, encode_run, pick, write_output
from .numbers import MAX_FRAMES, MAX_INDEX, int_in


def add_parser(sub) -> None:
    p = sub.add_parser("interpolate", help="decode the latent path between two images",
                       description="Encode images I and J of --split and decode --steps points on the "
                                   "straight (or, with --slerp, spherical) path between their codes.")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--from", dest="src", type=int_in(0, MAX_INDEX), required=True, metavar="I", help="start image index")
    p.add_argument("--to", dest="dst", type=int_in(0, MAX_INDEX), required=True, metavar="J", help="end image index")
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--steps", type=int_in(2, MAX_FRAMES), default=16,
                   help=f"frames on the path (2 to {MAX_FRAMES}; default 16)")
    p.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    add_output_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.latent import decode_batch, interpolate

    ckpt = load_run(args)
    enc, _ = encode_run(args, ckpt, args.split)
    method = "slerp" if args.slerp else "linear"
    path = interpolate(pick(enc, args.src, "--from"), pick(enc, args.dst, "--to"), args.steps, method)
    images = decode_batch(ckpt.model, path)
    labels = [f"t={t:.2f}" for t in (i / (args.steps - 1) for i in range(args.steps))]
    print(f"{method} path {args.split}[{args.src}] -> [{args.dst}]: " + write_output(args, images, labels))
    return 0

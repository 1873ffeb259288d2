"""`vaestudio interpolate`: decode the path between two images' codes to a GIF, MP4 or PNG strip.

Each end is an image of --split (--from I / --to J) or a picture file (--from-file / --to-file);
with two files no data set is opened.
"""
from __future__ import annotations

from ..core.data.base import SPLITS
from .common import add_run_arg, load_run
from .data_args import add_data_args
from .run_views import add_output_args, encode_run, pick, write_output
from .numbers import MAX_FRAMES, MAX_INDEX, int_in


def add_parser(sub) -> None:
    p = sub.add_parser("interpolate", help="decode the latent path between two images",
                       description="Encode images I and J of --split (or picture files, with --from-file and "
                                   "--to-file) and decode --steps points on the straight (or, with --slerp, "
                                   "spherical) path between their codes.")
    add_run_arg(p)
    add_data_args(p)
    for flag, dest, meta, end in (("--from", "src", "I", "start"), ("--to", "dst", "J", "end")):
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument(flag, dest=dest, type=int_in(0, MAX_INDEX), metavar=meta, help=f"{end} image index in --split")
        g.add_argument(f"{flag}-file", dest=f"{dest}_file", metavar="FILE",
                       help=f"or the {end} as a picture file (PNG, JPEG, ...): centre-cropped to the model's "
                            f"aspect ratio, resized to its images and encoded")
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--steps", type=int_in(2, MAX_FRAMES), default=16,
                   help=f"frames on the path (2 to {MAX_FRAMES}; default 16)")
    p.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    add_output_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.latent import decode_batch, interpolate
    from ..core.latent.own_images import encode_own_file

    ckpt = load_run(args)
    files = {f: encode_own_file(ckpt.model, f) for f in (args.src_file, args.dst_file) if f}  # bad files fail first
    enc = encode_run(args, ckpt, args.split)[0] if args.src is not None or args.dst is not None else None

    def end(index, file, flag):
        """(the code, how the summary names it) of one end of the path."""
        if file:
            return files[file][1], files[file][0].name
        return pick(enc, index, flag), f"{args.split}[{index}]"

    (a, first), (b, last) = end(args.src, args.src_file, "--from"), end(args.dst, args.dst_file, "--to")
    if args.src is not None and args.dst is not None:
        last = f"[{args.dst}]"  # "test[0] -> [1]": one split, named once
    method = "slerp" if args.slerp else "linear"
    path = interpolate(a, b, args.steps, method)
    images = decode_batch(ckpt.model, path)
    labels = [f"t={t:.2f}" for t in (i / (args.steps - 1) for i in range(args.steps))]
    print(f"{method} path {first} -> {last}: " + write_output(args, images, labels))
    return 0

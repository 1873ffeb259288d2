"""`vaestudio interpolate`: decode the path between two images' codes to a GIF, MP4 or PNG strip.

Also home of the output options (--fps, --scale, --no-loop) that `attribute` shares.
"""
from __future__ import annotations


def add_output_args(p) -> None:
    p.add_argument("--out", required=True, metavar="FILE.gif|.mp4|.png",
                   help="an animated GIF, an MP4 video, or a PNG strip (by suffix)")
    p.add_argument("--fps", type=float, default=8.0, help="frames per second (default 8)")
    p.add_argument("--scale", type=int, default=0,
                   help="enlarge each image this many times (default: to at least 96 pixels)")
    p.add_argument("--no-loop", action="store_true", help="GIF: play once instead of looping")


def write_output(args, images, labels) -> str:
    """Save the frames as --out says; returns a one-line summary of what was stored."""
    from ..core.animation import save_frames
    from ..core.render import auto_scale

    scale = args.scale or auto_scale(images.shape)
    info = save_frames(images, args.out, fps=args.fps, labels=labels, scale=scale,
                       loop=None if args.no_loop else 0)
    timing = f", {info.frame_ms:g} ms a frame" if info.frame_ms else ""
    return f"{info.n_frames} frames {info.size[0]}x{info.size[1]}{timing} -> {info.path}"


def pick(enc, index: int, what: str):
    """The code of image `index` of the encoded split, or a clear error."""
    from ..core.errors import VaeStudioError

    if not 0 <= index < len(enc):
        raise VaeStudioError(f"{what} {index} is out of range: the {enc.split} split has "
                             f"{len(enc)} images (0..{len(enc) - 1})")
    return enc.codes[index]


def add_parser(sub) -> None:
    from .common import add_data_args, add_run_arg

    p = sub.add_parser("interpolate", help="decode the latent path between two images",
                       description="Encode images I and J of --split and decode --steps points on the "
                                   "straight (or, with --slerp, spherical) path between their codes.")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--from", dest="src", type=int, required=True, metavar="I", help="start image index")
    p.add_argument("--to", dest="dst", type=int, required=True, metavar="J", help="end image index")
    p.add_argument("--split", default="test", choices=("train", "validation", "test"))
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    add_output_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.latent import decode_batch, interpolate
    from .common import load_run
    from .encode import encode_run

    ckpt = load_run(args)
    enc, _ = encode_run(args, ckpt, args.split)
    method = "slerp" if args.slerp else "linear"
    path = interpolate(pick(enc, args.src, "--from"), pick(enc, args.dst, "--to"), args.steps, method)
    images = decode_batch(ckpt.model, path)
    labels = [f"t={t:.2f}" for t in (i / (args.steps - 1) for i in range(args.steps))]
    print(f"{method} path {args.split}[{args.src}] -> [{args.dst}]: " + write_output(args, images, labels))
    return 0

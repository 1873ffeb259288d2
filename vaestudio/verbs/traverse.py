"""`vaestudio traverse`: decode one row per latent dimension, that coordinate swept around an
image's code (or the mean) with the others held, to see what each dimension controls."""
from __future__ import annotations

from ..core.data.base import SPLITS
from .common import add_run_arg, load_run
from .data_args import add_data_args
from .numbers import MAX_INDEX, MAX_SCALE, float_in, int_in
from .run_views import encode_run, pick

MAX_ROWS = 64  # dimensions in one picture
MAX_STEPS = 31


def add_parser(sub) -> None:
    p = sub.add_parser("traverse", help="decode a row per latent dimension swept around one code",
                       description="For each dimension d, decode --steps codes with z_d running evenly from "
                                   "base_d - RANGE to base_d + RANGE and every other coordinate at the base: "
                                   "image N's code (--image) or the mean of the split's codes (--mean, the "
                                   "default). With an odd --steps the middle column is the base itself. Rows "
                                   "are labelled z{d} and, for kinds with a posterior, its KL in nats.")
    add_run_arg(p)
    add_data_args(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--image", type=int_in(0, MAX_INDEX), metavar="N", help="traverse around image N of --split")
    g.add_argument("--mean", action="store_true", help="traverse around the mean of the split's codes (default)")
    p.add_argument("--split", default="test", choices=SPLITS, help="the split to encode (default test)")
    p.add_argument("--dims", type=int_in(0, 1023), nargs="+", metavar="I",
                   help=f"the dimensions to traverse, one row each, at most {MAX_ROWS} (default: all when the "
                        f"latent has at most 10, else the 10 with the largest KL, or variance for a kind "
                        f"without a posterior)")
    p.add_argument("--range", dest="span", type=float_in(0, 20, lo_open=True), default=3.0, metavar="R",
                   help="how far each coordinate moves either side of the base, above 0 and at most 20 "
                        "(default 3)")
    p.add_argument("--steps", type=int_in(2, MAX_STEPS), default=9,
                   help=f"columns per row, 2 to {MAX_STEPS} (default 9)")
    p.add_argument("--scale", type=int_in(0, MAX_SCALE), default=0,
                   help=f"enlarge each image this many times, up to {MAX_SCALE} (default: automatic)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="picture to write (PNG, JPEG or WebP)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.errors import ConfigError
    from ..core.latent import decode_batch
    from ..core.latent.traversal import default_dims, dimension_scores, traversal_latents, traversal_picture
    from ..core.render import auto_scale, picture_format, save_image

    picture_format(args.out)  # a bad suffix is refused before any encoding
    ckpt = load_run(args)
    dim = int(ckpt.model_config.latent_dim)
    if args.dims is not None:
        if len(args.dims) > MAX_ROWS:
            raise ConfigError(f"--dims names {len(args.dims)} dimensions: at most {MAX_ROWS} fit one picture")
        bad = [d for d in args.dims if d >= dim]
        if bad:
            raise ConfigError(f"--dims {bad[0]} is out of range: the model's latent has {dim} "
                              f"dimension{'' if dim == 1 else 's'} (0..{dim - 1})")
    enc = encode_run(args, ckpt, args.split)[0]
    dims = list(args.dims) if args.dims is not None else default_dims(enc)
    if args.image is not None:
        base, around = pick(enc, args.image, "--image"), f"{args.split} image {args.image}"
    else:
        base, around = enc.centre, f"the mean of {len(enc)} {args.split} codes"
    z = traversal_latents(base, dims, args.steps, args.span)
    images = decode_batch(ckpt.model, z)
    scale = args.scale or auto_scale(ckpt.model_config.image_shape, 56)
    kl = dimension_scores(enc)[0]
    save_image(traversal_picture(images, dims, args.steps, kl=kl, scale=scale), args.out)
    print(f"traversed {len(dims)} dimension{'' if len(dims) == 1 else 's'} x {args.steps} steps "
          f"around {around} -> {args.out}")
    return 0

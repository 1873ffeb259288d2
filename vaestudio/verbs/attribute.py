"""`vaestudio attribute`: add growing multiples of an attribute vector to one image's code (an
image of --split, or a picture file given with --image-file).

delta = mean(mu | attribute) - mean(mu | not attribute) over --vector-split; several
--attribute options are added together (weighted by --weight); --balance takes each one's
difference within the combinations of the others (and of --balance-on) to curb leakage.
"""
from __future__ import annotations

from ..core.data.base import SPLITS
from .common import add_run_arg, load_run
from .data_args import add_data_args
from .run_views import add_output_args, encode_run, pick, write_output
from .numbers import MAX_FRAMES, MAX_INDEX, float_in, int_in


def add_parser(sub) -> None:
    p = sub.add_parser("attribute", help="change an image along attribute vectors (strip, GIF or MP4)",
                       description="NAME is an attribute of the data set (Blond_Hair, Eyeglasses...), "
                                   "a label name, or a label value such as 7.")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--attribute", action="append", required=True, metavar="NAME")
    p.add_argument("--weight", action="append", type=float_in(-100, 100), metavar="W",
                   help="one per --attribute, in order (default 1 each)")
    base = p.add_mutually_exclusive_group(required=True)
    base.add_argument("--image", type=int_in(0, MAX_INDEX), metavar="INDEX", help="image index in --split")
    base.add_argument("--image-file", metavar="FILE",
                      help="a picture file (PNG, JPEG, ...) instead: centre-cropped to the model's aspect ratio, "
                           "resized to its images and encoded")
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--vector-split", default="validation", choices=SPLITS,
                   help="the split the mean encodings are taken over (default validation)")
    p.add_argument("--steps", type=int_in(2, MAX_FRAMES), default=8,
                   help=f"frames from --min-alpha to --max-alpha (2 to {MAX_FRAMES}; default 8)")
    p.add_argument("--max-alpha", type=float_in(-100, 100), default=1.5, metavar="A")
    p.add_argument("--min-alpha", type=float_in(-100, 100), default=0.0)
    p.add_argument("--balance", action="store_true",
                   help="balance each attribute on the other chosen ones before taking the means")
    p.add_argument("--balance-on", action="append", default=[], metavar="NAME",
                   help="also balance on this attribute (repeatable)")
    p.add_argument("--correlated", type=int_in(0, 1000), default=0, metavar="K",
                   help="also balance on the K attributes most correlated with each chosen one")
    add_output_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.errors import VaeStudioError
    from ..core.latent import apply_vector, attribute_vectors, combine, decode_batch, sweep_alphas
    from ..core.latent.own_images import encode_own_file

    if args.weight is not None and len(args.weight) != len(args.attribute):
        raise VaeStudioError(f"give one --weight per --attribute ({len(args.attribute)}), "
                             f"not {len(args.weight)}")
    ckpt = load_run(args)
    own = encode_own_file(ckpt.model, args.image_file) if args.image_file else None  # a bad file fails first
    pool, _ = encode_run(args, ckpt, args.vector_split, flag="--vector-split")
    vectors = attribute_vectors(pool, args.attribute, balance=args.balance,
                                balance_on=args.balance_on, correlated=args.correlated)
    delta = combine(vectors, args.weight)
    if own is not None:
        base, source = own[1], own[0].name
    else:
        base = pick(pool if args.split == args.vector_split else encode_run(args, ckpt, args.split)[0],
                    args.image, "--image")
        source = f"{args.split}[{args.image}]"
    alphas = sweep_alphas(args.steps, args.max_alpha, args.min_alpha)
    images = decode_batch(ckpt.model, apply_vector(base, delta, alphas))
    for v in vectors:
        extra = f", balanced on {', '.join(v.balanced_on)}" if v.balanced_on else ""
        print(f"{v.name}: {v.n_with} with / {v.n_without} without{extra}; |delta| = "
              f"{float((v.delta ** 2).sum()) ** 0.5:.3f}")
    summary = write_output(args, images, [f"a={a:.2f}" for a in alphas])
    print(f"{source} + a * delta, a in [{args.min_alpha:g}, {args.max_alpha:g}]: {summary}")
    return 0

"""`vaestudio attribute`: add growing multiples of an attribute vector to one image's code (an
image of --split, or a picture file given with --image-file).

delta = mean(mu | attribute) - mean(mu | not attribute) over --vector-split; several
--attribute options are added together (weighted by --weight); --balance takes each one's
difference within the combinations of the others (and of --balance-on) to curb leakage.

Instead of --attribute, --from-group A --to-group B takes delta = mean(mu | B) - mean(mu | A)
over two groups of --vector-split images: groups saved in the run (`vaestudio groups`) or index
files (.txt, .csv, .npy); --balance-on balances it the same way.
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
    p.add_argument("--attribute", action="append", metavar="NAME",
                   help="an attribute, label name or label value (repeatable); or give --from-group and --to-group")
    p.add_argument("--from-group", metavar="A",
                   help="instead of --attribute: the vector from group A to group B (--to-group); each a group "
                        "saved in the run (`vaestudio groups RUN` lists them) or an index file (.txt, .csv, .npy) "
                        "of --vector-split images")
    p.add_argument("--to-group", metavar="B", help="the group the vector points to (with --from-group)")
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

    by_group = _check_ways(args)
    if not by_group and args.weight is not None and len(args.weight) != len(args.attribute):
        raise VaeStudioError(f"give one --weight per --attribute ({len(args.attribute)}), "
                             f"not {len(args.weight)}")
    ckpt = load_run(args)
    own = encode_own_file(ckpt.model, args.image_file) if args.image_file else None  # a bad file fails first
    pool, ds = encode_run(args, ckpt, args.vector_split, flag="--vector-split")
    if by_group:
        vectors = [_group_vector(args, ckpt, pool, ds)]
    else:
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
    for v in vectors if not by_group else ():
        extra = f", balanced on {', '.join(v.balanced_on)}" if v.balanced_on else ""
        print(f"{v.name}: {v.n_with} with / {v.n_without} without{extra}; |delta| = "
              f"{float((v.delta ** 2).sum()) ** 0.5:.3f}")
    summary = write_output(args, images, [f"a={a:.2f}" for a in alphas])
    print(f"{source} + a * delta, a in [{args.min_alpha:g}, {args.max_alpha:g}]: {summary}")
    return 0


def _check_ways(args) -> bool:
    """True for --from-group/--to-group, False for --attribute; one clear line for any mix."""
    from ..core.errors import VaeStudioError

    grouped = args.from_group is not None or args.to_group is not None
    if grouped and args.attribute:
        raise VaeStudioError("give either --attribute or --from-group with --to-group, not both")
    if not grouped and not args.attribute:
        raise VaeStudioError("give --attribute NAME, or --from-group A and --to-group B")
    if grouped and (args.from_group is None or args.to_group is None):
        raise VaeStudioError("--from-group and --to-group go together: the vector points from group A to group B")
    if grouped and (args.weight is not None or args.balance or args.correlated):
        raise VaeStudioError("--weight, --balance and --correlated go with --attribute; a group vector "
                             "is balanced with --balance-on")
    return grouped


def _group_rows(args, ckpt, saved, problems, text: str, flag: str, enc, ds_id: str):
    """(label, indices or Group) for --from-group/--to-group: a saved group, else an index file."""
    import os

    from ..core.errors import VaeStudioError
    from ..core.latent import find_group, read_index_file
    from ..core.latent.groups import INDEX_FILE_SUFFIXES

    is_file = os.path.splitext(text)[1].lower() in INDEX_FILE_SUFFIXES
    group = None if (is_file and os.path.isfile(text)) else find_group(saved, text)
    if group is None:
        if is_file:
            return text, read_index_file(text, len(enc))
        names = ", ".join(g.name for g in saved) or "none"
        damaged = f"; {len(problems)} damaged saved group(s) were ignored" if problems else ""
        raise VaeStudioError(f"{flag} {text!r}: no group of that name is saved in {ckpt.path or args.run} "
                             f"(saved: {names}{damaged}); an index file needs a .txt, .csv or .npy name")
    if group.split != enc.split:
        raise VaeStudioError(f"{flag} {group.name!r} was picked on the {group.split} split but --vector-split is "
                             f"{enc.split}: give --vector-split {group.split}")
    if group.dataset and group.dataset != ds_id:
        raise VaeStudioError(f"{flag} {group.name!r} was picked on the data set {group.dataset}, not on the one "
                             f"given ({ds_id}): its indices would name other images")
    return group.name, group


def _group_vector(args, ckpt, enc, ds):
    """The vector from --from-group to --to-group over the encoded --vector-split, with its summary line."""
    from ..core.latent import dataset_identity, group_vector, read_groups

    saved, problems = read_groups(ckpt)
    ds_id = dataset_identity(ds)
    a_label, a = _group_rows(args, ckpt, saved, problems, args.from_group, "--from-group", enc, ds_id)
    b_label, b = _group_rows(args, ckpt, saved, problems, args.to_group, "--to-group", enc, ds_id)
    v = group_vector(enc, a, b, balance_on=args.balance_on, name=f"{a_label} -> {b_label}")
    extra = f", balanced on {', '.join(v.balanced_on)}" if v.balanced_on else ""
    dropped = f" ({v.dropped} left out when balancing)" if v.dropped else ""
    print(f"group {a_label} ({v.n_without} images) -> group {b_label} ({v.n_with} images) of the "
          f"{enc.split} split{extra}{dropped}; |delta| = {float((v.delta ** 2).sum()) ** 0.5:.3f}")
    return v

"""`vaestudio lattice`: decode an n x n lattice inscribed in the circle holding 99% of the codes.

Also home of the view options (--dims / --pca / --coverage / --split) and the run-to-lattice
step that `scatter` shares.
"""
from __future__ import annotations


def add_view_parser(sub, name: str, help: str, description: str):
    """A verb's parser with RUN, the data options and the view options."""
    from .common import add_data_args, add_run_arg

    p = sub.add_parser(name, help=help, description=description)
    add_run_arg(p)
    add_data_args(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--dims", type=int, nargs=2, metavar=("I", "J"),
                   help="the latent coordinates to view (default 0 1); the others are held at the centre")
    g.add_argument("--pca", action="store_true", help="view the plane of the two principal components")
    p.add_argument("--coverage", type=float, default=0.99,
                   help="fraction of the encodings inside the circle (default 0.99)")
    p.add_argument("--split", default="validation", choices=("train", "validation", "test"),
                   help="the split whose encodings set the circle (default validation)")
    return p


def lattice_for_run(args, n: int):
    """(checkpoint, encodings, data set, lattice) for the run, split and view in `args`."""
    from ..core.latent import latent_lattice, make_projection
    from .common import load_run
    from .encode import encode_run

    ckpt = load_run(args)
    enc, ds = encode_run(args, ckpt, args.split)
    proj = make_projection(enc.codes, dims=args.dims, pca=args.pca)
    return ckpt, enc, ds, latent_lattice(enc.codes, n=n, projection=proj, coverage=args.coverage)


def add_parser(sub) -> None:
    p = add_view_parser(sub, "lattice", help="decode a square lattice of latent points to an image grid",
                        description="An n x n lattice inscribed in the circle that holds --coverage of "
                                    "the encodings, in the plane of --dims (or --pca) through their centre.")
    p.add_argument("--n", type=int, default=15, help="sites per side (default 15)")
    p.add_argument("--scale", type=int, default=1, help="enlarge each image this many times")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.render import image_grid, save_png

    ckpt, enc, _, lat = lattice_for_run(args, args.n)
    save_png(image_grid(lat.decode(ckpt.model), ncols=args.n, scale=args.scale, padding=1), args.out)
    x, y = lat.projection.axis_labels()
    print(f"{args.n}x{args.n} lattice on ({x}, {y}), circle radius {lat.circle.radius:.3f} "
          f"({args.coverage:.0%} of {len(enc)} {args.split} codes) -> {args.out}")
    return 0

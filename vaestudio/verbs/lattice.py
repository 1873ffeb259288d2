"""`vaestudio lattice`: decode an n x n lattice inscribed in the circle holding 99% of the codes."""
from __future__ import annotations

from .run_views import add_view_parser, lattice_for_run
from .numbers import MAX_LATTICE, MAX_SCALE, int_in


def add_parser(sub) -> None:
    p = add_view_parser(sub, "lattice", help="decode a square lattice of latent points to an image grid",
                        description="An n x n lattice inscribed in the circle that holds --coverage of "
                                    "the encodings, in the plane of --dims (or --pca) through their centre.")
    p.add_argument("--n", type=int_in(2, MAX_LATTICE), default=15,
                   help=f"sites per side, 2 to {MAX_LATTICE} (default 15)")
    p.add_argument("--scale", type=int_in(1, MAX_SCALE), default=1,
                   help=f"enlarge each image this many times, up to {MAX_SCALE}")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.render import image_grid, save_image

    ckpt, enc, _, lat = lattice_for_run(args, args.n)
    save_image(image_grid(lat.decode(ckpt.model), ncols=args.n, scale=args.scale, padding=1), args.out)
    x, y = lat.projection.axis_labels()
    print(f"{args.n}x{args.n} lattice on ({x}, {y}), circle radius {lat.circle.radius:.3f} "
          f"({args.coverage:.0%} of {len(enc)} {args.split} codes) -> {args.out}")
    return 0

"""`vaestudio lattice`: decode an n x n lattice inscribed in the circle holding 99% of the codes."""
from __future__ import annotations

from .run_views import add_view_parser, lattice_for_run


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

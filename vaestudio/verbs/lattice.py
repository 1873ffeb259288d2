"""`vaestudio lattice`: decode an n x n lattice in the circle holding 99% of the codes, and
optionally write its sites (row, col, view point, latent vector) to a CSV."""
from __future__ import annotations

from .run_views import add_lattice_args, add_view_parser, lattice_for_run, out_path
from .numbers import MAX_LATTICE, MAX_SCALE, int_in


def add_parser(sub) -> None:
    p = add_view_parser(sub, "lattice", help="decode a square lattice of latent points to an image grid",
                        description="An n x n lattice inscribed in (or circumscribed about) the circle that "
                                    "holds --coverage of the encodings, or on explicit view bounds, in the plane "
                                    "of --dims (or --pca). For D > 2 the circle is the view's own (--circle).")
    add_lattice_args(p)
    p.add_argument("--n", type=int_in(2, MAX_LATTICE), default=15,
                   help=f"sites per side, 2 to {MAX_LATTICE} (default 15)")
    p.add_argument("--scale", type=int_in(1, MAX_SCALE), default=1,
                   help=f"enlarge each image this many times, up to {MAX_SCALE}")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--sites-out", type=out_path(".csv"), metavar="SITES.csv",
                   help="also write every site: row,col,view_x,view_y,z0..z{D-1}, one line per site, top row "
                        "first (the z columns decode to the grid's tiles)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.latent import write_sites_csv
    from ..core.render import image_grid, save_image

    ckpt, enc, _, lat = lattice_for_run(args, args.n)
    save_image(image_grid(lat.decode(ckpt.model), ncols=args.n, scale=args.scale, padding=1), args.out)
    x, y = lat.projection.axis_labels()
    print(f"{args.n}x{args.n} lattice {lat.placement()} on ({x}, {y}), circle radius {lat.circle.radius:.3f} "
          f"({args.coverage:.0%} of {len(enc)} {args.split} codes) -> {args.out}")
    if args.sites_out:
        write_sites_csv(lat, args.sites_out)
        print(f"{args.n * args.n} sites -> {args.sites_out}")
    return 0

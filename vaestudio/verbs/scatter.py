"""`vaestudio scatter`: the split's encodings in 2-D, coloured by label, with their circle."""
from __future__ import annotations

from .run_views import add_view_parser, lattice_for_run
from .numbers import MAX_PICTURE_SIDE, int_in


def add_parser(sub) -> None:
    p = add_view_parser(sub, "scatter", help="plot the encodings by label with their enclosing circle (PNG)",
                        description="Solid: the circle of the latent space holding --coverage of the codes "
                                    "(the lattice's circle). Dashed, for D > 2: the view's own circle.")
    p.add_argument("--square", action="store_true", help="also draw the lattice's inscribed square")
    p.add_argument("--size", type=int_in(200, MAX_PICTURE_SIDE), default=720,
                   help=f"picture side in pixels, 200 to {MAX_PICTURE_SIDE:,} (default 720)")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.latent import enclosing_circle
    from ..core.render import save_image, scatter_plot

    _, enc, ds, lat = lattice_for_run(args, 2)  # a 2 x 2 lattice is the square's corners
    points = lat.projection.to_view(enc.codes)
    circles = [lat.circle] + ([enclosing_circle(points, args.coverage)] if enc.dim > 2 else [])
    square = lat.points[[0, 1, 3, 2]]
    img = scatter_plot(points, enc.labels, enc.label_names, circles=circles,
                       polygons=[square] if args.square else [], axis_labels=lat.projection.axis_labels(),
                       title=f"{ds.name} {args.split}: {len(enc)} codes", size=args.size)
    save_image(img, args.out)
    print(f"{len(enc)} {args.split} codes, circle radius {lat.circle.radius:.3f} "
          f"({args.coverage:.0%}) -> {args.out}")
    return 0

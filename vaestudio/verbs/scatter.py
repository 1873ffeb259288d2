"""`vaestudio scatter`: the split's encodings in 2-D, coloured by label, with their circles."""
from __future__ import annotations

from .run_views import add_lattice_args, add_view_parser, lattice_for_run
from .numbers import MAX_PICTURE_SIDE, int_in


def add_parser(sub) -> None:
    p = add_view_parser(sub, "scatter", help="plot the encodings by label with their enclosing circle (PNG)",
                        description="Solid black: the view's circle holding --coverage of the projected codes. "
                                    "Dashed grey, for D > 2: the great circle of the D-sphere holding --coverage "
                                    "of the codes. --square draws the lattice's square (see --extent, --center, "
                                    "--circle).")
    add_lattice_args(p)
    p.add_argument("--square", action="store_true", help="also draw the lattice's square")
    p.add_argument("--size", type=int_in(200, MAX_PICTURE_SIDE), default=720,
                   help=f"picture side in pixels, 200 to {MAX_PICTURE_SIDE:,} (default 720)")
    p.add_argument("--out", required=True, metavar="FILE.png")
    add_map_args(p)
    p.set_defaults(func=run)


def add_map_args(p) -> None:
    p.add_argument("--map", choices=("tsne", "umap"), default=None,
                   help="draw a t-SNE or UMAP map of the codes instead of a plane (needs "
                        "pip install 'vaestudio[maps]'); a map has no inverse, so it has no circle or square")
    p.add_argument("--map-points", type=int_in(10, 50_000), default=5_000, metavar="N",
                   help="embed at most N codes, a seeded random subset above that; the rest are drawn on "
                        "their nearest embedded code (10 to 50,000; default 5,000)")
    p.add_argument("--map-seed", type=int_in(0, 2**31 - 1), default=0, metavar="S",
                   help="the map's random seed (default 0)")


def run_map(args) -> int:
    """`--map`: the codes laid out by t-SNE or UMAP (no inverse: no circles, no lattice)."""
    from ..core.errors import VaeStudioError
    from ..core.latent.embedding import embed
    from ..core.render import save_image, scatter_plot
    from .common import TerminalProgress, load_run
    from .run_views import encode_run

    if args.dims is not None or args.pca or args.square:
        raise VaeStudioError("--map lays the codes out itself: leave out --dims, --pca and --square")
    ckpt = load_run(args)
    enc, ds = encode_run(args, ckpt, args.split)
    bar = TerminalProgress()
    m = embed(enc.codes, args.map, seed=args.map_seed, max_points=args.map_points,
              progress=lambda done, total, text: bar.bar(done, total or 1, text))
    img = scatter_plot(m.points, enc.labels, enc.label_names, axis_labels=m.axis_labels(),
                       title=f"{ds.name} {args.split}: {m.title} map of {len(enc)} codes", size=args.size)
    save_image(img, args.out)
    print(f"{m.describe().split(' · ')[0]} -> {args.out}")
    return 0


def run(args) -> int:
    from ..core.latent import plane_circles
    from ..core.render import save_image, scatter_plot

    if getattr(args, "map", None):
        return run_map(args)
    _, enc, ds, lat = lattice_for_run(args, 2)  # a 2 x 2 lattice is enough for its square
    points = lat.projection.to_view(enc.codes)
    view, sphere = plane_circles(enc.codes, lat.projection, args.coverage, points)
    circles, labels = [view], []
    if sphere is not None:  # two circles: say which is which
        circles.append(sphere)
        labels = [f"view {args.coverage:.0%}", f"{enc.dim}-D sphere {args.coverage:.0%}"]
    img = scatter_plot(points, enc.labels, enc.label_names, circles=circles, circle_labels=labels,
                       polygons=[lat.corners()[:-1]] if args.square else [],
                       axis_labels=lat.projection.axis_labels(),
                       title=f"{ds.name} {args.split}: {len(enc)} codes", size=args.size)
    save_image(img, args.out)
    more = "" if sphere is None else f", {enc.dim}-D sphere radius {sphere.radius:.3f}"
    print(f"{len(enc)} {args.split} codes, circle radius {view.radius:.3f}{more} "
          f"({args.coverage:.0%}) -> {args.out}")
    return 0

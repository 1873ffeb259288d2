"""What the latent verbs share: a run's encodings of a split, picking one image's code, the
plane-view and lattice options with the run-to-lattice step (lattice, scatter), output paths
checked by suffix, and the frame-output options (interpolate, attribute).
"""
from __future__ import annotations

import argparse
import math
import os

from ..core.data.base import SPLITS
from .common import TerminalProgress, add_run_arg, load_run, open_run_dataset
from .data_args import add_data_args
from .numbers import MAX_SCALE, float_in, int_in


def encode_run(args, ckpt, split: str, batch_size: int = 4096, flag: str = "--split"):
    """(Encodings of `split`, the data set) for a loaded run, with a progress bar on a terminal.

    An empty split is a clear error that names the option (`flag`) choosing it.
    """
    from ..core.errors import DataError
    from ..core.latent import encode_split

    ds = open_run_dataset(args, ckpt)
    if len(ds.split(split)) == 0:
        why = " (it was opened with validation=0)" if split == "validation" and \
            ds.spec.options.get("validation") == 0 else ""
        raise DataError(None, f"the {split} split of {ds.name} is empty{why}; choose another with {flag}")
    bar = TerminalProgress()
    enc = encode_split(ckpt.model, ds, split, batch_size=batch_size, progress=bar.bar)
    return enc, ds


def pick(enc, index: int, what: str):
    """The code of image `index` of the encoded split, or a clear error."""
    from ..core.errors import VaeStudioError

    if not 0 <= index < len(enc):
        raise VaeStudioError(f"{what} {index} is out of range: the {enc.split} split has "
                             f"{len(enc)} images (0..{len(enc) - 1})")
    return enc.codes[index]


def add_view_parser(sub, name: str, help: str, description: str):
    """A verb's parser with RUN, the data options and the view options."""
    p = sub.add_parser(name, help=help, description=description)
    add_run_arg(p)
    add_data_args(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--dims", type=int_in(0, 1023), nargs=2, metavar=("I", "J"),
                   help="the latent coordinates to view (default 0 1); the others are held at the centre")
    g.add_argument("--pca", action="store_true", help="view the plane of the two principal components")
    p.add_argument("--coverage", type=float_in(0, 1, lo_open=True), default=0.99,
                   help="fraction of the encodings inside the circle (default 0.99)")
    p.add_argument("--split", default="validation", choices=SPLITS,
                   help="the split whose encodings set the circle (default validation)")
    return p


MAX_COORDINATE = 1e6  # a view coordinate given on the command line (codes are a few units wide)
EXTENT_NAMES = ("inscribed", "circumscribed")  # core.latent.EXTENTS, without importing numpy here


def _numbers(text: str, count: int, form: str) -> tuple:
    parts = text.split(",")
    if len(parts) != count:
        raise argparse.ArgumentTypeError(f"needs {count} numbers {form}, not {text[:60]!r}")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"needs {count} numbers {form}, not {text[:60]!r}") from None
    if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in values):
        raise argparse.ArgumentTypeError(f"needs finite numbers between -{MAX_COORDINATE:g} and "
                                         f"{MAX_COORDINATE:g}, not {text[:60]!r}")
    return values


def extent_type(text: str):
    """--extent: a name in EXTENT_NAMES, or view bounds x0,x1,y0,y1 with x0 < x1 and y0 < y1."""
    if text in EXTENT_NAMES:
        return text
    if "," not in text:
        raise argparse.ArgumentTypeError(f"must be {', '.join(EXTENT_NAMES)} or x0,x1,y0,y1, not {text[:60]!r}")
    x0, x1, y0, y1 = _numbers(text, 4, "x0,x1,y0,y1")
    if not (x0 < x1 and y0 < y1):
        raise argparse.ArgumentTypeError(f"needs x0 < x1 and y0 < y1, not {text[:60]!r}")
    return x0, x1, y0, y1


def centre_type(text: str):
    """--center: mean, origin, or a view point x,y."""
    if text in ("mean", "origin"):
        return text
    if "," not in text:
        raise argparse.ArgumentTypeError(f"must be mean, origin or x,y, not {text[:60]!r}")
    return _numbers(text, 2, "x,y")


def out_path(*suffixes: str):
    """An argparse type: an output file whose name ends in one of `suffixes` (refused otherwise)."""

    def parse(text: str) -> str:
        suffix = os.path.splitext(text)[1].lower()
        if suffix not in suffixes:
            raise argparse.ArgumentTypeError(f"cannot write {suffix or 'a name without a suffix'} "
                                             f"({text[:80]}): use {', '.join(suffixes)}")
        return text

    parse.__name__ = "file name"
    return parse


def add_lattice_args(p) -> None:
    """--extent, --center and --circle: where the lattice lies (see core/latent/lattice.py)."""
    p.add_argument("--extent", type=extent_type, default="inscribed", metavar="inscribed|circumscribed|x0,x1,y0,y1",
                   help="the square inscribed in the circle (corners on it, default), circumscribed about it "
                        "(sides touching it), or explicit view bounds (write --extent=-2,2,-1,1 when the first "
                        "is negative)")
    p.add_argument("--center", "--centre", dest="centre", type=centre_type, default=None,
                   metavar="mean|origin|x,y",
                   help="the square's centre: the codes' mean (default), origin (z = 0, every coordinate off the "
                        "plane 0 too), or a view point x,y (the others held at the mean)")
    p.add_argument("--circle", choices=("view", "sphere"), default="view",
                   help="for D > 2: the view's own circle holding --coverage of the projected codes (default), "
                        "or the great circle of the D-sphere holding --coverage of the codes (much wider)")


def lattice_for_run(args, n: int):
    """(checkpoint, encodings, data set, lattice) for the run, split, view and lattice options in
    `args` (a parser without the lattice options gets the default lattice)."""
    from ..core.errors import VaeStudioError
    from ..core.latent import latent_lattice, make_projection

    extent = getattr(args, "extent", "inscribed")
    centre = getattr(args, "centre", None)
    if centre is not None and not isinstance(extent, str):
        raise VaeStudioError("--center cannot be combined with explicit --extent bounds: the bounds fix the centre")
    ckpt = load_run(args)
    enc, ds = encode_run(args, ckpt, args.split)
    proj = make_projection(enc.codes, dims=args.dims, pca=args.pca)
    lat = latent_lattice(enc.codes, n=n, projection=proj, coverage=args.coverage, extent=extent,
                         centre=centre or "mean", circle=getattr(args, "circle", "view"))
    return ckpt, enc, ds, lat


def add_output_args(p) -> None:
    """--out (GIF, MP4 or PNG strip), --fps, --scale and --no-loop."""
    p.add_argument("--out", required=True, metavar="FILE.gif|.mp4|.png",
                   help="an animated GIF, an MP4 video, or a PNG strip (by suffix)")
    p.add_argument("--fps", type=float_in(0.1, 100), default=8.0, help="frames per second (default 8)")
    p.add_argument("--scale", type=int_in(0, MAX_SCALE), default=0,
                   help=f"enlarge each image this many times, up to {MAX_SCALE} (default: to at least 96 pixels)")
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

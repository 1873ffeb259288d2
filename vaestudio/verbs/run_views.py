"""What the latent verbs share: a run's encodings of a split, picking one image's code, the
plane-view options with the run-to-lattice step (lattice, scatter), and the frame-output
options (interpolate, attribute).
"""
from __future__ import annotations

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


def lattice_for_run(args, n: int):
    """(checkpoint, encodings, data set, lattice) for the run, split and view in `args`."""
    from ..core.latent import latent_lattice, make_projection

    ckpt = load_run(args)
    enc, ds = encode_run(args, ckpt, args.split)
    proj = make_projection(enc.codes, dims=args.dims, pca=args.pca)
    return ckpt, enc, ds, latent_lattice(enc.codes, n=n, projection=proj, coverage=args.coverage)


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

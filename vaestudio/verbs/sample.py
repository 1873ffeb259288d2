"""`vaestudio sample`: decode draws from the prior N(0, I) into an image grid (kinds with a prior)."""
from __future__ import annotations

from .common import add_run_arg, load_run
from .numbers import MAX_SAMPLES, MAX_SCALE, int_in, seed_type


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="decode random draws from the prior into a PNG grid",
                       description="Decode z ~ N(0, I) with a trained model and save the images as a grid.")
    add_run_arg(p)
    p.add_argument("--n", type=int_in(1, MAX_SAMPLES), default=64,
                   help=f"how many samples, 1 to {MAX_SAMPLES:,} (default 64)")
    p.add_argument("--cols", type=int_in(0, MAX_SAMPLES), default=0, help="grid columns (default: a square)")
    p.add_argument("--scale", type=int_in(0, MAX_SCALE), default=0,
                   help=f"pixel scale of each image, up to {MAX_SCALE} (default: automatic)")
    p.add_argument("--seed", type=seed_type(), default=0)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.errors import ConfigError
    from ..core.latent.decoding import decode_batch, sample_prior
    from ..core.render import auto_scale, image_grid, save_image

    if args.n < 1:
        raise ConfigError("--n must be at least 1")
    from ..core.kinds import PRIOR

    ckpt = load_run(args)
    if not ckpt.kind.has(PRIOR):
        raise ConfigError(f"{ckpt.kind.a_title()} has no prior to sample from: decoding N(0, I) draws would show "
                          f"nothing it learned. Use `vaestudio lattice` to decode a grid over its codes")
    z = sample_prior(args.n, ckpt.model_config.latent_dim, seed=args.seed)
    images = decode_batch(ckpt.model, z)
    scale = args.scale or auto_scale(ckpt.model_config.image_shape, 56)
    save_image(image_grid(images, ncols=args.cols or None, scale=scale), args.out)
    print(f"wrote {args.n} samples to {args.out}")
    return 0

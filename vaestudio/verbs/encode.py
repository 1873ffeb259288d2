"""`vaestudio encode`: a split's latent codes (mu(x) for a VAE, E(x) for an AE) to an .npz."""
from __future__ import annotations

import time

from ..core.data.base import SPLITS
from .common import add_run_arg, load_run
from .data_args import add_data_args
from .run_views import encode_run, out_path
from .numbers import int_in


def add_parser(sub) -> None:
    p = sub.add_parser("encode", help="encode a data split to latent codes (.npz)",
                       description="Write the split's codes (mu for a VAE, E(x) for an AE) with logvar, "
                                   "labels, attributes and their names to an .npz file. With --image, print the "
                                   "codes of picture files instead (JSON with --json).")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--out", type=out_path(".npz", ".csv", ".npy"), metavar="FILE.npz|.csv|.npy",
                   help="by suffix: .npz (codes, logvar, labels, attributes, names), .csv (z0..z{D-1}, label, "
                        "label_name, attribute columns) or .npy (float32 (N, D) codes only)")
    p.add_argument("--batch-size", type=int_in(1, 100_000), default=4096)
    p.add_argument("--image", action="append", metavar="FILE",
                   help="instead of a split: print the code of this picture file (PNG, JPEG, ...; repeatable), "
                        "centre-cropped to the model's aspect ratio and resized to its images; no --out and "
                        "no data set needed")
    p.add_argument("--json", action="store_true", help="with --image: print the codes as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    _check_image_args(args)
    ckpt = load_run(args)
    if args.image:
        return _print_file_codes(args, ckpt)
    t0 = time.perf_counter()
    enc, ds = encode_run(args, ckpt, args.split, args.batch_size)
    seconds = time.perf_counter() - t0
    enc.save(args.out)
    from ..core.kinds import POSTERIOR
    what = "mu(x)" if ckpt.kind.has(POSTERIOR) else "E(x)"
    print(f"encoded {len(enc)} {ds.name} {args.split} images to {enc.dim}-D {what} "
          f"in {seconds:.2f} s -> {args.out}")
    return 0


def _check_image_args(args) -> None:
    """--image prints codes, --out writes a split's: exactly one of them."""
    from ..core.errors import VaeStudioError

    if args.image and args.out:
        raise VaeStudioError("--image prints the codes of picture files and --out writes a split's: give one of them")
    if not args.image and not args.out:
        raise VaeStudioError("give --out FILE to write the split's codes, or --image FILE to print a picture's code")
    if args.json and not args.image:
        raise VaeStudioError("--json prints the codes of --image files; a split's codes go to --out")


def _print_file_codes(args, ckpt) -> int:
    """Each --image file's code (and a VAE's logvar) with the crop taken from it, as text or JSON."""
    import json

    from ..core.kinds import POSTERIOR
    from ..core.latent.own_images import encode_own_images, load_own_images

    images = load_own_images(args.image, ckpt.model_config.image_shape)
    codes, logvar = encode_own_images(ckpt.model, images)
    what = "mu(x)" if ckpt.kind.has(POSTERIOR) else "E(x)"
    rows = [{"file": im.path, "crop": list(im.crop), "source_size": list(im.source_size),
             "image_shape": list(im.image.shape), "code": [float(v) for v in codes[i]],
             **({} if logvar is None else {"logvar": [float(v) for v in logvar[i]]})}
            for i, im in enumerate(images)]
    if args.json:
        print(json.dumps({"run": str(args.run), "kind": ckpt.model_config.kind, "code": what,
                          "latent_dim": int(codes.shape[1]), "images": rows}))
        return 0
    c, h, w = ckpt.model_config.image_shape
    for im, row in zip(images, rows):
        print(f"{im.path}: {im.describe_crop()} -> {w}x{h} {'grey' if c == 1 else 'RGB'}")
        print(f"  {what:<6} = [{', '.join(f'{v:+.5f}' for v in row['code'])}]")
        if "logvar" in row:
            print(f"  logvar = [{', '.join(f'{v:+.5f}' for v in row['logvar'])}]")
    return 0

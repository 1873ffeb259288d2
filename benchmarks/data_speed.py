"""How fast the data layer is: opening MNIST from raw IDX files, generating the built-in sets,
and converting CelebA-format JPEGs (reported per 1,000 images and extrapolated to 200,000).

Everything is written first in the real formats into a temporary folder, with a temporary
cache, so nothing is downloaded and nothing outside the temp folder is touched.

    python benchmarks/data_speed.py [--celeba-images 2000] [--skip-faces]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def photo_like(seed: int):
    """178x218 pictures with smooth shapes and grain, so JPEGs decode like real photos."""
    from PIL import Image

    from vaestudio.core.data.faces import face_block

    faces, _ = face_block(seed, 0)
    rng = np.random.default_rng(seed)

    def picture(i: int) -> np.ndarray:
        face = Image.fromarray(faces[i % len(faces)].transpose(1, 2, 0)).resize((178, 218), Image.BICUBIC)
        grain = rng.normal(0, 6, (218, 178, 3))
        return np.clip(np.asarray(face, dtype=float) + grain, 0, 255).astype(np.uint8)

    return picture


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--celeba-images", type=int, default=2000, help="JPEGs to convert (default 2000)")
    p.add_argument("--skip-faces", action="store_true", help="do not time the 20,000 built-in faces")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vaestudio-bench-") as tmp:
        tmp = Path(tmp)
        os.environ["VAESTUDIO_CACHE"] = str(tmp / "cache")
        from vaestudio.core.data.registry import open_dataset
        from vaestudio.core.data.sample_files import write_celeba, write_idx_set

        for gz in (False, True):
            root = tmp / ("mnist-gz" if gz else "mnist")
            write_idx_set(root / "MNIST" / "raw", 60000, 10000, gz=gz)
            open_dataset("mnist", root)  # warm the imports and the file cache
            ds, dt = timed(lambda: open_dataset("mnist", root))
            kind = "gzipped" if gz else "plain"
            print(f"MNIST from raw {kind} IDX files (60,000 + 10,000): {dt:.3f} s "
                  f"({len(ds.train):,}/{len(ds.validation):,}/{len(ds.test):,})")

        _, dt = timed(lambda: open_dataset("digits"))
        print(f"digits: generating 70,000 images: {dt:.2f} s")
        _, dt = timed(lambda: open_dataset("digits"))
        print(f"digits: reopening from the cache: {dt:.3f} s")
        if not args.skip_faces:
            _, dt = timed(lambda: open_dataset("faces"))
            print(f"faces: generating 20,000 images: {dt:.2f} s")

        n = args.celeba_images
        root = tmp / "celeba"
        _, dt_write = timed(lambda: write_celeba(root, n, pictures=photo_like(0)))
        size = sum(f.stat().st_size for f in (root / "img_align_celeba").iterdir()) / n
        ds, dt = timed(lambda: open_dataset("celeba", root))
        per_1000 = dt / n * 1000
        print(f"CelebA-format conversion: {n:,} JPEGs 178x218 (~{size / 1024:.1f} KiB each) in {dt:.2f} s = "
              f"{per_1000:.2f} s per 1,000 images; 200,000 would take about {per_1000 * 200 / 60:.1f} min")
        _, dt = timed(lambda: open_dataset("celeba", root))
        print(f"CelebA: reopening the converted cache: {dt:.3f} s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())

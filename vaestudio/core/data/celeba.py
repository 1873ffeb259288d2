"""CelebA from its official layout, parsed here so a folder of images plus attributes works.

`<root>/img_align_celeba/*.jpg`, `<root>/list_attr_celeba.txt` and, when present,
`<root>/list_eval_partition.txt` (`<root>/celeba/...` is accepted too, torchvision's layout).
Preprocessing is the standard one for 64x64 VAEs: the 148x148 crop at (15, 40) of the 178x218
aligned faces (scaled for other sizes), resized to 64. The first open converts every image into
a uint8 cache file, in chunks, with progress and cancel; later opens memory-map it.
Splits follow list_eval_partition.txt (images are stored in partition order so each split is
one slice); without it, 80/10/10 in file order. Labels are hair colours (`attributes`).

Option: `size` (default 64).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError, DataNotFoundError
from .attributes import HAIR_LABELS, hair_labels
from .base import CancelFn, DatasetSpec, ImageDataset, ProgressFn, contiguous_splits, split_counts
from .cache import cache_key, file_stamp, load_cached
from .images import convert_images

IMAGES_DIR = "img_align_celeba"
ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
CONVERSION_VERSION = 1
CROP = (15 / 178, 40 / 218, 163 / 178, 188 / 218)  # the 148x148 box at (15, 40) of 178x218


def celeba_crop(width: int, height: int) -> tuple[float, float, float, float]:
    return CROP


def _lines(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror or e})") from None


def parse_attributes(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """(attribute names, image file names, values (N, A) as 0/1) from list_attr_celeba.txt."""
    lines = [ln for ln in _lines(path) if ln.strip()]
    if len(lines) < 2:
        raise DataError(path, "too short: expected a count line, a line of attribute names, then one "
                              "line per image")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise DataError(path, f"line 1 should be the number of images, found {lines[0][:40]!r}") from None
    names = lines[1].split()
    rows = lines[2:]
    if len(rows) != count:
        raise DataError(path, f"line 1 says {count:,} images but {len(rows):,} image lines follow")
    files, values = [], np.empty((count, len(names)), dtype=np.int8)
    for i, line in enumerate(rows):
        fields = line.split()
        if len(fields) != len(names) + 1:
            raise DataError(path, f"line {i + 3}: expected a file name and {len(names)} values, "
                                  f"found {len(fields) - 1} values")
        files.append(fields[0])
        try:
            values[i] = [int(v) for v in fields[1:]]
        except ValueError:
            raise DataError(path, f"line {i + 3}: values must be 1 or -1") from None
    bad = np.argwhere((values != 1) & (values != -1))
    if len(bad):
        r, c = bad[0]
        raise DataError(path, f"line {r + 3}: value {values[r, c]} for {names[c]} is not 1 or -1")
    return names, files, (values == 1).astype(np.uint8)


def parse_partition(path: Path, files: list[str]) -> np.ndarray:
    """Partition (0 train, 1 validation, 2 test) of each of `files` from list_eval_partition.txt."""
    part: dict[str, int] = {}
    for i, line in enumerate(_lines(path)):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DataError(path, f"line {i + 1}: expected 'file name' and 0, 1 or 2, found {line.strip()[:60]!r}")
        part[fields[0]] = int(fields[1])
    missing = [f for f in files if f not in part]
    if missing:
        raise DataError(path, f"has no partition for {len(missing):,} listed images (first: {missing[0]})")
    return np.array([part[f] for f in files], dtype=np.int64)


def find_celeba(root: Path) -> Path:
    """The folder holding img_align_celeba/ and list_attr_celeba.txt."""
    for folder in (root, root / "celeba"):
        if (folder / IMAGES_DIR).is_dir() and (folder / ATTR_FILE).is_file():
            return folder
    for folder in (root, root / "celeba"):
        if (folder / IMAGES_DIR).is_dir():
            raise DataNotFoundError(folder / ATTR_FILE, "CelebA attribute file not found; put "
                                                        f"{ATTR_FILE} beside {IMAGES_DIR}/")
    raise DataNotFoundError(root, f"CelebA not found; put {IMAGES_DIR}/ (the aligned JPEGs), {ATTR_FILE} "
                                  f"and optionally {PARTITION_FILE} in this folder (or in celeba/ inside it)")


def _image_dir_stamp(images: Path) -> tuple:
    st = os.stat(images)
    return (st.st_mtime_ns, sum(1 for _ in os.scandir(images)))


def open_celeba(root: Path, size: int = 64, *, progress: Optional[ProgressFn] = None,
                cancel: Optional[CancelFn] = None) -> ImageDataset:
    folder = find_celeba(root)
    images_dir, attr_path, part_path = folder / IMAGES_DIR, folder / ATTR_FILE, folder / PARTITION_FILE
    key = cache_key("celeba", CONVERSION_VERSION, str(folder.resolve()), size, file_stamp(attr_path),
                    file_stamp(part_path), _image_dir_stamp(images_dir))
    stem = f"celeba-{key}"
    cached = None
    count = _declared_count(attr_path)
    if count:
        cached = load_cached(stem, (count, 3, size, size))
    if cached is None:
        cached = _convert(stem, images_dir, attr_path, part_path, size, progress, cancel)
    images, arrays = cached
    names = [str(n) for n in arrays["attribute_names"]]
    attributes = arrays["attributes"]
    counts = tuple(int(c) for c in arrays["split_counts"])
    train, validation, test = contiguous_splits(images, hair_labels(attributes, names), attributes, counts)
    source = "list_eval_partition.txt" if bool(arrays["official_split"]) else "an 80/10/10 split"
    return ImageDataset(
        spec=DatasetSpec("celeba", str(root), {"size": size}), train=train, validation=validation,
        test=test, label_names=list(HAIR_LABELS), attribute_names=names,
        description=f"CelebA faces, {size}x{size} RGB (148x148 crop at (15, 40)), {len(images):,} images, "
                    f"{len(names)} attributes; splits from {source}; labels are hair colours.",
    )


def _declared_count(attr_path: Path) -> int:
    try:
        with open(attr_path, encoding="utf-8", errors="replace") as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return 0


def _convert(stem, images_dir: Path, attr_path: Path, part_path: Path, size: int, progress, cancel):
    names, files, attributes = parse_attributes(attr_path)
    if not files:
        raise DataError(attr_path, "lists no images")
    present = {e.name for e in os.scandir(images_dir)}
    missing = [f for f in files if f not in present]
    if missing:
        raise DataError(images_dir / missing[0], f"listed in {ATTR_FILE} but missing "
                                                 f"({len(missing):,} listed images are missing)")
    official = part_path.is_file()
    if official:
        partition = parse_partition(part_path, files)
        order = np.argsort(partition, kind="stable")
        counts = np.bincount(partition, minlength=3)
    else:
        order = np.arange(len(files))
        counts = np.array(split_counts(len(files)))
    fixed = {"attributes": attributes[order], "attribute_names": np.array(names),
             "split_counts": counts.astype(np.int64), "official_split": np.array(official),
             "files": np.array(files)[order]}
    return convert_images(stem, [images_dir / files[i] for i in order], size, False, crop=celeba_crop,
                          fixed=fixed, message=f"converting {len(files):,} CelebA images",
                          progress=progress, cancel=cancel)

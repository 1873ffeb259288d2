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
from typing import Iterator, Optional

import numpy as np

from ..errors import DataError, DataNotFoundError
from .attributes import HAIR_LABELS, hair_labels
from .base import CancelFn, DatasetSpec, ImageDataset, ProgressFn, contiguous_splits, split_counts
from .cache import cache_key, file_stamp, folder_fingerprint, load_cached
from .images import convert_images
from .limits import MAX_IMAGES, MAX_SIDE, MAX_TEXT_LINE

IMAGES_DIR = "img_align_celeba"
ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
CONVERSION_VERSION = 1
CACHED_KEYS = ("attributes", "attribute_names", "split_counts", "official_split", "files")
CROP = (15 / 178, 40 / 218, 163 / 178, 188 / 218)  # the 148x148 box at (15, 40) of 178x218


def celeba_crop(width: int, height: int) -> tuple[float, float, float, float]:
    return CROP


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line, read one at a time; a line longer than MAX_TEXT_LINE
    characters is refused, so no single line can cost more than that."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            number = 0
            while True:
                line = f.readline(MAX_TEXT_LINE + 1)
                if not line:
                    return
                number += 1
                if len(line) > MAX_TEXT_LINE:
                    raise DataError(path, f"line {number} is longer than {MAX_TEXT_LINE:,} characters; "
                                          f"not a CelebA list file")
                yield number, line
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror or e})") from None


_VALUE_CODES = {"1": 1, "-1": 0}  # attribute value as written -> stored 0/1


def _attribute_codes(fields: list[str], names: list[str], number: int, path: Path) -> list[int]:
    """0/1 codes of one row's values, each checked to be 1 or -1."""
    codes = [_VALUE_CODES.get(v) for v in fields]
    if None in codes:
        for j, (v, code) in enumerate(zip(fields, codes)):
            if code is not None:
                continue
            try:
                value = int(v)
            except ValueError:
                raise DataError(path, f"line {number}: values must be 1 or -1, found {v[:20]!r} for "
                                      f"{names[j]}") from None
            if value not in (1, -1):
                raise DataError(path, f"line {number}: value {v[:20]} for {names[j]} is not 1 or -1")
            codes[j] = int(value == 1)  # "+1", "01": unusual spellings of 1 and -1
    return codes


def parse_attributes(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """(attribute names, image file names, values (N, A) as 0/1) from list_attr_celeba.txt.

    Read line by line; the declared count and the names are bounded, every row is checked
    (a plain file name listed once, exactly one 1 or -1 per attribute) as it is read, and
    memory grows only with the rows really present."""
    lines = ((number, line) for number, line in _lines(path) if line.strip())
    head = [next(lines, None), next(lines, None)]
    if head[1] is None:
        raise DataError(path, "too short: expected a count line, a line of attribute names, then one "
                              "line per image")
    (_, first), (_, second) = head
    try:
        count = int(first.strip())
    except ValueError:
        raise DataError(path, f"line 1 should be the number of images, found {first.strip()[:40]!r}") from None
    if not 0 <= count <= MAX_IMAGES:
        raise DataError(path, f"line 1 says {count:,} images; it must be between 0 and {MAX_IMAGES:,}")
    names = second.split()
    if not names or len(names) > MAX_SIDE:
        raise DataError(path, f"line 2 should name the attributes (1 to {MAX_SIDE:,}), found {len(names):,}")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise DataError(path, f"line 2 names the attribute {twice!r} twice")
    files: list[str] = []
    seen: set[str] = set()
    values = bytearray()
    for number, line in lines:
        if len(files) == count:
            raise DataError(path, f"line 1 says {count:,} images but more image lines follow "
                                  f"(line {number} is one too many)")
        fields = line.split()
        if len(fields) != len(names) + 1:
            raise DataError(path, f"line {number}: expected a file name and {len(names)} values, "
                                  f"found {len(fields) - 1} values")
        name = fields[0]
        if "/" in name or "\\" in name or name in (".", ".."):
            raise DataError(path, f"line {number}: {name[:60]!r} is not a file name in {IMAGES_DIR}/")
        if name in seen:  # each listed image is converted and cached: a repeat would multiply that
            raise DataError(path, f"line {number}: {name[:60]} is listed a second time")
        seen.add(name)
        values.extend(_attribute_codes(fields[1:], names, number, path))
        files.append(name)
    if len(files) != count:
        raise DataError(path, f"line 1 says {count:,} images but {len(files):,} image lines follow")
    return names, files, np.frombuffer(values, dtype=np.uint8).reshape(count, len(names))


def parse_partition(path: Path, files: list[str]) -> np.ndarray:
    """Partition (0 train, 1 validation, 2 test) of each of `files` from list_eval_partition.txt
    (read line by line; only the listed files' entries are kept)."""
    wanted = set(files)
    part: dict[str, int] = {}
    for number, line in _lines(path):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DataError(path, f"line {number}: expected 'file name' and 0, 1 or 2, found {line.strip()[:60]!r}")
        if fields[0] in wanted:
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


def open_celeba(root: Path, size: int = 64, *, progress: Optional[ProgressFn] = None,
                cancel: Optional[CancelFn] = None) -> ImageDataset:
    folder = find_celeba(root)
    images_dir, attr_path, part_path = folder / IMAGES_DIR, folder / ATTR_FILE, folder / PARTITION_FILE
    # One entry per folder and size; the sources' fingerprint (taken before any is read) is checked
    # on open, so a replaced JPEG or text file rebuilds this entry instead of adding a new one.
    stem = f"celeba-{cache_key('celeba', CONVERSION_VERSION, str(folder.resolve()), size)}"
    sources = cache_key(file_stamp(attr_path), file_stamp(part_path), folder_fingerprint(images_dir))
    cached = None
    count = _declared_count(attr_path)
    if count:
        cached = load_cached(stem, (count, 3, size, size), required=CACHED_KEYS, sources=sources)
    if cached is None:
        cached = _convert(stem, images_dir, attr_path, part_path, size, progress, cancel, sources)
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
    """The count on line 1 (0 when unreadable or out of bounds: parse_attributes says why)."""
    try:
        with open(attr_path, encoding="utf-8", errors="replace") as f:
            count = int(f.readline(MAX_TEXT_LINE).strip())
    except (OSError, ValueError):
        return 0
    return count if 0 <= count <= MAX_IMAGES else 0


def _convert(stem, images_dir: Path, attr_path: Path, part_path: Path, size: int, progress, cancel,
             sources: str):
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
                          fixed=fixed, required=CACHED_KEYS, sources=sources,
                          message=f"converting {len(files):,} CelebA images",
                          progress=progress, cancel=cancel)

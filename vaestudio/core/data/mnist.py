"""MNIST, Fashion-MNIST, KMNIST and EMNIST from IDX files in torchvision's folder layout.

`<root>/MNIST/raw/train-images-idx3-ubyte` (or `.gz`) and its three siblings; likewise
`FashionMNIST/`, `KMNIST/`, and `EMNIST/raw/emnist-<split>-train-images-idx3-ubyte` etc.
The files may also sit directly in `<root>` or `<root>/raw`. Splits follow the blog: the last
10,000 training images validate, the official test file tests; the `validation` option changes
that ("auto", a count -- 0 trains on the whole train file -- or a fraction below 1). Downloading
goes through torchvision and happens only when asked for.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, DataNotFoundError
from .base import (AUTO_VALIDATION, DatasetSpec, ImageDataset, Split, ValidationOption, parse_validation,
                   train_test_dataset)
from .download import download_with_torchvision
from .idx import read_idx
from .limits import check_labels

EMNIST_SPLITS = ("balanced", "digits")


@dataclass(frozen=True)
class IdxFamily:
    """One IDX data set: where its files live and what its labels mean."""

    name: str
    title: str
    folder: str  # torchvision's class name, also its folder under the root
    label_names: tuple[str, ...]
    blurb: str

    def file_names(self, split: str = "") -> dict[str, str]:
        """{'train-images': file name, ...} without .gz."""
        if self.folder == "EMNIST":
            pre = {"train": f"emnist-{split}-train", "test": f"emnist-{split}-test"}
        else:
            pre = {"train": "train", "test": "t10k"}
        return {f"{s}-{kind}": f"{pre[s]}-{kind}-{'idx3' if kind == 'images' else 'idx1'}-ubyte"
                for s in ("train", "test") for kind in ("images", "labels")}

    def labels_for(self, split: str = "") -> tuple[str, ...]:
        if self.folder == "EMNIST" and split == "balanced":
            return tuple(string.digits + string.ascii_uppercase + "abdefghnqrt")
        return self.label_names


FAMILIES = {
    f.name: f for f in (
        IdxFamily("mnist", "MNIST", "MNIST", tuple(string.digits),
                  "Handwritten digits, 28x28 grey, 70,000 images; labels 0-9."),
        IdxFamily("fashion-mnist", "Fashion-MNIST", "FashionMNIST",
                  ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"),
                  "Zalando clothing photos, 28x28 grey, 70,000 images; 10 kinds of garment."),
        IdxFamily("kmnist", "Kuzushiji-MNIST", "KMNIST",
                  ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
                  "Cursive Japanese (Kuzushiji) characters, 28x28 grey, 70,000 images; 10 classes."),
        IdxFamily("emnist", "EMNIST", "EMNIST", tuple(string.digits),
                  "Handwritten letters and digits, 28x28 grey; 'balanced' (47 classes) or 'digits'."),
    )
}


def _find(root: Path, family: IdxFamily, names: dict[str, str]) -> dict[str, Path] | None:
    """Paths of all four files (plain preferred over .gz) in the first folder holding them all."""
    for folder in (root / family.folder / "raw", root / "raw", root):
        found = {}
        for key, name in names.items():
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file():
                    found[key] = candidate
                    break
        if len(found) == len(names):
            return found
    return None


def _read_pair(images_path: Path, labels_path: Path, n_classes: int, transpose: bool) -> Split:
    # Images must be uint8 (0-255) as the format defines them: other value types (int8 wraps
    # bright pixels negative) would train on garbage without a word.
    images = read_idx(images_path, ndim=3, dtype=np.uint8)
    labels = read_idx(labels_path, ndim=1)
    if len(labels) != len(images):
        raise DataError(labels_path, f"holds {len(labels):,} labels but {images_path.name} holds "
                                     f"{len(images):,} images")
    labels = check_labels(labels_path, labels, n_classes=n_classes, what="labels")
    images = images[:, None]
    if transpose:  # EMNIST stores images column by column
        images = np.ascontiguousarray(images.transpose(0, 1, 3, 2))
    return Split(images, labels)


def open_idx_family(name: str, root: Path, *, split: str = "balanced",
                    validation: ValidationOption = AUTO_VALIDATION, download: bool = False) -> ImageDataset:
    """Open one of FAMILIES from `root`, downloading first when asked to and files are missing."""
    family = FAMILIES[name]
    validation = parse_validation(validation, name)
    if family.folder == "EMNIST" and split not in EMNIST_SPLITS:
        raise DataError(None, f"EMNIST split must be one of {', '.join(EMNIST_SPLITS)}, not {split!r}")
    names = family.file_names(split)
    paths = _find(root, family, names)
    if paths is None and download:
        download_with_torchvision(family.folder, root, split=split)
        paths = _find(root, family, names)
    if paths is None:
        where = root / family.folder / "raw"
        listed = ", ".join(names.values())
        raise DataNotFoundError(where, f"{family.title} files not found; put the four files ({listed}; "
                                       f"plain or .gz) in this folder, or pass --download")
    label_names = family.labels_for(split)
    transpose = family.folder == "EMNIST"
    train_file = _read_pair(paths["train-images"], paths["train-labels"], len(label_names), transpose)
    test = _read_pair(paths["test-images"], paths["test-labels"], len(label_names), transpose)
    options: dict = {"split": split} if family.folder == "EMNIST" else {}
    title = f"{family.title} ({split})" if options else family.title
    options["validation"] = validation
    return train_test_dataset(DatasetSpec(name, str(root), options), train_file, test,
                              label_names=list(label_names), description=f"{title}: {family.blurb}")

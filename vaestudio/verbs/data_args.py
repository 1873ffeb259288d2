"""The data options every verb shares: `--dataset`, `--data-root`, `--download` and
`--data-option KEY=VALUE`, and opening what they say (or a checkpoint's saved data set, or the
built-in digits).
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional

from ..core.data.base import DatasetSpec, ImageDataset, ProgressFn
from ..core.data.registry import DATASET_NAMES, DEFAULT_DATASET, open_dataset
from ..core.errors import DataError


def add_data_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("data")
    g.add_argument("--dataset", choices=DATASET_NAMES, default=None, metavar="NAME",
                   help=f"data set: {', '.join(DATASET_NAMES)} (default: the checkpoint's, else "
                        f"{DEFAULT_DATASET}); `vaestudio datasets` describes them")
    add_source_args(g)


def add_source_args(g) -> None:
    """--data-root, --download and --data-option: where the data is and how to open it."""
    g.add_argument("--data-root", default=None, metavar="PATH",
                   help="the folder that holds the data set (for folder: the image folder; for npz: "
                        "the .npz file)")
    g.add_argument("--download", action="store_true",
                   help="download missing files through torchvision (needs a network)")
    g.add_argument("--data-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a data set option, e.g. size=32, grey=true, n_train=2000, validation=0 "
                        "(repeatable)")


def parse_data_options(items) -> dict:
    """{'size': '32', ...} from repeated --data-option KEY=VALUE (the registry converts values)."""
    options = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DataError(None, f"--data-option needs KEY=VALUE, got {item!r}")
        options[key.strip()] = value.strip()
    return options


def dataset_from_args(args, default_spec: Optional[DatasetSpec] = None,
                      progress: Optional[ProgressFn] = None) -> ImageDataset:
    """Open --dataset with --data-root; without --dataset the saved spec, else the digits.

    A saved spec of the same name keeps its options and root unless the arguments override them.
    """
    name = getattr(args, "dataset", None)
    root = getattr(args, "data_root", None)
    options = parse_data_options(getattr(args, "data_option", None))
    download = bool(getattr(args, "download", False))
    if default_spec is not None and name in (None, default_spec.name):
        ds = open_dataset(default_spec, root, download=download, progress=progress, **options)
    else:
        ds = open_dataset(name or DEFAULT_DATASET, root, download=download, progress=progress, **options)
    for warning in ds.warnings:  # e.g. files skipped: said once, on stderr, so stdout stays data
        print(f"vaestudio: warning: {warning}", file=sys.stderr)
    return ds

"""`vaestudio datasets [show NAME]`, and the data options every verb shares.

`add_data_args` gives a verb `--dataset`, `--data-root`, `--download` and `--data-option
KEY=VALUE`; `dataset_from_args` opens what they say (or a checkpoint's saved data set, or the
built-in digits).
"""
from __future__ import annotations

import argparse
from typing import Optional

from ..core.data.base import DatasetSpec, ImageDataset, ProgressFn
from ..core.data.registry import DATASET_NAMES, DEFAULT_DATASET, list_datasets, open_dataset
from ..core.errors import DataError


def add_data_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("data")
    g.add_argument("--dataset", choices=DATASET_NAMES, default=None, metavar="NAME",
                   help=f"data set: {', '.join(DATASET_NAMES)} (default: the checkpoint's, else "
                        f"{DEFAULT_DATASET}); `vaestudio datasets` describes them")
    _add_source_args(g)


def _add_source_args(g) -> None:
    """--data-root, --download and --data-option: where the data is and how to open it."""
    g.add_argument("--data-root", default=None, metavar="PATH",
                   help="the folder that holds the data set (for folder: the image folder; for npz: "
                        "the .npz file)")
    g.add_argument("--download", action="store_true",
                   help="download missing files through torchvision (needs a network)")
    g.add_argument("--data-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a data set option, e.g. size=32, grey=true, n_train=2000 (repeatable)")


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
        return open_dataset(default_spec, root, download=download, progress=progress, **options)
    return open_dataset(name or DEFAULT_DATASET, root, download=download, progress=progress, **options)


def add_parser(sub) -> None:
    p = sub.add_parser("datasets", help="list the data sets, or show one",
                       description="List the data sets and where each looks for its files, or "
                                   "`show NAME` to open one and print its counts, shape, labels "
                                   "and attributes.")
    p.set_defaults(func=run_list)
    inner = p.add_subparsers(dest="action", metavar="ACTION")
    show = inner.add_parser("show", help="open a data set and describe it",
                            description="Open a data set (converting or generating it the first time) "
                                        "and print its split sizes, image shape, labels and attributes.")
    show.add_argument("name", choices=DATASET_NAMES, metavar="NAME", help=", ".join(DATASET_NAMES))
    _add_source_args(show)
    show.set_defaults(func=run_show)


def run_list(args) -> int:
    from ..core.paths import cache_dir, default_data_root
    print(f"Data root (default for --data-root): {default_data_root()}")
    print(f"Cache (generated and converted data): {cache_dir()}")
    for info in list_datasets():
        print(f"\n{info.name:<14} {info.title}  [{info.kind}]")
        print(f"  {info.description}")
        print(f"  looks for: {info.expected_files}"
              + (f" under {info.default_root}" if info.default_root else ""))
        if info.options:
            print("  options: " + ", ".join(f"{k}={v}" for k, v in info.options.items()))
        if info.downloadable:
            print("  --download fetches it through torchvision when online")
    return 0


def run_show(args) -> int:
    from .common import TerminalProgress
    bar = TerminalProgress()
    work: list[str] = []

    def progress(done: int, total: int, message: str) -> None:
        work.append(message)
        bar.bar(done, total, message)

    args.dataset = args.name
    ds = dataset_from_args(args, progress=progress)
    if work:
        bar.line(f"{work[-1]}: done")
    print(describe(ds))
    return 0


def describe(ds: ImageDataset) -> str:
    """Several lines: name, description, where, counts, shape, labels and attributes."""
    s = ds.summary()
    c, h, w = s["image_shape"]
    lines = [f"{ds.name}: {ds.description}"]
    if ds.spec.root:
        lines.append(f"root: {ds.spec.root}")
    if ds.spec.options:
        lines.append("options: " + ", ".join(f"{k}={v}" for k, v in ds.spec.options.items()))
    lines.append("images: " + ", ".join(f"{k} {v:,}" for k, v in s["counts"].items())
                 + f"; shape {c}x{h}x{w} ({'grey' if c == 1 else 'RGB'})")
    names = s["label_names"]
    lines.append(f"labels ({len(names)}): {', '.join(names)}" if names else "labels: none")
    attrs = s["attribute_names"]
    lines.append(f"attributes ({len(attrs)}): {', '.join(attrs)}" if attrs else "attributes: none")
    return "\n".join(lines)


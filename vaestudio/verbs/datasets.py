"""`vaestudio datasets [show NAME]`: list the data sets, or open one and describe it."""
from __future__ import annotations

import textwrap

from ..core.data.base import ImageDataset
from ..core.data.registry import DATASET_NAMES, list_datasets
from .common import TerminalProgress
from .data_args import add_source_args, dataset_from_args

# What the `validation` option of the data sets shipped as train and test files means.
OPTIONS_NOTE = ("Set options with --data-option KEY=VALUE. validation (digits, mnist, fashion-mnist, "
                "kmnist, emnist, cifar10): how many images at the end of the train file validate -- "
                "auto (the last sixth, at most 10,000), a count (0: no validation split, the whole "
                "train file trains) or a fraction below 1 such as 0.1.")


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
    add_source_args(show)
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
    print("\n" + textwrap.fill(OPTIONS_NOTE, width=96))
    return 0


def run_show(args) -> int:
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


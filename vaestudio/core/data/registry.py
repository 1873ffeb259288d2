"""The one registry of data sets that the menus and `--dataset` both use.

`open_dataset(name_or_spec, root, download=, progress=, cancel=, **options)` returns an
`ImageDataset` whose `.spec` (name, absolute root, every option with its value) reopens the
same data: `open_dataset(ds.spec)`. Options per data set (defaults in `DatasetInfo.options`):
digits `seed`, `n_train`, `n_test`; faces `seed`, `n`; emnist `split` (balanced | digits);
celeba `size`; folder `size`, `grey`. Option values may be strings (from the command line);
they are converted to the default's type, and numeric ones must lie within OPTION_BOUNDS.

The data sets shipped as train and test files -- digits (its n_train images), mnist,
fashion-mnist, kmnist, emnist and cifar10 -- also take `validation`: how many images at the end
of the train file validate. "auto" (the default) is the last sixth, at most 10,000; a count
such as 5000 (0: no validation split, the whole train file trains); or a fraction below 1 of
the train file such as 0.1. The spec stores the parsed value ("auto", an int or a float).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

from ..errors import DataError
from ..paths import default_data_root
from .base import AUTO_VALIDATION, CancelFn, DatasetSpec, ImageDataset, ProgressFn, parse_validation
from .mnist import FAMILIES


@dataclass(frozen=True)
class DatasetInfo:
    """What a menu or `vaestudio datasets` shows about a data set."""

    name: str
    title: str
    description: str
    kind: str  # "builtin" (generated, no files) or "file"
    needs_root: bool  # True: no default location, the user must point at the files
    expected_files: str  # where it looks, relative to the data root
    options: dict = field(default_factory=dict)  # option name -> default value
    downloadable: bool = False

    @property
    def default_root(self) -> Optional[str]:
        """Where files are looked for when no root is given (None: builtin or must be given)."""
        return None if self.kind == "builtin" or self.needs_root else str(default_data_root())


# name -> (info, opener(root, options, download, progress, cancel))
Opener = Callable[[Optional[Path], dict, bool, Optional[ProgressFn], Optional[CancelFn]], ImageDataset]


def _digits(root, opts, download, progress, cancel):
    from .digits import open_digits
    return open_digits(**opts, progress=progress, cancel=cancel)


def _faces(root, opts, download, progress, cancel):
    from .faces import open_faces
    return open_faces(**opts, progress=progress, cancel=cancel)


def _idx(name: str) -> Opener:
    def opener(root, opts, download, progress, cancel):
        from .mnist import open_idx_family
        return open_idx_family(name, root, download=download, **opts)
    return opener


def _cifar(root, opts, download, progress, cancel):
    from .cifar import open_cifar10
    return open_cifar10(root, download=download, **opts)


def _celeba(root, opts, download, progress, cancel):
    from .celeba import open_celeba
    return open_celeba(root, **opts, progress=progress, cancel=cancel)


def _folder(root, opts, download, progress, cancel):
    from .folder import open_folder
    return open_folder(root, **opts, progress=progress, cancel=cancel)


def _npz(root, opts, download, progress, cancel):
    from .npz import open_npz
    return open_npz(root)


def _idx_info(name: str, **options) -> DatasetInfo:
    fam = FAMILIES[name]
    files = ", ".join(fam.file_names(options.get("split", "")).values())
    return DatasetInfo(name, fam.title, fam.blurb, "file", False,
                       f"{fam.folder}/raw/ with {files} (plain or .gz)",
                       {**options, "validation": AUTO_VALIDATION}, downloadable=True)


_REGISTRY: dict[str, tuple[DatasetInfo, Opener]] = {
    "digits": (DatasetInfo(
        "digits", "Digits (built in)",
        "Handwritten-style digits 0-9, 28x28 grey, 60,000 + 10,000, generated from pen strokes; "
        "no files needed.", "builtin", False, "nothing (generated and cached)",
        {"seed": 0, "n_train": 60000, "n_test": 10000, "validation": AUTO_VALIDATION}), _digits),
    "faces": (DatasetInfo(
        "faces", "Cartoon faces (built in)",
        "Cartoon faces, 64x64 RGB, 20,000, with CelebA-named attributes (hair colour, glasses, "
        "smiling, ...); no files needed.", "builtin", False, "nothing (generated and cached)",
        {"seed": 0, "n": 20000}), _faces),
    "mnist": (_idx_info("mnist"), _idx("mnist")),
    "fashion-mnist": (_idx_info("fashion-mnist"), _idx("fashion-mnist")),
    "kmnist": (_idx_info("kmnist"), _idx("kmnist")),
    "emnist": (_idx_info("emnist", split="balanced"), _idx("emnist")),
    "cifar10": (DatasetInfo(
        "cifar10", "CIFAR-10", "Small colour photos, 32x32 RGB, 60,000 images in 10 classes.", "file",
        False, "cifar-10-batches-py/ with data_batch_1..5 and test_batch (python version)",
        {"validation": AUTO_VALIDATION}, downloadable=True), _cifar),
    "celeba": (DatasetInfo(
        "celeba", "CelebA",
        "Celebrity faces, 64x64 RGB (148x148 crop), about 200,000 images with 40 attributes; "
        "converted once into a cache.", "file", False,
        "img_align_celeba/ (aligned JPEGs), list_attr_celeba.txt, optional list_eval_partition.txt "
        "(here or in celeba/)", {"size": 64}), _celeba),
    "folder": (DatasetInfo(
        "folder", "Image folder", "Any folder of images, resized to a square; subfolder names "
        "are labels.", "file", True, "the folder itself (--data-root FOLDER)",
        {"size": 64, "grey": False}), _folder),
    "npz": (DatasetInfo(
        "npz", "NumPy arrays (.npz)", "Your own arrays: images, optional labels, attributes and "
        "attribute_names.", "file", True, "the .npz file itself (--data-root FILE.npz)", {}), _npz),
}

DATASET_NAMES: tuple[str, ...] = tuple(_REGISTRY)
DEFAULT_DATASET = "digits"


def list_datasets() -> list[DatasetInfo]:
    return [info for info, _ in _REGISTRY.values()]


def dataset_info(name: str) -> DatasetInfo:
    if name not in _REGISTRY:
        raise DataError(None, f"unknown data set {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    return _REGISTRY[name][0]


# Every numeric option's allowed range, checked by resolve_options wherever the value comes from
# (the command line, a checkpoint's saved spec, the window): an option sizes what is generated,
# converted and cached, so an unbounded one could ask for terabytes.
OPTION_BOUNDS: dict[str, tuple[int, int]] = {
    "seed": (0, 2**32 - 1),
    "n_train": (10, 1_000_000),  # digits: 784 bytes each, so at most ~0.8 GB cached
    "n_test": (10, 1_000_000),
    "n": (10, 200_000),  # faces: 12 KiB each, so at most ~2.5 GB cached
    "size": (4, 1024),  # celeba, folder: image side in pixels
}

# Options whose values are not simply the default's type: key -> parser(value, data set name),
# which raises a DataError naming the option.
_PARSERS: dict[str, Callable[[Any, str], Any]] = {"validation": parse_validation}

# Every numeric option must have bounds: checked once here, so a new option cannot forget them.
for _info, _ in _REGISTRY.values():
    for _key, _default in _info.options.items():
        if isinstance(_default, (int, float)) and not isinstance(_default, bool) and _key not in _PARSERS:
            assert _key in OPTION_BOUNDS, f"option {_key} of {_info.name} has no entry in OPTION_BOUNDS"


def _coerce(name: str, key: str, value: Any, default: Any) -> Any:
    """`value` as the default's type (bool, int or str), accepting command-line strings; options
    in `_PARSERS` go through their own parser instead."""
    if key in _PARSERS:
        return _PARSERS[key](value, name)
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if isinstance(default, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        raise DataError(None, f"option {key}={value!r} of {name} must be {type(default).__name__}") from None


def resolve_options(name: str, options: dict) -> dict:
    """All of a data set's options, given ones converted and checked, missing ones defaulted."""
    defaults = dataset_info(name).options
    unknown = set(options) - set(defaults)
    if unknown:
        allowed = ", ".join(defaults) or "none"
        raise DataError(None, f"unknown option {', '.join(sorted(unknown))} for {name} (options: {allowed})")
    resolved = {k: _coerce(name, k, options.get(k, v), v) for k, v in defaults.items()}
    for k, value in resolved.items():
        if k in OPTION_BOUNDS and not isinstance(value, bool):
            _check_bounds(name, k, value)
    return resolved


def _check_bounds(name: str, key: str, value: int) -> None:
    lo, hi = OPTION_BOUNDS[key]
    if not lo <= value <= hi:
        side = f"at least {_n(lo)}" if value < lo else f"at most {_n(hi)}"
        raise DataError(None, f"option {key} of {name} must be {side}, not {_n(value)} "
                              f"({key} must be between {_n(lo)} and {_n(hi)})")


def _n(value: int) -> str:
    return f"{value:,}" if abs(value) >= 10_000 else str(value)


def _resolve_root(info: DatasetInfo, root: Union[str, Path, None]) -> Optional[Path]:
    if info.kind == "builtin":
        return None
    if root is None or str(root) == "":
        if info.needs_root:
            raise DataError(None, f"the {info.name} data set needs --data-root: {info.expected_files}")
        return default_data_root().absolute()
    return Path(root).expanduser().absolute()


def open_dataset(
    name_or_spec: Union[str, DatasetSpec],
    root: Union[str, Path, None] = None,
    *,
    download: bool = False,
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
    **options: Any,
) -> ImageDataset:
    """Open a data set by name or from a saved spec; `root` and `options` override the spec's."""
    if isinstance(name_or_spec, DatasetSpec):
        name = name_or_spec.name
        root = root if root is not None else name_or_spec.root
        options = {**name_or_spec.options, **options}
    else:
        name = str(name_or_spec)
    info = dataset_info(name)
    opts = resolve_options(name, options)
    path = _resolve_root(info, root)
    dataset = _REGISTRY[name][1](path, opts, download, progress, cancel)
    dataset.spec = DatasetSpec(name, None if path is None else str(path), opts)
    return dataset

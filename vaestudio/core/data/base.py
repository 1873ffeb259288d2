"""The one small interface every data set exposes, whatever its source.

Images are uint8 arrays shaped (N, C, H, W) -- numpy arrays or read-only memory maps -- so a
data set of 200,000 faces never has to sit in RAM as floats. Models see floats in [0, 1].

Data sets shipped as train and test files (`train_test_dataset`) take their validation split
from the end of the train file, as the `validation` option says: "auto" (the last sixth, at
most 10,000), a count (0: no validation split) or a fraction below 1 of the train file.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from ..errors import DataError

# progress(done, total, message) -> None; long work also takes a `cancel` callable -> bool.
ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]

SPLITS = ("train", "validation", "test")


@dataclass
class DatasetSpec:
    """Serialisable description of a data set: enough to open it again (saved in checkpoints)."""

    name: str
    root: Optional[str] = None
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DatasetSpec":
        return cls(name=str(d["name"]), root=d.get("root"), options=dict(d.get("options") or {}))


@dataclass
class Split:
    images: np.ndarray  # uint8, (N, C, H, W)
    labels: Optional[np.ndarray] = None  # int64, (N,)
    attributes: Optional[np.ndarray] = None  # uint8 0/1, (N, A)

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass
class ImageDataset:
    spec: DatasetSpec
    train: Split
    validation: Split
    test: Split
    label_names: Optional[list[str]] = None
    attribute_names: Optional[list[str]] = None
    description: str = ""
    warnings: list[str] = field(default_factory=list)  # what a person should know (files skipped)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W)."""
        return tuple(int(s) for s in self.train.images.shape[1:])  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return self.spec.name

    def split(self, name: str) -> Split:
        if name in ("val", "valid"):
            name = "validation"
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
        return getattr(self, name)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "description": self.description,
            "image_shape": list(self.image_shape),
            "counts": {s: len(self.split(s)) for s in SPLITS},
            "label_names": self.label_names,
            "attribute_names": self.attribute_names,
        }


def array_dataset(
    images: np.ndarray,
    labels: Optional[np.ndarray] = None,
    attributes: Optional[np.ndarray] = None,
    *,
    name: str = "arrays",
    label_names: Optional[Sequence[str]] = None,
    attribute_names: Optional[Sequence[str]] = None,
    fractions: tuple[float, float] = (0.8, 0.1),
    description: str = "",
) -> ImageDataset:
    """Split in-memory arrays (N,C,H,W uint8) into train/validation/test, in order (no shuffle)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError("images must be uint8 shaped (N, C, H, W)")
    train, validation, test = contiguous_splits(
        images, labels, attributes, split_counts(images.shape[0], fractions))
    return ImageDataset(
        spec=DatasetSpec(name=name),
        train=train,
        validation=validation,
        test=test,
        label_names=list(label_names) if label_names is not None else None,
        attribute_names=list(attribute_names) if attribute_names is not None else None,
        description=description,
    )


def split_counts(n: int, fractions: tuple[float, float] = (0.8, 0.1)) -> tuple[int, int, int]:
    """(train, validation, test) sizes for n items cut by train and validation fractions."""
    a = int(round(n * fractions[0]))
    b = int(round(n * fractions[1]))
    return a, b, n - a - b


# The `validation` option: "auto", a count of images, or a fraction (below 1) of the train file.
ValidationOption = Union[str, int, float]
AUTO_VALIDATION = "auto"
AUTO_VALIDATION_MAX = 10_000  # "auto": the last sixth of the train file, at most this many
_VALIDATION_FORMS = "must be auto, a count such as 5000 (0: none) or a fraction below 1 such as 0.1"


def _bad_validation(value: Any, dataset: str, problem: str) -> DataError:
    of = f" of {dataset}" if dataset else ""
    return DataError(None, f"option validation={value!r}{of} {problem}")


def parse_validation(value: Any, dataset: str = "") -> ValidationOption:
    """The `validation` option as "auto", a count (int >= 0) or a fraction (float, 0 <= f < 1).

    Accepts those values or their command-line strings ("auto", "5000", "0.1"); anything else
    -- a negative number, a fraction of 1 or more, a word other than auto -- is a DataError
    naming the option. Parsing an already parsed value returns it unchanged.
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO_VALIDATION:
            return AUTO_VALIDATION
        try:
            number: Union[int, float] = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _bad_validation(value, dataset, _VALIDATION_FORMS) from None
    elif isinstance(value, Integral) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
    else:
        raise _bad_validation(value, dataset, _VALIDATION_FORMS)
    if isinstance(number, int):
        if number < 0:
            raise _bad_validation(value, dataset, "must not be negative")
        return number
    if number != number:  # nan
        raise _bad_validation(value, dataset, _VALIDATION_FORMS)
    if number < 0:
        raise _bad_validation(value, dataset, "must not be negative")
    if number >= 1.0:
        raise _bad_validation(value, dataset, "is a fraction of 1 or more; a fraction must be below 1 "
                                              "(write a count as a whole number, e.g. 5000)")
    return number


def validation_count(validation: Any, n_train_file: int, dataset: str = "") -> int:
    """How many of the train file's `n_train_file` images validate (parsed and bounded here).

    A count or fraction that would leave no training image is a DataError naming the option.
    """
    option = parse_validation(validation, dataset)
    if option == AUTO_VALIDATION:
        return min(AUTO_VALIDATION_MAX, n_train_file // 6)
    count = option if isinstance(option, int) else int(round(option * n_train_file))
    if count > 0 and count >= n_train_file:
        raise _bad_validation(validation, dataset, f"leaves no training image: the train file holds "
                                                   f"only {n_train_file:,} images")
    return count


def holdout_counts(n_train_file: int, n_test_file: int, validation: Any = AUTO_VALIDATION,
                   dataset: str = "") -> tuple[int, int, int]:
    """Official train/test files: the last `validation_count(...)` train images validate."""
    n_val = validation_count(validation, n_train_file, dataset)
    return n_train_file - n_val, n_val, n_test_file


def contiguous_splits(
    images: np.ndarray,
    labels: Optional[np.ndarray],
    attributes: Optional[np.ndarray],
    counts: Sequence[int],
) -> tuple[Split, Split, Split]:
    """Train, validation and test as consecutive slices (views, so memory maps stay lazy)."""
    labels = None if labels is None else np.asarray(labels, dtype=np.int64)
    attributes = None if attributes is None else np.asarray(attributes, dtype=np.uint8)
    edges = np.cumsum([0, *counts])

    def cut(lo: int, hi: int) -> Split:
        return Split(
            images[lo:hi],
            None if labels is None else labels[lo:hi],
            None if attributes is None else attributes[lo:hi],
        )

    return tuple(cut(int(edges[i]), int(edges[i + 1])) for i in range(3))  # type: ignore[return-value]


def train_test_dataset(spec: DatasetSpec, train_file: Split, test: Split, **meta: Any) -> ImageDataset:
    """A data set shipped as train and test files: the end of train validates, as the spec's
    `validation` option says (holdout_counts; "auto" when absent). The parsed value is stored
    back in `spec.options`, so the spec reopens the same split."""
    validation = parse_validation(spec.options.get("validation", AUTO_VALIDATION), spec.name)
    counts = holdout_counts(len(train_file), 0, validation, spec.name)
    spec = DatasetSpec(spec.name, spec.root, {**spec.options, "validation": validation})
    train, validation_split, _ = contiguous_splits(
        train_file.images, train_file.labels, train_file.attributes, counts)
    return ImageDataset(spec=spec, train=train, validation=validation_split, test=test, **meta)

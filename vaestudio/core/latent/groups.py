"""Groups: named sets of images of one split, picked on the canvas (lasso, rectangle) or by a
label/attribute filter, saved with the run, and the vector from one group to another.

A group is a list of row indices into one split of one data set, so it is only meaningful on
that split of that data set: each group records the split and a short identity of the data set
(its name and split sizes), and `groups_for` keeps only those that apply. They live in
`run.extra[GROUPS_KEY]` as plain JSON, which comes back from a file that may be damaged or
hostile: `read_groups` checks every field and drops (with a reason) what is wrong. Index files
(.txt/.csv/.npy) carry groups to and from other tools and are read just as carefully.

The group vector is the difference of the groups' mean codes, optionally balanced on attributes
exactly as `attributes.mean_difference` balances an attribute vector.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..data.base import SPLITS
from ..data.limits import MAX_IMAGES
from ..errors import DataError, VaeStudioError
from ..paths import atomic_write
from .attributes import AttributeVector, _strata, attribute_mask, mean_difference
from .encoding import Encodings

GROUPS_KEY = "groups"  # run.extra[GROUPS_KEY]: list of JSON dicts, saved with the model
MAX_GROUPS = 64
MAX_NAME = 60
MAX_GROUP_SIZE = MAX_IMAGES  # no split holds more images than a data file may declare
MAX_DATASET_TEXT = 200
MAX_PROBLEMS = 16  # dropped saved groups reported one by one; the rest are counted
MAX_INDEX_FILE_BYTES = 64 * 1024**2  # an index file of every image of the largest split fits easily
INDEX_FILE_SUFFIXES = (".txt", ".csv", ".npy")
ARROW = "\u2192"
GROUP_VECTOR_PREFIX = "group:"  # mixer names for group vectors: "group:<A>\u2192<B>"

IndexLike = Union["Group", np.ndarray, Sequence[int]]


def _canonical_split(name) -> str:
    return "validation" if name in ("val", "valid") else name


def _problem(where: str, text: str) -> VaeStudioError:
    return VaeStudioError(f"{where}: {text}" if where else text)


def check_name(name, where: str = "") -> str:
    """The name stripped, or a VaeStudioError: 1..MAX_NAME printable characters, no arrow (the
    arrow separates the two names of a group vector)."""
    if not isinstance(name, str):
        raise _problem(where, f"a group name must be text, not {type(name).__name__}")
    text = name.strip()
    if not text:
        raise _problem(where, "a group needs a name")
    if len(text) > MAX_NAME:
        raise _problem(where, f"the group name {text[:20]!r}... is {len(text)} characters long; "
                              f"at most {MAX_NAME} are allowed")
    if not text.isprintable():
        raise _problem(where, f"the group name {text[:MAX_NAME]!r} holds control characters")
    if ARROW in text:
        raise _problem(where, f"the group name {text!r} may not hold {ARROW!r}")
    return text


def _check_split(split, where: str = "") -> str:
    if not isinstance(split, str) or _canonical_split(split) not in SPLITS:
        shown = repr(split)[:40]
        raise _problem(where, f"the split {shown} is not one of {', '.join(SPLITS)}")
    return _canonical_split(split)


def _check_dataset(dataset, where: str = "") -> str:
    if not isinstance(dataset, str):
        raise _problem(where, f"the data set should be text, not {type(dataset).__name__}")
    if len(dataset) > MAX_DATASET_TEXT or not dataset.isprintable():
        raise _problem(where, "the data set text is too long or holds control characters")
    return dataset


def _check_indices(indices, where: str = "") -> np.ndarray:
    """Sorted unique int64 indices >= 0 from a list or array of whole numbers (no bools, no
    fractions, at most MAX_GROUP_SIZE)."""
    if isinstance(indices, np.ndarray):
        arr = indices
        if arr.ndim != 1:
            raise _problem(where, f"indices should be a flat list, not an array shaped {arr.shape}")
        if arr.dtype.kind not in "iu":
            raise _problem(where, f"indices should be whole numbers, not {arr.dtype}")
    else:
        if not isinstance(indices, (list, tuple)):
            raise _problem(where, f"indices should be a list, not {type(indices).__name__}")
        if len(indices) > MAX_GROUP_SIZE:
            raise _problem(where, f"{len(indices):,} indices, more than the {MAX_GROUP_SIZE:,} any split holds")
        kinds = set(map(type, indices))  # at C speed: a saved group may list millions
        if any(t is bool or not issubclass(t, (int, np.integer)) for t in kinds):
            k, v = next((k, v) for k, v in enumerate(indices)
                        if isinstance(v, bool) or not isinstance(v, (int, np.integer)))
            raise _problem(where, f"index {k} is {str(v)[:20]!r} ({type(v).__name__}), not a whole number")
        if indices and (min(indices) < 0 or max(indices) >= 2**62):
            bad = next(v for v in indices if v < 0 or v >= 2**62)
            raise _problem(where, f"index {bad} is out of range (indices count from 0)")
        arr = np.array(indices, dtype=np.int64) if indices else np.zeros(0, dtype=np.int64)
    if arr.size > MAX_GROUP_SIZE:
        raise _problem(where, f"{arr.size:,} indices, more than the {MAX_GROUP_SIZE:,} any split holds")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and int(arr.min()) < 0:
        raise _problem(where, f"index {int(arr.min())} is negative (indices count from 0)")
    return _sorted_unique(arr)


def _sorted_unique(arr: np.ndarray) -> np.ndarray:
    """np.unique for int64, by a sort (fast on the already sorted lists groups usually are)."""
    arr = np.sort(arr, kind="stable")
    return arr[np.concatenate(([True], arr[1:] != arr[:-1]))] if arr.size else arr


@dataclass(frozen=True, eq=False)
class Group:
    """Images i of `split` (rows of its encodings), picked on the data set `dataset` names."""

    name: str
    split: str  # "train" | "validation" | "test"
    indices: np.ndarray = field(repr=False)  # int64, sorted, unique, >= 0
    dataset: str = ""  # dataset_identity(...) of the data set they were picked on

    def __len__(self) -> int:
        return int(self.indices.size)

    def __bool__(self) -> bool:  # a group is a group even when empty (`if group:` means "found")
        return True

    def to_json(self) -> dict:
        return {"name": self.name, "split": self.split, "dataset": self.dataset,
                "indices": self.indices.tolist()}

    @classmethod
    def from_json(cls, d, *, where: str = "") -> "Group":
        """A group from what `to_json` wrote; a VaeStudioError naming `where` and the problem."""
        if not isinstance(d, dict):
            raise _problem(where, f"a group should be a mapping, not {type(d).__name__}")
        for key in ("name", "split", "indices"):
            if key not in d:
                raise _problem(where, f"the group has no {key!r}")
        name = check_name(d["name"], where)
        inner = f"{where}: group {name!r}" if where else f"group {name!r}"
        return cls(name, _check_split(d["split"], inner), _check_indices(d["indices"], inner),
                   _check_dataset(d.get("dataset", ""), inner))


def make_group(name, split, indices, dataset="") -> Group:
    """A checked group: name stripped, split canonical, indices sorted unique int64 >= 0."""
    name = check_name(name)
    where = f"group {name!r}"
    return Group(name, _check_split(split, where), _check_indices(indices, where),
                 _check_dataset(dataset, where))


def dataset_identity(dataset) -> str:
    """Short stable text for which images the indices of a group refer to: the data set's name
    and its split sizes (e.g. "mnist 50000/10000/10000"); "" for None."""
    if dataset is None:
        return ""
    sizes = "/".join(str(len(dataset.split(s))) for s in SPLITS)
    return f"{dataset.name} {sizes}"[:MAX_DATASET_TEXT]


def read_groups(run) -> tuple[list[Group], list[str]]:
    """The valid groups saved in `run.extra`, and one problem text per entry dropped (damaged,
    a duplicate name, or past MAX_GROUPS)."""
    source = str(run.path) if getattr(run, "path", None) else "the run"
    raw = (run.extra or {}).get(GROUPS_KEY)
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [f"{source}: its saved groups should be a list, not {type(raw).__name__}; ignored"]
    groups: list[Group] = []
    problems: list[str] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        where = f"{source}: saved group {i + 1}"
        if len(groups) >= MAX_GROUPS:
            problems.append(f"{source}: {len(raw) - i} saved groups past the first {MAX_GROUPS} ignored")
            break
        if len(problems) >= MAX_PROBLEMS:
            problems.append(f"{source}: {len(raw) - i} more saved groups not read (too many damaged ones)")
            break
        try:
            g = Group.from_json(entry, where=where)
        except VaeStudioError as e:
            problems.append(f"{e}; ignored")
            continue
        if g.name.lower() in seen:
            problems.append(f"{where}: a second group named {g.name!r}; ignored")
            continue
        seen.add(g.name.lower())
        groups.append(g)
    return groups, problems


def write_groups(run, groups: Sequence[Group]) -> None:
    """Replace the run's saved groups (refused: more than MAX_GROUPS, or two with one name)."""
    groups = list(groups)
    if len(groups) > MAX_GROUPS:
        raise VaeStudioError(f"{len(groups)} groups: a run keeps at most {MAX_GROUPS}")
    seen: set[str] = set()
    for g in groups:
        if not isinstance(g, Group):
            raise VaeStudioError(f"not a group: {type(g).__name__}")
        if g.name.lower() in seen:
            raise VaeStudioError(f"two groups are named {g.name!r}; group names must differ")
        seen.add(g.name.lower())
    if groups:
        run.extra[GROUPS_KEY] = [g.to_json() for g in groups]
    else:
        run.extra.pop(GROUPS_KEY, None)


def find_group(groups: Sequence[Group], name: str) -> Optional[Group]:
    """The group called `name` (case-insensitive), or None."""
    key = name.strip().lower()
    return next((g for g in groups if g.name.lower() == key), None)


def groups_for(groups: Sequence[Group], split: str, dataset_id: str, n: int) -> list[Group]:
    """The groups picked on `split` of the data set `dataset_id` whose indices fit `n` rows (a
    group or a data set without an identity matches any)."""
    split = _canonical_split(split)
    return [g for g in groups
            if g.split == split and (not g.dataset or not dataset_id or g.dataset == dataset_id)
            and (g.indices.size == 0 or int(g.indices[-1]) < n)]


# -- picking by label and attribute -------------------------------------------------------------

_AND = re.compile(r"(?<!\S)and(?!\S)", flags=re.IGNORECASE)  # "and" as a word of its own
_NOT = re.compile(r"not\s+", flags=re.IGNORECASE)


def select(enc: Encodings, query: str) -> np.ndarray:
    """Indices of the rows matching `query`: terms joined by "and", each an attribute, a label
    name or a label value ("7", "label=7"), optionally prefixed by "not" ("Smiling and not
    Eyeglasses"). A VaeStudioError lists the known names when a term is unknown."""
    if not isinstance(query, str) or not query.strip():
        raise VaeStudioError("an empty filter: name an attribute or a label, e.g. 'Smiling and not Eyeglasses' or '7'")
    mask = np.ones(len(enc), dtype=bool)
    for term in _AND.split(query):
        term = term.strip()
        negate = False
        while (m := _NOT.match(term)) and len(term) > m.end():
            negate, term = not negate, term[m.end():].strip()
        if not term or term.lower() in ("and", "not"):
            raise VaeStudioError(f"the filter {query!r} has an empty term")
        hit = attribute_mask(enc, term)
        mask &= ~hit if negate else hit
    return np.flatnonzero(mask).astype(np.int64)


# -- the vector from group A to group B ------------------------------------------------------------

def _rows(enc: Encodings, g: IndexLike, label: str) -> np.ndarray:
    if isinstance(g, Group):
        if enc.split and g.split != _canonical_split(enc.split):
            raise VaeStudioError(f"group {g.name!r} was picked on the {g.split} split, not the {enc.split} "
                                 f"split these codes are of")
        idx = g.indices
        label = f"group {g.name!r}"
    else:
        idx = _check_indices(np.asarray(g) if not isinstance(g, (list, tuple)) else list(g), label)
    if idx.size == 0:
        raise VaeStudioError(f"{label} is empty: a group vector needs images in both groups")
    if int(idx[-1]) >= len(enc):
        raise VaeStudioError(f"{label} holds index {int(idx[-1])} but the {enc.split or 'encoded'} split has "
                             f"only {len(enc)} images (0..{len(enc) - 1})")
    return idx


def group_vector(enc: Encodings, a: IndexLike, b: IndexLike, balance_on: Sequence[str] = (),
                 name: Optional[str] = None) -> AttributeVector:
    """delta = mean(codes[b]) - mean(codes[a]). With `balance_on` (attribute or label names) the
    difference is taken within each combination of them seen in both groups and weighted by the
    combination's share of the two groups, as `attributes.mean_difference` does; images in
    combinations seen in one group only are `dropped`. n_with = len(b), n_without = len(a)."""
    ia, ib = _rows(enc, a, "group A"), _rows(enc, b, "group B")
    if name is None:
        name = f"{a.name} {ARROW} {b.name}" if isinstance(a, Group) and isinstance(b, Group) else f"A {ARROW} B"
    balance_on = tuple(dict.fromkeys(balance_on))
    rows = np.concatenate([ia, ib])
    mask = np.concatenate([np.zeros(ia.size, dtype=bool), np.ones(ib.size, dtype=bool)])
    strata = None
    if balance_on:
        strata = _strata(enc, balance_on)[rows]
        if not np.intersect1d(strata[~mask], strata[mask]).size:
            raise VaeStudioError(f"no combination of {', '.join(balance_on)} has images in both groups; "
                                 f"balance on fewer attributes")
    delta, dropped = mean_difference(enc.codes[rows], mask, strata)
    return AttributeVector(name=name, delta=delta, n_with=int(ib.size), n_without=int(ia.size),
                           balanced_on=balance_on, dropped=dropped)


def vector_name(a_name: str, b_name: str) -> str:
    """The attribute mixer's name for the vector from group A to group B."""
    return f"{GROUP_VECTOR_PREFIX}{a_name}{ARROW}{b_name}"


def parse_vector_name(name) -> Optional[tuple[str, str]]:
    """(A, B) for a name `vector_name` made; None for any other name."""
    if not isinstance(name, str) or not name.startswith(GROUP_VECTOR_PREFIX):
        return None
    a, sep, b = name[len(GROUP_VECTOR_PREFIX):].partition(ARROW)
    if not sep or not a.strip() or not b.strip() or ARROW in b:
        return None
    return a, b


# -- index files -----------------------------------------------------------------------------------

def _suffix(path) -> str:
    return os.path.splitext(os.fspath(path))[1].lower()


def read_index_file(path, n_max: int) -> np.ndarray:
    """Sorted unique int64 indices from an index file, each in [0, n_max).

    .txt/.csv: whole numbers separated by whitespace, commas or newlines; '#' starts a comment
    (a first line with no digit, such as a CSV header, is skipped). .npy: a 1-D integer array
    (read without pickles, its header checked before the data). Refused (DataError naming the
    file and the line or entry): another suffix, more than MAX_INDEX_FILE_BYTES, anything that is
    not a whole number, a value outside [0, n_max), no index at all.
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix not in INDEX_FILE_SUFFIXES:
        raise DataError(path, f"cannot read indices from {suffix or 'a name without a suffix'}: "
                              f"use {', '.join(INDEX_FILE_SUFFIXES)}")
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DataError(path, "no such file" if isinstance(e, FileNotFoundError) else
                        f"cannot be read ({e.strerror or e})") from None
    if not path.is_file():
        raise DataError(path, "is not a file")
    if size > MAX_INDEX_FILE_BYTES:
        raise DataError(path, f"is {size / 1024**2:.0f} MiB; an index file may be at most "
                              f"{MAX_INDEX_FILE_BYTES // 1024**2} MiB")
    arr = _read_npy_indices(path, n_max) if suffix == ".npy" else _read_text_indices(path, n_max)
    if arr.size == 0:
        raise DataError(path, "holds no indices")
    return _sorted_unique(arr)


def _read_text_indices(path: Path, n_max: int) -> np.ndarray:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(path, f"cannot be read ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(path, "is not a text file of indices (not UTF-8 text)") from None
    values: list[int] = []
    first = True
    for number, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        if first and not any(c.isdigit() for c in body):
            first = False  # a header line such as "index"
            continue
        first = False
        for token in re.split(r"[\s,;]+", body):
            if not token:
                continue
            if not (token.isascii() and token.isdigit()):
                raise DataError(path, f"line {number}: {token[:30]!r} is not an index (a whole number from 0)")
            if len(token) > 18 or int(token) >= n_max:
                raise DataError(path, f"line {number}: index {token[:30]} is out of range: the split has "
                                      f"{n_max} images (0..{n_max - 1})")
            values.append(int(token))
    return np.array(values, dtype=np.int64)


def _read_npy_indices(path: Path, n_max: int) -> np.ndarray:
    fmt = np.lib.format
    try:
        with open(path, "rb") as f:
            try:
                version = fmt.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = fmt.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, fortran, dtype = fmt.read_array_header_2_0(f)
                else:
                    raise ValueError(f"version {version}")
            except (ValueError, SyntaxError, TypeError, KeyError, EOFError) as e:
                raise DataError(path, f"is not a .npy array file ({str(e)[:80]})") from None
            if dtype.kind not in "iu" or dtype.hasobject:
                raise DataError(path, f"holds {dtype} values; indices must be whole numbers (an integer array)")
            if len(shape) != 1:
                raise DataError(path, f"holds an array shaped {shape}; indices must be a 1-D array")
            if shape[0] * dtype.itemsize > MAX_INDEX_FILE_BYTES or shape[0] > MAX_GROUP_SIZE:
                raise DataError(path, f"declares {shape[0]:,} indices, more than an index file may hold")
            f.seek(0)
            arr = np.load(f, allow_pickle=False)
    except OSError as e:
        raise DataError(path, f"cannot be read ({e.strerror or e})") from None
    except ValueError as e:
        raise DataError(path, f"is truncated or not a .npy array file ({str(e)[:80]})") from None
    arr = np.asarray(arr).ravel()
    if arr.size:
        bad = np.flatnonzero((arr < 0) | (arr >= n_max))
        if bad.size:
            k = int(bad[0])
            raise DataError(path, f"entry {k}: index {int(arr[k])} is out of range: the split has "
                                  f"{n_max} images (0..{n_max - 1})")
    return arr.astype(np.int64)


def write_index_file(path, indices, comment: str = "") -> None:
    """Write indices atomically: .txt/.csv one per line under '#' header comments, or .npy int64."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix not in INDEX_FILE_SUFFIXES:
        raise DataError(path, f"cannot write indices as {suffix or 'a name without a suffix'}: "
                              f"use {', '.join(INDEX_FILE_SUFFIXES)}")
    arr = _check_indices(np.asarray(indices, dtype=np.int64).ravel())
    try:
        if suffix == ".npy":
            with atomic_write(path, "wb") as f:
                np.save(f, arr)
            return
        head = f"# VAE Studio group indices: {arr.size} images, one per line (row i = image i of the split)\n"
        if comment:
            head += "".join(f"# {line}\n" for line in comment.splitlines())
        with atomic_write(path, "w") as f:
            f.write(head)
            f.write("".join(f"{i}\n" for i in arr.tolist()))
    except OSError as e:
        raise DataError(path, f"could not be written ({e.strerror or e})") from None

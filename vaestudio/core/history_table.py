"""A run's loss history as a table: one row per finished epoch, for spreadsheets and plots.

The columns are every key the records hold, in the order they first appear (epoch, dataset,
train_<term>..., val_<term>..., the kind's extras, lr, samples_per_s, seconds), with
`dataset_name` after `dataset` when the run's segments name the data sets. A value a record
lacks, or a validation term of an epoch without validation (None), is an empty field.
"""
from __future__ import annotations

import csv
import math
import os
from typing import Optional, Sequence


def history_columns(history: Sequence[dict], with_dataset_name: bool = False) -> list[str]:
    columns: list[str] = [] if history else ["epoch", "dataset"]  # an untrained run: the header alone
    for record in history:
        columns += [k for k in record if k not in columns]
    if with_dataset_name and "dataset" in columns:
        columns.insert(columns.index("dataset") + 1, "dataset_name")
    return columns


def _field(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    return str(value)


def write_history_csv(path: str | os.PathLike, history: Sequence[dict],
                      dataset_names: Optional[Sequence[str]] = None) -> int:
    """Write `history` (a run's records) to `path` as CSV; returns the number of rows written.

    `dataset_names[i]`: the name of segment i, filled in as `dataset_name` (run.segments order)."""
    columns = history_columns(history, with_dataset_name=bool(dataset_names))
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(columns)
        for record in history:
            row = dict(record)
            if dataset_names:
                k = record.get("dataset")
                k = int(k) if isinstance(k, float) and k.is_integer() else k
                row["dataset_name"] = dataset_names[k] if isinstance(k, int) and 0 <= k < len(dataset_names) else ""
            out.writerow([_field(row.get(c)) for c in columns])
    return len(history)


def run_dataset_names(run) -> list[str]:
    """The data set name of each of the run's segments (what a record's `dataset` indexes)."""
    return [s.spec.name for s in getattr(run, "segments", [])]

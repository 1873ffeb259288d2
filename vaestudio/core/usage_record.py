"""The latent usage kept with a run: `run.extra["usage"]`, the latest KL per dimension and active
units the window's Latent Usage dock measured (or `vaestudio info --usage`), stamped with the
epoch and the data it was measured on, so `info` can say whether the model collapsed.

The record comes back from a file, so `check_usage_record` reads it field by field and refuses it
with a reason rather than trusting it. Plain data only; no Qt, no torch.
"""
from __future__ import annotations

import math
from typing import Optional

USAGE_KEY = "usage"
MAX_DIMS = 1024  # the largest latent a model may have (core/config's limit)
MAX_TEXT = 200


def usage_record(usage: dict, *, epoch: float, split: str, dataset: str, n: int) -> dict:
    """The JSON-able record of a `core.metrics.latent_usage` result."""
    return {"epoch": float(epoch), "split": str(split)[:MAX_TEXT], "dataset": str(dataset)[:MAX_TEXT], "n": int(n),
            "active_units": int(usage["active_units"]), "active_dims": [int(d) for d in usage["active_dims"]],
            "kl_per_dim": [float(v) for v in usage["kl_per_dim"]]}


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_usage_record(rec, latent_dim: Optional[int] = None) -> tuple[Optional[dict], Optional[str]]:
    """(the record, None) when `rec` is a sound usage record (for a model of `latent_dim`), else
    (None, what is wrong); (None, None) when there is none."""
    if rec is None:
        return None, None
    if not isinstance(rec, dict):
        return None, f"it is a {type(rec).__name__}, not a record"
    kl = rec.get("kl_per_dim")
    if not isinstance(kl, list) or not 1 <= len(kl) <= MAX_DIMS or not all(_number(v) and v >= 0 for v in kl):
        return None, f"kl_per_dim must be a list of 1 to {MAX_DIMS} finite numbers >= 0"
    dim = len(kl)
    if latent_dim is not None and dim != int(latent_dim):
        return None, f"it has {dim} dimensions but the model's latent has {latent_dim}"
    dims = rec.get("active_dims")
    if not isinstance(dims, list) or not all(_count(d) and 0 <= d < dim for d in dims) or len(set(dims)) != len(dims):
        return None, f"active_dims must list distinct dimensions 0..{dim - 1}"
    units = rec.get("active_units")
    if not _count(units) or units != len(dims):
        return None, "active_units must be the number of active_dims"
    epoch = rec.get("epoch")
    if not _number(epoch) or not 0 <= epoch <= 1e7:
        return None, "epoch must be a number from 0 to 10,000,000"
    n = rec.get("n", 0)
    if not _count(n) or not 0 <= n <= 10 ** 9:
        return None, "n must be a count of images"
    out = {"epoch": float(epoch), "n": n, "active_units": units, "active_dims": list(dims),
           "kl_per_dim": [float(v) for v in kl]}
    for key in ("split", "dataset"):
        v = rec.get(key, "")
        if not isinstance(v, str):
            return None, f"{key} must be text"
        out[key] = v[:MAX_TEXT]
    return out, None


def describe_usage(rec: dict, epochs_done: Optional[float] = None) -> str:
    """"latent usage at epoch 3 (validation): 9 of 10 dimensions active; KL per dimension ..." for a
    checked record."""
    dim = len(rec["kl_per_dim"])
    where = rec["split"] or "?"
    if rec.get("dataset"):
        where = f"{rec['dataset']}, {where}"
    n = f", {rec['n']:,} images" if rec.get("n") else ""
    kl = " ".join(f"{v:.2f}" for v in rec["kl_per_dim"])
    text = (f"latent usage at epoch {rec['epoch']:g} ({where}{n}): {rec['active_units']} of {dim} dimension"
            f"{'' if dim == 1 else 's'} active; KL per dimension (nats): {kl}")
    if dim > 2 and rec["active_units"] < dim / 2:
        text += " -- most dimensions unused (posterior collapse)"
    if epochs_done is not None and abs(float(epochs_done) - rec["epoch"]) > 1e-9:
        text += f" [measured before the model trained on to epoch {float(epochs_done):g}]"
    return text


def usage_line(extra, latent_dim: Optional[int] = None, epochs_done: Optional[float] = None,
               source: str = "the run") -> Optional[str]:
    """The line `info` prints for `run.extra`: the record described, a note naming what is wrong
    with a malformed one, or None when there is none."""
    rec = extra.get(USAGE_KEY) if isinstance(extra, dict) else None
    checked, problem = check_usage_record(rec, latent_dim)
    if problem is not None:
        return f"latent usage: the record in {source} was ignored ({problem})"
    return None if checked is None else describe_usage(checked, epochs_done)

"""Encode a data set split to its latent codes: mu(x) for a VAE, E(x) for a plain autoencoder.

Images stay uint8 until a batch reaches the model, so 200,000 faces never sit in RAM as
floats; batches are large and run under `torch.inference_mode`, which is what makes
encoding 70,000 digits with an MLP take well under a second on a CPU.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from ..batches import float_batch
from ..kinds import POSTERIOR, kind_of

from ..errors import Cancelled, ConfigError, DataError
from ..data.base import CancelFn, ImageDataset, ProgressFn

DEFAULT_BATCH = 4096
SAVE_FORMATS = (".npz", ".csv", ".npy")  # what `Encodings.save` writes, by the name's suffix


def _csv_field(text: str) -> str:
    """A name as one CSV field: quoted (quotes doubled) when it holds a comma, quote or newline."""
    text = str(text)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


@dataclass(eq=False)
class Encodings:
    """The codes of one split with what is known about each image (row i belongs to image i)."""

    codes: np.ndarray  # float32 (N, D): mu(x) for a VAE, E(x) for an AE
    logvar: Optional[np.ndarray] = None  # float32 (N, D) for a VAE, else None
    labels: Optional[np.ndarray] = None  # int64 (N,)
    attributes: Optional[np.ndarray] = None  # uint8 (N, A)
    label_names: Optional[list[str]] = None
    attribute_names: Optional[list[str]] = None
    split: str = ""

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def dim(self) -> int:
        return int(self.codes.shape[1])

    @property
    def centre(self) -> np.ndarray:
        """The cloud's mean, (D,)."""
        return self.codes.mean(axis=0)

    def save(self, path: str | os.PathLike) -> None:
        """Write the codes in the format the name's suffix says (see `SAVE_FORMATS`):

        .npz: `codes` (mu(x), or E(x) for an AE) and whatever else is known (logvar, labels,
        attributes, their names, the split); `load` reads it back.
        .csv: a header `z0,...,z{D-1}`, then `label` and `label_name` when known, then one column
        per attribute named as the data set names it; one line per image, in split order.
        .npy: the codes alone, float32 (N, D) -- no labels or attributes (use .csv or .npz).
        """
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix not in SAVE_FORMATS:
            raise ConfigError(f"{os.fspath(path)}: cannot write encodings as {suffix or 'a name without a suffix'}: "
                              f"use {', '.join(SAVE_FORMATS)}")
        if suffix == ".csv":
            self._save_csv(path)
            return
        if suffix == ".npy":
            with open(path, "wb") as f:
                np.save(f, np.asarray(self.codes, dtype=np.float32))
            return
        arrays: dict[str, np.ndarray] = {"codes": self.codes, "split": np.array(self.split)}
        optional = {
            "logvar": self.logvar, "labels": self.labels, "attributes": self.attributes,
            "label_names": None if self.label_names is None else np.array(self.label_names),
            "attribute_names": None if self.attribute_names is None else np.array(self.attribute_names),
        }
        arrays.update({k: v for k, v in optional.items() if v is not None})
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)

    def _save_csv(self, path: str | os.PathLike, chunk: int = 4096) -> None:
        """The .csv of `save`, written a chunk of rows at a time (200,000 faces never sit in RAM as text)."""
        header = [f"z{k}" for k in range(self.dim)]
        labels = None if self.labels is None else np.asarray(self.labels, dtype=np.int64)
        names = None
        if labels is not None:
            header.append("label")
            if self.label_names:
                names = np.array([_csv_field(n) for n in self.label_names] + [""])  # "" for unnamed labels
                header.append("label_name")
        attrs = None if self.attributes is None else np.asarray(self.attributes).astype(np.int64)
        if attrs is not None:
            given = self.attribute_names or []
            header += [_csv_field(given[k]) if k < len(given) else f"attribute{k}" for k in range(attrs.shape[1])]
        codes = np.asarray(self.codes, dtype=np.float32)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(",".join(header) + "\n")
            for lo in range(0, len(codes), chunk):
                rows = slice(lo, lo + chunk)
                columns = [np.char.mod("%.9g", codes[rows])]  # 9 digits: the float32 values exactly
                if labels is not None:
                    lab = labels[rows]
                    columns.append(lab.astype(str)[:, None])
                    if names is not None:
                        columns.append(names[np.where((lab >= 0) & (lab < len(names) - 1), lab, -1)][:, None])
                if attrs is not None:
                    columns.append(attrs[rows].astype(str))
                f.writelines(",".join(row) + "\n" for row in np.concatenate(columns, axis=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Encodings":
        try:
            with np.load(path, allow_pickle=False) as z:
                d = {k: z[k] for k in z.files}
        except (OSError, ValueError) as e:
            raise DataError(path, f"not an encodings file ({e})") from e
        if "codes" not in d:
            raise DataError(path, "no 'codes' array in this file")
        names = {k: [str(s) for s in d[k]] for k in ("label_names", "attribute_names") if k in d}
        return cls(codes=d["codes"], logvar=d.get("logvar"), labels=d.get("labels"),
                   attributes=d.get("attributes"), split=str(d.get("split", "")), **names)


def model_device(model: torch.nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def encode_images(
    model,
    images: np.ndarray,
    *,
    batch_size: int = DEFAULT_BATCH,
    with_logvar: bool = False,
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """uint8 (N, C, H, W) images (or floats in [0, 1]) -> (codes (N, D), logvar (N, D) or None)."""
    device = model_device(model)
    n = int(images.shape[0])
    dim = int(model.config.latent_dim)
    codes = np.empty((n, dim), dtype=np.float32)
    logvar = np.empty((n, dim), dtype=np.float32) if (with_logvar and kind_of(model.config).has(POSTERIOR)) else None
    with torch.inference_mode():
        for lo in range(0, n, batch_size):
            if cancel is not None and cancel():
                raise Cancelled("encoding cancelled")
            x = float_batch(images[lo:lo + batch_size], device)
            mu, lv = model.encode(x)
            codes[lo:lo + len(x)] = mu.float().cpu().numpy()
            if logvar is not None:
                logvar[lo:lo + len(x)] = lv.float().cpu().numpy()
            if progress is not None:
                progress(min(lo + batch_size, n), n, "encoding")
    return codes, logvar


def encode_split(
    model,
    dataset: ImageDataset,
    split: str = "validation",
    *,
    batch_size: int = DEFAULT_BATCH,
    with_logvar: bool = True,
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
) -> Encodings:
    """Encode one split of a data set, keeping its labels, attributes and their names."""
    part = dataset.split(split)
    if len(part) == 0:
        raise DataError(None, f"the {split} split of {dataset.name} is empty")
    codes, logvar = encode_images(model, part.images, batch_size=batch_size,
                                  with_logvar=with_logvar, progress=progress, cancel=cancel)
    return Encodings(codes=codes, logvar=logvar, labels=part.labels, attributes=part.attributes,
                     label_names=dataset.label_names, attribute_names=dataset.attribute_names,
                     split=_canonical_split(split))


def _canonical_split(name: str) -> str:
    return "validation" if name in ("val", "valid") else name

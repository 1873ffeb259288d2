"""One-file checkpoints that re-open with no user code and never execute code on load.

The file is `torch.save` of plain data only (dicts, lists, strings, numbers, tensors), read back
with `weights_only=True`, so a pickle carrying code is refused rather than run. Writes go to a
temp file beside the target and are renamed over it, so a crash never leaves a half file.
"""
from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch

from .config import ModelConfig, TrainConfig
from .data.base import DatasetSpec
from .errors import CheckpointError, VaeStudioError
from .models import AutoEncoder, build_model

FORMAT = "vaestudio-checkpoint"
VERSION = 1
CHECKPOINT_NAME = "model.pt"


@dataclass
class Checkpoint:
    model: AutoEncoder
    model_config: ModelConfig
    train_config: Optional[TrainConfig]
    dataset_spec: Optional[DatasetSpec]
    history: list = field(default_factory=list)
    epoch: int = 0
    optimizer_state: Optional[dict] = None
    path: Optional[Path] = None
    extra: dict = field(default_factory=dict)


def resolve_checkpoint_path(run: str | os.PathLike) -> Path:
    """A run folder means RUN/model.pt; a file means itself."""
    p = Path(run)
    if p.is_dir():
        cand = p / CHECKPOINT_NAME
        if not cand.exists():
            raise CheckpointError(p, f"is a folder with no {CHECKPOINT_NAME} in it (not a run folder)")
        return cand
    return p


def save_checkpoint(
    path: str | os.PathLike,
    model: AutoEncoder,
    *,
    train_config: Optional[TrainConfig] = None,
    dataset_spec: Optional[DatasetSpec] = None,
    optimizer: Optional[torch.optim.Optimizer] = None,
    optimizer_state: Optional[dict] = None,
    history: Optional[list] = None,
    epoch: int = 0,
    extra: Optional[dict] = None,
    state_dict: Optional[dict] = None,
) -> Path:
    """Write atomically. `state_dict` may replace the model's own (e.g. a snapshot from a worker)."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    sd = state_dict if state_dict is not None else model.state_dict()
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": model.config.to_dict(),
        "train_config": None if train_config is None else train_config.to_dict(),
        "dataset": None if dataset_spec is None else dataset_spec.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in sd.items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else optimizer_state,
        "history": list(history or []),
        "epoch": int(epoch),
        "extra": dict(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _read(path: Path, device) -> dict:
    if not path.exists():
        raise CheckpointError(path, "no such file")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "is empty (0 bytes): not a checkpoint")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:
        if "weights only" in str(e).lower() or "weights_only" in str(e).lower():
            raise CheckpointError(
                path, "refused: it holds Python objects that could run code when loaded "
                      "(VAE Studio loads only plain weights and settings)") from None
        raise CheckpointError(path, "is truncated or not a VAE Studio checkpoint") from None
    except Exception as e:  # the unpickler raises KeyError, IndexError, struct.error... on garbage
        raise CheckpointError(path, f"is truncated or not a VAE Studio checkpoint ({type(e).__name__})") from None


def load_checkpoint(path: str | os.PathLike, device="cpu") -> Checkpoint:
    path = resolve_checkpoint_path(path)
    data = _read(path, device)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(path, "is a PyTorch file but not a VAE Studio checkpoint")
    if int(data.get("version", 0)) > VERSION:
        raise CheckpointError(path, f"was written by a newer VAE Studio (format {data.get('version')}); update to open it")
    try:
        mcfg = ModelConfig.from_dict(data["model_config"])
        tcfg = TrainConfig.from_dict(data["train_config"]) if data.get("train_config") else None
        spec = DatasetSpec.from_dict(data["dataset"]) if data.get("dataset") else None
        model = build_model(mcfg)
        model.load_state_dict(data["state_dict"])
    except VaeStudioError as e:
        raise CheckpointError(path, f"has invalid settings: {e}") from None
    except (KeyError, TypeError, RuntimeError) as e:
        raise CheckpointError(path, f"is damaged: its weights do not fit its model settings ({e})") from None
    model.to(device).eval()
    return Checkpoint(
        model=model, model_config=mcfg, train_config=tcfg, dataset_spec=spec,
        history=list(data.get("history") or []), epoch=int(data.get("epoch", 0)),
        optimizer_state=data.get("optimizer"), path=path, extra=dict(data.get("extra") or {}),
    )

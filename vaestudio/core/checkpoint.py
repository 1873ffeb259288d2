"""Runs on disk: one file that re-opens with no user code and never executes code on load.

The file is `torch.save` of plain data only (dicts, lists, strings, numbers, tensors), read back
with `weights_only=True`, so a pickle carrying code is refused rather than run. Writes go to a
temp file beside the target and are renamed over it, so a crash never leaves a half file.
Nothing here knows a model kind: the kind is read from the model settings and the registry
builds it; optimiser states are a mapping by name.

Format 2 (this one) holds a whole `Run`; format 1 (VAE Studio 0.1: one optimiser, an integer
epoch, the data set open at save time) is read and converted.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch

from .config import TrainConfig
from .errors import CheckpointError, VaeStudioError
from .kinds import build_model, config_from_dict
from .paths import atomic_write
from .run import Progress, Run, Segment

FORMAT = "vaestudio-checkpoint"
VERSION = 2
CHECKPOINT_NAME = "model.pt"


def resolve_checkpoint_path(run: str | os.PathLike) -> Path:
    """A run folder means RUN/model.pt; a file means itself."""
    p = Path(run)
    if p.is_dir():
        cand = p / CHECKPOINT_NAME
        if not cand.exists():
            raise CheckpointError(p, f"is a folder with no {CHECKPOINT_NAME} in it (not a run folder)")
        return cand
    return p


def _progress_dict(p: Progress) -> dict:
    return {"epoch": int(p.epoch), "step": int(p.step), "steps_per_epoch": int(p.steps_per_epoch),
            "seen": int(p.seen), "sums": p.sums, "rng_state": p.rng_state,
            "cuda_rng_state": p.cuda_rng_state, "seconds": float(p.seconds)}


def run_payload(run: Run) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "model_config": run.model_config.to_dict(),
        "train_config": run.train_config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in run.model.state_dict().items()},
        "optimizers": run.optimizer_states,
        "history": list(run.history),
        "curve": list(run.curve),
        "datasets": [s.to_dict() for s in run.segments],
        "progress": _progress_dict(run.progress),
        "extra": dict(run.extra),
    }


def write_run(path: str | os.PathLike, run: Run) -> Path:
    """Write atomically; a folder means FOLDER/model.pt. Returns the file written."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    payload = run_payload(run)
    try:
        with atomic_write(path) as f:
            torch.save(payload, f)
    except OSError as e:
        raise CheckpointError(path, f"could not be written ({e.strerror or e})") from None
    except RuntimeError as e:  # torch reports a full disk during the write this way
        raise CheckpointError(path, f"could not be written ({e})") from None
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


def _expect(path: Path, value, types, what: str):
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise CheckpointError(path, f"is damaged: its {what} should be a {names}, not {type(value).__name__}")
    return value


def _upgrade_v1(data: dict) -> dict:
    """Format 1 -> 2: one optimiser, an integer epoch, `dataset` = the data set open at save time
    (the best record there is of what it trained on), no curve."""
    mcfg = dict(data.get("model_config") or {})
    if mcfg.get("kind") == "ae":  # settings a plain autoencoder never used
        mcfg.pop("beta", None)
        mcfg.pop("kl_warmup_epochs", None)
    epoch = data.get("epoch", 0)
    spec = data.get("dataset")
    opt = data.get("optimizer")
    return {
        **data,
        "model_config": mcfg,
        "optimizers": {"adam": opt} if opt else {},
        "curve": [],
        "datasets": [{**spec, "start_epoch": 0, "epochs": epoch}] if isinstance(spec, dict) else [],
        "progress": {"epoch": epoch},
    }


def read_run(path: str | os.PathLike, device="cpu") -> Run:
    path = resolve_checkpoint_path(path)
    data = _read(path, device)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(path, "is a PyTorch file but not a VAE Studio checkpoint")
    version = data.get("version", 0)
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(path, f"has an invalid format version {version!r}")
    if version > VERSION:
        raise CheckpointError(path, f"was written by a newer VAE Studio (format {version}); update to open it")
    if version == 1:
        data = _upgrade_v1(data)
    try:
        mcfg = config_from_dict(_expect(path, data.get("model_config"), dict, "model settings"))
        tcfg_d = data.get("train_config")
        tcfg = TrainConfig.from_dict(_expect(path, tcfg_d, dict, "training settings")) if tcfg_d else TrainConfig()
        history = _expect(path, data.get("history") or [], list, "history")
        for rec in history:
            _expect(path, rec, dict, "history entry")
        curve = [p for p in _expect(path, data.get("curve") or [], list, "loss curve") if isinstance(p, dict)]
        segments = [Segment.from_dict(_expect(path, s, dict, "data set record"))
                    for s in _expect(path, data.get("datasets") or [], list, "data set list")]
        optimizers = _expect(path, data.get("optimizers") or {}, dict, "optimiser states")
        for name, state in optimizers.items():
            _expect(path, state, dict, f"state of optimiser {name!r}")
        progress = _read_progress(path, _expect(path, data.get("progress") or {}, dict, "progress"))
        state_dict = _expect(path, data.get("state_dict"), dict, "weights")
        model = build_model(mcfg)
        model.load_state_dict(state_dict)
    except CheckpointError:
        raise
    except VaeStudioError as e:
        raise CheckpointError(path, f"has invalid settings: {e}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise CheckpointError(path, f"is damaged: its weights do not fit its model settings ({e})") from None
    model.to(device).eval()
    return Run(mcfg, tcfg, model, optimizer_states=optimizers, history=history, curve=curve, segments=segments,
               progress=progress, path=path, extra=dict(data.get("extra") or {}))


def _read_progress(path: Path, d: dict) -> Progress:
    ints = {}
    for key in ("epoch", "step", "steps_per_epoch", "seen"):
        v = d.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise CheckpointError(path, f"is damaged: its progress field {key!r} is {v!r}")
        ints[key] = v
    if ints["step"] and ints["step"] >= ints["steps_per_epoch"]:
        raise CheckpointError(path, f"is damaged: step {ints['step']} of {ints['steps_per_epoch']} in an epoch")
    tensors = {}
    for key in ("sums", "rng_state", "cuda_rng_state"):
        v = d.get(key)
        tensors[key] = None if v is None else _expect(path, v, torch.Tensor, f"progress field {key!r}").cpu()
    if ints["step"] and (tensors["sums"] is None or tensors["rng_state"] is None):
        raise CheckpointError(path, "is damaged: it stopped mid-epoch but lacks the state to continue")
    seconds = d.get("seconds", 0.0)
    return Progress(**ints, **tensors, seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0)


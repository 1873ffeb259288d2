"""Runs on disk: one file that re-opens with no user code and never executes code on load.

The file is `torch.save` of plain data only (dicts, lists, strings, numbers, tensors), read back
with `weights_only=True`, so a pickle carrying code is refused rather than run. Writes go to a
temp file beside the target and are renamed over it, so a crash never leaves a half file.
Nothing here knows a model kind: the kind is read from the model settings and the registry
builds it; optimiser states are a mapping by name.

Format 2 (this one) holds a whole `Run`; format 1 (VAE Studio 0.1: one optimiser, an integer
epoch, the data set open at save time) is read and converted.

A hostile file costs no more than its own size to refuse. Before `torch.load` allocates
anything, the zip directory of the file is read: every record must be stored (torch.save never
compresses, so a compressed record can only be an inflation bomb), lie within the file, and
the records together may not exceed the file or `MAX_CHECKPOINT_BYTES`; torch itself then
checks each tensor against its record. The model settings are checked against the size limits
of `ModelConfig` (at most `config.MAX_PARAMETERS` parameters, by arithmetic) and the weights'
names and shapes against a model built on the "meta" device (no memory) before the real model
is built. Every other field is checked for its type, so a damaged file gives one line naming it.
"""
from __future__ import annotations

import copy
import math
import os
import pickle
import threading
import zipfile
from pathlib import Path
from typing import Optional

import torch

from .config import TrainConfig
from .errors import CheckpointError, VaeStudioError, plain_message
from .kinds import build_model, config_from_dict, kind_of
from .paths import atomic_write
from .run import Progress, Run, Segment
from .run_lock import check_not_locked

FORMAT = "vaestudio-checkpoint"
VERSION = 2
CHECKPOINT_NAME = "model.pt"
MAX_CHECKPOINT_BYTES = 8 * 1024**3  # weights and optimiser states of the largest model, with room
MAX_RECORDS = 100_000  # zip records (a run has a few per tensor)


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


def _target(path: str | os.PathLike) -> Path:
    """The file a write goes to (a folder means FOLDER/model.pt), refused while another process
    trains into that folder (do not overwrite its run)."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    check_not_locked(path.parent)
    return path


def write_run(path: str | os.PathLike, run: Run) -> Path:
    """Write atomically; a folder means FOLDER/model.pt. Returns the file written."""
    path = _target(path)
    return _write_payload(path, run_payload(run))


def _owned(obj):
    """A deep copy whose tensors are CPU copies: stays as it is while training goes on."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _owned(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_owned(v) for v in obj)
    return copy.deepcopy(obj)


class CheckpointWriter:
    """Writes checkpoints on a thread of its own, so training does not wait for the disk (the
    fsync of a write costs as much as an epoch of a small model).

    `submit` takes a copy of the run at once (the weights, optimiser states, history: training
    may go on changing them) and returns; the thread writes it with `write_run`'s atomic
    write (temp file, fsync, rename), so a reader only ever finds a complete checkpoint. A
    submission not yet started is replaced by a newer one: the latest state wins, and the files
    never go back in time. `after` (e.g. writing metrics.json) runs once that write succeeded.
    A failed write is kept and raised by the next `submit`, `flush` or `close`, never lost.
    `flush` waits for what was submitted; a final save should `close()` the writer and then
    write synchronously.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._pending = None  # (path, payload, after) not yet started
        self._busy = False
        self._error: Optional[BaseException] = None
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="vaestudio-checkpoint-writer", daemon=True)
        self._thread.start()

    def submit(self, path: str | os.PathLike, run: Run, after=None) -> Path:
        self._raise_error()
        path = _target(path)
        payload = _owned(run_payload(run))
        with self._cond:
            if self._closed:
                raise RuntimeError("this checkpoint writer is closed")
            self._pending = (path, payload, after)
            self._cond.notify_all()
        run.path = path
        return path

    def flush(self) -> None:
        """Wait until every submitted checkpoint is written; raise a write's failure."""
        with self._cond:
            while self._pending is not None or self._busy:
                self._cond.wait()
        self._raise_error()

    def close(self) -> None:
        """Write what is pending, stop the thread, and raise a write's failure (idempotent)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        with self._cond:
            error, self._error = self._error, None
        if error is not None:
            raise error

    def _work(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._pending is None:
                    return
                (path, payload, after), self._pending = self._pending, None
                self._busy = True
            try:
                _write_payload(path, payload)
                if after is not None:
                    after()
            except BaseException as e:  # noqa: BLE001 - handed to the training thread
                if not isinstance(e, VaeStudioError):
                    e = CheckpointError(path, f"could not be written ({plain_message(e)})")
                with self._cond:
                    self._error = e
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def _write_payload(path: Path, payload: dict) -> Path:
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
    check_archive(path)
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:
        if "weights only" in str(e).lower() or "weights_only" in str(e).lower():
            raise CheckpointError(
                path, "refused: it holds Python objects that could run code when loaded "
                      "(VAE Studio loads only plain weights and settings)") from None
        raise CheckpointError(path, "is truncated or not a VAE Studio checkpoint") from None
    except Exception:  # the unpickler raises KeyError, IndexError, struct.error... on garbage
        raise CheckpointError(path, "is truncated or not a VAE Studio checkpoint") from None


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def check_archive(path: Path) -> None:
    """Refuse, from the zip directory alone, a file whose records would cost more memory than its
    size: compressed records (an inflation bomb), records past the end of the file or overlapping,
    and more record bytes than the file holds or than `MAX_CHECKPOINT_BYTES`."""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except Exception:  # noqa: BLE001 - BadZipFile, struct.error, ValueError... all mean "not a zip"
        raise CheckpointError(path, "is truncated or not a VAE Studio checkpoint") from None
    if len(infos) > MAX_RECORDS:
        raise CheckpointError(path, f"is not a VAE Studio checkpoint: it has {len(infos):,} records")
    total = 0
    for info in infos:
        name = info.filename[:80]
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(
                path, f"is refused: its record {name!r} is compressed ({_size(info.compress_size)} that would "
                      f"inflate to {_size(info.file_size)}); VAE Studio checkpoints store their records as they are")
        if info.file_size != info.compress_size or info.header_offset + info.file_size > size:
            raise CheckpointError(
                path, f"is truncated or damaged: its record {name!r} declares {_size(info.file_size)}, "
                      f"more than the {_size(size)} file holds there")
        total += info.file_size
    if total > size:
        raise CheckpointError(path, f"is damaged: its records declare {_size(total)} in a file of {_size(size)}")
    if total > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(path, f"is too large to open: {_size(total)} of records, more than the "
                                    f"{_size(MAX_CHECKPOINT_BYTES)} a VAE Studio checkpoint may hold")


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
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(path, f"has an invalid format version {version!r:.40}")
    if version > VERSION:
        raise CheckpointError(path, f"was written by a newer VAE Studio (format {version}); update to open it")
    if version == 1:
        data = _upgrade_v1(data)
    try:  # the settings first: they bound everything else, and nothing has been built yet
        mcfg = config_from_dict(_expect(path, data.get("model_config"), dict, "model settings"))
        tcfg_d = data.get("train_config")
        tcfg = TrainConfig.from_dict(_expect(path, tcfg_d, dict, "training settings")) if tcfg_d else TrainConfig()
        kind = kind_of(mcfg)
    except CheckpointError:
        raise
    except VaeStudioError as e:
        raise CheckpointError(path, f"has invalid settings: {e}") from None
    except Exception as e:  # noqa: BLE001 - a setting of the wrong type: TypeError, ValueError, ...
        raise CheckpointError(path, f"has invalid settings ({_brief(e)})") from None
    history = _read_history(path, _field(path, data, "history", list, [], "history"))
    curve = [p for p in _field(path, data, "curve", list, [], "loss curve") if _curve_point(p)]
    segments = [_read_segment(path, s) for s in _field(path, data, "datasets", list, [], "data set list")]
    optimizers = _field(path, data, "optimizers", dict, {}, "optimiser states")
    for name, state in optimizers.items():
        _expect(path, state, dict, f"state of optimiser {name!r:.40}")
        problem = optimizer_state_problem(state)
        if problem:
            raise CheckpointError(path, f"is damaged: the saved state of optimiser {name!r:.40} {problem}")
    progress = _read_progress(path, _field(path, data, "progress", dict, {}, "progress"), len(kind.term_names()))
    extra = _field(path, data, "extra", dict, {}, "extra settings")
    state_dict = _expect(path, data.get("state_dict"), dict, "weights")
    check_weights_fit(path, mcfg, state_dict)
    try:
        model = build_model(mcfg)
        model.load_state_dict(state_dict)
    except VaeStudioError as e:
        raise CheckpointError(path, f"has invalid settings: {e}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise CheckpointError(path, f"is damaged: its weights do not fit its model settings ({_brief(e)})") from None
    model.to(device).eval()
    return Run(mcfg, tcfg, model, optimizer_states=optimizers, history=history, curve=curve, segments=segments,
               progress=progress, path=path, extra=dict(extra))


def _brief(e: BaseException) -> str:
    return plain_message(e)


def _field(path: Path, data: dict, key: str, types, default, what: str):
    """data[key] of `types`; missing or None gives `default`."""
    value = data.get(key)
    return default if value is None else _expect(path, value, types, what)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_PLAIN = (bool, int, float, str, type(None))
_NUMERIC_RECORD_KEYS = ("epoch", "dataset", "lr", "samples_per_s", "seconds", "epoch_samples_per_s")


def _read_history(path: Path, history: list) -> list:
    """Each epoch record a dict of plain values; the numbers the plots and metrics read are numbers."""
    for i, rec in enumerate(history, start=1):
        _expect(path, rec, dict, "history entry")
        for k, v in rec.items():
            if not isinstance(k, str) or not isinstance(v, _PLAIN):
                raise CheckpointError(path, f"is damaged: its history entry {i} holds a {type(v).__name__} "
                                            f"under {str(k)[:40]!r}")
            numeric = k in _NUMERIC_RECORD_KEYS or k.startswith("train_") or k.startswith("val_")
            if numeric and not _is_number(v) and not (v is None and k.startswith("val_")):
                raise CheckpointError(path, f"is damaged: its history entry {i} has {k!r} = {v!r:.40}, not a number")
    return history


def _curve_point(p) -> bool:
    """The in-epoch curve is only drawn: points that are not numbers are left out."""
    return isinstance(p, dict) and "x" in p and all(isinstance(k, str) and _is_number(v) for k, v in p.items())


def _read_segment(path: Path, d) -> Segment:
    _expect(path, d, dict, "data set record")
    name, root, options = d.get("name"), d.get("root"), d.get("options") or {}
    if not isinstance(name, str) or not (root is None or isinstance(root, str)) or not isinstance(options, dict):
        raise CheckpointError(path, "is damaged: a data set record lacks its name or has a damaged root or options")
    if not all(isinstance(k, str) and isinstance(v, _PLAIN) for k, v in options.items()):
        raise CheckpointError(path, f"is damaged: the options of data set {name[:40]!r} are not plain values")
    for key in ("start_epoch", "epochs"):
        v = d.get(key, 0.0)
        if not _is_number(v) or not math.isfinite(v) or v < 0:
            raise CheckpointError(path, f"is damaged: data set {name[:40]!r} has {key} = {v!r:.40}")
    return Segment.from_dict(d)


def optimizer_state_problem(state: dict) -> Optional[str]:
    """What is wrong with the form of a saved optimiser state (`Optimizer.state_dict()`), or None.
    Only the form: whether it fits a model is `training.Trainer`'s check, with the optimiser."""
    if not state:
        return None
    per, groups = state.get("state"), state.get("param_groups")
    if not isinstance(per, dict):
        return "has no per-parameter state"
    if not isinstance(groups, list) or not groups:
        return "has no parameter groups"
    for g in groups:
        if not isinstance(g, dict) or not isinstance(g.get("params"), list) or not all(map(_is_int, g["params"])):
            return "has a damaged parameter group"
        for k, v in g.items():
            ok = isinstance(v, _PLAIN) or (isinstance(v, torch.Tensor) and v.numel() <= 16) or (
                isinstance(v, (list, tuple)) and all(isinstance(x, _PLAIN) for x in v))
            if not isinstance(k, str) or not ok:
                return f"has a {type(v).__name__} as its setting {str(k)[:40]!r}"
    for pid, entry in per.items():
        if not _is_int(pid) or not isinstance(entry, dict):
            return f"has damaged state for parameter {str(pid)[:40]!r}"
        for k, v in entry.items():
            if isinstance(v, torch.Tensor):
                if v.is_complex() or v.dtype == torch.bool:
                    return f"holds a {v.dtype} tensor as {str(k)[:40]!r} of parameter {pid}"
            elif not isinstance(k, str) or not _is_number(v):
                return f"holds a {type(v).__name__} as {str(k)[:40]!r} of parameter {pid}"
    return None


def check_weights_fit(path: Path, mcfg, state_dict: dict) -> None:
    """The weights' names and shapes against the model the settings make, built on the "meta"
    device (shapes without memory), before the real model is built and filled."""
    with torch.device("meta"):
        expected = build_model(mcfg).state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    if missing or unexpected:
        parts = ([f"missing {', '.join(missing[:3])}" + (" ..." if len(missing) > 3 else "")] if missing else []) + (
            [f"unexpected {', '.join(str(k)[:40] for k in unexpected[:3])}" + (" ..." if len(unexpected) > 3 else "")]
            if unexpected else [])
        raise CheckpointError(path, f"is damaged: its weights do not fit its model settings ({'; '.join(parts)})")
    for k, want in expected.items():
        got = state_dict[k]
        if not isinstance(got, torch.Tensor) or not got.dtype.is_floating_point:
            what = type(got).__name__ if not isinstance(got, torch.Tensor) else f"{got.dtype} tensor"
            raise CheckpointError(path, f"is damaged: its weight {k} is a {what}, not floating-point numbers")
        if tuple(got.shape) != tuple(want.shape):
            raise CheckpointError(path, f"is damaged: its weights do not fit its model settings ({k} has shape "
                                        f"{tuple(got.shape)}, the settings make {tuple(want.shape)})")


def _read_progress(path: Path, d: dict, n_terms: int) -> Progress:
    ints = {}
    for key in ("epoch", "step", "steps_per_epoch", "seen"):
        v = d.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise CheckpointError(path, f"is damaged: its progress field {key!r} is {v!r:.40}")
        ints[key] = v
    if ints["step"] and ints["step"] >= ints["steps_per_epoch"]:
        raise CheckpointError(path, f"is damaged: step {ints['step']} of {ints['steps_per_epoch']} in an epoch")
    tensors = {}
    for key in ("sums", "rng_state", "cuda_rng_state"):
        v = d.get(key)
        tensors[key] = None if v is None else _expect(path, v, torch.Tensor, f"progress field {key!r}").cpu()
    sums, rng, cuda_rng = tensors["sums"], tensors["rng_state"], tensors["cuda_rng_state"]
    if sums is not None and (sums.shape != (n_terms,) or not sums.dtype.is_floating_point):
        raise CheckpointError(path, f"is damaged: its progress holds {tuple(sums.shape)} loss sums for "
                                    f"{n_terms} loss terms")
    if rng is not None and (rng.dtype != torch.uint8 or rng.shape != torch.get_rng_state().shape):
        raise CheckpointError(path, "is damaged: its saved random state is not a random state")
    if cuda_rng is not None and (cuda_rng.dtype != torch.uint8 or cuda_rng.dim() != 1 or cuda_rng.numel() > 1024):
        raise CheckpointError(path, "is damaged: its saved GPU random state is not a random state")
    if ints["step"] and (sums is None or rng is None):
        raise CheckpointError(path, "is damaged: it stopped mid-epoch but lacks the state to continue")
    seconds = d.get("seconds", 0.0)
    seconds = float(seconds) if _is_number(seconds) and math.isfinite(seconds) and seconds >= 0 else 0.0
    return Progress(**ints, **tensors, seconds=seconds)

"""A run: the one object that owns a model's life.

It holds the model kind and its config, the training config (whose `epochs` is the total the
run trains to), the weights, the optimiser states, the per-epoch history, the in-epoch loss
curve, the data sets it was trained on (one segment each, with the epochs spent on it) and its
exact progress (finished epochs plus the step inside the current one, with the random state
needed to continue bit for bit). The CLI, the window's worker, autosave and File > Save all
read and write runs; `core.training.Trainer` advances one.
"""
from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch

from .config import ModelConfig, TrainConfig
from .data.base import DatasetSpec
from .errors import ConfigError
from .kinds import ModelKind, build_model, kind_of

MAX_CURVE_POINTS = 4000  # the in-epoch curve is thinned to stay about this long


class DatasetSwitchError(ConfigError):
    """Continuing a run on another data set than the one it was trained on, without saying so."""


@dataclass
class Progress:
    """Where training stands: `epoch` finished epochs plus `step` finished steps of the next.

    Mid-epoch (step > 0) it also keeps what continuing needs: the epoch's running sums of the
    loss terms (`sums`, over `seen` images), the random state after the last step, and the
    number of steps an epoch had (a resume with another batch size would not line up).
    """

    epoch: int = 0
    step: int = 0
    steps_per_epoch: int = 0
    seen: int = 0
    sums: Optional[torch.Tensor] = None  # float32, one per training loss term
    rng_state: Optional[torch.Tensor] = None
    cuda_rng_state: Optional[torch.Tensor] = None
    seconds: float = 0.0  # training time spent in the current epoch so far

    @property
    def epochs_done(self) -> float:
        if self.step and self.steps_per_epoch:
            return self.epoch + self.step / self.steps_per_epoch
        return float(self.epoch)

    @property
    def mid_epoch(self) -> bool:
        return self.step > 0

    def copy(self) -> "Progress":
        return Progress(self.epoch, self.step, self.steps_per_epoch, self.seen,
                        None if self.sums is None else self.sums.detach().cpu().clone(),
                        None if self.rng_state is None else self.rng_state.clone(),
                        None if self.cuda_rng_state is None else self.cuda_rng_state.clone(), self.seconds)


@dataclass
class Segment:
    """A stretch of training on one data set."""

    spec: DatasetSpec
    start_epoch: float = 0.0
    epochs: float = 0.0

    def to_dict(self) -> dict:
        return {**self.spec.to_dict(), "start_epoch": self.start_epoch, "epochs": self.epochs}

    @classmethod
    def from_dict(cls, d: dict) -> "Segment":
        return cls(DatasetSpec.from_dict(d), float(d.get("start_epoch", 0.0)), float(d.get("epochs", 0.0)))


def same_data(a: DatasetSpec, b: DatasetSpec) -> bool:
    return a.name == b.name and (a.root or None) == (b.root or None) and dict(a.options) == dict(b.options)


def describe_spec(spec: DatasetSpec) -> str:
    opts = ", ".join(f"{k}={v}" for k, v in spec.options.items())
    return spec.name + (f" ({opts})" if opts else "") + (f" at {spec.root}" if spec.root else "")


@dataclass
class Run:
    model_config: ModelConfig
    train_config: TrainConfig
    model: torch.nn.Module
    optimizer_states: dict = field(default_factory=dict)  # optimiser name -> state_dict
    history: list = field(default_factory=list)  # one record per finished epoch
    curve: list = field(default_factory=list)  # in-epoch points: {"x": epochs, term: value, ...}
    segments: list = field(default_factory=list)  # Segment, oldest first
    progress: Progress = field(default_factory=Progress)
    path: Optional[Path] = None  # the file it was read from or last written to
    extra: dict = field(default_factory=dict)

    # -- making ---------------------------------------------------------------------------
    @classmethod
    def new(cls, model_config: ModelConfig, train_config: TrainConfig) -> "Run":
        """A fresh run; its weights are drawn from the training seed, so they repeat."""
        torch.manual_seed(train_config.seed)
        return cls(model_config, train_config, build_model(model_config))

    @classmethod
    def load(cls, path: str | os.PathLike, device="cpu") -> "Run":
        from .checkpoint import read_run
        return read_run(path, device)

    def require_finite(self) -> "Run":
        """The run itself, or a clear error when its weights hold NaN or infinities: a diverged
        model decodes black or garbage pictures, which no view or verb should hand out."""
        from .errors import CheckpointError

        bad = [name for name, t in self.model.state_dict().items()
               if t.is_floating_point() and not bool(torch.isfinite(t).all())]
        if bad:
            more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
            raise CheckpointError(self.path, f"its weights hold NaN or infinite values ({bad[0]}{more}): the "
                                             f"training that wrote it diverged; use an earlier checkpoint")
        return self

    def save(self, path: str | os.PathLike) -> Path:
        """Write the run atomically (a run folder means FOLDER/model.pt); remembers the path."""
        from .checkpoint import write_run
        self.path = write_run(path, self)
        return self.path

    def snapshot(self) -> "Run":
        """A frozen CPU copy (weights, optimiser states, history, progress) that stays as it is
        while this run goes on training: what the window saves and explores."""
        return Run(
            self.model_config, copy.deepcopy(self.train_config), self.model.cpu_copy(),
            optimizer_states=_cpu_clone(self.optimizer_states), history=copy.deepcopy(self.history),
            curve=list(self.curve), segments=copy.deepcopy(self.segments), progress=self.progress.copy(),
            path=self.path, extra=copy.deepcopy(self.extra))

    # -- reading --------------------------------------------------------------------------
    @property
    def kind(self) -> ModelKind:
        return kind_of(self.model_config)

    @property
    def epochs_done(self) -> float:
        return self.progress.epochs_done

    @property
    def target_epochs(self) -> int:
        return int(self.train_config.epochs)

    @property
    def finished(self) -> bool:
        return self.epochs_done >= self.target_epochs

    @property
    def trained(self) -> bool:
        return self.epochs_done > 0

    @property
    def dataset_spec(self) -> Optional[DatasetSpec]:
        """The data set the run trains on now (its last segment)."""
        return self.segments[-1].spec if self.segments else None

    def datasets(self) -> list[dict]:
        return [{"name": s.spec.name, "root": s.spec.root, "options": dict(s.spec.options),
                 "start_epoch": _num(s.start_epoch), "epochs": _num(s.epochs)} for s in self.segments]

    def info(self) -> dict:
        """What the run is, as plain data (for `vaestudio info` and the window's model info)."""
        kind, m = self.kind, self.model_config
        return {
            "path": None if self.path is None else str(self.path),
            "kind": kind.name,
            "kind_title": kind.title,
            "arch": m.arch,
            "image_shape": list(m.image_shape),
            "latent_dim": m.latent_dim,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "model_config": m.to_dict(),
            "epochs_done": _num(self.epochs_done),
            "target_epochs": self.target_epochs,
            "status": "finished" if self.finished else ("not trained" if not self.trained else "in progress"),
            "loss_terms": kind.term_names(),
            "eval_terms": [t.name for t in kind.eval_terms],
            "capabilities": sorted(kind.capabilities),
            "facts": {str(k): str(v) for k, v in kind.facts(self).items()},
            "datasets": self.datasets(),
            "train_config": self.train_config.to_dict(),
            "history_entries": len(self.history),
            "optimizers": sorted(self.optimizer_states),
            "quality": self.extra.get("quality") if isinstance(self.extra.get("quality"), dict) else None,
        }

    def describe(self) -> str:
        return describe_info(self.info())

    # -- changing -------------------------------------------------------------------------
    def use_dataset(self, dataset, allow_switch: bool = False) -> None:
        """Train on `dataset` from now on. A data set other than the current segment's is refused
        unless `allow_switch` (then the history gets a new segment); another image shape always."""
        shape, want = tuple(dataset.image_shape), tuple(self.model_config.image_shape)
        if shape != want:
            raise ConfigError(f"the model expects images of shape {want} but the data set '{dataset.name}' "
                              f"has {shape}: make a new model for it")
        if len(dataset.train) == 0:
            raise ConfigError(f"the data set '{dataset.name}' has no training images")
        spec = dataset.spec
        cur = self.segments[-1] if self.segments else None
        if cur is not None and same_data(cur.spec, spec):
            return
        if cur is not None and cur.epochs == 0 and self.epochs_done == cur.start_epoch:
            self.segments.pop()  # nothing was trained on it: replace it
        elif cur is not None and self.trained:
            if not allow_switch:
                raise DatasetSwitchError(
                    f"this run was trained on {describe_spec(cur.spec)} for {_num(cur.epochs)} epochs; "
                    f"continuing on {describe_spec(spec)} must be asked for (the history then marks "
                    f"where the data set changed)")
            if self.progress.mid_epoch:
                raise DatasetSwitchError(
                    f"the run stopped inside epoch {self.progress.epoch + 1}; finish that epoch on "
                    f"{cur.spec.name} before continuing on {spec.name}")
        self.segments.append(Segment(DatasetSpec(spec.name, spec.root, dict(spec.options)), self.epochs_done, 0.0))

    def set_lr(self, lr: float) -> None:
        """Change the learning rate: in the settings and in every saved optimiser state."""
        self.train_config = dataclasses.replace(self.train_config, lr=float(lr))
        for state in self.optimizer_states.values():
            for group in state.get("param_groups", []):
                group["lr"] = lr

    def set_target(self, epochs: int) -> None:
        self.train_config = dataclasses.replace(self.train_config, epochs=int(epochs))

    def add_curve_point(self, point: dict) -> None:
        self.curve.append(point)
        if len(self.curve) > MAX_CURVE_POINTS:
            self.curve[:] = self.curve[::2]


def describe_info(info: dict) -> str:
    """The facts of `Run.info()` as lines for a person (`vaestudio info` and the window's model info)."""
    m, t = info["model_config"], info["train_config"]
    c, h, w = info["image_shape"]
    arch = (f"MLP {'-'.join(str(x) for x in m['hidden'])}" if info["arch"] == "mlp"
            else f"conv, width {m['conv_width']}")
    own = {k: v for k, v in m.items() if k not in ("kind", "arch", "image_shape", "latent_dim", "hidden",
                                                   "conv_width", "likelihood", "gaussian_sigma")}
    lines = [
        f"{info['kind_title']} ({info['kind']}): {arch}, latent {info['latent_dim']}, images {c}x{h}x{w}, "
        f"{info['parameters']:,} parameters",
        f"likelihood: {m['likelihood']}" + (f" (sigma {m['gaussian_sigma']})" if m["likelihood"] == "gaussian" else "")
        + "".join(f"; {k} {v if v != '' else '(default)'}" for k, v in own.items()),
        *(f"{k}: {v}" for k, v in info.get("facts", {}).items()),
        f"epochs: {info['epochs_done']} of {info['target_epochs']} ({info['status']})",
        f"loss terms: {', '.join(info['loss_terms'])}; evaluated: {', '.join(info['eval_terms'])}",
        f"training: batch {t['batch_size']}, learning rate {t['lr']:g}, seed {t['seed']}, device {t['device']}",
    ]
    if info["datasets"]:
        lines.append("data sets:")
        for d in info["datasets"]:
            opts = ", ".join(f"{k}={v}" for k, v in d["options"].items())
            lines.append(f"  {d['name']}" + (f" ({opts})" if opts else "") + (f" at {d['root']}" if d["root"] else "")
                         + f": {d['epochs']} epochs from epoch {d['start_epoch']}")
    else:
        lines.append("data sets: none yet")
    lines.append(f"history: {info['history_entries']} epoch records")
    from .quality import describe_record

    blur = describe_record(info.get("quality"), info["epochs_done"])
    if blur:
        lines.append(blur)
    if info.get("path"):
        lines.append(f"file: {info['path']}")
    return "\n".join(lines)


def _num(x: float):
    """An integer where a float is whole (epochs read better as 3 than 3.0), else 4 decimals."""
    x = float(x)
    return int(x) if x.is_integer() else round(x, 4)


def _cpu_clone(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu_clone(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_cpu_clone(v) for v in obj]
    return copy.deepcopy(obj)


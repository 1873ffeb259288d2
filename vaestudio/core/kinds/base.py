"""What a model kind declares, so the trainer, checkpoints, plots and verbs follow it.

A kind is a small object (one per module under `core/kinds/`) that names its config dataclass,
its loss terms, its capabilities, its optimisers and its training step. Everything else in
VAE Studio reads those declarations instead of knowing about AEs or VAEs: the loss plots draw
one plot per plotted term, `evaluate` reports the kind's evaluation terms, the prior-samples
view asks for the `prior` capability. Adding a kind is one new module plus one line in
`core/kinds/__init__.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Optional

import torch
from torch import nn

from ..config import ModelConfig, TrainConfig
from ..precision import Precision

# Capabilities a kind may declare.
PRIOR = "prior"  # decoding draws from N(0, I) gives meaningful samples
POSTERIOR = "posterior"  # the encoder gives a distribution q(z|x) (mean and log-variance)
IW_BOUND = "iw_bound"  # the importance-weighted estimate of -log p(x) applies
# its training step can be captured in a CUDA graph (core/cuda_graph.py): the base `train_step`,
# a forward whose `step_args` may be device tensors, no host syncs and no Python branches on values
CUDA_GRAPH = "cuda_graph"
CAPABILITIES = (PRIOR, POSTERIOR, IW_BOUND, CUDA_GRAPH)


@dataclass(frozen=True)
class LossTerm:
    """One number a kind reports per image: its key, how people read it, and whether it is plotted."""

    name: str  # key in step outputs, history records (train_<name>, val_<name>) and metrics
    title: str  # what a plot or table calls it
    unit: str = "nats per image"
    plotted: bool = True
    help: str = ""


@dataclass
class StepContext:
    """What a training step may need besides the batch; `extras` carries scalars it reports."""

    epoch_progress: float  # epochs finished before this step (fractional inside an epoch)
    extras: dict = field(default_factory=dict)
    # The run's arithmetic (core/precision.py); None is plain fp32. A step backpropagates and
    # steps through `backward` / `step` so fp16's gradient scaler applies.
    precision: Optional[Precision] = None
    # The batch's share of a full batch (BatchSampler.weight): below 1 only for an epoch's
    # short last batch, whose per-image mean loss is weighted by it before backward.
    weight: float = 1.0
    # The forward's keyword arguments when the caller fixes them (a CUDA graph passes device
    # tensors it refills before each replay); None: the kind's `step_args` for this step.
    step_args: Optional[dict] = None

    def backward(self, loss: torch.Tensor, **kw) -> None:
        """`loss.backward(**kw)` on the loss weighted by the batch's share, scaled and with
        autocast off under mixed precision."""
        if self.weight != 1.0:
            loss = loss * self.weight
        if self.precision is None:
            loss.backward(**kw)
        else:
            self.precision.backward(loss, **kw)

    def step(self, opt: torch.optim.Optimizer) -> None:
        """`opt.step()`, through fp16's gradient scaler when there is one."""
        if self.precision is None:
            opt.step()
        else:
            self.precision.step(opt)


class ModelKind:
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    config_class: ClassVar[type] = ModelConfig
    # Training terms; the first is the objective and must be called "loss".
    loss_terms: ClassVar[tuple[LossTerm, ...]] = ()
    # What `evaluate` reports on held-out data (at the model's own weights, beta = 1).
    eval_terms: ClassVar[tuple[LossTerm, ...]] = ()
    capabilities: ClassVar[frozenset] = frozenset()

    # -- building -------------------------------------------------------------------------
    def build(self, config: ModelConfig) -> nn.Module:  # pragma: no cover - every kind overrides
        raise NotImplementedError

    def optimizers(self, model: nn.Module, train: TrainConfig, device: torch.device) -> dict:
        """Named optimisers; one Adam by default (the fused kernel where torch has one)."""
        return {"adam": adam(model.parameters(), train.lr, device)}

    def learning_rate(self, name: str, config: ModelConfig, train: TrainConfig) -> float:
        """The rate optimiser `name` uses now (the trainer sets it on every start, so a changed
        run rate applies); the run's rate by default, a kind may scale it per optimiser."""
        return train.lr

    # -- training -------------------------------------------------------------------------
    def prepare(self, run, dataset, device: torch.device, progress=None, *, cancel=None,
                download: bool = False) -> None:
        """Work a run needs once before its first training step, e.g. training or reading a fixed
        network the loss uses; the trainer calls it before every training session, so it must be
        cheap once done (keep what it made in the model's state_dict so a re-opened run has it).
        It leaves the global random state as it found it, changes nothing when `cancel()` turns
        true, reports `progress(done, total, message)` and may download only when `download`.
        A no-op by default."""

    def offline_alternative(self, config: ModelConfig):
        """None when `config` can train offline; else (why not, in a sentence naming the missing
        file and where it goes; the nearest config that can). The window offers the switch before
        a new model starts; the CLI refuses with `prepare`'s error instead."""
        return None

    def step_args(self, config: ModelConfig, ctx: StepContext) -> dict:
        """Keyword arguments of the module's forward for this step (e.g. a KL weight)."""
        return {}

    def train_step(self, module: nn.Module, x: torch.Tensor, optimizers: dict, ctx: StepContext,
                   config: ModelConfig) -> dict:
        """One optimisation step on batch `x`; returns the loss terms (tensors, per-image means).

        It calls `module(x)`, never a side method, so the module can be wrapped (e.g. by
        DistributedDataParallel) and gradients still synchronise.
        """
        (opt,) = optimizers.values()
        out = module(x, **(ctx.step_args if ctx.step_args is not None else self.step_args(config, ctx)))
        opt.zero_grad(set_to_none=True)
        ctx.backward(out["loss"])
        ctx.step(opt)
        return out

    def validation_terms(self, model: nn.Module, x: torch.Tensor, config: ModelConfig) -> dict:
        """The training terms on held-out data, at the full objective weights."""
        return model(x)

    def evaluation_terms(self, model: nn.Module, x: torch.Tensor, config: ModelConfig) -> dict:
        """`eval_terms` for a batch (tensors, per-image means)."""
        out = model(x)
        return {t.name: out[t.name] for t in self.eval_terms}

    # -- reading --------------------------------------------------------------------------
    def facts(self, run) -> dict:
        """What `info` and About This Model say about a run beyond its settings: {label: text}."""
        return {}

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def a_title(self) -> str:
        """The title inside a sentence, with its article: "an autoencoder", "a VAE (variational)"."""
        first, _, rest = self.title.partition(" ")
        if not first.isupper():
            first = first.lower()
        article = "an" if first[:1].lower() in "aeiou" else "a"
        return " ".join(w for w in (article, first, rest) if w)

    def term_names(self) -> list[str]:
        return [t.name for t in self.loss_terms]

    def plotted_terms(self) -> list[LossTerm]:
        return [t for t in self.loss_terms if t.plotted]

    def term(self, name: str) -> LossTerm:
        for t in (*self.loss_terms, *self.eval_terms):
            if t.name == name:
                return t
        raise KeyError(name)


def adam(params, lr: float, device: torch.device) -> torch.optim.Optimizer:
    """Adam; the fused kernel on CPU and CUDA: one call updates every tensor."""
    params = list(params)
    if device.type in ("cpu", "cuda"):
        try:
            return torch.optim.Adam(params, lr=lr, fused=True)
        except (RuntimeError, TypeError):
            pass
    return torch.optim.Adam(params, lr=lr)

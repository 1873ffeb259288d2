"""The training engine shared by the CLI, scripts and the window's worker thread: it advances a
`Run` toward its target number of epochs.

Three parts, kept apart so each can change alone:
- `BatchSampler`: which images each step sees. One permutation per epoch, seeded from
  (seed, epoch), cut into this rank's share (rank / world size, for multi-process training),
  then into batches; it can start at any step, which is how a run stopped mid-epoch continues.
- the step: the run's model kind does it (`ModelKind.train_step`), through the module's forward.
- `Trainer`: the bookkeeping: events at most ten times a second and after every epoch,
  pause / resume / cancel through `threading.Event`s checked once per batch (so they work from
  any thread without an event loop), validation, the run's history and exact progress, and
  rolling back to the last good state when the loss stops being finite.

Speed comes from keeping the whole training split on the device as uint8 and slicing batches
out of one shuffled copy per epoch: no DataLoader, no per-sample Python work.

Nothing non-finite is ever kept: an epoch counts only when the loss, the weights and the
optimiser states are all finite at its end (a NaN gradient in an epoch's last step leaves a
finite loss but poisoned weights or Adam moments), otherwise the run rolls back to the last
epoch end that was. A saved optimiser state is checked against the model before it is loaded
(a damaged one is refused naming the file); a non-finite one is dropped, so that optimiser
starts afresh from the run's weights, and `Trainer.notes` says so.
"""
from __future__ import annotations

import contextlib
import copy
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import numpy as np
import torch

from .data.base import ImageDataset
from .batches import float_batch, host_tensor, images_to_float, to_device
from .device import resolve_device
from .cuda_graph import GraphedStep, why_not
from .errors import CheckpointError, ConfigError, TrainingError, VaeStudioError
from .kinds import StepContext
from .precision import Precision
from .run import Progress, Run
from .thread_governor import ThreadGovernor, same_result_on_any_thread_count

EVENT_INTERVAL_S = 0.1  # step events at most ten times a second


@dataclass
class StepEvent:
    epoch: int  # 1-based: the epoch in progress
    epochs: int  # the run's target
    step: int  # 1-based within the epoch
    steps_per_epoch: int
    terms: dict  # loss term -> running mean over the epoch so far
    extras: dict  # scalars the kind reports (e.g. the KL weight "beta")
    samples_per_s: float
    kind: str = "step"

    @property
    def x(self) -> float:
        """Epochs trained, fractional."""
        return self.epoch - 1 + self.step / max(self.steps_per_epoch, 1)


@dataclass
class EpochEvent:
    record: dict  # the history record: epoch, train_<term>, val_<term>, extras, lr, seconds, ...
    epochs: int
    kind: str = "epoch"

    @property
    def epoch(self) -> int:
        return int(self.record["epoch"])


@dataclass
class TrainResult:
    status: str  # "finished" | "cancelled" | "diverged"
    epochs_done: float
    samples_per_s: float
    message: str = ""
    history: list = field(default_factory=list)
    # images per wall-clock second of the last whole epoch: training, validation and what the
    # callbacks did after the epoch before (its checkpoint, metrics, events); see `Trainer.train`
    epoch_samples_per_s: float = 0.0


Callback = Callable[[object], None]


def epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch)) % (2**63)


class BatchSampler:
    """Batches of one epoch for one rank: a seeded permutation, this rank's share, in order.

    `batch_size` is the global batch: with W ranks, each step's batch of `batch_size` images of
    the shared permutation is cut into W equal slices, one per rank, so W processes train on
    exactly the batches one process would, with the same steps per epoch. The batch must split
    evenly; the n mod W images left over (at most W - 1) sit out the epoch."""

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside a world of {world_size}")
        if batch_size % world_size:
            raise ValueError(f"a batch of {batch_size} images does not split evenly over {world_size} processes")
        self.n, self.batch_size, self.seed = int(n), int(batch_size), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.used = self.n - self.n % self.world_size  # images trained on per epoch, all ranks together
        self.per_rank = self.used // self.world_size
        self.rank_batch = self.batch_size // self.world_size
        self.steps_per_epoch = math.ceil(self.used / self.batch_size)

    def weight(self, step: int) -> float:
        """The share of a full batch that 1-based `step` of an epoch trains on, all ranks together.

        Our losses are per-image means, so without it an epoch's short last batch (3,334 images
        in batches of 128: a last batch of 6) would step Adam as far as a full one on a far
        noisier gradient. Weighted by its share, the steps are those of the textbook's loss
        summed over the batch. On those 3,334 MNIST-format images, 10 epochs, 3 seeds, the mean
        test -ELBO went from 165.2 to 162.7 (the textbook loop: 161.7)."""
        return min(self.batch_size, self.used - (int(step) - 1) * self.batch_size) / self.batch_size

    def order(self, epoch: int) -> torch.Tensor:
        """This rank's indices for `epoch`, batch after batch: its slice of each global batch of
        one permutation all ranks share."""
        gen = torch.Generator().manual_seed(epoch_seed(self.seed, epoch))
        perm = torch.randperm(self.n, generator=gen)
        if self.world_size > 1:
            w, r, perm = self.world_size, self.rank, perm[:self.used]
            whole = self.used - self.used % self.batch_size  # in full batches; the rest is the last one
            perm = torch.cat([perm[:whole].view(-1, w, self.rank_batch)[:, r].reshape(-1),
                              perm[whole:].view(w, -1)[r]])
        return perm

    def batches(self, data, epoch: int, device: torch.device, start_step: int = 0):
        """uint8 batches on `device`; `data` is a device tensor (one gather per epoch, then views)
        or a host array too big for the device (sorted row reads per batch)."""
        b = self.rank_batch
        perm = self.order(epoch)
        if isinstance(data, torch.Tensor):
            shuffled = data[perm.to(data.device)]
            for i in range(start_step * b, len(perm), b):
                yield shuffled[i:i + b]
        else:
            idx = perm.numpy()
            for i in range(start_step * b, len(idx), b):
                rows = np.sort(idx[i:i + b])  # sorted reads are kinder to a memmap
                yield to_device(host_tensor(data[rows]), device)


class Trainer:
    """Advances `run` on `dataset` toward `run.train_config.epochs` (the total).

    The run must already use the data set (`run.use_dataset`); the trainer refuses otherwise.
    `module` is what the step calls (the run's model, or a wrapper of it).
    """

    def __init__(self, run: Run, dataset: ImageDataset, callbacks: Iterable[Callback] = (), *,
                 rank: int = 0, world_size: int = 1, module: Optional[torch.nn.Module] = None, ranks=None):
        run.use_dataset(dataset)  # a no-op when it is the current segment; refuses silent switches
        self.run = run
        self.dataset = dataset
        self.kind = run.kind
        self.callbacks = list(callbacks)
        self.device = resolve_device(run.train_config.device)
        run.model.to(self.device)
        self.precision = Precision(run.train_config.precision, self.device)
        self.precision.prepare_model(run.model, run.model_config.arch)
        self.module = module or run.model
        self.notes: list[str] = []  # what a person should know before training starts
        # For the kind's one-off preparation (`ModelKind.prepare`) before the first step:
        self.prepare_progress: Optional[Callable[[int, int, str], None]] = None
        self.allow_download = False  # whether it may download what it needs (e.g. `--download`)
        # On the CPU, whether to train on fewer threads while other work holds the cores (see
        # thread_governor.py); the CLI and the window turn it on unless a thread count was chosen.
        self.adapt_threads = False
        self.thread_governor: Optional[ThreadGovernor] = None  # while training, when adapting
        self.use_cuda_graph = False  # replay the step as one CUDA graph (cuda_graph.py; `--cuda-graph`)
        self.graphed_step: Optional[GraphedStep] = None  # while training, when it does
        if not _all_finite(run.model.state_dict().values()):
            raise self._damaged("its weights hold NaN or infinite values, so training cannot continue "
                                "from them; start a new run or resume from an earlier copy")
        self.optimizers = self.kind.optimizers(run.model, run.train_config, self.device)
        for name, opt in self.optimizers.items():
            state = run.optimizer_states.get(name)
            if state:
                self._load_optimizer(name, opt, state)
            lr = self.kind.learning_rate(name, run.model_config, run.train_config)
            for group in opt.param_groups:  # the run's settings say which rate applies now
                group["lr"] = lr
        # Several processes (`ranks`: a distributed.RankSync, with rank and world_size): the batch
        # size is the global one, split between ranks; they agree once per step on stopping.
        self.rank, self.world_size, self.ranks = int(rank), int(world_size), ranks
        try:
            self.sampler = BatchSampler(len(dataset.train), run.train_config.batch_size, run.train_config.seed,
                                        rank, world_size)
        except ValueError as e:
            raise TrainingError(f"{e}: the batch size (--batch-size) is the global batch, shared by all processes; "
                                f"use a number of processes that divides it") from None
        p = run.progress
        if p.mid_epoch and p.steps_per_epoch != self.sampler.steps_per_epoch:
            raise TrainingError(
                f"the run stopped after step {p.step} of {p.steps_per_epoch} in epoch {p.epoch + 1}, but "
                f"this data and batch size give {self.sampler.steps_per_epoch} steps per epoch"
                + (f" on {world_size} processes" if world_size > 1 else "") +
                ": continue it with the batch size and data set it was trained with"
                + (", and with the number of processes it stopped with (the images left over when the training "
                   "split is shared out sit out, which can change the steps per epoch)"
                   if world_size > 1 else ""))
        self._running = threading.Event()
        self._running.set()
        self._cancel = threading.Event()

    def _damaged(self, problem: str) -> VaeStudioError:
        """The error for a run whose saved state is unusable: it names the file it came from."""
        if self.run.path is not None:
            return CheckpointError(self.run.path, f"is damaged: {problem}")
        return TrainingError(f"the run is damaged: {problem}")

    def _load_optimizer(self, name: str, opt: torch.optim.Optimizer, state: dict) -> None:
        from .checkpoint import optimizer_state_problem
        problem = optimizer_state_problem(state) or optimizer_fit_problem(state, opt)
        if problem:
            raise self._damaged(f"its saved state of optimiser '{name}' {problem}")
        if not optimizer_state_usable(state):
            where = f"{self.run.path}: " if self.run.path is not None else ""
            self.notes.append(f"{where}the saved state of optimiser '{name}' holds NaN or infinite values (left by "
                              f"a diverged step); it starts afresh from the run's weights")
            return
        state = _own_tensors(state)
        for group, fresh in zip(state["param_groups"], opt.param_groups):
            for key, value in fresh.items():  # settings a state saved by an older torch lacks
                group.setdefault(key, value)
        try:
            opt.load_state_dict(state)
        except (ValueError, KeyError, TypeError, RuntimeError, AttributeError, IndexError) as e:
            raise self._damaged(f"its saved state of optimiser '{name}' does not fit its model "
                                f"({' '.join(str(e).split())[:200]})") from None
        for group in opt.param_groups:  # a CUDA graph's setting, saved mid-training: never carried over
            if group.get("capturable"):
                group["capturable"] = False

    # -- control, from any thread ---------------------------------------------------------
    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # -- internals ------------------------------------------------------------------------
    def _make_graphed_step(self) -> Optional[GraphedStep]:
        if not self.use_cuda_graph:
            return None
        problem = why_not(self.kind, self.device, self.precision.name, self.ranks is not None)
        if problem:
            raise ConfigError(f"a CUDA graph {problem}")
        return GraphedStep(self.kind, self.module, self.optimizers, self.run.model_config, self.sampler.rank_batch)

    def _make_thread_governor(self, data) -> Optional[ThreadGovernor]:
        """A governor for this training, where thread counts are free to change: the CPU, several
        threads, fp32 (mixed precision keeps a scaler state a trial step would disturb), one
        process, and a step whose result is the same bit for bit on one thread as on all."""
        threads = torch.get_num_threads()
        if (not self.adapt_threads or self.device.type != "cpu" or threads < 2 or self.ranks is not None
                or self.precision.mixed or len(data) == 0):
            return None
        run, kind, arch = self.run, self.kind, self.run.model_config.arch
        sizes = {self.sampler.rank_batch, self.sampler.used % self.sampler.rank_batch or self.sampler.rank_batch}
        batches = [self.precision.prepare_batch(images_to_float(to_device(host_tensor(data[:n]), self.device)), arch)
                   for n in sorted(sizes, reverse=True)]

        def step(module, optimizers, x):
            kind.train_step(module, x, optimizers, StepContext(0.0, precision=self.precision), run.model_config)

        same = same_result_on_any_thread_count(
            step, self.module, lambda m: kind.optimizers(m, run.train_config, self.device), batches, threads)
        return ThreadGovernor(threads) if same else None

    def _step_scope(self, rows: int):
        """Around a training step: with several processes, the whole batch's random draws."""
        return self.ranks.step(rows) if self.ranks is not None else contextlib.nullcontext()

    def _emit(self, event) -> None:
        for cb in self.callbacks:
            cb(event)

    def _train_images(self):
        """The training split as a uint8 tensor on the device when it fits, else the host array."""
        images = self.dataset.train.images
        if images.nbytes <= self.run.train_config.max_device_bytes:
            return host_tensor(images).to(self.device)
        return images

    def save_optimizers(self) -> None:
        """Put the optimisers' states into the run (references: copy before handing them on)."""
        self.run.optimizer_states = {name: opt.state_dict() for name, opt in self.optimizers.items()}

    def _good_state(self) -> dict:
        run = self.run
        return {"model": {k: v.detach().clone() for k, v in run.model.state_dict().items()},
                "optimizers": {k: copy.deepcopy(o.state_dict()) for k, o in self.optimizers.items()},
                "progress": run.progress.copy(), "history": len(run.history), "curve": len(run.curve),
                "segment_epochs": run.segments[-1].epochs}

    def _state_finite(self) -> bool:
        """Whether the weights and every optimiser state are finite (what an epoch end keeps)."""
        tensors = list(self.run.model.state_dict().values())
        for opt in self.optimizers.values():
            for entry in opt.state.values():
                tensors.extend(v for v in entry.values() if isinstance(v, torch.Tensor))
        return _all_finite(tensors)

    def _roll_back(self, good: dict) -> None:
        run = self.run
        run.model.load_state_dict(good["model"])
        for k, o in self.optimizers.items():
            o.load_state_dict(good["optimizers"][k])
        run.progress = good["progress"]
        del run.history[good["history"]:]
        del run.curve[good["curve"]:]
        run.segments[-1].epochs = good["segment_epochs"]

    @torch.no_grad()
    def validate(self) -> Optional[dict]:
        split = self.dataset.validation
        if len(split) == 0:
            return None
        model, cfg = self.run.model, self.run.model_config
        was_training = model.training
        model.eval()
        names = self.kind.term_names()
        tot = dict.fromkeys(names, 0.0)
        n, vb = len(split), self.run.train_config.val_batch_size
        # summed on the device, read once (no host sync per batch); float64 sums what Python's
        # float did before, exactly (MPS has no float64)
        sums = torch.zeros(len(names), dtype=torch.float32 if self.device.type == "mps" else torch.float64,
                           device=self.device)
        for i in range(0, n, vb):
            x = self.precision.prepare_batch(float_batch(split.images[i:i + vb], self.device), cfg.arch)
            with self.precision.autocast():
                out = self.kind.validation_terms(model, x, cfg)
            sums += torch.stack([out[k].detach().to(sums.dtype) for k in names]) * x.shape[0]
        tot.update(zip(names, sums.tolist()))
        model.train(was_training)
        return {k: v / n for k, v in tot.items()}

    def _save_rng(self, p: Progress) -> None:
        p.rng_state = torch.get_rng_state()
        p.cuda_rng_state = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None

    def _restore_rng(self, p: Progress) -> None:
        if p.rng_state is not None:
            torch.set_rng_state(p.rng_state)
        if p.cuda_rng_state is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(p.cuda_rng_state, self.device)

    # -- the loop -------------------------------------------------------------------------
    def train(self) -> TrainResult:
        threads = torch.get_num_threads()
        try:
            return self._train()
        finally:
            if self.thread_governor is not None:  # the caller's thread count back
                torch.set_num_threads(threads)
            if self.graphed_step is not None:  # the optimiser's state as an eager step keeps it
                self.graphed_step.set_capturable(False)

    def _train(self) -> TrainResult:
        run, kind = self.run, self.kind
        tcfg, mcfg = run.train_config, run.model_config
        if run.progress.epoch < tcfg.epochs:  # the kind's one-off work (a no-op for most, and once done)
            kind.prepare(run, self.dataset, self.device, self.prepare_progress, cancel=self._cancel.is_set,
                         download=self.allow_download)
        names = kind.term_names()
        data = self._train_images()
        spe = self.sampler.steps_per_epoch
        segment = run.segments[-1]
        segment_index = len(run.segments) - 1
        rates: list[float] = []
        status, message = "finished", ""
        good = self._good_state()
        run.model.train()
        precision, arch = self.precision, mcfg.arch
        sync = _synchronizer(self.device)  # clocks are read after the device finished its queue
        whole_rate = 0.0
        t_prev_record = time.perf_counter()  # the whole-loop clock: one record to the next
        governor = self.thread_governor = (
            self._make_thread_governor(data) if run.progress.epoch < tcfg.epochs else None)
        graphed = self.graphed_step = self._make_graphed_step() if run.progress.epoch < tcfg.epochs else None
        while run.progress.epoch < tcfg.epochs:
            p = run.progress
            epoch = p.epoch
            if p.mid_epoch:
                self._restore_rng(p)
                sums = p.sums.to(self.device).clone()
                seen, t_train, first = p.seen, p.seconds, p.step
                if self.rank:  # the sums so far are all ranks'; rank 0 carries them
                    sums, seen = torch.zeros_like(sums), 0
            else:
                torch.manual_seed(epoch_seed(tcfg.seed, epoch))
                sums = torch.zeros(len(names), device=self.device)
                seen, t_train, first = 0, 0.0, 0
            p.steps_per_epoch = spe
            t_epoch = time.perf_counter()
            last_event_time, last_event_seen = t_epoch, seen
            # step time runs from t_mark to the next event (device synchronised), never through
            # a pause or the callbacks: no host sync per step beyond the events'
            t_mark, seen_before = t_epoch, seen
            extras: dict = {}
            step = first
            for step, xb in enumerate(self.sampler.batches(data, epoch, self.device, first), start=first + 1):
                if not self._running.is_set():
                    t_pause = time.perf_counter()
                    self._running.wait()
                    paused_for = time.perf_counter() - t_pause
                    t_epoch += paused_for
                    last_event_time += paused_for
                    t_mark += paused_for
                    t_prev_record += paused_for
                if self.ranks is not None:  # all ranks stop at the same step, whichever was asked
                    stop, bad = self.ranks.agree(self._cancel.is_set(), sums)
                    if stop or bad:
                        status = "diverged" if bad else "cancelled"
                        step -= 1
                        break
                elif self._cancel.is_set():
                    status = "cancelled"
                    step -= 1
                    break
                x = precision.prepare_batch(images_to_float(xb), arch)
                ctx = StepContext(epoch + (step - 1) / spe, precision=precision, weight=self.sampler.weight(step))
                bs = x.shape[0]
                if governor is not None:
                    governor.before_step()
                with precision.autocast(), self._step_scope(bs):
                    if graphed is not None:
                        out = graphed.step(x, ctx)
                    else:
                        out = kind.train_step(self.module, x, self.optimizers, ctx, mcfg)
                precision.update()
                if governor is not None:
                    governor.after_step(bs)
                sums += torch.stack([out[k].detach().float() for k in names]) * bs
                seen += bs
                extras = ctx.extras
                now = time.perf_counter()
                if now - last_event_time >= EVENT_INTERVAL_S or step == spe:
                    sync()
                    now = time.perf_counter()
                    t_train += now - t_mark
                    means = (sums / seen).tolist()
                    # (several processes: the next agreement stops every rank together)
                    if self.ranks is None and not all(math.isfinite(v) for v in means):
                        status = "diverged"
                        break
                    rate = (seen - last_event_seen) / max(now - last_event_time, 1e-9)
                    last_event_seen, last_event_time = seen, now
                    terms = dict(zip(names, means))
                    ev = StepEvent(epoch + 1, tcfg.epochs, step, spe, terms, dict(extras), rate)
                    run.add_curve_point({"x": ev.x, **terms})
                    self._emit(ev)
                    t_mark = time.perf_counter()
            if self.ranks is not None and status != "diverged":  # the whole batches' sums, as one process has them
                sums, seen = self.ranks.total(sums, seen)
                if status == "finished" and not bool(torch.isfinite(sums).all()):
                    status = "diverged"
            if status == "cancelled":  # the steps since the last event
                sync()
                t_train += time.perf_counter() - t_mark
            if status == "cancelled" and step > first and not (
                    bool(torch.isfinite(sums).all()) and self._state_finite()):
                status = "diverged"  # stopped just after a non-finite step, before it was noticed
            if status == "diverged":
                self._roll_back(good)
                message = (f"the loss became non-finite (NaN or infinity) in epoch {epoch + 1}; training stopped "
                           f"and the weights after {_epochs(run.epochs_done)} were kept. Try a lower learning rate.")
                break
            if status == "cancelled":
                if step > first:  # keep exactly what was trained, to continue from there
                    self._save_rng(p)
                    p.step, p.seen, p.sums, p.seconds = step, seen, sums.detach().cpu().clone(), t_train
                    segment.epochs = run.epochs_done - segment.start_epoch
                if run.progress.mid_epoch:
                    message = f"stopped after {_epochs(run.epochs_done)} (step {p.step} of {spe} in epoch {epoch + 1})"
                else:
                    message = f"stopped after {_epochs(run.epochs_done)}"
                break
            means = (sums / max(seen, 1)).tolist()
            if not self._state_finite():  # e.g. a NaN gradient in the last step: the loss was still finite
                self._roll_back(good)
                status = "diverged"
                message = (f"the weights or the optimiser state became non-finite (NaN or infinity) in epoch "
                           f"{epoch + 1}; training stopped and the weights after {_epochs(run.epochs_done)} "
                           f"were kept. Try a lower learning rate.")
                break
            val = self.validate()
            if val is not None and not all(math.isfinite(v) for v in val.values()):
                self._roll_back(good)
                status = "diverged"
                message = (f"the validation loss became non-finite in epoch {epoch + 1}; the weights after "
                           f"{_epochs(run.epochs_done)} were kept. Try a lower learning rate.")
                break
            rate = seen / max(t_train, 1e-9)
            rates.append(rate)
            record = {"epoch": epoch + 1, "dataset": segment_index}
            record.update({f"train_{k}": v for k, v in zip(names, means)})
            record.update({f"val_{k}": (None if val is None else val[k]) for k in names})
            record.update(extras)
            now = time.perf_counter()
            whole_rate = (seen - seen_before) / max(now - t_prev_record, 1e-9)
            t_prev_record = now
            record.update({"lr": tcfg.lr, "samples_per_s": rate, "seconds": now - t_epoch,
                           "epoch_samples_per_s": whole_rate})
            if self.world_size > 1:
                record["world_size"] = self.world_size  # trained by this many processes
            if governor is not None:
                record["threads"] = governor.current  # the CPU threads chosen at the epoch's end
            run.history.append(record)
            run.progress = Progress(epoch + 1, 0, spe)
            segment.epochs = run.epochs_done - segment.start_epoch
            self.save_optimizers()
            good = self._good_state()
            self._emit(EpochEvent(record, tcfg.epochs))
        self.save_optimizers()
        run.model.eval()
        return TrainResult(status, run.epochs_done, rates[-1] if rates else 0.0, message, list(run.history),
                           epoch_samples_per_s=whole_rate)


def _synchronizer(device: torch.device) -> Callable[[], None]:
    """What makes a clock reading honest on `device`: CUDA runs its queue asynchronously."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    if device.type == "mps":
        return torch.mps.synchronize
    return lambda: None


def _all_finite(tensors) -> bool:
    """One read of the device: the largest |value| of every tensor in fused kernels (NaN
    propagates through the max), then whether those are all finite."""
    ts = [t.detach() for t in tensors
          if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex()) and t.numel()]
    if not ts:
        return True
    by_device: dict = {}
    for t in ts:
        by_device.setdefault(t.device, []).append(t)
    peaks = [torch.stack(torch._foreach_norm(group, ord=math.inf)).isfinite().all() for group in by_device.values()]
    return bool(torch.stack([p.cpu() for p in peaks]).all()) if len(peaks) > 1 else bool(peaks[0])


def _setting_problem(value, fresh) -> Optional[str]:
    """Whether a saved optimiser setting has the form of the one a fresh optimiser has."""
    def finite_number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if fresh is None or isinstance(fresh, bool):
        return None if value is None or isinstance(value, bool) else "not true or false"
    if isinstance(fresh, (int, float)):
        return None if finite_number(value) else "not a finite number"
    if isinstance(fresh, (tuple, list)):
        ok = isinstance(value, (tuple, list)) and len(value) == len(fresh) and all(map(finite_number, value))
        return None if ok else f"not {len(fresh)} finite numbers"
    if isinstance(fresh, torch.Tensor):
        ok = (finite_number(value) or (isinstance(value, torch.Tensor) and value.numel() == fresh.numel()
                                       and bool(torch.isfinite(value).all())))
        return None if ok else "not a finite number"
    if isinstance(fresh, str):
        return None if isinstance(value, str) else "not a name"
    return None


def optimizer_fit_problem(state: dict, opt: torch.optim.Optimizer) -> Optional[str]:
    """What keeps a saved optimiser state (of a valid form) from fitting `opt`, or None: the
    groups and their settings, and each per-parameter tensor's shape against its parameter.
    Shapes are checked before anything is loaded or read from the tensors."""
    saved_groups, groups = state["param_groups"], opt.param_groups
    if len(saved_groups) != len(groups):
        return f"has {len(saved_groups)} parameter groups where the model's optimiser has {len(groups)}"
    params = {}
    for g, sg in zip(groups, saved_groups):
        if len(sg["params"]) != len(g["params"]):
            return f"covers {len(sg['params'])} parameters where the model has {len(g['params'])}"
        params.update(zip(sg["params"], g["params"]))
        for key, fresh in g.items():
            if key in ("params", "param_names", "lr", "initial_lr") or key not in sg:
                continue  # the rate is the run's; a setting an older torch did not save is filled in
            problem = _setting_problem(sg[key], fresh)
            if problem:
                return f"has its setting {key!r} = {sg[key]!r:.40}, {problem}"
    for pid, entry in state["state"].items():
        p = params.get(pid)
        if p is None:
            return f"has state for a parameter {pid} that its groups do not list"
        for key, v in entry.items():
            if key == "step":
                n = v.numel() if isinstance(v, torch.Tensor) else 1
                if n != 1 or not float(v) >= 0:
                    return f"has a step count of {v!r:.40} for parameter {pid}"
            elif isinstance(v, torch.Tensor) and v.dim() and tuple(v.shape) != tuple(p.shape):
                return f"has {key!r} of shape {tuple(v.shape)} for a parameter of shape {tuple(p.shape)}"
            elif isinstance(v, torch.Tensor) and not v.dim() and p.dim():
                return f"has a single number as {key!r} for a parameter of shape {tuple(p.shape)}"
    return None


def optimizer_state_usable(state: dict) -> bool:
    """False when a saved optimiser state (that fits its model) holds NaN or infinity, or a
    negative second moment: what a diverged step leaves, and would diverge again."""
    for entry in state.get("state", {}).values():
        for key, v in entry.items():
            if isinstance(v, torch.Tensor):
                if v.is_floating_point() and not bool(torch.isfinite(v).all()):
                    return False
                if key.endswith("_sq") and bool((v < 0).any()):
                    return False
            elif isinstance(v, float) and not math.isfinite(v):
                return False
    return True


def _own_tensors(obj):
    """A copy whose tensors each own contiguous memory (a saved state may alias or broadcast one
    storage, which in-place optimiser updates must not write through)."""
    if isinstance(obj, torch.Tensor):
        return obj.clone(memory_format=torch.contiguous_format)
    if isinstance(obj, dict):
        return {k: _own_tensors(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_own_tensors(v) for v in obj]
    return obj


def _epochs(x: float) -> str:
    x = float(x)
    text = f"{int(x)}" if x.is_integer() else f"{x:.2f}"
    return f"{text} epoch{'' if x == 1 else 's'}"

"""Training one run on several processes, as started by `torchrun` (torch.distributed.run).

torchrun starts one process per rank and tells each who it is through the environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); `from_environment` reads that,
joins the process group (gloo on the CPU, NCCL on CUDA with the device cuda:LOCAL_RANK) and
`Processes.close` leaves it. Without those variables it is one process and nothing changes.

What makes W processes train exactly what one process would:
- `--batch-size` is the global batch: every step, each rank takes an equal slice of the same
  batch of one shared permutation (`training.BatchSampler`), so the batch size, the steps per
  epoch and the optimiser's view do not depend on the world size.
- The step's random draws (`torch.randn_like` / `torch.rand_like` of per-image tensors: the
  reparameterisation noise, a GAN's prior samples) are drawn for the whole global batch on every
  rank, which keeps its own rows (`RankSync.step`). Every rank's generator therefore stays in
  the same state as a single process's, so the state rank 0 saves fits any world size.
- Gradients are averaged before any optimiser steps: by DistributedDataParallel for kinds with
  one optimiser (one forward, one backward), and for kinds with several (a GAN backpropagates
  each objective into its own network: several backward passes per forward, which DDP's reducer
  cannot follow) by one all-reduce per optimiser just before it steps (`wrap_for_training`).
  A decision a kind takes from the batch's losses (a GAN's gating) uses `global_mean`, so every
  rank takes the decision one process would.
- Once per step the ranks agree (`RankSync.agree`, one small all-reduce) on whether any rank was
  asked to stop (Ctrl+C) or saw a non-finite loss, so all stop at the same step; only rank 0
  writes files.
"""
from __future__ import annotations

import contextlib
import datetime
import os
from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .device import resolve_device
from .errors import ConfigError

ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
MAX_WORLD = 65_536
# How long a rank waits for the others (joining, or at a collective) before giving up.
TIMEOUT = datetime.timedelta(minutes=30)


@dataclass
class Processes:
    """This process's place among those training one run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: Optional[str] = None  # None: a single process, no process group

    @property
    def main(self) -> bool:
        """Rank 0: the one that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def others_wait(self) -> None:
        """Ranks other than 0 wait here until rank 0 calls `release_others` (e.g. rank 0 opens
        the data set first, building any cache; the others then only read it)."""
        if self.distributed and not self.main:
            torch.distributed.barrier()

    def release_others(self) -> None:
        if self.distributed and self.main:
            torch.distributed.barrier()

    def sync(self) -> Optional["RankSync"]:
        return RankSync(self) if self.distributed else None

    def close(self) -> None:
        """Leave the process group (every rank, at the end, whatever happened)."""
        if self.backend is not None and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
            self.backend = None


def _env_int(name: str, lo: int, hi: int) -> Optional[int]:
    text = os.environ.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"the environment variable {name}={text[:40]!r} is not a whole number "
                          f"(torchrun sets it; unset it to train in one process)") from None
    if not lo <= value <= hi:
        raise ConfigError(f"the environment variable {name}={value} is outside {lo}..{hi}")
    return value


def from_environment(device_name: str = "auto", threads: int = 0) -> Processes:
    """Join the process group torchrun describes in the environment, or stay one process.

    On the CPU each rank uses one thread unless OMP_NUM_THREADS or `threads` says otherwise
    (W ranks on W cores must not each start W threads)."""
    world = _env_int("WORLD_SIZE", 1, MAX_WORLD)
    if world is None or world == 1:
        return Processes(device=resolve_device(device_name))
    rank = _env_int("RANK", 0, world - 1)
    local_rank = _env_int("LOCAL_RANK", 0, world - 1)
    if rank is None or local_rank is None:
        raise ConfigError("WORLD_SIZE is set but RANK or LOCAL_RANK is not: start several processes with "
                          "`torchrun --nproc_per_node N -m vaestudio train ...`")
    if not torch.distributed.is_available():
        raise ConfigError("this torch was built without torch.distributed; train in one process")
    device = resolve_device(device_name)
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise ConfigError(f"process {rank} has LOCAL_RANK {local_rank}, but this machine has {count} CUDA "
                              f"GPU{'s' if count != 1 else ''}: start at most {count} processes per machine "
                              f"(--nproc_per_node), or pass --device cpu")
        torch.cuda.set_device(local_rank)
        device, backend = torch.device("cuda", local_rank), "nccl"
    elif device.type == "cpu":
        backend = "gloo"
        if not threads and not os.environ.get("OMP_NUM_THREADS"):
            torch.set_num_threads(1)
    else:
        raise ConfigError(f"training on several processes works on the CPU (gloo) and on CUDA GPUs (NCCL), "
                          f"not on {device.type}: pass --device cpu or --device cuda")
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if not os.environ.get(name):
            raise ConfigError(f"WORLD_SIZE is set but {name} is not: start the processes with torchrun")
    import inspect
    bind = device.type == "cuda" and "device_id" in inspect.signature(torch.distributed.init_process_group).parameters
    torch.distributed.init_process_group(backend, rank=rank, world_size=world, timeout=TIMEOUT,
                                         **({"device_id": device} if bind else {}))
    return Processes(rank, world, local_rank, device, backend)


# -- what a training step needs -------------------------------------------------------------

_active: Optional["RankSync"] = None  # the RankSync of the step in progress, if any


def global_mean(*values: torch.Tensor) -> list[float]:
    """The mean over all ranks of each scalar (each rank's value for its equal share of the
    global batch), inside a distributed training step; the values themselves otherwise.
    For decisions a kind takes from a batch's losses, so every rank takes the same one."""
    sync = _active
    if sync is None:
        return [float(v) for v in values]
    buf = torch.stack([torch.as_tensor(v, dtype=torch.float64).reshape(()).to(sync.device) for v in values])
    torch.distributed.all_reduce(buf)
    return (buf / sync.world_size).tolist()


class _GlobalBatchNoise(TorchFunctionMode):
    """`torch.randn_like(t)` / `torch.rand_like(t)` of a tensor with this rank's `rows` rows draws
    for the global batch (world_size x rows) and keeps this rank's rows: every rank draws what one
    process would for the whole batch, and every rank's generator advances alike."""

    def __init__(self, rank: int, world_size: int, rows: int):
        super().__init__()
        self.rank, self.world_size, self.rows = rank, world_size, rows

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if (func is torch.randn_like or func is torch.rand_like) and args and isinstance(args[0], torch.Tensor) \
                and args[0].dim() and args[0].shape[0] == self.rows and set(kwargs) <= {"dtype", "device"}:
            t = args[0]
            draw = torch.randn if func is torch.randn_like else torch.rand
            whole = draw((self.world_size * self.rows, *t.shape[1:]), dtype=kwargs.get("dtype") or t.dtype,
                         device=kwargs.get("device") or t.device)
            return whole[self.rank * self.rows:(self.rank + 1) * self.rows]
        return func(*args, **kwargs)


class RankSync:
    """The collectives the trainer needs, for one process of several."""

    def __init__(self, procs: Processes):
        self.rank, self.world_size, self.device = procs.rank, procs.world_size, procs.device

    @contextlib.contextmanager
    def step(self, rows: int):
        """Around one training step on this rank's `rows` images: global-batch noise, and
        `global_mean` for the kind's decisions."""
        global _active
        previous, _active = _active, self
        try:
            with _GlobalBatchNoise(self.rank, self.world_size, rows):
                yield
        finally:
            _active = previous

    def agree(self, stop: bool, sums: torch.Tensor) -> tuple[bool, bool]:
        """(whether any rank was asked to stop, whether any rank's running loss sums are not finite)."""
        flags = torch.stack([torch.tensor(float(stop), device=sums.device),
                             (~torch.isfinite(sums).all()).float()]).to(self.device)
        torch.distributed.all_reduce(flags, op=torch.distributed.ReduceOp.MAX)
        stop_any, bad_any = flags.tolist()
        return bool(stop_any), bool(bad_any)

    def total(self, sums: torch.Tensor, seen: int) -> tuple[torch.Tensor, int]:
        """The epoch's loss sums and image count over all ranks."""
        buf = torch.cat([sums.detach().double().reshape(-1), torch.tensor([float(seen)], dtype=torch.float64,
                                                                            device=sums.device)]).to(self.device)
        torch.distributed.all_reduce(buf)
        return buf[:-1].to(sums.dtype).to(sums.device), int(round(float(buf[-1])))


def _broadcast_state(model: nn.Module) -> None:
    """Rank 0's weights and buffers on every rank (they start equal from the seed; this makes sure)."""
    for t in model.state_dict().values():
        if isinstance(t, torch.Tensor):
            torch.distributed.broadcast(t, 0)


def _averaging_hook(world_size: int):
    def hook(optimizer, args, kwargs):
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        flat.div_(world_size)
        i = 0
        for g in grads:
            g.copy_(flat[i:i + g.numel()].view_as(g))
            i += g.numel()
    return hook


class Averaging:
    """What `wrap_for_training` set up: `module` is what the step calls; `close()` undoes it."""

    def __init__(self, module: nn.Module, handles=(), how: str = ""):
        self.module, self._handles, self.how = module, list(handles), how

    def close(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()


def wrap_for_training(model: nn.Module, optimizers: dict, procs: Processes, precision: str = "fp32") -> Averaging:
    """Gradient averaging for `model` (call after the kind's `prepare`, which may replace parts
    of the model). One optimiser: DistributedDataParallel around the model. Several (each
    objective backpropagated into its own network, possibly skipped in a step, all before any
    step): each optimiser averages its gradients with one all-reduce just before it steps."""
    if not procs.distributed:
        return Averaging(model)
    if len(optimizers) == 1:
        from torch.nn.parallel import DistributedDataParallel
        ids = [procs.local_rank] if procs.device.type == "cuda" else None
        # Buffers are synced once at the start; afterwards they follow from the weights, equal on
        # every rank, so none is broadcast per step.
        import inspect
        quiet = ({"forward_sync_buffers": False} if "forward_sync_buffers" in
                 inspect.signature(DistributedDataParallel.__init__).parameters else {"broadcast_buffers": False})
        ddp = DistributedDataParallel(model, device_ids=ids, **quiet)
        return Averaging(ddp, how="DistributedDataParallel")
    if precision == "fp16":
        # fp16's gradient scaler looks for overflow in each rank's own gradients before the
        # optimiser (and so this averaging) runs: ranks could disagree on skipping a step.
        raise ConfigError("a kind with several optimisers trains on several processes in fp32 or bf16, not fp16 "
                          "(pass --precision bf16 or fp32)")
    _broadcast_state(model)
    handles = [opt.register_step_pre_hook(_averaging_hook(procs.world_size)) for opt in optimizers.values()]
    return Averaging(model, handles, how=f"gradients all-reduced before each of {len(optimizers)} optimisers steps")

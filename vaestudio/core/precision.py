"""The arithmetic of a training step: fp32, or autocast to bfloat16 / float16.

Opt-in (`TrainConfig.precision`), because it changes the numbers: fp32 runs exactly the code it
always did (no autocast, no scaler), so CPU runs stay bit-reproducible. bf16 and fp16 run each
step's forward under `torch.autocast`; weights and optimiser states stay fp32. fp16 adds a
gradient scaler (its small range underflows small gradients otherwise); with the fused Adam the
scaler passes its scale and its inf flag to the optimiser's kernel, so it adds no host sync.
Backward runs with autocast off: the ops autograd replays keep the dtypes the forward chose.

On CUDA a conv net under bf16/fp16 also switches to `channels_last`, the layout tensor cores'
convolution kernels read without a transpose.
"""
from __future__ import annotations

import contextlib

import torch

from .errors import ConfigError

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    def __init__(self, name: str = "fp32", device: torch.device | str = "cpu"):
        if name not in DTYPES:
            raise ConfigError(f"precision must be one of {', '.join(DTYPES)}, not {name!r:.40}")
        self.name, self.device = name, torch.device(device)
        self.dtype = DTYPES[name]
        if self.dtype is not None and not torch.amp.is_autocast_available(self.device.type):
            raise ConfigError(f"precision {name} needs autocast, which torch {torch.__version__} lacks on "
                              f"{self.device.type}; train with --precision fp32")
        self.scaler = torch.amp.GradScaler(self.device.type) if name == "fp16" else None
        # channels_last pays on CUDA tensor cores; elsewhere it only costs transposes
        self.channels_last = self.dtype is not None and self.device.type == "cuda"

    @property
    def mixed(self) -> bool:
        return self.dtype is not None

    def autocast(self):
        """The context a forward runs in (a no-op for fp32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor, **kw) -> None:
        """`loss.backward(**kw)`, scaled under fp16, with autocast off."""
        if self.dtype is None:
            loss.backward(**kw)
            return
        with torch.autocast(self.device.type, enabled=False):
            (self.scaler.scale(loss) if self.scaler is not None else loss).backward(**kw)

    def step(self, opt: torch.optim.Optimizer) -> None:
        """`opt.step()`; under fp16 the scaler's (it skips a step whose gradients overflowed)."""
        if self.scaler is not None:
            self.scaler.step(opt)
        else:
            opt.step()

    def update(self) -> None:
        """Once per training step, after every optimiser stepped: adjust the fp16 scale."""
        if self.scaler is not None:
            self.scaler.update()

    def prepare_model(self, model: torch.nn.Module, arch: str) -> None:
        if self.channels_last and arch == "conv":
            model.to(memory_format=torch.channels_last)

    def prepare_batch(self, x: torch.Tensor, arch: str) -> torch.Tensor:
        if self.channels_last and arch == "conv" and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x


def upcast_under_autocast(*tensors: torch.Tensor):
    """(autocast was on, the tensors as float32): what a hand-written autograd function takes so
    it computes in fp32 under autocast, as autocast runs torch's own losses."""
    t0 = tensors[0]
    on = t0.is_floating_point() and torch.is_autocast_enabled(t0.device.type)
    if not on:
        return False, tensors
    return True, tuple(t.float() for t in tensors)

"""The training step as one CUDA graph: for small nets on a GPU, which the host cannot keep busy.

A 784-400-20 VAE step launches about 60 kernels for 0.22 ms of GPU work in a step of about
2.4 ms on an H200; replaying the step captured as one graph trained 9.5x as many images per
second, a 64x64 conv VAE 3.4x, and a 128x128 one at batch 256 (busy GPU) 1.0x (docs/gpu.md).

Opt-in (`vaestudio train --cuda-graph`): the captured step uses Adam's `capturable` kernel,
whose arithmetic differs from the default one in the last bits. Only for kinds that declare the
`cuda_graph` capability (the base `train_step`: forward, backward, one optimiser), fp32, one
process. What the graph fixes, it is given as device tensors refilled before each replay: the
batch (copied into one input buffer) and the forward's `step_args` (the KL weight). The first
`WARMUP_STEPS` steps run eagerly (cuBLAS handles, Adam's state), then the step is captured;
a batch of another size (an epoch's short last one) runs eagerly, and a new learning rate
captures the step again.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import torch

from .kinds import CUDA_GRAPH, StepContext

WARMUP_STEPS = 3


def why_not(kind, device: torch.device, precision: str, distributed: bool) -> Optional[str]:
    """Why the step cannot be captured here, as the end of a sentence that starts with the
    option's name ("--cuda-graph ..." in the CLI); None: it can."""
    if device.type != "cuda":
        return f"needs a CUDA GPU, and this run trains on the {device.type}"
    if not kind.has(CUDA_GRAPH):
        return f"does not support the {kind.title} kind (only kinds with one plain training step)"
    if precision != "fp32":
        return f"trains in fp32 only, not {precision}"
    if distributed:
        return "trains in one process only (not under torchrun)"
    return None


class GraphedStep:
    def __init__(self, kind, module: torch.nn.Module, optimizers: dict, config, batch: int):
        self.kind, self.module, self.optimizers, self.config = kind, module, optimizers, config
        self.batch = int(batch)
        self.graph: Optional[torch.cuda.CUDAGraph] = None
        self.key = None
        self.captures = 0  # how many times the step was captured (a new learning rate captures again)
        self.replays = 0
        self._eager = 0
        self._x: Optional[torch.Tensor] = None
        self._args: dict = {}
        self._out: dict = {}
        self.set_capturable(True)

    def set_capturable(self, on: bool) -> None:
        """Adam's capturable kernel keeps its step count on the device, as a graph needs; a saved
        state is read back with it off (`Trainer._load_optimizer`)."""
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["capturable"] = on

    def step(self, x: torch.Tensor, ctx: StepContext) -> dict:
        args = self.kind.step_args(self.config, ctx)  # the KL weight now (and ctx.extras)
        if self._eager < WARMUP_STEPS or x.shape[0] != self.batch:
            self._eager += x.shape[0] == self.batch
            out = self.kind.train_step(self.module, x, self.optimizers, dataclasses.replace(ctx, step_args=args),
                                       self.config)
            # detached: an autograd graph kept alive would hold its parameters' gradient
            # accumulators on this stream while the next capture runs on another
            return {k: v.detach() for k, v in out.items()}
        key = (tuple(x.shape), x.dtype, tuple(float(g["lr"]) for o in self.optimizers.values()
                                            for g in o.param_groups), tuple(sorted(args)))
        if key != self.key:
            self._capture(x, args, ctx)
            self.key = key
        self._x.copy_(x, non_blocking=True)
        for name, value in args.items():
            self._args[name].fill_(float(value))
        self.graph.replay()
        self.replays += 1
        return self._out

    def _capture(self, x: torch.Tensor, args: dict, ctx: StepContext) -> None:
        self.graph = None  # the old graph's memory back first
        torch.cuda.synchronize(x.device)
        self._x = x.clone()
        self._args = {name: torch.tensor(float(v), device=x.device) for name, v in args.items()}
        cctx = StepContext(ctx.epoch_progress, precision=ctx.precision, weight=1.0, step_args=self._args)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = self.kind.train_step(self.module, self._x, self.optimizers, cctx, self.config)
        self._out = {k: v.detach() for k, v in out.items()}
        self.graph = graph
        self.captures += 1

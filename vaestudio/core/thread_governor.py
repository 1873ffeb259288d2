"""Fewer CPU threads when other work needs the cores, more when it has gone.

torch's intra-op threads wait for each other at the end of every operation, so on a CPU that
another busy process (or the window's own drawing) shares, one descheduled thread stalls the
rest. Measured on a 2-core machine, a 784-400-20 VAE step at batch 128: 16,201 images/s with 2
threads on an idle machine, 3,199 with one busy process beside it, while 1 thread kept 11,816.

`ThreadGovernor` times the training steps at the current thread count and, now and then, a
short trial at the other count (all the threads torch started with, or one), and keeps the
faster. A trial that confirms the current count doubles the time to the next one (4 s up to
32 s), so an idle machine loses about 1% to trials. It is only used where the step's result
does not depend on the thread count (`same_result_on_any_thread_count`, checked bit for bit on a
copy of the model), so the weights stay those of a run on any fixed count: the promise that a
stopped and resumed run ends bit for bit where an uninterrupted one does still holds.
"""
from __future__ import annotations

import copy
import time
from typing import Callable

import torch

TRIAL_S = 1.0  # the length of a trial, and of the stretch of steps it is compared with
RUN_S = (4.0, 32.0)  # time on the chosen count before the next trial: first, and at most
GAIN = 1.1  # a trial must be this much faster to switch


class ThreadGovernor:
    def __init__(self, threads: int, clock: Callable[[], float] = time.perf_counter,
                 set_threads: Callable[[int], None] = torch.set_num_threads):
        self.counts = (int(threads), 1)
        self.current = int(threads)
        self.clock, self.set_threads = clock, set_threads
        self.switches: list[tuple[int, int, float, float]] = []  # (from, to, rate before, trial rate)
        self._run_s = RUN_S[0]
        self._trial = False
        self._phase_s = 0.0  # step time spent in this phase
        self._chunk = [0, 0.0]  # images and step time of the current stretch of TRIAL_S
        self._before = 0.0  # images/s of the last whole stretch before the trial
        self._t0 = 0.0

    @property
    def other(self) -> int:
        return self.counts[1] if self.current == self.counts[0] else self.counts[0]

    def before_step(self) -> None:
        self._t0 = self.clock()

    def after_step(self, images: int) -> None:
        dt = max(self.clock() - self._t0, 0.0)
        self._phase_s += dt
        self._chunk[0] += images
        self._chunk[1] += dt
        if self._chunk[1] < TRIAL_S:
            return
        rate = self._chunk[0] / self._chunk[1]
        self._chunk = [0, 0.0]
        if self._trial:
            self._end_trial(rate)
        elif self._phase_s >= self._run_s:
            self._before = rate
            self._trial, self._phase_s = True, 0.0
            self.set_threads(self.other)

    def _end_trial(self, rate: float) -> None:
        trial = self.other  # the count the trial ran on
        self._trial, self._phase_s = False, 0.0
        if rate > GAIN * self._before:
            self.switches.append((self.current, trial, self._before, rate))
            self.current = trial
            self._run_s = RUN_S[0]
        else:
            self.set_threads(self.current)
            self._run_s = min(2 * self._run_s, RUN_S[1])


def same_result_on_any_thread_count(step: Callable[[torch.nn.Module, dict, torch.Tensor], None],
                                    module: torch.nn.Module, make_optimizers: Callable[[torch.nn.Module], dict],
                                    batches: list, threads: int) -> bool:
    """Whether training steps on `batches` (`step(module, optimizers, x)`, each batch twice)
    give bit-identical weights and gradients on one thread and on `threads`: run on two copies of
    the module, the random draws replayed, torch's random state and thread count left as they
    were. It depends on the shapes: with a 3-D latent (6 encoder outputs) the encoder head's
    weight gradient sums the batch in another order on 2 threads, with 2 or 20 it does not; so
    `batches` holds one of each size an epoch has. (Weights alone after one step would not tell:
    Adam's first step moves each weight by the rate times the sign of its gradient.)"""
    rng = torch.get_rng_state()
    before = torch.get_num_threads()
    weights = []
    try:
        for n in (1, threads):
            torch.set_num_threads(n)
            twin = copy.deepcopy(module)
            torch.set_rng_state(rng)
            optimizers = make_optimizers(twin)
            for x in batches:
                for _ in range(2):
                    step(twin, optimizers, x)
            weights.append([t.detach().clone() for p in twin.parameters()
                            for t in (p, p.grad) if t is not None])
    finally:
        torch.set_rng_state(rng)
        torch.set_num_threads(before)
    return all(torch.equal(a, b) for a, b in zip(*weights))

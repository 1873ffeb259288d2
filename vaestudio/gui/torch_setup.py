"""Torch, set up for a GUI process: imported after the window shows. The window's own torch
work uses one thread; training uses every core, as the CLI does, in a thread of lower priority.

`TORCH_THREADS` (1) is the process's count for the GUI thread and the explorer's jobs; the
training thread sets `TRAIN_THREADS` (0: torch's own choice, one per core) when it starts and
puts it back when it ends, and runs `TRAIN_NICE` steps below the GUI. Keeping the GUI's own
work on one thread matters for speed: with two threads, a thread that starts torch's OpenMP
helpers while another thread's helpers exist trains about half as fast (measured: the core
Trainer in a second Python thread did 5,300 images/s against 9,000-12,800 in the main thread).

Measured with benchmarks/window_vs_cli.py (784-500-250-2 digits preset, batch 100) on a 2-core
machine shared with other processes: at load ~1 the CLI did 11,700-12,500 images/s and the
window 0.75-0.84x that (before: one thread, 0.50-0.58x); a 10 ms GUI timer's p99 lateness while
training was 28-35 ms (before: 44 ms; two threads at normal priority: 66-69 ms; before Start:
under 1 ms). At load 4-7 the CLI on two threads collapses to 100-1,200 images/s (its helper
threads spin-wait while other processes hold the cores) and the window was far faster.

Building the first Adam optimizer imports torch._dynamo, over a second of Python imports that
would stall the first training start; `prepare_torch` does that early, off the GUI thread.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Optional

TORCH_THREADS = 1  # torch threads for the window's own work (GUI thread, explorer jobs)
TRAIN_THREADS = 0  # torch threads while a model trains; 0: torch's own choice (one per core), as the CLI
TRAIN_NICE = 10  # nice steps the training thread (and the torch helpers it starts) run below the GUI
_lock = threading.Lock()
_info: dict = {}
_torch_default_threads = [0]  # torch's own thread count, read before `prepare_torch` changes it


def prepare_torch() -> dict:
    """Import and configure torch once (safe from any thread); returns {'cuda': bool,
    'device': what "auto" trains on}."""
    with _lock:
        if _info:
            return dict(_info)
        import torch

        _torch_default_threads[0] = torch.get_num_threads()
        if TORCH_THREADS > 0:
            torch.set_num_threads(TORCH_THREADS)
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])  # pulls in torch._dynamo now
        from ..core.device import describe_device, resolve_device

        _info["cuda"] = bool(torch.cuda.is_available())
        _info["device"] = describe_device(resolve_device("auto"))
        return dict(_info)


def thread_nice() -> Optional[int]:
    """The calling thread's own nice value on Linux (per thread there), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except OSError:
        return None


def training_threads() -> int:
    """How many torch threads training uses: `TRAIN_THREADS`, else torch's own choice."""
    return TRAIN_THREADS if TRAIN_THREADS > 0 else max(_torch_default_threads[0] or os.cpu_count() or 1, 1)


def enter_training_thread() -> Optional[int]:
    """Called first thing in the training worker's thread, before torch computes there: sets
    torch's thread count for training (`training_threads`) and lowers that thread's priority by
    `TRAIN_NICE` steps on Linux; returns its nice value (None elsewhere).

    The window's own torch work stays on one thread (`TORCH_THREADS`), so the training thread is
    the only one that starts OpenMP helpers: measured with two threads, a thread that starts
    them while another thread's helpers exist trains about half as fast (libgomp then sleeps
    between parallel steps instead of spinning). `leave_training_thread` puts the count back.

    Linux keeps a nice value per thread (`setpriority` on the thread's own id), and threads
    inherit it from the thread that creates them: torch's OpenMP helpers are created by the
    first parallel operation in this thread, so they run at the same lower priority. Only this
    thread's id is touched (on other systems that id is not a process id, so nothing is done).
    A process may always lower its own priority; raising it back would need privileges, so
    this is only ever done in a thread that ends with the training.
    """
    import torch

    torch.set_num_threads(training_threads())
    nice = thread_nice()
    if nice is None or TRAIN_NICE <= 0:
        return nice
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(nice + TRAIN_NICE, 19))
    except OSError:
        pass
    return thread_nice()


def leave_training_thread() -> None:
    """Called last in the training thread: the window's own torch work goes back to
    `TORCH_THREADS` (threads started from now on take that count)."""
    import torch

    if TORCH_THREADS > 0:
        torch.set_num_threads(TORCH_THREADS)

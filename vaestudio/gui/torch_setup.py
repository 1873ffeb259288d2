"""Torch, set up for a GUI process: imported after the window shows, one compute thread.

One torch thread keeps the GUI smooth on small machines (measured on a 2-core machine:
a 10 ms timer fires p95 0.35-0.5 ms late with one thread, 1.2-1.9 ms with two). Building the first Adam optimizer
imports torch._dynamo, over a second of Python imports that would stall the first training
start; `prepare_torch` does that early, off the GUI thread.
"""
from __future__ import annotations

import threading

TORCH_THREADS = 1
_lock = threading.Lock()
_info: dict = {}


def prepare_torch() -> dict:
    """Import and configure torch once (safe from any thread); returns {'cuda': bool,
    'device': what "auto" trains on}."""
    with _lock:
        if _info:
            return dict(_info)
        import torch

        torch.set_num_threads(TORCH_THREADS)
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])  # pulls in torch._dynamo now
        from ..core.device import describe_device, resolve_device

        _info["cuda"] = bool(torch.cuda.is_available())
        _info["device"] = describe_device(resolve_device("auto"))
        return dict(_info)

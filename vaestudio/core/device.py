"""Pick the compute device: CUDA when present, then Apple's MPS, else the CPU."""
from __future__ import annotations

import torch

from .errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but torch sees no CUDA GPU here")
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ConfigError("device 'mps' was asked for, but this machine has no Apple GPU")
    if name not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")
    return torch.device(name)


def gpu_label(index: int = 0) -> str:
    """A CUDA GPU as people name it: "GPU 0: NVIDIA H100 80GB HBM3 (79 GB)" (memory in GiB)."""
    props = torch.cuda.get_device_properties(index)
    return f"GPU {index}: {props.name} ({props.total_memory / 2**30:.0f} GB)"


def cuda_labels() -> list[str]:
    """Every CUDA GPU torch sees, labelled; empty without CUDA (or when it cannot be asked)."""
    try:
        if not torch.cuda.is_available():
            return []
        return [gpu_label(i) for i in range(torch.cuda.device_count())]
    except (RuntimeError, AssertionError):  # a broken driver: as if there were no GPU
        return []


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device.index if device.index is not None
                                                 else torch.cuda.current_device())
        return f"cuda ({props.name}, {props.total_memory / 2**30:.0f} GB)"
    return device.type

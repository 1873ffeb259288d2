"""uint8 images (numpy arrays or memory maps) into the float tensors models take."""
from __future__ import annotations

import numpy as np
import torch


def images_to_float(batch_u8: torch.Tensor) -> torch.Tensor:
    return batch_u8.to(torch.float32).div_(255.0)


def host_tensor(images: np.ndarray) -> torch.Tensor:
    """A CPU tensor over a numpy slice; read-only memmaps (cached data sets) are copied first."""
    arr = np.ascontiguousarray(images)
    if not arr.flags.writeable:
        arr = arr.copy()
    return torch.from_numpy(arr)


def to_device(t: torch.Tensor, device) -> torch.Tensor:
    """A host tensor onto `device` without blocking the host: on CUDA through page-locked memory
    (a copy from ordinary memory is synchronous whatever `non_blocking` says)."""
    device = torch.device(device)
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def float_batch(images: np.ndarray, device) -> torch.Tensor:
    """uint8 images (a numpy slice) -> float32 in [0, 1] on `device`; float input is passed through."""
    t = to_device(host_tensor(images), device)
    return images_to_float(t) if t.dtype == torch.uint8 else t.float()

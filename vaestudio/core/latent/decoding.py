"""Decode latent vectors with whatever decoder is at hand, and draw codes from the prior.

The window hands over a frozen CPU copy of the model (`cpu_copy()`, safe in worker threads);
the CLI hands over the run's model. `decode_batch` takes either and always returns numpy.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from .encoding import model_device

DEFAULT_DECODE_BATCH = 1024


def decode_batch(decoder_like, z, batch_size: int = DEFAULT_DECODE_BATCH) -> np.ndarray:
    """(N, D) or (D,) codes -> float32 images (N, C, H, W) (or (C, H, W)) in [0, 1].

    `decoder_like` is a model, or anything with `decode(tensor)`.
    """
    z = np.asarray(z, dtype=np.float32)
    single = z.ndim == 1
    z = np.atleast_2d(z)
    run = decoder_like.decode
    device = model_device(decoder_like) if isinstance(decoder_like, torch.nn.Module) else torch.device("cpu")
    parts = []
    with torch.inference_mode():
        for lo in range(0, len(z) or 1, batch_size):  # an empty z still yields (0, C, H, W)
            out = run(torch.from_numpy(z[lo:lo + batch_size]).to(device))
            parts.append(out.float().cpu().numpy())
    images = np.concatenate(parts)
    return images[0] if single else images


def sample_prior(n: int, latent_dim: int, seed: Optional[int] = None) -> np.ndarray:
    """n draws from the prior N(0, I), float32 (n, latent_dim)."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)

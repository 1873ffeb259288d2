"""Loss numbers people can compare: bits per dimension for a Gaussian pixel likelihood.

A Bernoulli likelihood gives a probability, so its -log is >= 0; a Gaussian gives a density of
continuous pixel values, whose -log is negative wherever the density exceeds 1 (sigma 0.1 already
peaks at about 4). The two are not comparable. Discretising the density to the 256 grey levels
the images really have gives a probability again: pixels are stored as u / 255, so one grey level
spans 1/255 in [0, 1] units and P(u) ~= p(u / 255) / 255 per pixel, i.e.
-log P = -log p + D * ln 255 nats per image. Divided by D ln 2 that is bits per dimension (8 is
what a uniform guess over the 256 levels costs). No torch here: the window imports it at start.
"""
from __future__ import annotations

import math
from typing import Optional

# One grey level of a uint8 pixel in the [0, 1] units the models see (images_to_float divides by 255).
GREY_LEVEL_WIDTH = 1.0 / 255.0

NEGATIVE_NATS_NOTE = (
    "With the Gaussian likelihood the losses are -log of a density of continuous pixel values: "
    "a density can exceed 1, so these numbers can be negative (lower is still better). They are "
    "not comparable with a Bernoulli run's nats; bits per dimension on the 0-255 grey levels are.")


def bits_per_dim(nats_per_image: float, dims: int, bin_width: float = GREY_LEVEL_WIDTH) -> float:
    """-log2 of the probability a density puts on each pixel's grey-level bin, per dimension.

    `nats_per_image` is -log p(x) summed over `dims` pixel values (the density in [0, 1] units);
    each value's bin is `bin_width` wide, so P(bin) ~= p(x) * bin_width while the density is
    smooth on that scale.
    """
    if dims <= 0:
        raise ValueError("dims must be > 0")
    return (nats_per_image / dims - math.log(bin_width)) / math.log(2.0)


def likelihood_bits_per_dim(model_config, record: dict) -> Optional[tuple[str, float]]:
    """(what, bits/dim) for an epoch record of a Gaussian-likelihood run, else None.

    The figure is the -ELBO (reconstruction + KL, an upper bound on -log p(x)) where the kind has
    a KL, else the reconstruction; validation when the record has it, else training. The
    training objective itself may hold feature or GAN terms, so it is not converted.
    """
    if getattr(model_config, "likelihood", None) != "gaussian":
        return None
    split = "val" if record.get("val_recon") is not None else "train"
    recon = record.get(f"{split}_recon")
    if recon is None:
        return None
    kl = record.get(f"{split}_kl")
    what = "−ELBO" if kl is not None else "reconstruction"
    nats = recon + (kl or 0.0)
    dims = math.prod(int(s) for s in model_config.image_shape)
    label = f"{'validation' if split == 'val' else 'training'} {what}"
    return label, bits_per_dim(nats, dims)

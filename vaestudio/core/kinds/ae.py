"""`ae`: the plain autoencoder. z = E(x); the loss is the reconstruction term alone, so there is
no prior to sample from and no KL to plot."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..config import ModelConfig
from ..models import AutoEncoder
from .base import CUDA_GRAPH, LossTerm, ModelKind

RECON = LossTerm("recon", "Reconstruction", help="-log p(x | z) with z = E(x)")


@dataclass
class AEConfig(ModelConfig):
    kind: ClassVar[str] = "ae"


class AEKind(ModelKind):
    name = "ae"
    title = "Autoencoder"
    description = "a plain autoencoder: a deterministic code, trained to reconstruct"
    config_class = AEConfig
    loss_terms = (LossTerm("loss", "Loss (reconstruction)", plotted=False), RECON)
    eval_terms = (RECON,)
    capabilities = frozenset({CUDA_GRAPH})

    def build(self, config: AEConfig) -> AutoEncoder:
        return AutoEncoder(config)


KIND = AEKind()

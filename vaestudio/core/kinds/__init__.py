"""The registry of model kinds: each module here defines one kind; the list below registers it.

`get_kind(name)`, `kind_names()`, `make_model_config(kind=..., **settings)`,
`config_from_dict(d)` and `build_model(config)` are what the rest of VAE Studio uses; nothing
outside this package names a kind's classes.
"""
from __future__ import annotations

import importlib

from ..config import ModelConfig
from ..errors import ConfigError
from .base import CAPABILITIES, CUDA_GRAPH, IW_BOUND, POSTERIOR, PRIOR, LossTerm, ModelKind, StepContext

# One line per kind: the module under core/kinds/ that defines KIND.
_KIND_MODULES = ("ae", "vae", "dfc_vae", "vae_gan")

_KINDS: dict[str, ModelKind] = {}
for _module in _KIND_MODULES:
    _kind = importlib.import_module(f"{__name__}.{_module}").KIND
    _KINDS[_kind.name] = _kind

DEFAULT_KIND = "vae"


def kind_names() -> tuple[str, ...]:
    return tuple(_KINDS)


def get_kind(name: str) -> ModelKind:
    try:
        return _KINDS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"model kind must be one of {', '.join(_KINDS)}, not {name!r}") from None


def make_model_config(kind: str = DEFAULT_KIND, **settings) -> ModelConfig:
    """The config dataclass of `kind` with `settings` (a clear error for settings it lacks)."""
    return config_from_dict({"kind": kind, **settings})


def config_from_dict(d: dict) -> ModelConfig:
    if not isinstance(d, dict):
        raise ConfigError(f"model settings must be a mapping, not {type(d).__name__}")
    kind = get_kind(d.get("kind", DEFAULT_KIND))
    try:
        return kind.config_class.from_dict(d)
    except TypeError as e:
        raise ConfigError(f"invalid {kind.name} settings: {e}") from None


def kind_of(config: ModelConfig) -> ModelKind:
    return get_kind(config.kind)


def build_model(config: ModelConfig):
    return kind_of(config).build(config)


__all__ = ["CAPABILITIES", "CUDA_GRAPH", "IW_BOUND", "POSTERIOR", "PRIOR", "LossTerm", "ModelKind", "StepContext",
           "DEFAULT_KIND", "kind_names", "get_kind", "make_model_config", "config_from_dict", "kind_of",
           "build_model"]

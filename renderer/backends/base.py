"""The backend interface: components configured by data, one ``__call__`` per frame.

A backend is built from a JSON-able config (``Backend.from_config(config)``; ``backend.config``
gives it back), owns its model weights, and turns one :class:`BackendRequest` into an RGB
frame. It knows nothing of bars or presets: the Renderer computes the conditioning, the
noise walk and the feedback image, and the backend only runs the model.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bridge.errors import InputError

if TYPE_CHECKING:
    import torch

    from renderer.conditioning import Conditioning
    from renderer.moment import Moment

#: Backend name -> "module:Class", imported on first use.
BACKENDS: dict[str, str] = {
    "embedded": "renderer.backends.embedded:EmbeddedBackend",
    "diffusers": "renderer.backends.diffusers:DiffusersBackend",
}


@dataclass(frozen=True)
class BackendRequest:
    """One frame to make.

    - ``conditioning``: prompts, targets and sources for the frame.
    - ``moment``: the musical moment (backends that read audio directly use its features).
    - ``latents``: the walked starting noise, float32 CPU tensor of ``latent_shape(width, height)``.
    - ``init_image``: previous frame for img2img feedback (HxWx3 float32 0..1) or ``None``.
    - ``strength``: img2img strength 0..1 (ignored without ``init_image``).
    - ``seed``: seed for any other randomness the backend needs.
    """

    conditioning: Conditioning
    moment: Moment
    latents: torch.Tensor
    init_image: np.ndarray | None
    strength: float
    seed: int
    width: int
    height: int


class Backend(ABC):
    """Base class: ``__init__`` takes JSON-able keyword config only and records it."""

    name: ClassVar[str] = ""
    #: Whether ``init_image`` is used (img2img feedback); otherwise the Renderer blends.
    supports_img2img: ClassVar[bool] = False

    def __init__(self, **config: Any) -> None:
        self._config = dict(config)

    @property
    def config(self) -> dict[str, Any]:
        """The JSON-able config this backend was built from (plus ``_class_name``)."""
        return {"_class_name": type(self).__name__, **self._config}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> Backend:
        """Rebuild a backend from :attr:`config` (``_``-prefixed keys ignored), with overrides."""
        kwargs = {k: v for k, v in config.items() if not k.startswith("_")}
        kwargs.update(overrides)
        return cls(**kwargs)

    @property
    @abstractmethod
    def device(self) -> str:
        """Where the model runs: ``"cpu"``, ``"cuda"``, ``"mps"``."""

    @abstractmethod
    def to(self, device: str) -> Backend:
        """Move the model to ``device`` (returns self)."""

    @abstractmethod
    def latent_shape(self, width: int, height: int) -> tuple[int, ...]:
        """Shape of the starting noise for a ``width`` x ``height`` frame, without batch."""

    @abstractmethod
    def __call__(self, request: BackendRequest) -> np.ndarray:
        """Run the model: an HxWx3 float32 frame in 0..1."""

    def describe(self) -> dict[str, Any]:
        """JSON-able identity of the model (for keyframe files)."""
        return self.config


def backend_class(name: str) -> type[Backend]:
    """The Backend class registered as ``name`` (imports its module now)."""
    if name not in BACKENDS:
        raise InputError("--backend", f"unknown backend {name!r} (available: {', '.join(BACKENDS)})")
    module_name, class_name = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def load_backend(name: str, **config: Any) -> Backend:
    """Build backend ``name`` from keyword config."""
    return backend_class(name)(**config)

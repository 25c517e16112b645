"""The backend interface: components configured by data, one ``__call__`` per frame.

A backend's settings are its config: a frozen dataclass (a :class:`BackendConfig` subclass) whose
fields are the keys of a preset's ``[backend]`` table. ``Backend(**settings)`` builds one,
``Backend.from_config(backend.config, **overrides)`` another from a config, and
``Backend.parse_config(table, where)`` validates a preset's table without loading anything.
A backend owns its model weights and turns one :class:`BackendRequest` into an RGB frame. It
knows nothing of bars or presets: the Renderer computes the conditioning, the noise walk and the
feedback image, and the backend only runs the model. Backends are found by name in
``renderer.backends.registry``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bridge.errors import InputError

if TYPE_CHECKING:
    import torch

    from renderer.conditioning import Conditioning
    from renderer.motion import Warp
    from renderer.moment import Moment

_KINDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _checked(key: str, value: Any, hint: Any) -> Any:
    """``value`` if it has the type ``hint`` (``str``, ``int``, ``float``, ``bool`` or a union of them
    with None), ints widened to float; InputError naming ``key`` otherwise."""
    kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
        else (hint,)
    for kind in kinds:
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
    expected = " or ".join(_KINDS.get(kind, getattr(kind, "__name__", str(kind))) for kind in kinds
                           if kind is not type(None))  # a preset leaves an optional key out instead
    raise InputError(key, f"must be {expected}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class BackendConfig:
    """Base of every backend's config: JSON-able fields typed ``str``, ``int``, ``float``, ``bool``
    (or ``... | None``), checked on construction; a subclass checks ranges in :meth:`check`,
    raising ``InputError(key, problem)``. ``device`` is chosen at run time (``--device``), never
    by a preset."""

    device: str = "cpu"

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = _checked(field.name, getattr(self, field.name), hints[field.name])
            object.__setattr__(self, field.name, value)
        self.check()

    def check(self) -> None:
        """Check ranges and choices (types are checked already)."""

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-able dict."""
        return dataclasses.asdict(self)


#: Config fields a preset may not set (they are the run's, not the look's).
RUN_TIME_KEYS = frozenset(field.name for field in dataclasses.fields(BackendConfig))


@dataclass(frozen=True)
class BackendRequest:
    """One frame to make.

    - ``conditioning``: prompts, targets and sources for the frame.
    - ``moment``: the musical moment (backends that read audio directly use its features).
    - ``latents``: the walked starting noise, float32 CPU tensor of ``latent_shape(width, height)``.
    - ``init_image``: previous frame for img2img feedback (HxWx3 float32 0..1) or ``None``.
    - ``strength``: img2img strength 0..1 (ignored without ``init_image``).
    - ``seed``: seed for any other randomness the backend needs.
    - ``warp``: the frame's motion (:class:`renderer.motion.Warp`): a backend applies it where it is
      cheapest (the embedded model to its predicted fields before drawing them); ``None`` or an
      identity warp: no motion.
    """

    conditioning: Conditioning
    moment: Moment
    latents: torch.Tensor
    init_image: np.ndarray | None
    strength: float
    seed: int
    width: int
    height: int
    warp: Warp | None = None


class Backend(ABC):
    """Base class: ``__init__`` takes the fields of :attr:`config_class` as keywords and keeps them,
    checked, as :attr:`config`; a subclass then loads its model from ``self.config``."""

    name: ClassVar[str] = ""
    #: The dataclass of this backend's settings (its preset ``[backend]`` keys, plus ``device``).
    config_class: ClassVar[type[BackendConfig]] = BackendConfig
    #: Whether ``init_image`` is used (img2img feedback); otherwise the Renderer blends.
    supports_img2img: ClassVar[bool] = False
    #: The shipped preset that shows this backend (``barlight bench --backend NAME`` times it); None: the
    #: shipped default preset.
    showcase_preset: ClassVar[str | None] = None

    def __init__(self, **settings: Any) -> None:
        self.config = self.config_class(**settings)

    @classmethod
    def from_config(cls, config: BackendConfig, **overrides: Any) -> Backend:
        """A backend built from ``config`` (e.g. another backend's :attr:`config`), ``overrides`` replacing fields."""
        return cls(**{**config.to_dict(), **overrides})

    @classmethod
    def parse_config(cls, table: Mapping[str, Any], where: str) -> BackendConfig:
        """Check a preset's ``[backend]`` table (without ``name``) and build the config; loads nothing.

        Every problem is one :class:`InputError` naming ``where`` (the preset file) and the key:
        unknown keys, missing required keys, wrong types and ranges.
        """
        fields = {f.name: f for f in dataclasses.fields(cls.config_class)}
        for key in table:
            if key in RUN_TIME_KEYS:
                raise InputError(where, f"backend.{key}: chosen when running (--{key}), not in a preset")
            if key not in fields:
                allowed = ", ".join(["name", *(k for k in fields if k not in RUN_TIME_KEYS)])
                raise InputError(where, f"backend.{key}: unknown key for backend {cls.name!r} (allowed: {allowed})")
        for key, field in fields.items():
            if key not in table and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                hint = " or pass --model" if key == "model" else ""
                raise InputError(where, f"backend.{key} is required for backend {cls.name!r} "
                                        f"(set it in the [backend] table{hint})")
        try:
            return cls.config_class(**table)
        except InputError as err:
            raise InputError(where, f"backend.{err.where}: {err.problem}") from None

    @property
    def device(self) -> str:
        """Where the model runs: ``"cpu"``, ``"cuda"``, ``"mps"``."""
        return self.config.device

    @abstractmethod
    def to(self, device: str) -> Backend:
        """Move the model to ``device`` and record it in :attr:`config` (returns self)."""

    @abstractmethod
    def latent_shape(self, width: int, height: int) -> tuple[int, ...]:
        """Shape of the starting noise for a ``width`` x ``height`` frame, without batch."""

    @abstractmethod
    def __call__(self, request: BackendRequest) -> Any:
        """Run the model: an HxWx3 float frame in 0..1, a numpy array or a torch tensor on the model's device
        (the Renderer's post-processing then runs there)."""

    def describe(self) -> dict[str, Any]:
        """JSON-able identity of the model (for the export's job file)."""
        return {"_class_name": type(self).__name__, **self.config.to_dict()}

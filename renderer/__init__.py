"""Barlight's renderer: musical moments in, audio-conditioned diffusion frames out.

- :func:`moment_at` / :class:`Moment` (``renderer.moment``): the frame contract.
- :class:`Renderer` (``renderer.renderer``): backend + preset + size + seed, one ``render`` call.
- ``renderer.conditioning``: audio sources -> learnable mapping -> conditioning targets.
- ``renderer.presets``: TOML presets; ``renderer.backends``: ``embedded`` and ``diffusers``.

Imports nothing heavy at package import; names load on first use, torch with the backends.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Moment": "renderer.moment",
    "moment_at": "renderer.moment",
    "Renderer": "renderer.renderer",
    "RenderResult": "renderer.renderer",
    "RenderState": "renderer.renderer",
    "load_preset": "renderer.presets",
    "Preset": "renderer.presets",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'renderer' has no attribute {name!r}")

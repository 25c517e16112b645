"""Barlight's looks: procedural training targets, one structure per look, one shared colouring.

Each look (one module each) is ``draw(scene, noise, coords) -> Structure`` (intensity and tone);
:func:`renderer.embedded.looks.colour.colourize` turns every look's structure into RGB by the
documented correspondence (:mod:`renderer.embedded.correspondence`). The words of the
vocabulary: :data:`LOOKS` (each with synonyms) and :data:`PALETTES`.

    from renderer.embedded.looks import render, scene_from_context, coords_grid

    scene = scene_from_context(context, palette="fire", scale=0.5, motion=1.0)
    rgb = render("tunnel", scene, noise, coords_grid(256, 256, batch=len(context)))  # (B, 3, 256, 256)

These are training targets only: nothing here runs at render time.
"""

from __future__ import annotations

import torch

from renderer.embedded.looks import aurora, cells, chrome, contours, crystal, flow, ink, mandala, stars, tunnel
from renderer.embedded.looks.colour import colourize
from renderer.embedded.looks.palettes import PALETTE_NAMES, PALETTES, by_word, palette_by_word, palette_tensor
from renderer.embedded.looks.scene import (Look, Scene, Structure, coords_grid, frame_window, make_scene, punch,
                                           scene_from_context, square_crop_window)

LOOKS: tuple[Look, ...] = (tunnel.LOOK, ink.LOOK, flow.LOOK, cells.LOOK, crystal.LOOK, aurora.LOOK, stars.LOOK,
                           mandala.LOOK, contours.LOOK, chrome.LOOK)
LOOK_NAMES: tuple[str, ...] = tuple(look.name for look in LOOKS)
NOISE_CHANNELS = 8  # composition noise channels every look may read


def look_by_word(word: str) -> Look:
    """The look that ``word`` (a name or synonym, any case) names; ValueError naming the vocabulary."""
    return by_word(LOOKS, word, "look")


def _look(look: str | Look) -> Look:
    return look if isinstance(look, Look) else look_by_word(look)


def draw(look: str | Look, scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    """One look's structure for every row of ``scene``."""
    if noise.shape[0] != scene.batch or coords.shape[0] != scene.batch:
        raise ValueError(f"draw: scene has {scene.batch} rows, noise {noise.shape[0]}, coords {coords.shape[0]}")
    if noise.shape[1] < NOISE_CHANNELS:
        raise ValueError(f"draw: noise needs {NOISE_CHANNELS} channels, got {noise.shape[1]}")
    return _look(look).draw(scene, noise, coords)


def render(look: str | Look, scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """RGB ``(B, 3, H, W)`` in 0..1: one look, coloured by the shared correspondence."""
    return colourize(draw(look, scene, noise, coords), scene)


def render_mixed(look_index: torch.Tensor, scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """RGB for a batch whose rows use different looks (``look_index`` (B,) into :data:`LOOKS`)."""
    out = torch.empty(scene.batch, 3, *coords.shape[-2:], dtype=torch.float32)
    for i in torch.unique(look_index).tolist():
        rows = torch.nonzero(look_index == i).flatten()
        out[rows] = render(LOOKS[i], scene[rows], noise[rows], coords[rows])
    return out


__all__ = ["LOOKS", "LOOK_NAMES", "NOISE_CHANNELS", "PALETTES", "PALETTE_NAMES", "Look", "Scene", "Structure",
           "colourize", "coords_grid", "draw", "frame_window", "look_by_word", "make_scene", "palette_by_word",
           "palette_tensor", "punch", "render", "render_mixed", "scene_from_context", "square_crop_window"]

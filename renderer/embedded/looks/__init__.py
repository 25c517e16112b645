"""Barlight's looks: the training targets of the embedded model, one structure per look.

Each look (one module each) is a :class:`Look`: a tile and a line profile (small pictures over
one period of its phases), a phase recipe (how its three phases mix the layout bank, from the
scene's qualities) and a colour recipe (its base and line colours, from the palette and the
documented correspondence). :func:`targets` gives a batch's phase coefficients and colour
fields; :class:`renderer.embedded.decoder.PhaseDecoder` turns them into pixels at any size.

    from renderer.embedded.looks import LOOKS, layout_bank, make_scene, targets

    scene = make_scene(1, palette="fire", edges=0.7)
    bank = layout_bank(torch.randn(1, NOISE_CHANNELS, 64, 64))
    coefficients, colours = targets(torch.eye(len(LOOKS))[[0]], scene, bank)

These recipes are training targets: at render time the model predicts the coefficients and
colours; only the tiles and profiles ship with it.
"""

from __future__ import annotations

import torch

from functools import lru_cache

from renderer.embedded.looks import aurora, cells, chrome, contours, crystal, flow, ink, mandala, stars, tunnel
from renderer.embedded.looks.layout import (BANK_NAMES, GRID, N_BANK, NOISE_CHANNELS, grid_shape, layout_bank,
                                            mix)
from renderer.embedded.looks.look import Look
from renderer.embedded.looks.palettes import PALETTE_NAMES, PALETTES, by_word, palette_by_word, palette_tensor
from renderer.embedded.looks.scene import Scene, make_scene, punch, scene_from_context

LOOKS: tuple[Look, ...] = (tunnel.LOOK, ink.LOOK, flow.LOOK, cells.LOOK, crystal.LOOK, aurora.LOOK, stars.LOOK,
                           mandala.LOOK, contours.LOOK, chrome.LOOK)
LOOK_NAMES: tuple[str, ...] = tuple(look.name for look in LOOKS)
COLOUR_CHANNELS = 6  # base RGB, then line RGB


def look_by_word(word: str) -> Look:
    """The look that ``word`` (a name or synonym, any case) names; ValueError naming the vocabulary."""
    return by_word(LOOKS, word, "look")


def targets(look_weights: torch.Tensor, scene: Scene, bank: torch.Tensor,
            looks: tuple[Look, ...] = LOOKS) -> tuple[torch.Tensor, torch.Tensor]:
    """What the model must predict for a batch: phase coefficients ``(B, L, 3, N_BANK)`` of every
    look and the colour fields ``(B, 6, h, w)``, each look's colours weighted by ``look_weights``
    ``(B, L)`` (rows sum to 1)."""
    b = scene.batch
    coefficients = torch.stack([look.phases(scene) for look in looks], 1)
    colours = torch.zeros(b, COLOUR_CHANNELS, *bank.shape[-2:])
    for i, look in enumerate(looks):
        rows = torch.nonzero(look_weights[:, i] > 0).flatten()
        if len(rows):
            colours[rows] += look_weights[rows, i].view(-1, 1, 1, 1) * look.colours(scene[rows], bank[rows])
    return coefficients, colours


def look_weights(look: str | Look, batch: int) -> torch.Tensor:
    """``(batch, L)`` one-hot weights of one look."""
    name = look.name if isinstance(look, Look) else look_by_word(look).name
    weights = torch.zeros(batch, len(LOOKS))
    weights[:, LOOK_NAMES.index(name)] = 1.0
    return weights


@lru_cache(maxsize=1)
def _decoder():
    from renderer.embedded.decoder import PhaseDecoder

    return PhaseDecoder.from_looks(LOOKS).eval()


def render(look: str | Look | torch.Tensor, scene: Scene, noise: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The looks' own frames ``(B, 3, H, W)`` in 0..1: ``look`` (a word, a :class:`Look` or ``(B, L)``
    weights) for every row of ``scene``, composition ``noise`` ``(B, NOISE_CHANNELS, *grid_shape(H, W))``.
    What the model is trained to draw (docs, tests, the evaluation's ceiling)."""
    weights = look if isinstance(look, torch.Tensor) else look_weights(look, scene.batch)
    bank = layout_bank(noise)
    coefficients, colours = targets(weights, scene, bank)
    with torch.no_grad():
        return _decoder()(mix(coefficients, bank), weights, colours, height, width)


__all__ = ["BANK_NAMES", "COLOUR_CHANNELS", "GRID", "LOOKS", "LOOK_NAMES", "N_BANK", "NOISE_CHANNELS", "PALETTES",
           "PALETTE_NAMES", "Look", "Scene", "grid_shape", "layout_bank", "look_by_word", "look_weights", "make_scene", "mix",
           "palette_by_word", "palette_tensor", "punch", "render", "scene_from_context", "targets"]

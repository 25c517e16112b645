"""Barlight's looks: the training targets of the embedded model, one structure per look.

Each look (one module each) is a :class:`Look`: a tile and a line profile (small pictures over
one period of its phases), a phase recipe (how its three phases mix the layout bank, from the
scene's qualities) and a shading recipe (where its base and lines sit along the frame's colour
table, and how much light each gets). :func:`targets` gives a batch's phase coefficients,
shading fields and colour tables; :class:`renderer.embedded.decoder.PhaseDecoder` turns them
into pixels at any size; :func:`render` does both (the looks' own frames).

    from renderer.embedded.looks import NOISE_CHANNELS, layout_bank, look_weights, make_scene, targets

    scene = make_scene(1, palette="fire", edges=0.7)
    bank = layout_bank(torch.randn(1, NOISE_CHANNELS, 64, 64))
    wanted = targets(look_weights("cells", 1), scene, bank)   # .coefficients, .shading, .table

These recipes are training targets: at render time the model predicts the coefficients, shading
and table; only the tiles and profiles ship with it.
"""

from __future__ import annotations

import torch

from dataclasses import dataclass
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
SHADING_CHANNELS = 4  # base tone, line tone, base level, line level
TABLE_SIZE = 128  # entries of a frame's colour table (tone 0 -> 1)


def look_by_word(word: str) -> Look:
    """The look that ``word`` (a name or synonym, any case) names; ValueError naming the vocabulary."""
    return by_word(LOOKS, word, "look")


@dataclass(frozen=True)
class Targets:
    """What the model must predict for a batch: every look's phase ``coefficients`` (B, L, 3, N_BANK),
    the ``shading`` (B, 4, h, w) and the colour ``table`` (B, TABLE_SIZE, 3)."""

    coefficients: torch.Tensor
    shading: torch.Tensor
    table: torch.Tensor


def colour_table_of(scene: Scene) -> torch.Tensor:
    """``(B, TABLE_SIZE, 3)``: the documented colouring of the scene's palette, sampled along tone."""
    from renderer.embedded.looks.colour import LUT_SIZE, colour_table

    pick = torch.linspace(0, LUT_SIZE - 1, TABLE_SIZE).round().long()
    return colour_table(scene)[:, pick]


def targets(look_weights: torch.Tensor, scene: Scene, bank: torch.Tensor, looks: tuple[Look, ...] = LOOKS) -> Targets:
    """The batch's targets; each look's shading is weighted by ``look_weights`` ``(B, L)`` (rows sum to 1)."""
    b = scene.batch
    coefficients = torch.stack([look.phases(scene) for look in looks], 1)
    shading = torch.zeros(b, SHADING_CHANNELS, *bank.shape[-2:])
    for i, look in enumerate(looks):
        rows = torch.nonzero(look_weights[:, i] > 0).flatten()
        if len(rows):
            shading[rows] += look_weights[rows, i].view(-1, 1, 1, 1) * look.shading(scene[rows], bank[rows])
    return Targets(coefficients, shading, colour_table_of(scene))


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


def render(look: str | Look | torch.Tensor, scene: Scene, noise: torch.Tensor, height: int, width: int,
           decoder=None, looks: tuple[Look, ...] = LOOKS) -> torch.Tensor:
    """The looks' own frames ``(B, 3, H, W)`` in 0..1: ``look`` (a word, a :class:`Look` or ``(B, L)``
    weights) for every row of ``scene``, composition ``noise`` ``(B, NOISE_CHANNELS, *grid_shape(H, W))``.
    What the model is trained to draw (docs, tests, the evaluation's ceiling). ``decoder``: a
    :class:`renderer.embedded.decoder.PhaseDecoder` (default: one holding these looks' tiles) and its
    ``looks`` (default: the built-in ones)."""
    weights = look if isinstance(look, torch.Tensor) else look_weights(look, scene.batch)
    bank = layout_bank(noise)
    wanted = targets(weights, scene, bank, looks)
    with torch.no_grad():
        return (decoder or _decoder())(mix(wanted.coefficients, bank), weights, wanted.shading, wanted.table,
                                       height, width)


__all__ = ["BANK_NAMES", "GRID", "SHADING_CHANNELS", "TABLE_SIZE", "Targets", "colour_table_of", "LOOKS", "LOOK_NAMES", "N_BANK", "NOISE_CHANNELS", "PALETTES",
           "PALETTE_NAMES", "Look", "Scene", "grid_shape", "layout_bank", "look_by_word", "look_weights", "make_scene", "mix",
           "palette_by_word", "palette_tensor", "punch", "render", "scene_from_context", "targets"]

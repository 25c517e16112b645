"""Ink marbling: bands of ink floating on water, pulled into a marbled pattern, fine filaments between.

The bands follow the level lines of a broad field with medium swirls (rougher with ``edges``),
as in suminagashi; each band has a sharp edge and a thin filament beside it. Ink is darker than
the paper, so the line colour is negative. On each beat the water nudges the bands.
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.look import Look, beat_level_lines, field, periodic, shading
from renderer.embedded.looks.scene import Scene
from renderer.embedded.looks.shapes import line as glow
from renderer.embedded.looks.shapes import smoothstep


def water(scene: Scene) -> dict[str, torch.Tensor | float]:
    return {"broad0": 1.0, "medium0": 0.6, "medium2": 0.1 + 0.35 * scene.edges}


def phases(scene: Scene) -> torch.Tensor:
    return beat_level_lines(scene, water(scene), 1.2, edges=1.1, on_beat=0.25, harmonic=3.0)


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    tone = 0.55 + 0.3 * torch.tanh(field(bank, "broad1"))
    return shading(tone, tone, 0.8, -0.92 * 0.8)  # ink takes the paper's light away


def band(u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
    ink = 1.0 - smoothstep(0.3, 0.33, u1)
    return (ink + 0.8 * glow(u1 - 0.45, 0.012)).clamp(0.0, 1.0)


LOOK = Look("ink", ("ink", "marble", "sumi"), "mono",
            "ink marbling: sharp-edged bands of ink floating on water, fine filaments between",
            tile=band, line=lambda u: 0.45 * glow(periodic(u), 0.02), phases=phases, shading=shades)

"""Topographic map: thin contour lines, a bold index line every fourth, hypsometric colour.

Terrain is a broad field plus medium detail; ``edges`` adds rougher terrain and more levels, so
lines crowd and crinkle. On each beat the "water level" rises by half an interval and sinks back.
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.look import Look, beat_level_lines, field, periodic, shading
from renderer.embedded.looks.scene import Scene
from renderer.embedded.looks.shapes import line as glow


def terrain(scene: Scene) -> dict[str, torch.Tensor | float]:
    return {"broad0": 1.0, "medium0": 0.45, "medium1": 0.1 + 0.35 * scene.edges}


def phases(scene: Scene) -> torch.Tensor:
    return beat_level_lines(scene, terrain(scene), 1.1, edges=2.0, on_beat=0.5, harmonic=0.25)


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    h = field(bank, "broad0") + 0.45 * field(bank, "medium0")
    tone = 0.5 + 0.45 * torch.tanh(0.8 * h)
    return shading(tone, tone + 0.12, 0.32, 0.9)


LOOK = Look("contours", ("contours", "topographic", "map"), "terrain",
            "topographic map: thin contour lines, bold index lines, hypsometric colour",
            tile=lambda u1, u2: 0.8 * glow(periodic(u1), 0.035),
            line=lambda u: glow(periodic(u), 0.022),
            phases=phases, shading=shades)

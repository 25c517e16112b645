"""Flow field: streamlines of a smooth current, thin and dense, with fainter lines between them.

The stream function is a broad field plus eddies (more with ``edges``) plus a steady drift, so
lines run mostly one way and curl around eddies; on each beat they shift across the current.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.look import Look, beat_level_lines, field, periodic, shading
from renderer.embedded.looks.scene import Scene
from renderer.embedded.looks.shapes import line as glow

ANGLE = 0.5  # drift direction, radians


def stream(scene: Scene) -> dict[str, torch.Tensor | float]:
    return {"broad2": 0.9, "medium1": 0.25 + 0.5 * scene.edges,
            "y": 0.9 * math.cos(ANGLE), "x": -0.9 * math.sin(ANGLE)}


def phases(scene: Scene) -> torch.Tensor:
    return beat_level_lines(scene, stream(scene), 1.1, edges=1.6, on_beat=0.35, harmonic=2.0, shift=0.5)


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    tone = 0.5 + 0.45 * torch.tanh(field(bank, "broad1") + 0.5 * field(bank, "medium2"))
    return shading(1.0 - tone, tone, 0.12, 1.0)


LOOK = Look("flow", ("flow", "streamlines", "current"), "boreal",
            "flow field: dense streamlines of a curling current, fainter lines between them",
            tile=lambda u1, u2: 0.9 * glow(periodic(u1), 0.07),
            line=lambda u: 0.3 * glow(periodic(u), 0.08),
            phases=phases, shading=shades)

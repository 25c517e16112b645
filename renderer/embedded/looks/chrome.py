"""Liquid chrome: a molten mirror surface, broad smooth reflections with sharp specular streaks.

Phase 1 follows a broad field with medium ripples (more with ``edges``): the bright reflection
bands are a high power of its cosine, with a dark seam between them; phase 2 adds a second set
of thin highlights. On each beat the surface ripples.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.look import Look, shading, density, field, periodic, phase_row, phase_rows
from renderer.embedded.looks.scene import Scene, punch
from renderer.embedded.looks.shapes import line as glow


def phases(scene: Scene) -> torch.Tensor:
    b, k = scene.batch, density(scene, 0.9, edges=1.5)
    ripple = 0.3 * scene.amplitude * punch(scene.beat)
    return phase_rows(phase_row(b, one=ripple, broad0=k, medium0=0.4 * k, medium1=(0.1 + 0.3 * scene.edges) * k),
                      phase_row(b, one=-ripple, broad1=0.7 * k, medium2=0.3 * k),
                      phase_row(b))


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    tone = 0.5 + 0.4 * torch.tanh(field(bank, "broad2"))
    return shading(tone, 0.9 - 0.2 * tone, 0.22, 1.0)


def mirror(u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
    bands = (0.5 + 0.5 * torch.cos(2 * math.pi * u1)) ** 6
    seam = glow(periodic(u1 - 0.5), 0.05)
    streak = 0.45 * glow(periodic(u2), 0.02)
    return (0.12 + 0.75 * bands + streak - 0.1 * seam).clamp(0.0, 1.0)


LOOK = Look("chrome", ("chrome", "liquid", "metal"), "sunset",
            "liquid chrome: broad mirror reflections with sharp specular streaks and dark seams",
            tile=mirror, line=lambda u: torch.zeros_like(u), phases=phases, shading=shades)

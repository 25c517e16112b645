"""Neon ring tunnel: glowing tube rings around the centre and eight neon spokes.

Rings are level lines of the radius, bent by a broad field; on each beat they jolt outwards and
settle back (still on a steady pad). The spokes are level lines of ``r sin 8t``: eight rays with
arcs between them.
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.look import Look, shading, density, field, periodic, phase_row, phase_rows
from renderer.embedded.looks.scene import Scene, punch
from renderer.embedded.looks.shapes import line as glow


def phases(scene: Scene) -> torch.Tensor:
    b, k = scene.batch, density(scene, 3.0)
    jolt = -0.3 * scene.amplitude * punch(scene.beat)
    return phase_rows(phase_row(b, one=jolt, r=k, broad0=0.08 * k),
                      phase_row(b),
                      phase_row(b, r_sin8=0.6 * k, medium0=0.05 * k))


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    r = field(bank, "r")
    tone = 0.5 + 0.4 * torch.sin(2.2 * r + 0.6 * field(bank, "broad1"))
    return shading(tone, 1.0 - tone, 0.07, 1.0)


def tube(u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
    d = periodic(u1)
    return 0.9 * glow(d, 0.03) + 0.35 * glow(d, 0.12)


LOOK = Look("tunnel", ("tunnel", "rings", "tubes"), "neon",
            "neon ring tunnel: glowing tube rings that jolt outwards on the beat, eight neon spokes",
            tile=tube, line=lambda u: 0.55 * glow(periodic(u), 0.04),
            phases=phases, shading=shades)

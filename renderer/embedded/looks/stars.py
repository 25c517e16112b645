"""Starfield: stars of many sizes over coloured nebula clouds, jumping on the beat.

The phases are a square lattice in frame coordinates, jittered by broad fields; the tile holds
:data:`N_STARS` stars at seeded places with seeded sizes (a few bright ones with glints), so the
lattice does not read as a grid. ``edges`` packs more stars; on each beat the field jumps
sideways and settles (still on a steady pad).
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.look import Look, shading, density, field, phase_row, phase_rows
from renderer.embedded.looks.scene import Scene, punch
from renderer.embedded.looks.shapes import line as glow

N_STARS = 16
JITTER = 0.03  # lattice displacement by the broad fields, in frame units


def phases(scene: Scene) -> torch.Tensor:
    b, k = scene.batch, density(scene, 1.2, edges=2.5)
    jump = 0.12 * scene.amplitude * punch(scene.beat)
    return phase_rows(phase_row(b, one=-jump, x=k, broad0=JITTER * k),
                      phase_row(b, one=jump, y=k, broad1=JITTER * k),
                      phase_row(b))


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    nebula = torch.tanh(field(bank, "broad2") + 0.6 * field(bank, "medium0"))
    tone = 0.5 + 0.45 * nebula
    level = 0.06 + 0.2 * (0.5 + 0.5 * nebula)
    return shading(tone, 0.85 - 0.3 * tone, level, 1.0)


def starfield(u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
    gen = torch.Generator().manual_seed(7)
    where = torch.rand(N_STARS, 2, generator=gen)
    size = 0.012 + 0.03 * torch.rand(N_STARS, generator=gen) ** 3
    light = 0.35 + 0.65 * torch.rand(N_STARS, generator=gen)
    out = torch.zeros_like(u1)
    for (cx, cy), s, a in zip(where.tolist(), size.tolist(), light.tolist()):
        dx = u1 - cx - torch.round(u1 - cx)
        dy = u2 - cy - torch.round(u2 - cy)
        star = glow(torch.sqrt(dx * dx + dy * dy), s)
        if s > 0.02:  # the big ones glint
            star = star + 0.5 * glow(dx.abs() * 0.1 + dy.abs(), 0.004) * glow(dx, 0.12)
            star = star + 0.5 * glow(dy.abs() * 0.1 + dx.abs(), 0.004) * glow(dy, 0.12)
        out = torch.maximum(out, a * star)
    return out.clamp(0.0, 1.0)


LOOK = Look("stars", ("stars", "starfield", "particles"), "vapor",
            "starfield: stars of many sizes over nebula clouds, jumping on the beat",
            tile=starfield, line=lambda u: torch.zeros_like(u), phases=phases, shading=shades)

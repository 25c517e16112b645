"""Aurora: curtains of light hanging in a dark sky, each with a sharp lower hem and fine rays.

The curtains are level lines of x bent by broad and medium fields (they fold and sway); the fine
rays run along them at seven times the spacing. The light fades towards the top of the frame.
``edges`` adds folds and rays; on each beat the rays shimmer sideways.
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.look import Look, shading, density, field, periodic, phase_row, phase_rows
from renderer.embedded.looks.scene import Scene, punch
from renderer.embedded.looks.shapes import line as glow
from renderer.embedded.looks.shapes import smoothstep


def phases(scene: Scene) -> torch.Tensor:
    b, k = scene.batch, density(scene, 1.6)
    sway = {"x": 1.0, "broad0": 0.07, "medium0": 0.012 + 0.02 * scene.edges}
    shimmer = 0.3 * scene.amplitude * punch(scene.beat)
    return phase_rows(phase_row(b, **{n: k * v for n, v in sway.items()}),
                      phase_row(b, one=shimmer, medium1=0.3, **{n: 7 * k * v for n, v in sway.items()}),
                      phase_row(b))


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    y = field(bank, "y")
    tone = 0.15 + 0.7 * smoothstep(0.9, -0.8, y + 0.2 * field(bank, "broad1"))
    hang = smoothstep(-1.2, 0.5, y)  # light grows towards the lower hems (y points down)
    sky = 0.06 + 0.06 * (1.0 - hang)
    return shading(1.0 - tone, tone, sky, 0.35 + 0.75 * hang)


def curtain(u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
    hem = smoothstep(0.0, 0.015, u1) * torch.exp(-u1 / 0.22)
    rays = 0.25 + 0.75 * glow(periodic(u2), 0.12)
    return (hem * rays).clamp(0.0, 1.0)


LOOK = Look("aurora", ("aurora", "borealis", "curtains"), "boreal",
            "aurora: folding curtains of light with sharp hems and fine rays in a dark sky",
            tile=curtain, line=lambda u: torch.zeros_like(u), phases=phases, shading=shades)

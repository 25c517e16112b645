"""Cells: a living tissue of glowing cells with bright membranes and nuclei.

A honeycomb lattice in frame coordinates, warped by broad fields so cells vary in size and their
walls curve. The phases are the lattice coordinates (along (1, 0) and (1/2, sqrt 3 / 2)); the
tile is one cell of the hexagonal lattice seen from those coordinates: membrane, body glow,
nucleus ring. ``edges`` makes cells smaller; on each beat the tissue shivers.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.look import Look, shading, density, field, phase_row, phase_rows
from renderer.embedded.looks.scene import Scene, punch
from renderer.embedded.looks.shapes import line as glow
from renderer.embedded.looks.shapes import smoothstep

ROOT3 = math.sqrt(3.0)
WARP = 0.3  # lattice displacement by the broad fields, in cells


def phases(scene: Scene) -> torch.Tensor:
    b, k = scene.batch, density(scene, 2.4, edges=1.4)
    shiver = 0.08 * scene.amplitude * punch(scene.beat)
    return phase_rows(phase_row(b, one=shiver, x=k, y=-k / ROOT3, broad0=WARP),
                      phase_row(b, one=-shiver, y=2 * k / ROOT3, broad1=WARP),
                      phase_row(b))


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    tone = 0.5 + 0.45 * torch.sin(1.6 * field(bank, "broad2") + 0.8 * field(bank, "medium0"))
    return shading(tone, 1.0 - 0.6 * tone, 0.16, 0.9)


def cell(u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
    """One period of the hexagonal lattice: nearest and second-nearest lattice point give the walls."""
    px, py = u1 + 0.5 * u2, 0.5 * ROOT3 * u2
    near = []
    for i in range(-1, 3):
        for j in range(-1, 3):
            cx, cy = i + 0.5 * j, 0.5 * ROOT3 * j
            near.append(torch.sqrt((px - cx) ** 2 + (py - cy) ** 2))
    d = torch.stack(near).sort(dim=0).values
    border = 0.5 * (d[1] - d[0])  # distance to the wall, in cells
    membrane = glow(border, 0.025)
    body = 0.35 * smoothstep(0.02, 0.3, border)
    nucleus = glow(d[0] - 0.1, 0.02) + 0.5 * glow(d[0], 0.05)
    return (0.1 + body + membrane + 0.8 * nucleus).clamp(0.0, 1.0)


LOOK = Look("cells", ("cells", "tissue", "honeycomb"), "candy",
            "cells: a warped honeycomb of glowing cells with bright membranes and nuclei",
            tile=cell, line=lambda u: torch.zeros_like(u), phases=phases, shading=shades)

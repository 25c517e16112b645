"""Cells: a living tissue of glowing cells with bright membranes and nuclei.

A honeycomb lattice in frame coordinates, warped by smooth noise fields (so cells vary in size
and shape and their borders curve); the nearest lattice point is the cell's centre, the
hexagonal distance to it gives the membrane (a thin line), the body glow and the nucleus. A
cell's colour is a noise field read at its centre (first order: field minus gradient times the
offset), so neighbours differ. ``edges`` makes cells smaller and adds an inner membrane; on each
beat the bodies swell and the membranes throb, then relax.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, line, smoothstep

WIDTH = 0.008  # membrane width, frame units
CELL = 0.42  # lattice spacing at edges 0, frame units
ROOT3 = math.sqrt(3.0)
WARP = 0.3  # lattice displacement by the noise, in cells

EDGE_LIGHT = 0.71  # mean intensity grows by this x edges; divided out so light follows loudness alone


def hex_offset(qx: torch.Tensor, qy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Offset from the nearest point of the unit triangular lattice (neighbours 1 apart)."""
    ax, ay = qx - torch.round(qx), qy - ROOT3 * torch.round(qy / ROOT3)
    bx = qx - 0.5 - torch.round(qx - 0.5)
    by = qy - ROOT3 / 2 - ROOT3 * torch.round((qy - ROOT3 / 2) / ROOT3)
    nearer = ax * ax + ay * ay < bx * bx + by * by
    return torch.where(nearer, ax, bx), torch.where(nearer, ay, by)


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    warp = canvas.sample(canvas.smooth((0, 1), 2.0))
    colour, cx, cy = canvas.sample_with_gradient(canvas.smooth(2, 1.5))
    cell = CELL / ((1.0 + 1.4 * e) * (0.75 + 0.5 * column(scene.scale)))
    qx = canvas.x / cell + WARP * warp[:, 0:1]
    qy = canvas.y / cell + WARP * warp[:, 1:2]
    dx, dy = hex_offset(qx, qy)
    hexd = torch.maximum(dx.abs(), torch.maximum((0.5 * dx + 0.5 * ROOT3 * dy).abs(), (0.5 * dx - 0.5 * ROOT3 * dy).abs()))
    border = (0.5 - hexd) * cell  # distance to the membrane, frame units
    radial = torch.sqrt(dx * dx + dy * dy) * cell
    swell = 1.0 + 0.35 * amp * g
    membrane = (0.3 + 0.7 * e) * line(border, WIDTH * (1.0 + 0.6 * amp * g))
    inner = smoothstep(0.45, 0.85, e) * 0.7 * line(border - 0.2 * cell * swell, 0.85 * WIDTH)
    body = 0.4 * smoothstep(0.02 * cell, 0.3 * cell * swell, border)
    nucleus = smoothstep(0.15, 0.6, e) * (line(radial - 0.09 * cell * swell, 0.9 * WIDTH)
                                          + 0.6 * line(radial, 0.04 * cell * swell))
    centre = colour - (cx * dx + cy * dy) * cell  # the colour field at the cell's centre
    intensity = 0.16 + body + membrane + inner + 0.8 * nucleus
    wall = smoothstep(2.5 * WIDTH, 1.0 * WIDTH, border)  # membrane colour fades in towards the border
    tone = 0.45 + 0.4 * torch.sin(2.0 * centre) + wall * (0.5 - 0.4 * torch.sin(2.0 * centre))
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("cells", ("cells", "tissue", "honeycomb"), draw, "candy",
            "cells: a warped honeycomb of glowing cells with bright membranes and nuclei")

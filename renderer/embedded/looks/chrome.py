"""Liquid chrome: a smooth molten surface mirroring a striped studio: sharp bands that wrap its bumps.

The surface is a height field (noise at two scales). Its normal reflects the viewer into an
environment with a hard horizon and evenly spaced softbox stripes; the stripes are drawn as
lines of constant width on screen (their reflected coordinate divided by its gradient, from the
surface's curvature), so they stay crisp at any resolution, crowd where the surface bends hard
and swing over the bumps. ``edges`` adds stripes and ripples the surface; on each beat the
surface swells and the reflection swings, then calms.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, line, smoothstep

RELIEF = 0.09  # surface slope per unit of field gradient (frame units)
WIDTH = 0.007  # stripe line width, frame units
STRIPES = 1.0  # stripes per unit of reflected direction at edges 0

EDGE_LIGHT = 0.33  # mean intensity grows by this x edges; divided out so light follows loudness alone


def _gradient_grid(grid: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y derivatives (per frame unit) of a noise-grid field, by central differences on the grid."""
    gx = torch.gradient(grid, dim=3)[0] / cell
    gy = torch.gradient(grid, dim=2)[0] / cell
    return gx, gy


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    height = canvas.smooth(0, 2.6) + (0.1 + 0.35 * e) * canvas.smooth(1, 1.5)
    gx, gy = _gradient_grid(height, canvas.cell)
    hx, hxx, hxy = canvas.sample_with_gradient(gx)
    hy, _, hyy = canvas.sample_with_gradient(gy)
    relief = RELIEF * (1.0 + 0.5 * amp * g)
    sx, sy = relief * hx, relief * hy
    nz = torch.rsqrt(1.0 + sx * sx + sy * sy)
    rx, ry = -2 * nz * nz * sx, -2 * nz * nz * sy  # reflected direction (x, y parts), nz^2 ~ 1 - slope^2
    swing = 0.25 * amp * g
    stripes = STRIPES * (1.0 + 1.3 * e) * (0.75 + 0.5 * column(scene.scale))
    t = stripes * (rx + 0.5 * ry + swing)
    tx = -2 * relief * stripes * (hxx + 0.5 * hxy)  # its gradient (small-slope approximation)
    ty = -2 * relief * stripes * (hxy + 0.5 * hyy)
    slope = torch.sqrt(tx * tx + ty * ty).clamp_min(1e-3)
    crowd = smoothstep(2.0 * WIDTH, 4.0 * WIDTH, 1.0 / slope)  # fade stripes closer than a few widths
    bands = crowd * line(torch.sin(math.pi * t).abs() / (math.pi * slope), WIDTH)
    hy_ = ry + 0.2 * rx - 0.1
    horizon = hy_ / (2 * relief * torch.sqrt(hxy * hxy + hyy * hyy).clamp_min(1e-3))  # signed distance, frame units
    sky = smoothstep(-0.004, 0.004, -horizon)
    shading = smoothstep(-0.6, 0.6, -ry - 0.4 * rx)  # the studio is lighter above: reveals the bumps
    intensity = 0.12 + 0.12 * shading + 0.08 * sky + (0.5 + 0.35 * sky) * bands + 0.6 * line(horizon, 0.8 * WIDTH)
    tone = (0.5 - 1.2 * ry + 0.6 * rx).clamp(0, 1)
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("chrome", ("chrome", "liquid", "metal"), draw, "vapor",
            "liquid chrome: a molten surface mirroring a striped studio, sharp bands wrapping its bumps")

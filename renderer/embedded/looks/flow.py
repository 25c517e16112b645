"""Flow field: dense streamlines of a smooth current, broken into strands that glide along it.

The streamlines of a divergence-free flow are the level lines of its stream function, here a
steady current (a slope in a fixed direction) plus noise fields for its eddies. Each line is lit in
stretches (a mask field plus a term that differs from line to line), so the picture reads as
strands of hair or wind; on each beat the strands slide along the flow (first-order advection of
the mask) and the lines sway. ``edges`` packs the lines closer and adds eddies.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, contour_distance, line, smoothstep

WIDTH = 0.0055  # line width, frame units
SPACING = 0.12  # line spacing at edges 0, frame units (typical)
ANGLE = 0.35  # direction of the current, radians from the x axis
DRIFT = 1.3  # strength of the current against the eddies

EDGE_LIGHT = 0.22  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    eddies = 0.3 + 0.5 * e
    stream = 0.9 * canvas.smooth(3, 3.0) + eddies * canvas.smooth(1, 1.8)
    psi, px, py = canvas.sample_with_gradient(stream)
    drift = DRIFT * canvas.gradient_scale(3.0)  # the current: a steady slope of the stream function
    psi = psi + drift * (canvas.y * math.cos(ANGLE) - canvas.x * math.sin(ANGLE))
    px = px - drift * math.sin(ANGLE)
    py = py + drift * math.cos(ANGLE)
    mask, mx, my = canvas.sample_with_gradient(canvas.smooth(2, 1.3))
    rms = torch.sqrt(drift ** 2 + (0.9 * canvas.gradient_scale(3.0)) ** 2 + (eddies * canvas.gradient_scale(1.8)) ** 2)
    spacing = rms * SPACING / ((1.0 + 1.8 * e) * (0.7 + 0.6 * column(scene.scale)))
    speed = torch.sqrt(px * px + py * py).clamp_min(1e-3)
    shift = 0.15 * amp * g  # frame units along the flow
    strands = mask - shift * (py * mx - px * my) / speed + 0.7 * torch.sin(2 * math.pi * psi / (2.7 * spacing))
    d = contour_distance(psi, px, py, spacing, 0.3 * spacing * amp * g)
    lit = smoothstep(-1.2 + 0.5 * e, 1.0, strands)
    intensity = 0.26 + 0.74 * line(d, WIDTH) * (0.3 + 0.7 * lit)
    tone = 0.5 + 0.45 * torch.sin(2 * math.pi * psi / (9.0 * spacing))
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("flow", ("flow", "current", "streams"), draw, "ocean",
            "flow field: dense streamlines of a smooth current, strands gliding along it")

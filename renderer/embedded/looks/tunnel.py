"""Neon ring tunnel: glowing, segmented rings rushing out of a vanishing point at the frame's centre.

Rings are the levels of the depth ``D / r`` (perspective: dense near the centre, wide apart at
the edges), bent by a broad noise field so every composition has its own tunnel; arcs break
into neon segments along the angle; spokes join at higher ``edges``; the walls glow in colours
that turn around the tunnel. ``edges`` adds rings, segments and spokes; on each beat the rings
punch outward by up to half a ring and drift back; the spokes turn with the bar.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import ATTACK_BARS, Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, line, smoothstep

WIDTH = 0.011  # ring tube width, frame units

EDGE_LIGHT = 0.71  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    bend = canvas.sample(torch.cat([canvas.smooth(0, 3.0), canvas.smooth(1, 2.0)], 1))
    radius = canvas.radius
    r = radius * torch.exp(0.16 * bend[:, 0:1])
    theta = canvas.angle
    depth = (1.6 + 3.6 * e) * (0.7 + 0.6 * column(scene.scale))
    u = depth / r.clamp_min(0.02) - 0.6 * amp * column(punch(scene.beat))
    d = torch.sin(math.pi * u).abs() * r * r / (math.pi * depth)
    tube = line(d, WIDTH) + 0.2 * line(d, 2.5 * WIDTH)
    arcs = 4.0 + 2.0 * torch.round(3.0 * e)
    seg = smoothstep(-0.55, -0.2, torch.sin(arcs * theta + 2.5 * bend[:, 1:2] + 1.7 * torch.floor(u)))
    spin = (2 * math.pi / 12) * amp * column(punch(scene.bar, ATTACK_BARS))
    spoke_d = radius * torch.sin(6.0 * (theta - spin)).abs() / 6.0
    spokes = smoothstep(0.3, 0.8, e) * 0.7 * line(spoke_d, 0.8 * WIDTH) * smoothstep(0.25, 0.6, radius)
    core = smoothstep(0.1, 0.45, radius)
    lit = tube * (0.3 + 0.7 * seg)
    intensity = 0.16 * smoothstep(0.0, 0.5, radius) + (lit + spokes) * core
    wall = 0.5 + 0.45 * torch.sin(theta + 1.5 * bend[:, 0:1])
    ring_tone = 0.5 + 0.5 * torch.sin(0.9 * torch.floor(u) + 1.2 * bend[:, 0:1])
    tone = torch.where(lit + spokes > 0.25, ring_tone, wall)
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("tunnel", ("tunnel", "rings", "vortex"), draw, "neon",
            "neon ring tunnel: segmented glowing rings and spokes around a central vanishing point")

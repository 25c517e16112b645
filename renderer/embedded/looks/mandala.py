"""Kaleidoscopic mandala: n-fold rings of petals, scallops, spokes and beads around the centre.

The mandala is drawn in polar coordinates about the frame's centre: every element repeats
``FOLD`` times around and mirrors within each wedge (cos of ``FOLD`` times the angle), rings
alternate their turn, and a broad noise field only dims and brightens it locally (the symmetry
is the look, the noise its lighting). ``edges`` adds rings and bead rows and sharpens petals; each
beat turns the rings by up to half a wedge (alternating directions) and the mandala breathes;
each bar gives it a further turn.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import ATTACK_BARS, Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, line, smoothstep

FOLD = 12
WIDTH = 0.006  # line width, frame units
RING = 0.2  # ring spacing at edges 0, frame units

EDGE_LIGHT = 0.40  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    light = canvas.sample(canvas.smooth((0, 1), 3.0))
    ring = RING / ((1.0 + 1.2 * e) * (0.75 + 0.5 * column(scene.scale)))
    r = canvas.radius * (1.0 - 0.06 * amp * g)
    k = torch.floor(r / ring)  # ring index
    turn = (math.pi / FOLD) * (amp * g + amp * column(punch(scene.bar, ATTACK_BARS)))
    theta = canvas.angle + torch.where(torch.remainder(k, 2.0) < 0.5, turn, -turn)
    n = FOLD * (1.0 + torch.remainder(k, 3.0))  # petals per ring: 12, 24, 36
    wave = torch.cos(n * theta / 2).abs()  # 1 at a petal's middle, 0 between petals
    fr = r / ring - k  # position across the ring 0..1
    circles = line(torch.minimum(fr, 1.0 - fr) * ring, WIDTH)
    petal = line((fr - 0.15 - 0.7 * wave ** (0.6 + 1.4 * e)) * ring, WIDTH)
    scallop = smoothstep(0.25, 0.6, e) * line((fr - 0.15 - 0.35 * wave) * ring, 0.8 * WIDTH)
    spoke = line(r * torch.sin(n * theta / 2).abs() / n * 2, 0.8 * WIDTH) * (fr < 0.15).float()
    bead_pos = torch.sqrt(((fr - 0.85) * ring) ** 2 + (r * torch.cos(n * theta / 2) * 2 / n) ** 2)
    beads = smoothstep(0.1, 0.5, e) * line(bead_pos, 0.012 + 0.0 * e)
    centre = line(canvas.radius, 0.04) + line(canvas.radius - 0.07, WIDTH)
    lines = torch.maximum(torch.maximum(circles, petal), torch.maximum(torch.maximum(scallop, spoke), beads))
    dim = 0.7 + 0.3 * torch.tanh(light[:, 0:1])
    intensity = 0.2 + 0.1 * wave * smoothstep(0.3, 0.0, (fr - 0.5).abs()) + 0.8 * torch.maximum(lines, centre) * dim
    tone = (0.5 + 0.42 * torch.sin(1.9 * k + 0.8 * light[:, 1:2] + 2.0 * wave * (fr > 0.15).float())).clamp(0, 1)
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("mandala", ("mandala", "kaleidoscope", "kaleido"), draw, "sunset",
            "kaleidoscopic mandala: 12-fold rings of petals, scallops, spokes and beads")

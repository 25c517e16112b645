"""Aurora: folded luminous ribbons with sharp lower hems and fine vertical rays over a night sky.

Each ribbon's hem is a level line of ``y`` bent by broad noise (folds); its light is brightest
at the hem and fades upward over a short reach. Rays are a sharp power of a cosine across
``x``, their phase bent a little by a smooth field, so they stay thin and nearly vertical at any
resolution, gathered in brighter bundles. Tone climbs with height (hem colour to top colour)
over a dim sky from the far end of the palette. ``edges`` adds ribbons and rays and sharpens
them; on each beat the rays slide sideways and the ribbons lift, then settle.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, smoothstep

RAY = 0.075  # ray period at edges 0, frame units
RIBBONS = ((-0.45, 0.0), (0.15, 0.0), (0.65, 0.35), (-0.05, 0.7))  # (hem height y, edges needed)
HEM_WIDTH = 0.006  # hem softness, frame units
REACH = 0.3  # how far the light climbs above a hem, frame units

EDGE_LIGHT = 0.09  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    folds = canvas.sample(torch.cat([canvas.smooth((0, 1, 2, 3), 3.0), canvas.smooth(4, 2.0)], 1))
    x, y = canvas.x, canvas.y
    period = RAY / ((1.0 + 1.0 * e) * (0.75 + 0.5 * column(scene.scale)))
    phase = x / period + 0.5 * folds[:, 4:5] + 0.5 * amp * g
    rays = (0.5 + 0.5 * torch.cos(2 * math.pi * phase)) ** (2.0 + 3.0 * e)
    bundles = 0.6 + (0.2 + 0.2 * e) * torch.sin(2 * math.pi * x / 0.41 + 1.5 * folds[:, 4:5])
    light = torch.zeros_like(x)
    height = torch.zeros_like(x)
    for k, (hem, needs) in enumerate(RIBBONS):
        present = smoothstep(needs - 0.2, needs + 0.05, e) if needs > 0 else 1.0
        wave = 0.12 * torch.sin(2.3 * x + 1.9 * k) + 0.15 * folds[:, k:k + 1]  # gentle: one hem per column
        above = (hem - 0.08 * amp * g) - y + wave  # > 0 above the hem
        ribbon = present * smoothstep(-HEM_WIDTH, HEM_WIDTH, above) * torch.exp(-above.clamp(0, 10) / REACH)
        height = torch.where(ribbon > light, above.clamp_min(0) / REACH, height)
        light = torch.maximum(light, ribbon)
    intensity = 0.14 + 0.86 * light * (0.12 + 0.88 * rays * bundles)
    sky = 0.6 + 0.3 * torch.sin(1.3 * y + 0.8 * folds[:, 4:5])
    tone = torch.where(light > 0.05, 0.7 * smoothstep(0.0, 2.5, height), sky)
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone.clamp(0.0, 1.0))


LOOK = Look("aurora", ("aurora", "curtains", "northern"), draw, "boreal",
            "aurora: folded ribbons with sharp hems and fine vertical rays over a night sky")

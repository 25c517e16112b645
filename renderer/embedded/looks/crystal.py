"""Crystal shards: flat-shaded facets with hard, bright facet edges.

Three families of cracks (0, 60 and 120 degrees, slightly turned) bent by smooth noise cut the
frame into triangular and rhombic facets. A facet's shade and colour are noise fields read at its
centre (first order, from the offsets to the middle of each crack strip), so each facet is flat
and neighbours differ; a sheen runs across each facet along one family. ``edges`` shrinks the
facets; on each beat a flash of light runs across the facets and the cracks glint.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, line, smoothstep

WIDTH = 0.005  # crack width, frame units
SIZE = 0.3  # crack spacing at edges 0, frame units
ANGLES = (0.2, 0.2 + math.pi / 3, 0.2 + 2 * math.pi / 3)
BEND = 0.45  # how far the noise bends the cracks, in spacings


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    bend = canvas.sample(canvas.smooth((0, 1, 2), 2.2))
    looks, lx, ly = canvas.sample_with_gradient(canvas.smooth((3, 4), 2.0))
    size = SIZE / ((1.0 + 1.3 * e) * (0.75 + 0.5 * column(scene.scale)))
    x, y = canvas.x, canvas.y
    crack = torch.zeros_like(x)
    px = torch.zeros_like(x)
    py = torch.zeros_like(x)
    for k, angle in enumerate(ANGLES):
        c, s = math.cos(angle), math.sin(angle)
        u = (c * x + s * y) / size + BEND * bend[:, k:k + 1]
        frac = u - torch.floor(u)
        crack = torch.maximum(crack, line(torch.minimum(frac, 1.0 - frac) * size, WIDTH))
        shift = (0.5 - frac) * size * (2.0 / 3.0)  # least-squares offset to the facet's middle
        px = px + shift * c
        py = py + shift * s
        if k == 0:
            sheen = frac
    at = looks + lx * px + ly * py  # the fields at the facet's middle (first order)
    shade = 0.5 + 0.5 * torch.sin(2.6 * at[:, 0:1])
    sweep = smoothstep(0.0, 0.08, 0.5 - (sheen - 1.2 * g + 0.1).abs()) * amp * g
    intensity = 0.12 + 0.45 * shade + 0.18 * sheen + 0.85 * crack + 0.4 * sweep
    tone = torch.where(crack > 0.5, 0.95 + 0.0 * shade, 0.5 + 0.45 * torch.sin(2.2 * at[:, 1:2]))
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("crystal", ("crystal", "shards", "facets"), draw, "ice",
            "crystal shards: flat-shaded facets cut by bent cracks, bright facet edges")

"""Crystal shards: flat-shaded facets with hard, bright edges, like a shattered pane of ice.

Families of nearly straight cracks (fixed directions, different spacings, gently bent by broad
noise) cut the frame into triangles and polygons. A facet's shade and colour are noise fields
read at its middle (first order, from the offsets to the middle of each crack strip) through a
high-gain sine, so each facet is flat and its neighbours differ; a faint sheen runs across each
facet and its cracks are bright lines with a dark bevel. ``edges`` shrinks the facets and adds a
fourth family of cracks; on each beat some facets glint, then fade.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, line, smoothstep

WIDTH = 0.0055  # crack width, frame units
SIZE = 0.34  # crack spacing at edges 0, frame units
FAMILIES = ((0.21, 1.0, 0.0), (1.29, 1.37, 0.0), (2.37, 0.81, 0.0), (0.75, 1.13, 0.5))  # (angle, spacing, edges)
BEND = 0.14  # how far the noise bends a crack, in spacings

EDGE_LIGHT = 0.11  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    bend = canvas.sample(canvas.smooth((0, 1, 2, 3), 3.0))
    looks, lx, ly = canvas.sample_with_gradient(canvas.smooth((4, 5), 2.4))
    size = SIZE / ((1.0 + 1.2 * e) * (0.75 + 0.5 * column(scene.scale)))
    x, y = canvas.x, canvas.y
    crack = torch.zeros_like(x)
    bevel = torch.zeros_like(x)
    px = torch.zeros_like(x)
    py = torch.zeros_like(x)
    for k, (angle, rel, needs) in enumerate(FAMILIES):
        present = 1.0 if needs == 0 else smoothstep(needs - 0.15, needs + 0.15, e)
        c, s = math.cos(angle), math.sin(angle)
        spacing = size * rel
        u = (c * x + s * y) / spacing + BEND * bend[:, k:k + 1] + 0.37 * k
        frac = u - torch.floor(u)
        crack = torch.maximum(crack, present * line(torch.minimum(frac, 1.0 - frac) * spacing, WIDTH))
        bevel = torch.maximum(bevel, present * line((frac - 0.04) * spacing, 2.0 * WIDTH))
        if k < 3:
            shift = (0.5 - frac) * spacing * (2.0 / 3.0)  # least-squares offset to the facet's middle
            px = px + shift * c
            py = py + shift * s
            if k == 0:
                sheen = frac
    at = looks + lx * px + ly * py  # the fields at the facet's middle (first order)
    shade = 0.5 + 0.5 * torch.sin(3.2 * at[:, 0:1])
    glint = amp * g * smoothstep(0.75, 0.95, 0.5 + 0.5 * torch.sin(3.1 * at[:, 1:2] + 1.0))
    face = (0.12 + 0.4 * shade + 0.1 * sheen + 0.5 * glint) * (1.0 - 0.6 * bevel)
    intensity = torch.maximum(face, 0.95 * crack)
    facet = 0.5 + 0.45 * torch.sin(3.0 * at[:, 1:2])
    tone = facet + smoothstep(0.3, 0.7, crack) * (0.95 - facet)
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("crystal", ("crystal", "shards", "facets"), draw, "ice",
            "crystal shards: flat-shaded facets between nearly straight cracks, bright edges, dark bevels")

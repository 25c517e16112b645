"""Ink in water: a web of tapering dark tendrils around a pale-washed plume on light water (monochrome).

Each tendril is the zero line of its own noise field, all of them bent around a broad plume
field, so tendrils cross and braid instead of nesting like contour lines; their width swells
and tapers with another field and where the field is flat (distance = |field| / its typical
slope), hairline wisps run beside them, and the plume's core gets a
light wash with a feathered edge. ``edges`` draws more tendril fields and crinkles them; on each
beat the plume swells (the tendrils' zero lines slide) and the strokes thicken, then settle.
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, line, smoothstep

WIDTH = 0.0065  # base tendril width, frame units
TENDRILS = ((1, 2.6, 0.0), (2, 2.0, 0.12), (3, 1.6, 0.3), (4, 1.3, 0.5), (5, 1.1, 0.72))  # (channel, sigma, edges)

EDGE_LIGHT = -0.24  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    plume = canvas.smooth(0, 3.0)
    crinkle = (0.1 + 0.35 * e) * canvas.smooth(6, 1.0)
    grid = torch.cat([canvas.smooth(ch, sigma) + 0.8 * plume + crinkle for ch, sigma, _ in TENDRILS], 1)
    f = canvas.sample(grid)
    shape = canvas.sample(torch.cat([plume, canvas.smooth(7, 2.0)], 1))
    swell = 0.35 * amp * g
    width = WIDTH * (0.6 + 1.2 * smoothstep(-1.0, 1.2, shape[:, 1:2])) * (1.0 + 0.5 * amp * g)
    reach = smoothstep(-1.8 - 0.6 * e, 0.0, shape[:, 0:1] + swell)
    ink = torch.zeros_like(width)
    for k, (_, _, needs) in enumerate(TENDRILS):
        show = smoothstep(needs - 0.15, needs + 0.1, e) if needs > 0 else 1.0
        slope = torch.sqrt(canvas.gradient_scale(TENDRILS[k][1]) ** 2 + (0.8 * canvas.gradient_scale(3.0)) ** 2
                           + ((0.1 + 0.35 * e) * canvas.gradient_scale(1.0)) ** 2)
        d = (f[:, k:k + 1] - swell).abs() / slope  # typical slope: strokes swell where the field is flat
        ink = torch.maximum(ink, show * (line(d, width) + e * 0.6 * line(d - 4.0 * WIDTH, 0.7 * WIDTH)))
    wash = 0.22 * smoothstep(0.3, 0.9, shape[:, 0:1] + swell)
    ink = (reach * ink + wash).clamp(0.0, 0.9)
    intensity = 0.62 * (1.0 - ink)
    tone = 0.32 - 0.3 * ink + 0.06 * torch.tanh(shape[:, 0:1])
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone.clamp(0.0, 1.0))


LOOK = Look("ink", ("ink", "smoke", "plume"), draw, "mono",
            "ink in water: a web of tapering dark tendrils around a pale-washed plume on light water")

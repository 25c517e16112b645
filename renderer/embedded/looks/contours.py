"""Topographic map: hypsometric colour bands with thin contour lines and bolder index lines.

The terrain is a sum of noise fields at three scales; ``edges`` adds levels and rougher
(finer-scale) terrain, so lines crowd and crinkle. Tone steps with the band (elevation colour).
On each beat the "water level" rises by half a contour interval and sinks back.
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch
from renderer.embedded.looks.shapes import column, contour_distance, line, smoothstep

WIDTH = 0.0065  # contour line width, frame units
SPACING = 0.26  # typical distance between contour lines at edges 0, frame units

EDGE_LIGHT = 0.20  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    broad = canvas.smooth(0, 3.0)
    mid = canvas.smooth(1, 1.8)
    rough = canvas.smooth(2, 1.1)
    terrain = broad + 0.45 * mid + (0.08 + 0.3 * e) * rough
    h, hx, hy = canvas.sample_with_gradient(terrain)
    rms = torch.sqrt(canvas.gradient_scale(3.0) ** 2 + (0.45 * canvas.gradient_scale(1.8)) ** 2
                     + ((0.08 + 0.3 * e) * canvas.gradient_scale(1.1)) ** 2)
    spacing = rms * SPACING / ((1.0 + 2.0 * e) * (0.7 + 0.6 * column(scene.scale)))
    offset = 0.5 * spacing * amp * column(punch(scene.beat))
    d = contour_distance(h, hx, hy, spacing, offset)
    d5 = contour_distance(h, hx, hy, 5 * spacing, offset)
    crowd = smoothstep(3.0 * WIDTH, 6.0 * WIDTH, spacing / torch.sqrt(hx * hx + hy * hy).clamp_min(1e-4))
    lines = torch.maximum(0.85 * crowd * line(d, WIDTH), line(d5, 1.9 * WIDTH))
    band = torch.floor((h - offset) / spacing)
    step = (band * spacing / 2.6).clamp(-1.0, 1.0)
    tone = torch.where(lines > 0.3, 0.5 + 0.45 * step, 0.5 - 0.45 * step)
    intensity = 0.22 + 0.05 * torch.remainder(band, 2.0) + 0.73 * lines
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("contours", ("contours", "topographic", "map"), draw, "terrain",
            "topographic map: hypsometric bands, thin contour lines, bold index lines")

"""Starfield: sharp stars in three depth layers over a faint nebula; stars fly out on the beat.

Each layer is a tilted lattice displaced by smooth noise fields, so a star is the nearest
displaced lattice point and a dot (profile ``1 / (1 + (d / w)^2)^2``: a sharp core with a short
glow) is a sharp function of smooth inputs. Whether a star is lit,
how bright and which colour come from noise fields read at the star's centre (first-order:
field minus gradient times the offset), through a high-gain sine, so neighbouring stars differ.
``edges`` lights more stars; on each beat the field zooms out (near layers most: parallax) and
the stars stretch into radial streaks while they move, then drift back.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.fields import Canvas
from renderer.embedded.looks.scene import Look, Scene, Structure, punch, punch_speed
from renderer.embedded.looks.shapes import column, smoothstep

# (cell, tilt in radians, dot width, brightness, beat zoom) per layer, far to near; frame units
JITTER = 0.28  # lattice displacement, in cells (small: a smooth displacement shears the dots)
LAYERS = ((0.07, 0.37, 0.0065, 0.7, 0.06), (0.12, 1.21, 0.0085, 0.9, 0.12), (0.21, 2.05, 0.012, 1.0, 0.22))

EDGE_LIGHT = 0.39  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    jitter = canvas.sample(canvas.smooth((0, 1), 2.0))
    picks = canvas.smooth((6, 7), 1.5)
    star, sx, sy = canvas.sample_with_gradient(torch.cat([picks, (picks[:, :1] - picks[:, 1:]) * 0.7071], 1))
    nebula = canvas.sample(canvas.smooth((2, 3), 3.0))
    x, y, r = canvas.x, canvas.y, canvas.radius
    inv_r = 1.0 / r.clamp_min(1e-3)
    ux, uy = x * inv_r, y * inv_r
    streak = (12.0 * amp * column(punch_speed(scene.beat).clamp_min(0.0))) * r  # outward only
    density = (1.0 + 0.5 * e) * (0.75 + 0.5 * column(scene.scale))
    threshold = 0.75 - 1.5 * e
    stars = torch.zeros_like(x)
    tone = torch.zeros_like(x)
    jx, jy = JITTER * jitter[:, 0:1], JITTER * jitter[:, 1:2]
    for i, (cell, tilt, width, bright, zoom) in enumerate(LAYERS):
        cell = cell / density
        scale = 1.0 / ((1.0 + zoom * amp * g) * cell)
        c, s = math.cos(tilt), math.sin(tilt)
        qx = torch.addcmul(jx + 0.31 * i, x, c * scale) - y * (s * scale)
        qy = torch.addcmul(jy + 0.53 * i, x, s * scale) + y * (c * scale)
        ax, ay = (qx - torch.round(qx)) * cell, (qy - torch.round(qy)) * cell
        dx, dy = c * ax + s * ay, c * ay - s * ax  # offset from the star, screen axes
        along = dx * ux + dy * uy
        squeeze = 1.0 - 1.0 / (1.0 + zoom * streak) ** 2  # a moving star stretches along its path
        d2 = (ax * ax + ay * ay - squeeze * along * along) / (width * width)
        centre = star[:, i:i + 1] - (sx[:, i:i + 1] * dx + sy[:, i:i + 1] * dy)  # the field at the star's centre
        pick = torch.sin(4.0 * centre + 1.7 * i)
        lit = ((pick - threshold) * 4.0).clamp(0.0, 1.0)
        glow = 1.0 / (1.0 + d2)
        dot = (bright * lit) * (glow * glow)
        tone = torch.where(dot > stars, 0.5 + 0.5 * torch.sin(2.3 * centre + i), tone)
        stars = torch.maximum(stars, dot)
    cloud = smoothstep(-0.3, 1.8, nebula[:, 0:1]) * smoothstep(-1.2, 0.8, nebula[:, 1:2])
    intensity = 0.09 + 0.24 * cloud + stars
    sky = smoothstep(-1.6, 1.6, nebula[:, 1:2] - 0.6 * nebula[:, 0:1])
    tone = sky + smoothstep(0.05, 0.3, stars) * (tone - sky)
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("stars", ("stars", "starfield", "space"), draw, "sunset",
            "starfield: sharp stars in three parallax layers over a faint nebula, streaking out on the beat")

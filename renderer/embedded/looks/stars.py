"""Starfield: sharp stars in three depth layers over a faint nebula; stars fly out on the beat.

Each layer is a tilted lattice displaced by smooth noise fields, so a star is the nearest
displaced lattice point and a dot is a sharp function of smooth inputs. Whether a star is lit,
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
from renderer.embedded.looks.shapes import bump, column, smoothstep

# (cell, tilt in radians, dot width, brightness, beat zoom) per layer, far to near; frame units
JITTER = 0.28  # lattice displacement, in cells (small: a smooth displacement shears the dots)
LAYERS = ((0.07, 0.37, 0.0055, 0.6, 0.06), (0.12, 1.21, 0.0075, 0.85, 0.12), (0.21, 2.05, 0.0105, 1.0, 0.22))

EDGE_LIGHT = 0.47  # mean intensity grows by this x edges; divided out so light follows loudness alone


def draw(scene: Scene, noise: torch.Tensor, coords: torch.Tensor) -> Structure:
    canvas = Canvas(coords, noise)
    e, amp = column(scene.edges), column(scene.amplitude)
    g = column(punch(scene.beat))
    speed = column(punch_speed(scene.beat).clamp_min(0.0))  # outward only
    jitter = canvas.sample(canvas.smooth((0, 1, 2, 3, 4, 5), 2.0))
    picks = canvas.smooth((6, 7), 1.5)
    star, sx, sy = canvas.sample_with_gradient(torch.cat([picks, (picks[:, :1] - picks[:, 1:]) * 0.7071], 1))
    nebula = canvas.sample(canvas.smooth((6, 7), 3.0))
    x, y, r = canvas.x, canvas.y, canvas.radius
    ux, uy = x / r.clamp_min(1e-3), y / r.clamp_min(1e-3)
    density = (1.0 + 0.5 * e) * (0.75 + 0.5 * column(scene.scale))
    stars = torch.zeros_like(x)
    tone = torch.zeros_like(x)
    for i, (cell, tilt, width, bright, zoom) in enumerate(LAYERS):
        cell = cell / density
        k = 1.0 / (1.0 + zoom * amp * g)
        c, s = math.cos(tilt), math.sin(tilt)
        qx = (c * x - s * y) * k / cell + JITTER * jitter[:, 2 * i:2 * i + 1] + 0.31 * i
        qy = (s * x + c * y) * k / cell + JITTER * jitter[:, 2 * i + 1:2 * i + 2] + 0.53 * i
        ax, ay = (qx - torch.round(qx)) * cell, (qy - torch.round(qy)) * cell
        dx, dy = c * ax + s * ay, -s * ax + c * ay  # offset from the star, screen axes
        radial = dx * ux + dy * uy
        tangential = dx * uy - dy * ux
        stretch = 1.0 + 12.0 * zoom * amp * speed * r
        d2 = (radial / stretch) ** 2 + tangential ** 2
        centre = star[:, i:i + 1] - (sx[:, i:i + 1] * dx + sy[:, i:i + 1] * dy)  # the field at the star's centre
        pick = torch.sin(4.0 * centre + 1.7 * i)
        lit = smoothstep(0.75 - 1.5 * e, 1.0 - 1.2 * e, pick) * (0.5 + 0.5 * smoothstep(-1.0, 1.0, torch.sin(2.3 * centre)))
        dot = bright * lit * (bump(d2 / (width * width)) + 0.25 * bump(d2 / (9 * width * width)))
        tone = torch.where(dot > stars, 0.5 + 0.5 * torch.sin(3.0 * centre + i), tone)
        stars = torch.maximum(stars, dot)
    cloud = smoothstep(-0.3, 1.8, nebula[:, 0:1]) * smoothstep(-1.2, 0.8, nebula[:, 1:2])
    intensity = 0.1 + 0.35 * cloud + stars
    tone = torch.where(stars > 0.1, tone, smoothstep(-1.6, 1.6, nebula[:, 1:2] - 0.6 * nebula[:, 0:1]))
    intensity = intensity / (1.0 + EDGE_LIGHT * e)
    return Structure(intensity.clamp(0.0, 1.0), tone)


LOOK = Look("stars", ("stars", "starfield", "space"), draw, "sunset",
            "starfield: sharp stars in three parallax layers over a faint nebula, streaking out on the beat")

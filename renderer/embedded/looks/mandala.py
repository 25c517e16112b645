"""Kaleidoscopic mandala: concentric rings crossed by two scalloped rings, eight-fold petals.

Phase 1 is the radius; phases 2 and 3 are the radius pushed in and out by ``r cos 8t``, so their
lines cross the rings in petals. The petals turn a sixteenth of a turn on each beat and bar
(``cos 8(t - turn)`` is a mix of the bank's two polar fields), and the rings breathe.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.look import Look, shading, density, field, periodic, phase_row, phase_rows
from renderer.embedded.looks.scene import ATTACK_BARS, Scene, punch
from renderer.embedded.looks.shapes import line as glow

PETAL = 0.12  # radial depth of the scallops, as a share of the radius


def phases(scene: Scene) -> torch.Tensor:
    b, k = scene.batch, density(scene, 3.2)
    turn = (math.pi / 16) * scene.amplitude * (punch(scene.beat) + punch(scene.bar, ATTACK_BARS))
    c, s = torch.cos(8 * turn), torch.sin(8 * turn)
    breathe = -0.3 * scene.amplitude * punch(scene.beat)
    rows = [phase_row(b, one=breathe, r=k)]
    for sign in (1.0, -1.0):
        rows.append(phase_row(b, one=breathe, r=k, r_cos8=sign * PETAL * k * c, r_sin8=sign * PETAL * k * s))
    return phase_rows(*rows)


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    r = field(bank, "r")
    tone = 0.5 + 0.42 * torch.sin(3.5 * r + 0.5 * field(bank, "broad0"))
    return shading(tone, 1.0 - 0.8 * tone, 0.18, 1.0)


LOOK = Look("mandala", ("mandala", "kaleidoscope", "kaleido"), "sunset",
            "kaleidoscopic mandala: concentric rings crossed by scalloped rings in eight-fold petals",
            tile=lambda u1, u2: 0.75 * glow(periodic(u1), 0.03) + 0.75 * glow(periodic(u2), 0.03),
            line=lambda u: 0.75 * glow(periodic(u), 0.03), phases=phases, shading=shades)

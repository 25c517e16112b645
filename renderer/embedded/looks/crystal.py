"""Crystal shards: three families of straight cuts at 60 degrees, bent slightly, faceted light.

Each phase is a set of parallel cuts; inside a facet the light ramps along two families (a
sawtooth), so neighbouring facets jump in brightness at every cut, and the cuts themselves
glint. ``edges`` cuts finer shards; on each beat the facets slide along their cuts.
"""

from __future__ import annotations

import math

import torch

from renderer.embedded.looks.look import Look, shading, density, field, periodic, phase_row, phase_rows
from renderer.embedded.looks.scene import Scene, punch
from renderer.embedded.looks.shapes import line as glow

TILT = 0.35  # radians: the families' angles are TILT, TILT + 60, TILT + 120 degrees
BEND = 0.12  # cycles of bending by the broad fields


def phases(scene: Scene) -> torch.Tensor:
    b, k = scene.batch, density(scene, 1.7, edges=1.4)
    slide = 0.25 * scene.amplitude * punch(scene.beat)
    rows = []
    for i, name in enumerate(("broad0", "broad1", "broad2")):
        a = TILT + i * math.pi / 3
        rows.append(phase_row(b, one=slide * (1 - i), x=k * math.cos(a), y=k * math.sin(a), **{name: BEND}))
    return phase_rows(*rows)


def shades(scene: Scene, bank: torch.Tensor) -> torch.Tensor:
    tone = 0.5 + 0.45 * torch.tanh(1.2 * field(bank, "medium1"))
    return shading(tone, 0.25 + 0.5 * tone, 0.1, 1.0)


def facets(u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
    ramp = 0.45 * u1 * (1.0 - 0.6 * u2)
    cuts = 0.7 * torch.maximum(glow(periodic(u1), 0.012), glow(periodic(u2), 0.012))
    return (0.08 + ramp + cuts).clamp(0.0, 1.0)


LOOK = Look("crystal", ("crystal", "shards", "glass"), "rainbow",
            "crystal shards: three families of cuts at 60 degrees, faceted light, glinting edges",
            tile=facets, line=lambda u: 0.25 * u + 0.6 * glow(periodic(u), 0.012),
            phases=phases, shading=shades)

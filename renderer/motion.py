"""Motion locked to the music: a preset's ``[motion]`` table -> a geometric warp per frame.

A :class:`Motion` (preset data) says how the picture moves: a zoom punch and a twist punch that
repeat every beat or every bar (``lock``), and an optional mirror or kaleidoscope fold. Their
size follows the ``motion`` conditioning target (so the preset's reactivity decides whether
onsets, density or a macro drive them; on a steady pad with no onsets it is still).

:meth:`Motion.warp_at` is a pure function of the musical moment and the target -- export and
preview give the same warp for the same beat, and a chunk of an export rendered on another
machine needs nothing from the frames before it. The punch is 0 on the beat, peaks quickly and
returns slowly, so motion energy repeats once per period. Backends apply the :class:`Warp` where
it is cheapest (the embedded model to its latent grid before drawing, :meth:`Warp.apply`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.errors import InputError

if TYPE_CHECKING:
    import torch

LOCKS = ("beat", "bar")
#: Phase (of the beat or bar) at which the punch peaks.
ATTACK = {"beat": 0.08, "bar": 0.06}
_KEYS = {"lock", "zoom", "twist", "fold"}


def punch(phase: float, attack: float) -> float:
    """0 at phase 0, 1 at ``attack``, back to ~0 at phase 1: ``u^2 exp(2 (1 - u))``, ``u = phase / attack``."""
    u = (phase % 1.0) / attack
    return u * u * math.exp(2.0 * (1.0 - u))


@dataclass(frozen=True)
class Warp:
    """One frame's geometry: ``zoom`` (> 1 enlarges), ``angle`` (radians, counter-clockwise) and
    ``fold`` (0 none, 1 left-right mirror, n >= 2 kaleidoscope wedges), about the frame's centre."""

    zoom: float = 1.0
    angle: float = 0.0
    fold: int = 0

    @property
    def identity(self) -> bool:
        return self.zoom == 1.0 and self.angle == 0.0 and self.fold == 0

    def source_points(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Where each output point (frame units) reads the unwarped picture."""
        import torch

        cos, sin = math.cos(-self.angle), math.sin(-self.angle)
        u = (cos * x - sin * y) / self.zoom
        v = (sin * x + cos * y) / self.zoom
        if self.fold == 1:
            u = u.abs()
        elif self.fold >= 2:
            wedge = 2 * math.pi / self.fold
            radius = torch.sqrt(u * u + v * v)
            theta = torch.remainder(torch.atan2(v, u), wedge)
            theta = torch.minimum(theta, wedge - theta)
            u, v = radius * torch.cos(theta), radius * torch.sin(theta)
        return u, v

    def apply(self, grid: torch.Tensor, aspect: float | None = None) -> torch.Tensor:
        """Warp a ``(B, C, rows, columns)`` grid covering a whole frame (short side [-1, 1]).

        ``aspect``: the frame's width / height, when the grid's own proportions only approximate it
        (the embedded model's layout grid is rounded to whole cells); by default ``columns / rows``."""
        import torch
        import torch.nn.functional as F

        if self.identity:
            return grid
        rows, columns = grid.shape[-2:]
        aspect = columns / rows if aspect is None else aspect
        half_w, half_h = max(aspect, 1.0), max(1.0 / aspect, 1.0)  # the frame's half extents, short side 1
        ys = ((torch.arange(rows, dtype=grid.dtype) + 0.5) * (2.0 / rows) - 1.0) * half_h
        xs = ((torch.arange(columns, dtype=grid.dtype) + 0.5) * (2.0 / columns) - 1.0) * half_w
        u, v = self.source_points(xs.view(1, -1).expand(rows, -1), ys.view(-1, 1).expand(-1, columns))
        # frame units -> grid_sample's [-1, 1] per axis (align_corners=False)
        sample = torch.stack([u / half_w, v / half_h], dim=-1).unsqueeze(0)
        return F.grid_sample(grid, sample.expand(grid.shape[0], -1, -1, -1).to(grid.device), mode="bilinear",
                             padding_mode="reflection", align_corners=False)


@dataclass(frozen=True)
class Motion:
    """A preset's ``[motion]`` table: ``lock`` ("beat" or "bar"), ``zoom`` (zoom punch at full
    motion, e.g. 0.08 = 8 % larger), ``twist`` (turns of the twist punch at full motion) and ``fold``."""

    lock: str = "beat"
    zoom: float = 0.0
    twist: float = 0.0
    fold: int = 0

    def warp_at(self, beat_phase: float, bar_phase: float, amount: float) -> Warp:
        """The warp at a moment's beat and bar phase, scaled by the ``motion`` target (0..1)."""
        phase = beat_phase if self.lock == "beat" else bar_phase
        p = punch(phase, ATTACK[self.lock]) * max(0.0, min(1.0, float(amount)))
        return Warp(zoom=1.0 + self.zoom * p, angle=2 * math.pi * self.twist * p, fold=self.fold)

    def to_dict(self) -> dict[str, Any]:
        return {"lock": self.lock, "zoom": self.zoom, "twist": self.twist, "fold": self.fold}


def parse_motion(table: Any, where: str) -> Motion:
    """Validate a preset's ``[motion]`` table (InputError naming ``where`` and the key)."""
    if table is None:
        return Motion()
    if not isinstance(table, MappingABC):
        raise InputError(where, "motion must be a table: [motion] lock = \"beat\", zoom = 0.08 ...")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InputError(where, f"motion.{unknown[0]}: unknown key (allowed: {', '.join(sorted(_KEYS))})")
    lock = table.get("lock", "beat")
    if lock not in LOCKS:
        raise InputError(where, f"motion.lock must be one of {', '.join(LOCKS)}, got {lock!r}")

    def number(key: str, lo: float, hi: float) -> float:
        value = table.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise InputError(where, f"motion.{key} must be a number in {lo:g}..{hi:g}, got {value!r}")
        return float(value)

    fold = table.get("fold", 0)
    if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold <= 16:
        raise InputError(where, f"motion.fold must be an integer 0..16 (0 off, 1 mirror, n wedges), got {fold!r}")
    return Motion(lock=lock, zoom=number("zoom", 0.0, 1.0), twist=number("twist", -0.5, 0.5), fold=fold)

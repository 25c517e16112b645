"""Sharp functions of smooth inputs: the vocabulary fine detail is drawn with.

Widths and distances are in frame units (the short side spans 2), so a line is equally wide at
any resolution. Every function is elementwise on tensors.
"""

from __future__ import annotations

import torch


def smoothstep(lo: float | torch.Tensor, hi: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def line(distance: torch.Tensor, width: float | torch.Tensor) -> torch.Tensor:
    """A glowing line profile: 1 on the line, ``exp(-(d / width)^2)`` off it (0 beyond 5.5 widths)."""
    return bump((distance / width).square())


def bump(squared: torch.Tensor) -> torch.Tensor:
    """``exp(-squared)`` for ``squared >= 0``, exactly 0 beyond 30 (exp's slow underflow path never runs)."""
    return torch.exp(-squared.clamp_max(30.0))

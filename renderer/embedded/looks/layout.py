"""The layout bank: the smooth fields every look's phases are mixed from, on the model's grid.

A frame is laid out on a grid of :data:`GRID` cells along its short side (frame units: the short
side spans [-1, 1], x to the right, y down). The bank holds, at every cell centre:

* the frame coordinates ``1, x, y, r`` and the 8-fold polar pair ``r cos 8t, r sin 8t``
  (``t`` the angle), so rings, stripes and petals are linear in the bank;
* six composition fields: the composition noise's channels 0-2 low-passed broadly
  (:data:`BROAD_SIGMA` cells) and 3-5 at medium scale (:data:`MEDIUM_SIGMA`), each of unit
  variance. The noise is the diffusion noise, so the caller's noise (a slerp walk between
  per-bar seeds) sets the layout and moves it smoothly.

A look's phases are linear mixes of these fields (:class:`renderer.embedded.looks.Look`), which
is what keeps their level lines smooth at any output size.
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.fields import blur

GRID = 64  # cells along the frame's short side
GRID_MULTIPLE = 16  # the long side is rounded to this (the UNet folds 4 x 4 and halves twice)
BROAD_SIGMA = 6.0
MEDIUM_SIGMA = 3.0
NOISE_CHANNELS = 6
BANK_NAMES: tuple[str, ...] = ("one", "x", "y", "r", "r_cos8", "r_sin8",
                               "broad0", "broad1", "broad2", "medium0", "medium1", "medium2")
BANK = {name: i for i, name in enumerate(BANK_NAMES)}
N_BANK = len(BANK_NAMES)


def grid_shape(height: int, width: int) -> tuple[int, int]:
    """``(rows, columns)`` of the layout grid for a ``height`` x ``width`` frame: :data:`GRID` cells on
    the short side, the long side in proportion, rounded to a multiple of :data:`GRID_MULTIPLE`."""
    if height <= 0 or width <= 0:
        raise ValueError(f"grid_shape: frame size must be positive, got {height}x{width}")
    long = max(GRID_MULTIPLE, GRID_MULTIPLE * round(GRID * max(height, width) / min(height, width) / GRID_MULTIPLE))
    return (GRID, long) if width >= height else (long, GRID)


def coordinates(rows: int, columns: int) -> torch.Tensor:
    """``(6, rows, columns)``: ``1, x, y, r, r cos 8t, r sin 8t`` at the cell centres of a frame grid."""
    short = min(rows, columns)
    ys = (torch.arange(rows, dtype=torch.float32) + 0.5 - rows / 2) * (2.0 / short)
    xs = (torch.arange(columns, dtype=torch.float32) + 0.5 - columns / 2) * (2.0 / short)
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    r = torch.sqrt(x * x + y * y)
    t = torch.atan2(y, x)
    return torch.stack([torch.ones_like(x), x, y, r, r * torch.cos(8 * t), r * torch.sin(8 * t)])


def layout_bank(noise: torch.Tensor) -> torch.Tensor:
    """``(B, N_BANK, h, w)`` from composition noise ``(B, >= NOISE_CHANNELS, h, w)`` on the frame's grid."""
    if noise.ndim != 4 or noise.shape[1] < NOISE_CHANNELS:
        raise ValueError(f"layout_bank: noise must be (B, >= {NOISE_CHANNELS}, h, w), got {tuple(noise.shape)}")
    b, _, h, w = noise.shape
    coords = coordinates(h, w).to(noise.device, noise.dtype).expand(b, -1, -1, -1)
    broad = blur(noise[:, 0:3], BROAD_SIGMA)
    medium = blur(noise[:, 3:6], MEDIUM_SIGMA)
    return torch.cat([coords, broad, medium], 1)


def mix(coefficients: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """Phase grids ``(B, ..., h, w)`` = coefficients ``(B, ..., N_BANK)`` applied to the bank ``(B, N_BANK, h, w)``."""
    b = bank.shape[0]
    lead = coefficients.shape[1:-1]
    flat = coefficients.reshape(b, -1, N_BANK) @ bank.flatten(2)
    return flat.view(b, *lead, *bank.shape[-2:])

"""Smooth layout fields from the composition noise, evaluated at the pixels of any window.

The noise ``(B, C, h, w)`` covers the same window as the pixels. A field is a Gaussian blur of
one or more noise channels on the noise grid (``sigma`` in noise cells), normalised to unit
variance, then sampled at the pixel centres with a narrow Gaussian kernel
(:data:`SAMPLE_SIGMA` cells) written as two small matrices per axis: ``W_y @ field @ W_x^T``.
The result is a smooth (infinitely differentiable) function of position, so a picture drawn
at 256 and at 512 pixels over the same window is one picture at two sampling rates, and the
exact spatial derivatives (in frame units) come from the derivative matrices at the same cost.
Fine structure is then drawn as sharp functions of these fields (:mod:`.shapes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import torch
import torch.nn.functional as F

SAMPLE_SIGMA = 0.6  # width of the sampling kernel, in noise cells


def blur(noise: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur on the noise grid (``sigma`` in cells), reflect-padded, unit variance after sampling."""
    radius = max(1, int(math.ceil(3 * sigma)))
    taps = torch.arange(-radius, radius + 1, dtype=noise.dtype)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = noise.shape[1]
    mode = "reflect" if radius < min(noise.shape[-2:]) else "replicate"
    x = F.pad(noise, (radius, radius, radius, radius), mode=mode)
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    x = F.conv2d(x, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return x * _unit_gain(float(sigma))


@lru_cache(maxsize=64)
def _unit_gain(sigma: float) -> float:
    """1 / std of white noise blurred by ``sigma`` and sampled with SAMPLE_SIGMA (at a cell centre)."""
    radius = int(math.ceil(3 * sigma)) + int(math.ceil(4 * SAMPLE_SIGMA)) + 1
    taps = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-0.5 * (taps / sigma) ** 2)
    g = g / g.sum()
    s = torch.exp(-0.5 * (taps / SAMPLE_SIGMA) ** 2)
    s = s / s.sum()
    effective = torch.nn.functional.conv1d(g.view(1, 1, -1), s.flip(0).view(1, 1, -1), padding=radius).flatten()
    return float(1.0 / (effective.square().sum()))  # 2-D variance = (1-D sum of squares)^2


def axis_weights(positions: torch.Tensor, centres: torch.Tensor, width: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Sampling matrices ``(B, N, n)`` and their derivative along the axis (per frame unit).

    ``positions`` (B, N) where to sample, ``centres`` (B, n) the grid's cell centres, ``width`` (B, 1)
    the kernel's standard deviation in frame units; rows are normalised to sum to 1.
    """
    a = (positions.unsqueeze(2) - centres.unsqueeze(1)) / width.unsqueeze(2)
    w = torch.exp(-0.5 * a * a)
    w = w / w.sum(dim=2, keepdim=True)
    slope = -a / width.unsqueeze(2)
    dw = w * (slope - (w * slope).sum(dim=2, keepdim=True))
    return w, dw


def _centres(pixels: torch.Tensor, cells: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell centres ``(B, cells)`` and cell size ``(B, 1)`` of a noise grid covering the pixels' window."""
    n = pixels.shape[1]
    step = (pixels[:, -1:] - pixels[:, :1]) / max(n - 1, 1) if n > 1 else torch.full_like(pixels[:, :1], 2.0)
    start = pixels[:, :1] - 0.5 * step
    cell = step * n / cells
    return start + (torch.arange(cells, dtype=pixels.dtype) + 0.5) * cell, cell


@dataclass(frozen=True)
class Canvas:
    """The pixels of a batch of pictures (frame coordinates) and their composition noise.

    ``coords`` ``(B, 2, H, W)`` must be an axis-aligned grid (x varies along columns, y along rows),
    as :func:`renderer.embedded.looks.scene.coords_grid` makes; ``noise`` ``(B, C, h, w)``.
    """

    coords: torch.Tensor
    noise: torch.Tensor

    @cached_property
    def x(self) -> torch.Tensor:
        """x of every pixel, ``(B, 1, H, W)`` (contiguous: elementwise work on it is faster)."""
        return self.coords[:, 0:1].contiguous()

    @cached_property
    def y(self) -> torch.Tensor:
        """y of every pixel, ``(B, 1, H, W)``."""
        return self.coords[:, 1:2].contiguous()

    @cached_property
    def radius(self) -> torch.Tensor:
        return torch.sqrt(self.x * self.x + self.y * self.y)

    @cached_property
    def angle(self) -> torch.Tensor:
        return torch.atan2(self.y, self.x)

    @cached_property
    def pixel(self) -> torch.Tensor:
        """Pixel size in frame units, ``(B, 1, 1, 1)``."""
        xs = self.coords[:, 0, 0, :]
        return ((xs[:, -1] - xs[:, 0]) / max(xs.shape[1] - 1, 1)).view(-1, 1, 1, 1)

    @cached_property
    def cell(self) -> torch.Tensor:
        """Noise cell size in frame units, ``(B, 1, 1, 1)``."""
        return self._grid[4].view(-1, 1, 1, 1)

    @cached_property
    def _grid(self):
        xs, ys = self.coords[:, 0, 0, :], self.coords[:, 1, :, 0]
        cx, cell = _centres(xs, self.noise.shape[-1])
        cy, _ = _centres(ys, self.noise.shape[-2])
        width = SAMPLE_SIGMA * cell
        wx, dwx = axis_weights(xs, cx, width)
        wy, dwy = axis_weights(ys, cy, width)
        return wy, dwy, wx.transpose(1, 2), dwx.transpose(1, 2), cell, cx, cy

    def gradient_scale(self, sigma: float) -> torch.Tensor:
        """Typical (RMS) gradient magnitude, per frame unit, of a unit-variance field of ``sigma`` cells."""
        return 1.0 / (math.sqrt(sigma * sigma + SAMPLE_SIGMA * SAMPLE_SIGMA) * self.cell)

    def smooth(self, channels: int | tuple[int, ...], sigma: float) -> torch.Tensor:
        """Unit-variance blurred noise channels on the noise grid, ``(B, k, h, w)``."""
        idx = (channels,) if isinstance(channels, int) else tuple(channels)
        return blur(self.noise[:, list(idx)], sigma)

    def sample(self, grid_values: torch.Tensor) -> torch.Tensor:
        """Noise-grid values ``(B, k, h, w)`` at the pixels: ``(B, k, H, W)``."""
        wy, _, wxt, _, _, _, _ = self._grid
        return (wy.unsqueeze(1) @ grid_values) @ wxt.unsqueeze(1)

    def sample_with_gradient(self, grid_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Values and their x, y derivatives (per frame unit) at the pixels, each ``(B, k, H, W)``."""
        wy, dwy, wxt, dwxt, _, _, _ = self._grid
        rows = wy.unsqueeze(1) @ grid_values
        return rows @ wxt.unsqueeze(1), rows @ dwxt.unsqueeze(1), (dwy.unsqueeze(1) @ grid_values) @ wxt.unsqueeze(1)

    def sample_at(self, grid_values: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """Noise-grid values at the points of the grid ``ys (B, m) x xs (B, n)`` (frame units): ``(B, k, m, n)``."""
        _, _, _, _, cell, cx, cy = self._grid
        wx, _ = axis_weights(xs, cx, SAMPLE_SIGMA * cell)
        wy, _ = axis_weights(ys, cy, SAMPLE_SIGMA * cell)
        return (wy.unsqueeze(1) @ grid_values) @ wx.transpose(1, 2).unsqueeze(1)

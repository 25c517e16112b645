"""Smooth fields from the composition noise: a Gaussian blur of noise channels, of unit variance.

The blur is separable, reflect-padded, with ``sigma`` in grid cells; its gain is chosen so a
blurred white-noise field has unit variance (as seen through a narrow :data:`SAMPLE_SIGMA`
sampling kernel), whatever the sigma, so the looks' recipes mix fields of known size.
"""

from __future__ import annotations

import math
from functools import lru_cache

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

"""One colouring for every look: the documented correspondence's colour side.

``colourize(structure, scene)`` turns a look's (intensity, tone) into RGB in 0..1:

* palette: ``tone`` picks a colour along the scene's palette ramp (linear between stops), its
  luma pulled towards :data:`PALETTE_LUMA` (``(PALETTE_LUMA / luma)^LUMA_PULL``), so tone mostly
  changes hue and the look's intensity sets the light;
* hue accent: the highlights (tone above 0.7) lean towards the chord's hue (circle of fifths),
  by up to :data:`ACCENT` x ``hue_focus``;
* colour temperature: red and blue gains ``exp(+-TEMPERATURE_GAIN (temperature - 0.5))``, luma
  kept, so the frame's (R - B) / (R + B) rises monotonically with the music's brightness;
* luminance: everything scaled by ``LEVEL_FLOOR + (1 - LEVEL_FLOOR) * sqrt(luminance)`` (loudness;
  the square root keeps quiet passages visible and colourful).
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.scene import Scene, Structure
from renderer.embedded.looks.shapes import column, smoothstep

LEVEL_FLOOR = 0.22  # light level at loudness 0 (dim, but structure and colour stay visible)
TEMPERATURE_GAIN = 1.3  # log red/blue gain per unit of temperature away from 0.5
ACCENT = 0.45  # how far the highlights (tone above 0.7) move to the chord's hue at full focus
LUMA = (0.2126, 0.7152, 0.0722)  # Rec. 709
LUT_SIZE = 256  # palette ramp entries (tone resolution 1/255)
PALETTE_LUMA = 0.6  # the luma palette colours are pulled towards ...
LUMA_PULL = 0.7  # ... by this power of the ratio (1 = equal luma for every tone)


def palette_at(palette: torch.Tensor, tone: torch.Tensor) -> torch.Tensor:
    """Colours ``(B, 3, H, W)`` at positions ``tone`` (B, 1, H, W) along ``palette`` (B, K, 3).

    The ramp (linear between the K stops) is tabulated at :data:`LUT_SIZE` points and looked up
    at the nearest one: a gather, far cheaper than weighting every stop at every pixel.
    """
    b, k, _ = palette.shape
    pos = torch.linspace(0.0, k - 1.0, LUT_SIZE)
    lo = pos.floor().long().clamp(max=k - 2)
    frac = (pos - lo.float()).view(1, -1, 1)
    ramp = palette[:, lo] * (1 - frac) + palette[:, lo + 1] * frac  # (B, LUT_SIZE, 3)
    ramp = ramp * (PALETTE_LUMA / (ramp @ torch.tensor(LUMA)).clamp_min(0.02)).pow(LUMA_PULL).unsqueeze(2)
    table = ramp.transpose(1, 2).reshape(b * 3, LUT_SIZE)
    _, _, h, w = tone.shape
    index = (tone.clamp(0.0, 1.0) * (LUT_SIZE - 1) + 0.5).long().view(b, 1, h * w).expand(b, 3, h * w)
    return torch.gather(table, 1, index.reshape(b * 3, h * w)).view(b, 3, h, w)


def hue_colour(hue: torch.Tensor) -> torch.Tensor:
    """Fully saturated colours ``(B, 3)`` for hues 0..1 (0 red, 1/3 green, 2/3 blue)."""
    k = torch.stack([(5 + hue * 6) % 6, (3 + hue * 6) % 6, (1 + hue * 6) % 6], dim=1)
    return 1.0 - torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def temperature_gains(temperature: torch.Tensor) -> torch.Tensor:
    """``(B, 3)`` RGB gains: warm (red up, blue down) above 0.5, cool below; luma of white kept at 1."""
    d = TEMPERATURE_GAIN * (temperature - 0.5)
    gains = torch.stack([torch.exp(d), torch.ones_like(d), torch.exp(-d)], dim=1)
    luma = gains @ torch.tensor(LUMA, dtype=gains.dtype)
    return gains / luma.unsqueeze(1)


def colourize(structure: Structure, scene: Scene) -> torch.Tensor:
    """RGB ``(B, 3, H, W)`` in 0..1 from a look's structure and the scene's qualities."""
    intensity, tone = structure
    rgb = palette_at(scene.palette, tone)
    accent = hue_colour(scene.hue)[:, :, None, None]
    lean = (ACCENT * column(scene.hue_focus)) * smoothstep(0.7, 1.0, tone)
    rgb = rgb + lean * (accent * _luma(rgb) / _luma(accent).clamp_min(0.2) - rgb)
    level = LEVEL_FLOOR + (1.0 - LEVEL_FLOOR) * scene.luminance.clamp(0.0, 1.0).sqrt()
    gain = temperature_gains(scene.temperature) * level.unsqueeze(1)
    return (rgb * intensity * gain[:, :, None, None]).clamp(0.0, 1.0)


def _luma(rgb: torch.Tensor) -> torch.Tensor:
    return LUMA[0] * rgb[:, 0:1] + LUMA[1] * rgb[:, 1:2] + LUMA[2] * rgb[:, 2:3]

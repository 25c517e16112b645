"""One colouring for every look: the documented correspondence's colour side.

:func:`colour_table` gives, per sample, :data:`LUT_SIZE` colours along the palette ramp with
everything that depends on colour alone applied; the looks' shading picks tones along it and the
decoder looks them up (:mod:`renderer.embedded.decoder`):

* palette: the ramp through the scene's palette stops (linear between stops), its luma pulled
  towards :data:`PALETTE_LUMA` (``(PALETTE_LUMA / luma)^LUMA_PULL``), so tone mostly changes hue
  and the look's intensity sets the light;
* hue accent: the highlights (tone above 0.75) lean towards the chord's hue (circle of fifths),
  by up to :data:`ACCENT` x ``hue_focus``;
* vibrance: chroma scaled by :data:`VIBRANCE` at equal luma;
* colour temperature: red and blue gains ``exp(+-TEMPERATURE_GAIN (temperature - 0.5))`` plus a
  shift along the red-blue axis of :data:`TEMPERATURE_SHIFT` x (temperature - 0.5) x luma (so even a
  palette without blue turns bluer when cool), each colour's luma kept: (R - B) / (R + B) rises
  monotonically with the music's brightness, and temperature never changes the light;
* gamut: over-bright colours move towards the grey of equal luma (:func:`fit_gamut`);
* luminance: everything scaled by ``LEVEL_FLOOR + (1 - LEVEL_FLOOR) * sqrt(luminance)`` (loudness;
  the square root keeps quiet passages visible and colourful).
"""

from __future__ import annotations

import torch

from renderer.embedded.looks.scene import Scene
from renderer.embedded.looks.shapes import smoothstep

LEVEL_FLOOR = 0.28  # light level at loudness 0 (dim, but structure and colour stay visible)
TEMPERATURE_GAIN = 1.4  # log red/blue gain per unit of temperature away from 0.5
TEMPERATURE_SHIFT = 1.6  # shift along red - blue, x luma, per unit of temperature away from 0.5
ACCENT = 0.35  # how far the highlights (tone above 0.75) move to the chord's hue at full focus
LUMA = (0.2126, 0.7152, 0.0722)  # Rec. 709
LUT_SIZE = 256  # palette ramp entries (tone resolution 1/255)
PALETTE_LUMA = 0.85  # the luma palette colours are pulled towards ...
LUMA_PULL = 0.7  # ... by this power of the ratio (1 = equal luma for every tone)
VIBRANCE = 1.6  # chroma (distance from the grey of equal luma) is scaled by this


def ramp(palette: torch.Tensor) -> torch.Tensor:
    """``(B, LUT_SIZE, 3)``: the palette ramp (linear between the K stops) with its luma pulled together."""
    k = palette.shape[1]
    pos = torch.linspace(0.0, k - 1.0, LUT_SIZE)
    lo = pos.floor().long().clamp(max=k - 2)
    frac = (pos - lo.float()).view(1, -1, 1)
    colours = palette[:, lo] * (1 - frac) + palette[:, lo + 1] * frac
    return colours * (PALETTE_LUMA / _luma(colours).clamp_min(0.02)).pow(LUMA_PULL)


def colour_table(scene: Scene) -> torch.Tensor:
    """``(B, LUT_SIZE, 3)``: the colour of full intensity at each tone, for each sample of ``scene``."""
    table = ramp(scene.palette)
    tone = torch.linspace(0.0, 1.0, LUT_SIZE).view(1, -1, 1)
    accent = hue_colour(scene.hue).unsqueeze(1)
    lean = ACCENT * scene.hue_focus.view(-1, 1, 1) * smoothstep(0.75, 1.0, tone)
    table = table + lean * (accent * _luma(table) / _luma(accent).clamp_min(0.2) - table)
    grey = _luma(table)
    table = (grey + VIBRANCE * (table - grey)).clamp_min(0.0)
    d = (scene.temperature - 0.5).view(-1, 1, 1)
    warm = table * torch.cat([torch.exp(TEMPERATURE_GAIN * d), torch.ones_like(d), torch.exp(-TEMPERATURE_GAIN * d)], 2)
    warm = (warm + TEMPERATURE_SHIFT * d * grey * torch.tensor([1.0, 0.0, -1.0])).clamp_min(0.0)
    table = warm * (grey / _luma(warm).clamp_min(1e-4))  # temperature keeps each colour's luma
    level = LEVEL_FLOOR + (1.0 - LEVEL_FLOOR) * scene.luminance.clamp(0.0, 1.0).sqrt()
    return table * level.view(-1, 1, 1)


def hue_colour(hue: torch.Tensor) -> torch.Tensor:
    """Fully saturated colours ``(B, 3)`` for hues 0..1 (0 red, 1/3 green, 2/3 blue)."""
    k = torch.stack([(5 + hue * 6) % 6, (3 + hue * 6) % 6, (1 + hue * 6) % 6], dim=1)
    return 1.0 - torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def fit_gamut(rgb: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """Colours ``(B, 3, H, W)`` brought into 0..1 by moving over-bright ones towards the grey of equal luma.

    Luma is kept (up to 1), so clipping never makes a louder frame darker; hue is kept, only the
    saturation of the over-bright pixels drops. ``inplace`` reuses ``rgb``'s memory (the decoder's
    per-pixel path, where every full-size pass counts).
    """
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    # elementwise, not a 1x1 conv2d and amax: those took 52-63 ms at 720p on 2 CPU threads (this: 3-4 ms)
    luma = (r * LUMA[0]).add_(g, alpha=LUMA[1]).add_(b, alpha=LUMA[2]).clamp_(0.0, 1.0)
    peak = torch.maximum(torch.maximum(r, g), b)
    keep = (1.0 - luma).div_((peak - luma).clamp_min_(1e-6)).clamp_(0.0, 1.0)
    out = rgb if inplace else rgb.clone()
    return out.sub_(luma).mul_(keep).add_(luma).clamp_(0.0, 1.0)


def _luma(rgb: torch.Tensor) -> torch.Tensor:
    """Rec. 709 luma of colours on the last axis, keeping it: ``(..., 1)``."""
    return rgb @ torch.tensor(LUMA, dtype=rgb.dtype).view(3, 1)

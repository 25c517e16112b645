"""The documented correspondence between musical and visual qualities, as training targets.

Training pairs a moment's conditioning vector with a procedural image whose qualities
follow that moment's audio; the model learns the mapping from these examples and runs
no rules at render time. :func:`visual_params` reads the scalar block of
:func:`renderer.embedded.context.audio_context`. Two target families use it: the looks
(:mod:`renderer.embedded.looks`, one structure per look, one shared colouring) and the
original soft-band picture (:func:`target_images`):

=========================================  ===================================================
music (audio_context scalar)               picture
=========================================  ===================================================
loudness (rms level, dB)                   luminance (overall light level)
brightness (spectral centroid, log Hz)     colour temperature (cool blue -> warm orange: red
                                             and blue gains, so (R - B) / (R + B) rises)
0.6 onset density + 0.4 noisiness          edges: the amount of fine structure (line count and
  (onsets per second, spectral flatness)     density, jaggedness, particles); the soft-band
                                             picture: contrast of a fine crinkled texture
pitch class (chroma on circle of fifths)   hue accents (looks: the highlights lean to the
                                             chord's hue; soft bands: accent band hue)
beat phase                                 motion: a punch after each beat and a slower return
                                             (looks: rings advance, cells pulse, stars fly ...;
                                             soft bands: one band cycle per beat)
bar phase                                  slower motion locked to the bar (looks: turns)
onset density (groove)                     how much the picture moves on the beat (0: still)
prompt words (looks only)                  look, palette, texture scale, motion amount
=========================================  ===================================================

The composition (where things are) comes from the low-pass filtered diffusion noise
itself, so the caller's noise sets the layout and a slerp walk between seed noises moves it
smoothly; the audio sets the qualities.

:func:`image_qualities` measures luminance, colour temperature, edge density and accent
hue of any frames — the evaluation uses it on generated frames.
"""

from __future__ import annotations

import math

import numpy as np

from renderer.embedded.context import SCALAR

COOL_RGB = (0.22, 0.45, 1.0)
WARM_RGB = (1.0, 0.48, 0.12)
FIFTHS = np.array([(7 * k) % 12 for k in range(12)]) / 12.0  # pitch class k -> position on the circle of fifths
LEVEL_FLOOR = 0.12  # light level at loudness 0 (dark but not black, so texture stays measurable)
BAND_CYCLES = 0.3  # band cycles per unit (std) of the broad field
GRAIN_FLOOR = 0.06  # texture contrast at edges quality 0 ...
GRAIN_GAIN = 0.5  # ... plus this much at 1
EDGE_THRESHOLD = 0.35  # |grad| of luminance / mean luminance per pixel that counts as an edge
EDGE_SIZES = (64, 256)  # edge density is measured at the frame's size, clamped to this range


def visual_params(context):  # torch.Tensor (B, CONTEXT_DIM) -> dict of (B,) tensors
    """The target qualities of each conditioning row, all in 0..1 (hue, beat and bar are cyclic).

    ``groove`` (how much beat-locked motion) is the onset density.
    """
    import torch

    s = context.float()
    loud = s[:, SCALAR["loudness"]]
    bright = s[:, SCALAR["brightness"]]
    edges = (0.6 * s[:, SCALAR["onset_density"]] + 0.4 * s[:, SCALAR["noisiness"]]).clamp(0, 1)
    chroma = s[:, SCALAR["chroma_0"]:SCALAR["chroma_0"] + 12]
    angles = torch.as_tensor(FIFTHS * 2 * math.pi, dtype=s.dtype, device=s.device)
    x = (chroma * torch.cos(angles)).sum(1)
    y = (chroma * torch.sin(angles)).sum(1)
    hue = torch.remainder(torch.atan2(y, x) / (2 * math.pi), 1.0)
    focus = (torch.sqrt(x * x + y * y) / chroma.sum(1).clamp_min(1e-6)).clamp(0, 1)
    beat = torch.remainder(torch.atan2(s[:, SCALAR["beat_sin"]], s[:, SCALAR["beat_cos"]]) / (2 * math.pi), 1.0)
    bar = torch.remainder(torch.atan2(s[:, SCALAR["bar_sin"]], s[:, SCALAR["bar_cos"]]) / (2 * math.pi), 1.0)
    groove = s[:, SCALAR["onset_density"]].clamp(0, 1)
    return {"luminance": loud, "temperature": bright, "edges": edges, "hue": hue, "hue_focus": focus, "beat": beat,
            "bar": bar, "groove": groove}


def _blur(x, sigma: float):
    """Separable Gaussian blur of (B, 1, H, W) with reflect padding."""
    import torch
    import torch.nn.functional as F

    radius = max(1, int(3 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    pad = min(radius, x.shape[-1] - 1)
    if pad < radius:  # tiny images: circular padding works for any size
        x = F.pad(x, (radius, radius, radius, radius), mode="circular")
    else:
        x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1))
    return F.conv2d(x, kernel.view(1, 1, -1, 1))


def _field(z, sigma: float):
    f = _blur(z, sigma)
    f = f - f.mean(dim=(2, 3), keepdim=True)
    return f / f.std(dim=(2, 3), keepdim=True).clamp_min(1e-6)


def _hsv_to_rgb(h, s, v):
    import torch

    k = torch.stack([(5 + h * 6) % 6, (3 + h * 6) % 6, (1 + h * 6) % 6], dim=1)
    return v[:, None] - v[:, None] * s[:, None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def target_images(context, noise):  # (B, D), (B, 3, S, S) -> (B, 3, S, S) in [0, 1]
    """The procedural picture for each conditioning row; ``noise`` sets the composition."""
    import torch

    p = visual_params(context)
    size = noise.shape[-1]
    scale = size / 64.0
    f1 = _field(noise[:, 0:1], 6.0 * scale)  # band layout (broad)
    f2 = _field(noise[:, 1:2], 1.2 * scale)  # fine texture (edges, jaggedness)
    f3 = _field(noise[:, 2:3], 9.0 * scale)  # colour / light zones

    def col(v):  # (B,) -> (B, 1, 1, 1)
        return v[:, None, None, None]

    e = col(p["edges"])
    # broad bands: a gentle function of the noise that moves one cycle per beat
    bands = 0.5 + 0.5 * torch.sin(2 * math.pi * (BAND_CYCLES * f1 + col(p["beat"])))
    # fine crinkled texture: a local (near-linear) function of the noise, its contrast set by the edges quality
    grain = (GRAIN_FLOOR + GRAIN_GAIN * e) * f2

    t = p["temperature"]
    cool = torch.tensor(COOL_RGB, dtype=noise.dtype, device=noise.device)
    warm = torch.tensor(WARM_RGB, dtype=noise.dtype, device=noise.device)
    base = (1 - t)[:, None] * cool + t[:, None] * warm  # (B, 3)
    accent = _hsv_to_rgb(p["hue"], 0.25 + 0.45 * p["hue_focus"], torch.ones_like(t))  # (B, 3)
    mix = 0.45 * bands * (0.7 + 0.3 * torch.tanh(f3))
    colour = base[:, :, None, None] * (1 - mix) + accent[:, :, None, None] * mix
    level = LEVEL_FLOOR + (1 - LEVEL_FLOOR) * col(p["luminance"]) ** 1.2
    light = level * (0.55 + 0.45 * bands) * (0.85 + 0.15 * torch.tanh(f3)) * (1 + grain)
    return (colour * light).clamp(0, 1)


def image_qualities(images: np.ndarray) -> dict[str, np.ndarray]:
    """Measured qualities of frames (N, H, W, 3) in [0, 1], each (N,).

    luminance: mean Rec. 709 luma; temperature: (mean R - mean B) / (mean R + mean B);
    hue: circular mean hue (0..1) of the pixels, weighted by saturation (these three after
    area-resizing to 64x64); edge_density: share of pixels whose luma gradient exceeds
    EDGE_THRESHOLD x the frame's mean luma, measured at the frame's own size clamped to
    EDGE_SIZES (64..256: a 64x64 frame as before, a 512x512 frame area-resized to 256x256, so
    the fine structure of native high-resolution frames is seen rather than averaged away).
    """
    import torch
    import torch.nn.functional as F

    x = torch.as_tensor(np.asarray(images, dtype=np.float32)).permute(0, 3, 1, 2)
    edge_size = int(min(max(min(x.shape[-2:]), EDGE_SIZES[0]), EDGE_SIZES[1]))
    big = x if x.shape[-2:] == (edge_size, edge_size) else F.interpolate(x, size=(edge_size, edge_size), mode="area")
    if x.shape[-2:] != (64, 64):
        x = F.interpolate(x, size=(64, 64), mode="area")
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    mean_luma = luma.mean(dim=(1, 2))
    temperature = (r.mean(dim=(1, 2)) - b.mean(dim=(1, 2))) / (r.mean(dim=(1, 2)) + b.mean(dim=(1, 2)) + 1e-3)
    big_luma = 0.2126 * big[:, 0] + 0.7152 * big[:, 1] + 0.0722 * big[:, 2]
    gx = big_luma[:, :, 2:] - big_luma[:, :, :-2]
    gy = big_luma[:, 2:, :] - big_luma[:, :-2, :]
    grad = torch.sqrt(gx[:, 1:-1, :] ** 2 + gy[:, :, 1:-1] ** 2) / 2
    threshold = EDGE_THRESHOLD * big_luma.mean(dim=(1, 2)).clamp_min(1e-3)
    edges = (grad > threshold[:, None, None]).float().mean(dim=(1, 2))
    mx = x.max(dim=1).values
    mn = x.min(dim=1).values
    sat = (mx - mn) / mx.clamp_min(1e-3)
    # hue angle via the opponent-colour plane
    a = r - 0.5 * (g + b)
    c = (math.sqrt(3) / 2) * (g - b)
    hue = torch.remainder(torch.atan2((c * sat).mean(dim=(1, 2)), (a * sat).mean(dim=(1, 2))) / (2 * math.pi), 1.0)
    return {
        "luminance": mean_luma.numpy(),
        "temperature": temperature.numpy(),
        "edge_density": edges.numpy(),
        "hue": hue.numpy(),
    }

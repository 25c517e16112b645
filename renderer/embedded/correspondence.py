"""The documented correspondence between musical and visual qualities, as training targets.

Training pairs a moment's conditioning vector with a procedural image whose qualities
follow that moment's audio; the model learns the mapping from these examples and runs
no rules at render time. :func:`visual_params` reads the scalar block of
:func:`renderer.embedded.context.audio_context`; the looks (:mod:`renderer.embedded.looks`)
turn it into their phases and colours:

=========================================  ===================================================
music (audio_context scalar)               picture
=========================================  ===================================================
loudness (rms level, dB)                   luminance (overall light level)
brightness (spectral centroid, log Hz)     colour temperature (cool blue -> warm orange: red
                                             and blue gains, so (R - B) / (R + B) rises)
0.6 onset density + 0.4 noisiness          edges: the amount of fine structure (more, denser
  (onsets per second, spectral flatness)     lines, cells, cuts, stars; rougher terrain)
pitch class (chroma on circle of fifths)   hue accents (the highlights lean to the chord's hue)
beat phase                                 motion: a punch after each beat and a slower return
                                             (rings jolt, cells shiver, bands nudge ...)
bar phase                                  slower motion locked to the bar (petals turn, stars drift)
onset density (groove)                     how much the picture moves on the beat (0: still)
prompt words                               look, palette, texture scale, motion amount
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
FULL_GROOVE = 0.15  # groove x motion word at and above which the beat's phase reaches the model in full


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


def phase_by_groove(context, motion):  # (B, CONTEXT_DIM), (B,) -> (B, CONTEXT_DIM)
    """``context`` with its beat and bar phase drawn towards phase 0 as the groove (times the prompt's
    motion word) falls below :data:`FULL_GROOVE`: phase 0 itself where nothing moves.

    The targets move on the beat in proportion to the groove (``amplitude``), so where there is none
    they do not depend on the phase at all; a model only approximates that, and its small response to
    the phase shimmers on sharp lines over a held chord. The model sees the phase as (sin, cos), so the
    pull is a blend towards (0, 1): continuous in the phase and in the groove.
    """
    import torch

    gate = ((context[:, SCALAR["onset_density"]].clamp(0, 1) * motion).clamp(0, 2) / FULL_GROOVE).clamp(0, 1)
    out = context.clone()
    for name, rest in (("beat_sin", 0.0), ("beat_cos", 1.0), ("bar_sin", 0.0), ("bar_cos", 1.0)):
        i = SCALAR[name]
        out[:, i] = torch.lerp(torch.full_like(gate, rest), context[:, i], gate)
    return out


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

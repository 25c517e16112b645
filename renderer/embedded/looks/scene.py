"""What a look is asked to draw: one :class:`Scene` row per picture.

A :class:`Scene` holds per-sample ``(B,)`` tensors, all 0..1 (``hue``, ``beat`` and ``bar``
are cyclic): the audio side comes from :func:`renderer.embedded.correspondence.visual_params`
(the documented correspondence), the ``palette``, ``scale`` and ``motion`` from prompt words.

Beat-locked motion uses :func:`punch`: 0 on the beat, up to 1 fast, back to ~0 slowly, so the
picture is the same at phase 0 and 1 for any amplitude, and frame-to-frame motion repeats once
per period.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

from renderer.embedded.looks.palettes import palette_tensor

ATTACK_BEATS = 0.08  # beat phase at which the punch peaks
ATTACK_BARS = 0.06  # bar phase at which the bar punch peaks


@dataclass(frozen=True)
class Scene:
    """Per-sample qualities, each ``(B,)`` float32 in 0..1, plus ``palette`` ``(B, K, 3)``.

    luminance: overall light level (loudness); temperature: cool..warm tint (brightness);
    edges: amount of fine structure (0.6 onset density + 0.4 noisiness); hue, hue_focus: the
    chord's pitch class on the circle of fifths and how focused it is; beat, bar: phases;
    groove: how much motion (onset density); scale: texture word, 0 coarse .. 1 fine;
    motion: motion word, a multiplier of groove (0 still, 1 normal, up to 2 wild).
    """

    luminance: torch.Tensor
    temperature: torch.Tensor
    edges: torch.Tensor
    hue: torch.Tensor
    hue_focus: torch.Tensor
    beat: torch.Tensor
    bar: torch.Tensor
    groove: torch.Tensor
    scale: torch.Tensor
    motion: torch.Tensor
    palette: torch.Tensor

    @property
    def batch(self) -> int:
        return int(self.luminance.shape[0])

    def __getitem__(self, index) -> "Scene":
        """The rows ``index`` (a slice, index tensor or boolean mask) as a Scene."""
        return Scene(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def replace(self, **changes) -> "Scene":
        return replace(self, **changes)

    @property
    def amplitude(self) -> torch.Tensor:
        """Beat-motion amplitude ``groove * motion`` (0 on a steady pad)."""
        return (self.groove * self.motion).clamp(0.0, 2.0)


def _column(value, batch: int) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=torch.float32)
    return t.expand(batch).clone() if t.ndim == 0 else t.float()


def scene_from_context(context: torch.Tensor, palette="neon", scale=0.5, motion=1.0) -> Scene:
    """A Scene from conditioning rows ``(B, CONTEXT_DIM)`` plus the words' palette, scale, motion.

    ``palette``: a palette name, a list of names (one per row), or a ``(B, K, 3)`` tensor;
    ``scale``/``motion``: floats or ``(B,)`` tensors.
    """
    from renderer.embedded.correspondence import visual_params

    p = visual_params(context)
    b = context.shape[0]
    pal = palette if isinstance(palette, torch.Tensor) else palette_tensor(palette, b)
    return Scene(luminance=p["luminance"], temperature=p["temperature"], edges=p["edges"], hue=p["hue"],
                 hue_focus=p["hue_focus"], beat=p["beat"], bar=p["bar"], groove=p["groove"],
                 scale=_column(scale, b), motion=_column(motion, b), palette=pal)


def make_scene(batch: int, palette="neon", **values) -> Scene:
    """A Scene with every quality given by keyword (floats or ``(B,)`` tensors); the rest mid-range.

    Defaults: luminance 0.7, temperature 0.5, edges 0.5, hue 0, hue_focus 0.5, beat 0, bar 0,
    groove 0.5, scale 0.5, motion 1.
    """
    defaults = {"luminance": 0.7, "temperature": 0.5, "edges": 0.5, "hue": 0.0, "hue_focus": 0.5, "beat": 0.0,
                "bar": 0.0, "groove": 0.5, "scale": 0.5, "motion": 1.0}
    unknown = set(values) - set(defaults)
    if unknown:
        raise ValueError(f"make_scene: unknown qualities {sorted(unknown)}")
    cols = {k: _column(values.get(k, v), batch) for k, v in defaults.items()}
    pal = palette if isinstance(palette, torch.Tensor) else palette_tensor(palette, batch)
    return Scene(**cols, palette=pal)


def punch(phase: torch.Tensor, attack: float = ATTACK_BEATS) -> torch.Tensor:
    """Asymmetric per-period envelope: 0 at phase 0, 1 at ``attack``, a slow return to ~0 at 1.

    ``u^2 exp(2 (1 - u))`` with ``u = phase / attack``: things start moving right on the beat,
    peak at ``attack`` and drift back over the rest of the period; below 1e-6 at phase 1 for
    ``attack <= 0.1``, so the picture is the same either side of the beat.
    """
    u = phase / attack
    return u * u * torch.exp(2.0 * (1.0 - u))

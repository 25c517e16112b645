"""What a look is: a tile, a line profile, a phase recipe and a colour recipe.

A frame of a look is drawn from three smooth **phase** fields (in cycles) and four smooth
**shading** fields (base and line tone, base and line level), all on the layout grid
(:mod:`.layout`), the frame's **colour table** (the palette as the documented correspondence
colours it: :func:`renderer.embedded.looks.colour.colour_table`), plus the look's two small pictures:

* ``tile(u1, u2)``: intensity 0..1 over one period of phases 1 and 2 (a torus): lines, dots,
  cells, facets ...; ``line(u3)``: intensity 0..1 over one period of phase 3;
* at every pixel ``u = frac(phase)``, ``I = clamp(tile(u1, u2) + line(u3), 0, 1)`` and the
  colour is ``table(base_tone) * base_level + table(line_tone) * line_level * I``.

The phases are linear in the layout bank (:meth:`Look.phases` gives the coefficients), so their
level lines stay smooth curves at any output size: the fine structure is drawn at the frame's
own resolution, never blown up. The recipes below are the *training targets*: the model learns
the phase coefficients, shading fields and colour table from the audio and the prompt
(:mod:`renderer.embedded.pipeline`); the tiles and profiles ship with the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from renderer.embedded.looks.layout import BANK, N_BANK
from renderer.embedded.looks.palettes import Palette
from renderer.embedded.looks.scene import Scene, punch

PhaseRecipe = Callable[[Scene], torch.Tensor]  # -> (B, 3, N_BANK) coefficients
ShadingRecipe = Callable[[Scene, torch.Tensor], torch.Tensor]  # (scene, bank (B, N_BANK, h, w)) -> (B, 4, h, w)


@dataclass(frozen=True)
class Look:
    """A look: its word (``name``), synonyms, default palette, one line on what it is, and its recipes."""

    name: str
    words: tuple[str, ...]  # the name first, then synonyms
    palette: str | Palette  # a palette word, or (a look made from images) its own palette
    summary: str
    tile: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (u1, u2) in [0, 1) -> intensity 0..1
    line: Callable[[torch.Tensor], torch.Tensor]  # u3 in [0, 1) -> intensity 0..1
    phases: PhaseRecipe
    shading: ShadingRecipe


def phase_row(batch: int, **terms: torch.Tensor | float) -> torch.Tensor:
    """``(B, N_BANK)`` coefficients with the named bank fields' weights (floats or ``(B,)``), zero elsewhere."""
    row = torch.zeros(batch, N_BANK)
    for name, value in terms.items():
        row[:, BANK[name]] = torch.as_tensor(value, dtype=torch.float32)
    return row


def phase_rows(*rows: torch.Tensor) -> torch.Tensor:
    """Three ``(B, N_BANK)`` rows (phase 1, 2, 3) as ``(B, 3, N_BANK)``."""
    return torch.stack(rows, 1)


def level_lines(batch: int, field_terms: dict[str, torch.Tensor | float], density: torch.Tensor,
                offset: torch.Tensor | float, harmonic: float, shift: float = 0.0) -> torch.Tensor:
    """``(B, 3, N_BANK)`` phases of a look drawn along the level lines of one field (a mix of bank fields):
    phase 1 is ``density x field + offset``, phase 2 is unused, phase 3 is ``harmonic x phase 1 + shift``
    (index lines, filaments or lines in between)."""
    first = {name: density * weight for name, weight in field_terms.items()}
    return phase_rows(phase_row(batch, one=offset, **first), phase_row(batch),
                      phase_row(batch, one=harmonic * offset + shift,
                                **{name: harmonic * weight for name, weight in first.items()}))


def beat_level_lines(scene: Scene, field_terms: dict[str, torch.Tensor | float], base: float, edges: float,
                     on_beat: float, harmonic: float, shift: float = 0.0) -> torch.Tensor:
    """The phase recipe of a look drawn along the level lines of one field (:func:`level_lines`): lines at
    :func:`density` ``(scene, base, edges)``, offset on each beat by ``on_beat`` cycles x the scene's amplitude
    (a :func:`~renderer.embedded.looks.scene.punch`)."""
    offset = on_beat * scene.amplitude * punch(scene.beat)
    return level_lines(scene.batch, field_terms, density(scene, base, edges=edges), offset, harmonic, shift)


def periodic(u: torch.Tensor) -> torch.Tensor:
    """Distance (in periods) from ``u`` to the nearest integer: 0 on the line, 0.5 between lines."""
    return (u - torch.round(u)).abs()


def shading(base_tone: torch.Tensor, line_tone: torch.Tensor, base_level: torch.Tensor | float,
            line_level: torch.Tensor | float) -> torch.Tensor:
    """``(B, 4, h, w)``: where along the frame's colour table the base and the lines sit (tones, 0..1,
    ``(B, 1, h, w)``) and how much light each gets (levels: floats or fields; negative darkens)."""
    levels = [torch.as_tensor(v, dtype=base_tone.dtype).expand_as(base_tone) for v in (base_level, line_level)]
    return torch.cat([base_tone.clamp(0.0, 1.0), line_tone.clamp(0.0, 1.0), *levels], 1)


def density(scene: Scene, base: float, edges: float = 1.2) -> torch.Tensor:
    """``(B,)`` cycles per frame unit: ``base``, more with the edges quality, finer with the texture word."""
    return base * (1.0 + edges * scene.edges) * (0.7 + 0.6 * scene.scale)


def field(bank: torch.Tensor, name: str) -> torch.Tensor:
    """One bank field ``(B, 1, h, w)``."""
    i = BANK[name]
    return bank[:, i:i + 1]


def column(v: torch.Tensor) -> torch.Tensor:
    """A per-sample ``(B,)`` value as ``(B, 1, 1, 1)``."""
    return v.view(-1, 1, 1, 1)

"""Named palettes: the colour words of the vocabulary, as a table of colour stops.

A palette is a ramp of sRGB stops (0..1 display values); :func:`palette_tensor` resamples each
to :data:`STOPS` evenly spaced colours, the ``(B, K, 3)`` a :class:`Scene` carries. Looks
choose positions along the ramp (their tones); :func:`renderer.embedded.looks.colour.colour_table`
reads it. Stops are vivid and never black: light comes from the look's intensity and the
loudness, not from the palette.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch

T = TypeVar("T")

STOPS = 8


@dataclass(frozen=True)
class Palette:
    name: str
    words: tuple[str, ...]  # the name first, then synonyms
    stops: tuple[str, ...]  # hex sRGB, from tone 0 to tone 1
    monochrome: bool = False


PALETTES: tuple[Palette, ...] = (
    Palette("neon", ("neon", "magenta", "cyberpunk"), ("#ff1fb4", "#b42cff", "#4a4dff", "#00c8ff", "#00ffc8")),
    Palette("fire", ("fire", "flame", "lava"), ("#b01000", "#e82800", "#ff6a00", "#ffb000", "#ffe040")),
    Palette("ice", ("ice", "frost", "glacier"), ("#0020ff", "#0070ff", "#00b0ff", "#00e8ff", "#a0f4ff")),
    Palette("acid", ("acid", "toxic", "rave"), ("#28ff00", "#c8ff00", "#fff000", "#ff00c8", "#8000ff")),
    Palette("ocean", ("ocean", "sea", "deep"), ("#2000c0", "#0050ff", "#00a0ff", "#00e0c0", "#60ff80")),
    Palette("sunset", ("sunset", "dusk", "synthwave"), ("#5a14c8", "#c01ca0", "#ff3d6e", "#ff8a3d", "#ffd36e")),
    Palette("gold", ("gold", "amber", "brass"), ("#b01800", "#e05000", "#ff9000", "#ffc800", "#c8f020")),
    Palette("forest", ("forest", "jungle", "moss"), ("#0040a0", "#00a060", "#30d000", "#c0ff00", "#ffa000")),
    Palette("candy", ("candy", "pastel", "bubblegum"), ("#ff2ca0", "#a040ff", "#2c8cff", "#2cffa0", "#fff02c")),
    Palette("rainbow", ("rainbow", "spectrum", "prism"), ("#ff0040", "#ff8c00", "#ffe600", "#00e05a", "#00a2ff",
                                                         "#8a2be2")),
    Palette("vapor", ("vapor", "vaporwave", "retro"), ("#ff20c0", "#00b8ff", "#00ff90", "#9040ff", "#ff7030")),
    Palette("blood", ("blood", "crimson", "red"), ("#700010", "#c00020", "#ff1030", "#ff5040", "#ff9070")),
    Palette("terrain", ("terrain", "atlas", "relief"), ("#1040d0", "#00a8b0", "#20b830", "#e8d010", "#e86818",
                                                         "#ff3060")),
    Palette("boreal", ("boreal", "polar", "emerald"), ("#00ff70", "#00e0b0", "#2080ff", "#8040ff", "#ff40c0")),
    Palette("mono", ("mono", "grey", "monochrome"), ("#2a2a2e", "#6a6a70", "#a8a8ae", "#d8d8dc", "#fafaf6"),
            monochrome=True),
)
PALETTE_NAMES: tuple[str, ...] = tuple(p.name for p in PALETTES)


def by_word(entries: Sequence[T], word: str, kind: str) -> T:
    """The entry (a look or palette: ``.name``, ``.words``) that ``word`` names, as a name or synonym
    in any case; ValueError naming the ``kind``'s vocabulary."""
    w = word.strip().lower()
    for entry in entries:
        if w in entry.words:
            return entry
    raise ValueError(f"unknown {kind} {word!r}; {kind}s: {', '.join(e.name for e in entries)}")


def palette_by_word(word: str) -> Palette:
    """The palette that ``word`` (a name or synonym, any case) names; ValueError naming the vocabulary."""
    return by_word(PALETTES, word, "palette")


def hex_colour(rgb: Sequence[float]) -> str:
    """``"#rrggbb"`` of an sRGB colour in 0..1."""
    return "#" + "".join(f"{round(min(max(float(c), 0.0), 1.0) * 255):02x}" for c in rgb)


def _hex(colour: str) -> tuple[float, float, float]:
    c = colour.lstrip("#")
    return tuple(int(c[i:i + 2], 16) / 255.0 for i in (0, 2, 4))


def palette_colours(palette: str | Palette) -> torch.Tensor:
    """``(STOPS, 3)`` evenly spaced colours along a palette's ramp (linear between stops); ``palette``:
    a :class:`Palette` or the word of a named one."""
    chosen = palette if isinstance(palette, Palette) else palette_by_word(palette)
    stops = torch.tensor([_hex(c) for c in chosen.stops], dtype=torch.float32)
    pos = torch.linspace(0.0, len(stops) - 1, STOPS)
    lo = pos.floor().long().clamp(max=len(stops) - 2)
    frac = (pos - lo.float()).unsqueeze(1)
    return stops[lo] * (1 - frac) + stops[lo + 1] * frac


def palette_tensor(palette: str | Palette | Sequence[str | Palette], batch: int) -> torch.Tensor:
    """``(batch, STOPS, 3)`` from one palette (a name or a :class:`Palette`) or one per row."""
    if isinstance(palette, (str, Palette)):
        return palette_colours(palette).unsqueeze(0).expand(batch, -1, -1).clone()
    if len(palette) != batch:
        raise ValueError(f"palette_tensor: {len(palette)} palette names for {batch} rows")
    return torch.stack([palette_colours(p) for p in palette])

"""Exact frame timing: frame rates as fractions, frame k at k/fps seconds, never accumulated.

A frame rate is a :class:`fractions.Fraction` (29.97 means NTSC's 30000/1001, 23.976
means 24000/1001, 59.94 means 60000/1001), so frame times, frame counts and container
time bases are exact rationals and a video of any length has zero drift.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from bridge.errors import InputError

#: Decimal spellings of the NTSC rates, mapped to their exact values.
NTSC_RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "23.98": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001),
    "47.952": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001),
    "119.88": Fraction(120000, 1001),
}

#: Frame rate and size of an export unless asked otherwise.
DEFAULT_FPS = Fraction(30)
DEFAULT_SIZE = (1280, 720)

_SIZE = re.compile(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*")
_BARS = re.compile(r"\s*(\d*)\s*:\s*(\d*)\s*")


def parse_fps(text: str | int | float | Fraction, where: str = "--fps") -> Fraction:
    """``"30"``, ``"29.97"``, ``"30000/1001"`` -> an exact frame rate; InputError unless 1..1000 fps."""
    if isinstance(text, Fraction):
        fps = text
    else:
        spelled = str(text).strip()
        try:
            fps = NTSC_RATES.get(spelled) or Fraction(spelled)
        except (ValueError, ZeroDivisionError):
            raise InputError(where, f"frame rate must look like 30, 29.97 or 30000/1001, got {text!r}") from None
    if not 1 <= fps <= 1000:
        raise InputError(where, f"frame rate must be between 1 and 1000 fps, got {text!r}")
    return fps


def fps_label(fps: Fraction) -> str:
    """A frame rate as people write it: ``30``, ``29.97``, ``23.976``."""
    if fps.denominator == 1:
        return str(fps.numerator)
    return f"{float(fps):.3f}".rstrip("0").rstrip(".")


def parse_size(text: str, where: str = "--size") -> tuple[int, int]:
    """``"1280x720"`` -> ``(1280, 720)`` (width, height); both even (yuv420p) and 16..8192."""
    match = _SIZE.fullmatch(str(text))
    if not match:
        raise InputError(where, f"size must look like 1280x720, got {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    for name, value in (("width", width), ("height", height)):
        if not 16 <= value <= 8192 or value % 2:
            raise InputError(where, f"{name} must be an even number of pixels 16..8192, got {value}")
    return width, height


@dataclass(frozen=True)
class BarRange:
    """Bars ``first`` through ``last`` inclusive (``last=None``: until the audio ends)."""

    first: int = 1
    last: int | None = None

    def __str__(self) -> str:
        return f"{self.first}:{'' if self.last is None else self.last}"


def parse_bars(text: str | None, where: str = "--bars") -> BarRange:
    """``"5:12"``, ``"5:"``, ``":12"`` -> a :class:`BarRange`; bars are 1-based and inclusive."""
    if text is None:
        return BarRange()
    match = _BARS.fullmatch(str(text))
    if not match:
        raise InputError(where, f"bars must look like 5:12, 5: or :12, got {text!r}")
    first = int(match.group(1)) if match.group(1) else 1
    last = int(match.group(2)) if match.group(2) else None
    if first < 1:
        raise InputError(where, f"bars are numbered from 1, got first bar {first}")
    if last is not None and last < first:
        raise InputError(where, f"last bar {last} comes before first bar {first}")
    return BarRange(first, last)


def frame_seconds(frame: int, fps: Fraction) -> Fraction:
    """Seconds from the start of the video at which frame ``frame`` is shown: exactly ``frame / fps``."""
    return Fraction(frame) / fps


def frame_count(duration_seconds: Fraction, fps: Fraction) -> int:
    """Frames needed to cover ``duration_seconds``: ``ceil(duration * fps)``, exactly."""
    return math.ceil(Fraction(duration_seconds) * fps)


def nearest_frame(seconds: float | Fraction, fps: Fraction) -> int:
    """The frame shown nearest ``seconds``: ``round(seconds * fps)`` computed exactly (halves to even, as Python rounds)."""
    return round(Fraction(seconds) * fps)

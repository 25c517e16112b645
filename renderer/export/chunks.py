"""Chunks: an export's frames split at bar boundaries, and where the feedback chain entering each starts.

Chunk ``c`` holds the frames of ``bars_per_chunk`` consecutive bars: from the first frame at or
after its first bar's start up to the next chunk's first frame. Chunks are what a distributed
export hands to its workers and what its video segments are; a local export has the same chunks,
so both make the same frames.

The coherence rule at a chunk's first frame ``s`` (docs/scaling.md). A frame may read the one
before it (img2img feedback, or a blend with it: :meth:`Renderer.reads_previous`), so the state
entering ``s`` may depend on frames far back. It is taken as the state after rendering frames
``e .. s-1`` afresh (from no state), where

- ``e`` is the latest frame from ``w`` to ``s`` that does not read the frame before it (a section
  change, a jump, feedback strength 1, frame 0): the chain restarts there by itself, and the state
  is exactly the uncut chain's; or else
- ``e = w``, the first frame of the bar before the chunk: the chain is cut one bar back, where it
  has faded to a few levels of 255 by ``s`` (measured in docs/scaling.md).

A chunk starting with a section (a locator at its first bar) therefore needs no warm-up and is
exact, as is every chunk when the preset's frames do not feed back (``strength`` 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from bridge.errors import InputError
from renderer.export.timing import frame_count

if TYPE_CHECKING:
    from renderer.export.job import ExportPlan

#: Bars per chunk unless ``--chunk-bars`` says otherwise: few enough warm-up bars (one per chunk, and
#: only for presets whose frames feed back) and enough chunks for a few workers on a song.
DEFAULT_CHUNK_BARS = 16


@dataclass(frozen=True)
class Chunk:
    """Frames ``first_frame .. stop_frame - 1``: bar ``first_bar`` and the bars after it, up to the next chunk;
    ``warmup_frame`` is the first frame of the bar before it (``first_frame`` for the first chunk)."""

    index: int
    first_bar: int
    first_frame: int
    stop_frame: int
    warmup_frame: int

    @property
    def frames(self) -> range:
        return range(self.first_frame, self.stop_frame)


def check_chunk_bars(bars: int, where: str = "--chunk-bars") -> int:
    """``bars`` if it is a whole number of bars >= 1."""
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 1:
        raise InputError(where, f"must be a whole number of bars >= 1, got {bars!r}")
    return bars


def bar_first_frame(plan: ExportPlan, seconds: float) -> int:
    """The first frame showing song time ``seconds`` or later (frames before it show earlier times)."""
    return frame_count(Fraction(seconds) - Fraction(plan.start_seconds), plan.fps)


def plan_chunks(plan: ExportPlan, bars_per_chunk: int) -> tuple[Chunk, ...]:
    """``plan``'s frames in chunks of ``bars_per_chunk`` bars (the last one may be shorter); pure."""
    check_chunk_bars(bars_per_chunk)
    starts: list[tuple[int, int, int]] = []  # (first frame, first bar, warm-up frame)
    for i in range(0, len(plan.bars), bars_per_chunk):
        frame = bar_first_frame(plan, plan.bars[i].seconds)
        if frame >= plan.frame_count or (starts and frame <= starts[-1][0]):
            continue  # a bar starting in the last frame, or bars shorter than a frame
        warmup = bar_first_frame(plan, plan.bars[i - 1].seconds) if i else frame
        starts.append((frame if starts else 0, plan.bars[i].bar, warmup if starts else 0))
    stops = [first for first, _, _ in starts[1:]] + [plan.frame_count]
    return tuple(Chunk(index, bar, first, stop, warmup)
                 for index, ((first, bar, warmup), stop) in enumerate(zip(starts, stops)))


def chain_start(chunk: Chunk, reads_previous: Callable[[int], bool]) -> tuple[int, bool]:
    """``(e, exact)``: the frame the chain entering ``chunk`` is rendered afresh from, and whether that
    reproduces the uncut chain exactly (frame ``e`` does not read the frame before it). ``reads_previous(k)``
    says whether frame ``k`` reads frame ``k - 1``; frame 0 reads nothing."""
    for frame in range(chunk.first_frame, chunk.warmup_frame - 1, -1):
        if frame == 0 or not reads_previous(frame):
            return frame, True
    return chunk.warmup_frame, False

"""Musical summaries of a FeatureTrack: per bar and per beat of a TempoMap (what per-bar keyframes carry).

A span (bar or beat) covers the frames whose centres lie in ``[start_seconds,
end_seconds)``; a span shorter than a hop takes the frame nearest its middle. Track
time 0 is song time ``audio_start_seconds`` (0: the audio starts with the song).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bridge.features.track import NO_PITCH, SCALAR_COLUMNS, VECTOR_COLUMNS, FeatureTrack
from bridge.timeline.tempo_map import TempoMap

#: Columns summarised by mean and max (those present in the track).
SUMMARY_COLUMNS = SCALAR_COLUMNS + VECTOR_COLUMNS


@dataclass(frozen=True)
class SpanStats:
    """Mean and max of each feature over a span, its onsets and dominant pitch class."""

    frame_count: int
    mean: dict[str, float | tuple[float, ...]]
    max: dict[str, float | tuple[float, ...]]
    onset_count: int
    onset_seconds: tuple[float, ...]  # track seconds
    pitch_class: int | None  # argmax of the chroma summed over the span's pitched frames

    def to_dict(self) -> dict[str, Any]:
        def plain(values: dict[str, Any]) -> dict[str, Any]:
            return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}

        return {
            "frame_count": self.frame_count,
            "mean": plain(self.mean),
            "max": plain(self.max),
            "onset_count": self.onset_count,
            "onsets": list(self.onset_seconds),
            "pitch_class": self.pitch_class,
        }


@dataclass(frozen=True)
class BarSummary:
    """One bar of the song: where it is, its meter, tempo and section, and its :class:`SpanStats`."""

    bar: int
    start_beat: float
    start_seconds: float  # song time
    end_seconds: float
    numerator: int
    denominator: int
    bpm: float
    marker: str | None
    stats: SpanStats

    def to_dict(self) -> dict[str, Any]:
        return {
            "bar": self.bar,
            "start_beat": self.start_beat,
            "start_seconds": self.start_seconds,
            "end_seconds": self.end_seconds,
            "meter": f"{self.numerator}/{self.denominator}",
            "bpm": self.bpm,
            "marker": self.marker,
            **self.stats.to_dict(),
        }


@dataclass(frozen=True)
class BeatSummary:
    """One beat (in the meter's note value: eighths in 7/8) and its :class:`SpanStats`."""

    bar: int
    beat_in_bar: int  # 1-based, as a DAW counts
    start_beat: float  # quarter notes from song start
    start_seconds: float
    end_seconds: float
    stats: SpanStats

    def to_dict(self) -> dict[str, Any]:
        return {
            "bar": self.bar,
            "beat_in_bar": self.beat_in_bar,
            "start_beat": self.start_beat,
            "start_seconds": self.start_seconds,
            "end_seconds": self.end_seconds,
            **self.stats.to_dict(),
        }


def span_stats(track: FeatureTrack, start_seconds: float, end_seconds: float) -> SpanStats:
    """Stats of the frames centred in ``[start_seconds, end_seconds)`` (track time)."""
    lo = int(np.searchsorted(track.seconds, start_seconds, side="left"))
    hi = int(np.searchsorted(track.seconds, end_seconds, side="left"))
    if hi <= lo:
        lo = track.index_at((start_seconds + end_seconds) / 2.0)
        hi = lo + 1
    part = track.slice(lo, hi)
    means: dict[str, Any] = {}
    maxes: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN spans of a partly missing column
        for name in SUMMARY_COLUMNS:
            column = getattr(part, name)
            if column is None:
                continue
            mean = np.nanmean(column.astype(np.float64), axis=0)
            top = np.nanmax(column.astype(np.float64), axis=0)
            means[name] = tuple(float(v) for v in mean) if column.ndim == 2 else float(mean)
            maxes[name] = tuple(float(v) for v in top) if column.ndim == 2 else float(top)
    onset_seconds = tuple(float(s) for s in part.onset_seconds)
    pitch = None
    if part.chroma is not None and part.pitch_class is not None:
        pitched = part.pitch_class >= 0
        if pitched.any():
            pitch = int(np.argmax(np.nansum(part.chroma[pitched], axis=0)))
    return SpanStats(len(part), means, maxes, len(onset_seconds), onset_seconds, pitch)


def _last_bar(track: FeatureTrack, tempo_map: TempoMap, audio_start_seconds: float, last_bar: int | None) -> int:
    """``last_bar``, or by default the bar the audio ends in (its last frame centre)."""
    if last_bar is not None:
        return last_bar
    end_song_seconds = audio_start_seconds + float(track.seconds[-1])
    return tempo_map.bar_at(tempo_map.beat_at(end_song_seconds))


def summarize_bars(track: FeatureTrack, tempo_map: TempoMap, first_bar: int = 1, last_bar: int | None = None,
                   audio_start_seconds: float = 0.0) -> list[BarSummary]:
    """One :class:`BarSummary` per bar from ``first_bar`` through ``last_bar`` (default: the bar the audio ends in)."""
    if not len(track):
        return []
    last_bar = _last_bar(track, tempo_map, audio_start_seconds, last_bar)
    summaries = []
    for bar in range(first_bar, last_bar + 1):
        row = tempo_map.bar(bar)
        end = tempo_map.bar_start_seconds(bar + 1)
        marker = tempo_map.marker_at(row.beat)
        stats = span_stats(track, row.seconds - audio_start_seconds, end - audio_start_seconds)
        summaries.append(BarSummary(bar, row.beat, row.seconds, end, row.numerator, row.denominator, row.bpm,
                                    marker.name if marker else None, stats))
    return summaries


def _beats(tempo_map: TempoMap, first_bar: int, last_bar: int) -> Iterator[tuple[int, int, float, float]]:
    for bar in range(first_bar, last_bar + 1):
        start = tempo_map.bar_start_beat(bar)
        end = tempo_map.bar_start_beat(bar + 1)
        step = 4.0 / tempo_map.meter_at(start).denominator
        count = max(1, round((end - start) / step))
        for k in range(count):
            yield bar, k + 1, start + k * step, min(end, start + (k + 1) * step)


def summarize_beats(track: FeatureTrack, tempo_map: TempoMap, first_bar: int = 1, last_bar: int | None = None,
                    audio_start_seconds: float = 0.0) -> list[BeatSummary]:
    """One :class:`BeatSummary` per beat (the meter's note value) of bars ``first_bar..last_bar``."""
    if not len(track):
        return []
    last_bar = _last_bar(track, tempo_map, audio_start_seconds, last_bar)
    summaries = []
    for bar, beat_in_bar, start_beat, end_beat in _beats(tempo_map, first_bar, last_bar):
        start = tempo_map.seconds_at(start_beat)
        end = tempo_map.seconds_at(end_beat)
        stats = span_stats(track, start - audio_start_seconds, end - audio_start_seconds)
        summaries.append(BeatSummary(bar, beat_in_bar, start_beat, start, end, stats))
    return summaries


__all__ = ["NO_PITCH", "BarSummary", "BeatSummary", "SpanStats", "span_stats", "summarize_bars", "summarize_beats"]

"""The frame contract: a musical :class:`Moment`, built by :func:`moment_at` or, from a bar position
already known, by :func:`moment_from_position` (the part of :func:`moment_at` after the TempoMap lookups).

The export turns each frame's song time into a Moment with :func:`moment_at`; the live preview,
which has a bar position from a transport snapshot, uses :func:`moment_from_position`. Both hand
the Moment to ``renderer.Renderer.render``; nothing else about time reaches the renderer, so the
two paths cannot drift apart. A Moment is a value: same Moment + same preset + same seed + same
state -> same frame (see docs/rendering.md).

Features come from ``bridge.features``: the preview builds its ``FeatureTrack`` from the DAW's
streamed mix (``/daw/pcm``, the export's own extractor) or, without one, from its ``/daw/audio``
readings (``FeatureFrame.from_daw_audio``; see :mod:`renderer.preview.live`); the export from
``analyze_file``.
The Moment holds only the frames in the *past* window ``(seconds - window, seconds]``
(madmom's ``frame_origin="past"``), so an export sees what a live preview could have seen at
that instant, plus ``lookahead_seconds``: an export passes half its frame period, so an onset
or a locator lands on the video frame nearest it (the preview passes none).

This module imports neither torch nor diffusers (export planning and tests use it alone).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.timeline.phase import phase
from bridge.timeline.tempo_map import BarPosition, TempoMap

if TYPE_CHECKING:
    from bridge.features import FeatureTrack

#: Default length of the feature window handed to the renderer, in beats (one 4/4 bar).
DEFAULT_WINDOW_BEATS = 4.0
#: The feature window is never shorter than this, in seconds (fast tempos still see enough past).
MIN_WINDOW_SECONDS = 2.5
#: Number of macro values carried by every Moment (the device's four macro knobs).
MACRO_COUNT = 4


@dataclass(frozen=True)
class Moment:
    """One instant of the song, as the renderer sees it.

    Fields (units in the names, as everywhere in Barlight):

    - ``seconds``: song time from song start (beat 0 is 0 s).
    - ``beat``: quarter notes from song start (may be negative in a count-in).
    - ``bar``: 1-based bar number following every meter change (<= 0 before song start).
    - ``beat_phase``: 0..1 position inside the current counted beat (the meter's note value,
      so an eighth in 6/8); 0 exactly on the beat.
    - ``bar_phase``: 0..1 position inside the bar; 0 on the downbeat.
    - ``beat_in_bar``: counted beats into the bar, 0-based (``2.5`` = halfway through beat 3).
    - ``bpm``: tempo at this instant (quarter notes per minute).
    - ``numerator`` / ``denominator``: the meter in force.
    - ``section``: name of the marker (locator) in force, or ``None`` before the first one.
    - ``features``: a ``bridge.features.FeatureTrack`` holding only the frames whose
      ``seconds`` lie in the past window ``(seconds - window_seconds, seconds]`` (a view,
      no copy), or ``None`` without audio. Not part of equality (tracks compare by identity).
    - ``window_seconds``: length of that window.
    - ``macros``: the four macro values, each 0..1.
    """

    seconds: float
    beat: float
    bar: int
    beat_phase: float
    bar_phase: float
    beat_in_bar: float
    bpm: float
    numerator: int
    denominator: int
    section: str | None = None
    features: FeatureTrack | None = field(default=None, compare=False, repr=False)
    window_seconds: float = 0.0
    macros: tuple[float, ...] = (0.0,) * MACRO_COUNT

    def __post_init__(self) -> None:
        macros = tuple(float(m) for m in self.macros)
        if len(macros) != MACRO_COUNT:
            raise ValueError(f"macros must be {MACRO_COUNT} values, got {len(macros)}")
        for i, value in enumerate(macros):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"macros[{i}] must be in 0..1, got {value!r}")
        object.__setattr__(self, "macros", macros)

    @property
    def beat_seconds(self) -> float:
        """Length of one quarter note here, in seconds."""
        return 60.0 / self.bpm

    @property
    def has_audio(self) -> bool:
        """Whether the window holds at least one feature frame."""
        return self.features is not None and len(self.features) > 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (features reduced to their count), for keyframe files and logs."""
        return {
            "seconds": self.seconds,
            "beat": self.beat,
            "bar": self.bar,
            "beat_phase": self.beat_phase,
            "bar_phase": self.bar_phase,
            "beat_in_bar": self.beat_in_bar,
            "bpm": self.bpm,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "section": self.section,
            "feature_frames": 0 if self.features is None else len(self.features),
            "window_seconds": self.window_seconds,
            "macros": list(self.macros),
        }


def feature_window(features: FeatureTrack | None, start_seconds: float,
                   end_seconds: float) -> FeatureTrack | None:
    """The frames of ``features`` with ``start_seconds < seconds <= end_seconds`` (a view)."""
    if features is None:
        return None
    times = np.asarray(features.seconds)
    lo = int(np.searchsorted(times, start_seconds, side="right"))
    hi = int(np.searchsorted(times, end_seconds, side="right"))
    return features.slice(lo, max(lo, hi))


def moment_at(
    tempo_map: TempoMap,
    features: FeatureTrack | None,
    seconds: float,
    macros: Sequence[float] = (0.0,) * MACRO_COUNT,
    window_beats: float = DEFAULT_WINDOW_BEATS,
    lookahead_seconds: float = 0.0,
) -> Moment:
    """The :class:`Moment` at ``seconds`` of song time: the one builder preview and export share.

    ``features`` is a ``bridge.features.FeatureTrack`` (or ``None`` for silence); the Moment
    gets its frames in the past ``window_beats`` (converted at the local tempo, at least
    :data:`MIN_WINDOW_SECONDS`).
    ``lookahead_seconds`` (default 0: past only, what a live preview can see) extends the
    window forward, and the section is the one at ``seconds + lookahead_seconds``; an export
    passes half its frame period, so an onset and a locator land on the video frame *nearest*
    to them rather than the next one (the frame a bar's keyframe image is). Pure: the same
    arguments give an equal Moment.
    """
    seconds = float(seconds)
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, got {seconds!r}")
    beat = tempo_map.beat_at(seconds)
    marker = tempo_map.marker_at(tempo_map.beat_at(seconds + lookahead_seconds) if lookahead_seconds > 0 else beat)
    return moment_from_position(seconds, beat, tempo_map.position_at(beat), tempo_map.bpm_at(beat),
                                marker.name if marker is not None else None, features, macros, window_beats,
                                lookahead_seconds)


def moment_from_position(
    seconds: float,
    beat: float,
    position: BarPosition,
    bpm: float,
    section: str | None,
    features: FeatureTrack | None,
    macros: Sequence[float] = (0.0,) * MACRO_COUNT,
    window_beats: float = DEFAULT_WINDOW_BEATS,
    lookahead_seconds: float = 0.0,
) -> Moment:
    """The :class:`Moment` at ``seconds`` (song time, the timebase of ``features``) for a position already
    known: :func:`moment_at` passes its TempoMap's, the live preview a transport snapshot's. Pure."""
    seconds = float(seconds)
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, got {seconds!r}")
    count_unit = 4.0 / position.denominator  # quarter notes per counted beat
    beat_in_bar = position.beat_in_bar / count_unit
    beat_phase = phase(beat_in_bar, 1.0)
    window_seconds = max(max(0.0, float(window_beats)) * 60.0 / bpm, MIN_WINDOW_SECONDS)
    if not (math.isfinite(lookahead_seconds) and lookahead_seconds >= 0.0):
        raise ValueError(f"lookahead_seconds must be >= 0, got {lookahead_seconds!r}")
    frames = feature_window(features, seconds - window_seconds, seconds + lookahead_seconds)
    return Moment(
        seconds=seconds,
        beat=beat,
        bar=position.bar,
        beat_phase=min(max(beat_phase, 0.0), 1.0 - 1e-12),
        bar_phase=min(max(position.phase, 0.0), 1.0 - 1e-12),
        beat_in_bar=beat_in_bar,
        bpm=bpm,
        numerator=position.numerator,
        denominator=position.denominator,
        section=section,
        features=frames,
        window_seconds=window_seconds,
        macros=tuple(macros),
    )

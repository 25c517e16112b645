"""No timeline given: estimate one from the audio with librosa's beat tracker (and say so).

The bounce starts at bar 1 (the export's contract), so beat 0 is at 0 s; the tracker
supplies the tempo: the median interval between its beats, held constant. The meter
cannot be heard reliably, so it is ``--meter`` (default 4/4). Sections: none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.errors import InputError
from bridge.timeline.tempo_map import TempoMap
from renderer.export.audio import AudioClip


@dataclass(frozen=True)
class TrackedTempo:
    """The estimate: a constant-tempo map, and what the tracker saw."""

    tempo_map: TempoMap
    bpm: float
    beat_count: int
    first_beat_seconds: float
    spread_bpm: float  # interquartile range of the beat-to-beat tempo: large means a varying tempo

    def describe(self) -> str:
        meter = self.tempo_map.meters[0]
        text = (f"no timeline given: beat-tracked the audio (librosa) at {self.bpm:.2f} BPM, "
                f"{meter.numerator}/{meter.denominator}, bar 1 at 0 s ({self.beat_count} beats found)")
        if self.spread_bpm > 0.05 * self.bpm:
            text += f"; the tempo seems to vary by ±{self.spread_bpm / 2:.1f} BPM, so give --timeline for exact bars"
        return text


def track_tempo(audio: AudioClip, meter: tuple[int, int] = (4, 4), where: str = "AUDIO") -> TrackedTempo:
    """Beat-track ``audio`` and build a constant-tempo :class:`TempoMap` from bar 1 at 0 s."""
    import librosa

    mono = np.mean(audio.samples, axis=0).astype(np.float32)
    _, beats = librosa.beat.beat_track(y=mono, sr=audio.sample_rate, units="time")
    beats = np.asarray(beats, dtype=np.float64)
    if len(beats) < 3:
        raise InputError(where, "no steady beat found to build a timeline from: give --timeline, --bpm or --session")
    intervals = np.diff(beats)
    bpm = float(60.0 / np.median(intervals))
    per_beat = 60.0 / intervals
    spread = float(np.percentile(per_beat, 75) - np.percentile(per_beat, 25))
    return TrackedTempo(TempoMap.constant(round(bpm, 3), *meter), round(bpm, 3), len(beats), float(beats[0]), spread)

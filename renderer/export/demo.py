"""The demo piece of ``barlight demo``: a 24 s arrangement synthesised with numpy, plus its MIDI tempo map.

Bars 1-4 "intro" in 4/4 at 100 BPM; a tempo step to 125 BPM and the marker "drop" at bar 5;
a meter change to 7/8 at bar 9 (bars 9-12). Kick on every counted beat (harder on
downbeats), hats between, a bass note per bar and a pad whose chord follows the section.
Nothing is downloaded and no synthesiser is needed, so it runs on a fresh machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bridge.files import atomic_output
from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint

SAMPLE_RATE = 44100
TICKS_PER_BEAT = 480
LAST_BAR = 12
TAIL_SECONDS = 0.0  # the piece ends on the downbeat of bar 13 (24.0 s)


def demo_tempo_map() -> TempoMap:
    """Intro 4/4 @ 100 BPM, drop @ 125 BPM from bar 5, 7/8 from bar 9."""
    return TempoMap(
        tempo=(TempoPoint(0.0, 100.0), TempoPoint(16.0, 125.0)),
        meters=(Meter(0.0, 4, 4), Meter(32.0, 7, 8)),
        markers=(Marker("intro", 0.0), Marker("drop", 16.0)),
    )


def _envelope(n: int, attack: int, decay_seconds: float, rate: int) -> np.ndarray:
    t = np.arange(n) / rate
    env = np.exp(-t / decay_seconds)
    if attack > 0:
        env[:attack] *= np.linspace(0.0, 1.0, attack, endpoint=False)
    return env


def _kick(rate: int, accent: float) -> np.ndarray:
    n = int(0.35 * rate)
    t = np.arange(n) / rate
    freq = 45.0 + 110.0 * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    return (accent * np.sin(phase) * _envelope(n, 16, 0.12, rate)).astype(np.float32)


def _hat(rate: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.06 * rate)
    noise = rng.standard_normal(n)
    noise = np.diff(noise, prepend=0.0)  # crude high-pass
    return (0.12 * noise * _envelope(n, 4, 0.015, rate)).astype(np.float32)


def _tone(freq: float, seconds: float, rate: int, harmonics: int, decay: float) -> np.ndarray:
    n = int(seconds * rate)
    t = np.arange(n) / rate
    wave = sum(np.sin(2 * np.pi * freq * h * t) / h for h in range(1, harmonics + 1))
    return (wave * _envelope(n, int(0.01 * rate), decay, rate)).astype(np.float32)


def _add(buffer: np.ndarray, sound: np.ndarray, at_seconds: float, rate: int) -> None:
    start = int(round(at_seconds * rate))
    stop = min(len(buffer), start + len(sound))
    if stop > start:
        buffer[start:stop] += sound[: stop - start]


@dataclass(frozen=True)
class DemoPiece:
    """The synthesised audio (stereo float32) and the TempoMap it was played from."""

    samples: np.ndarray  # (2, n)
    sample_rate: int
    tempo_map: TempoMap

    @property
    def duration_seconds(self) -> float:
        return self.samples.shape[1] / self.sample_rate


def synthesize_demo(sample_rate: int = SAMPLE_RATE, seed: int = 7) -> DemoPiece:
    """Play the demo arrangement on :func:`demo_tempo_map`'s grid (every event placed by ``seconds_at``)."""
    tempo_map = demo_tempo_map()
    end_seconds = tempo_map.bar_start_seconds(LAST_BAR + 1) + TAIL_SECONDS
    mono = np.zeros(int(np.ceil(end_seconds * sample_rate)), np.float32)
    pad = np.zeros_like(mono)
    rng = np.random.default_rng(seed)
    roots = {"intro": (55.0, 65.41, 73.42, 65.41), "drop": (49.0, 58.27, 65.41, 73.42)}
    for bar in range(1, LAST_BAR + 1):
        row = tempo_map.bar(bar)
        counted = row.numerator
        unit = 4.0 / row.denominator  # quarter notes per counted beat
        section = tempo_map.marker_at(row.beat)
        root = roots[section.name if section else "intro"][(bar - 1) % 4]
        bar_seconds = tempo_map.bar_start_seconds(bar + 1) - row.seconds
        _add(mono, 0.35 * _tone(root, bar_seconds, sample_rate, 6, 0.5 * bar_seconds), row.seconds, sample_rate)
        chord = sum(_tone(root * 4 * ratio, bar_seconds, sample_rate, 2, bar_seconds) for ratio in (1.0, 1.26, 1.5))
        _add(pad, 0.05 * chord, row.seconds, sample_rate)
        for i in range(counted):
            beat = row.beat + i * unit
            if section is not None and section.name == "intro" and i % 2:
                continue  # the intro kicks on half the beats
            _add(mono, _kick(sample_rate, 0.9 if i == 0 else 0.6), tempo_map.seconds_at(beat), sample_rate)
            _add(mono, _hat(sample_rate, rng), tempo_map.seconds_at(beat + unit / 2), sample_rate)
    left = mono + pad * 1.2
    right = mono + pad * 0.8
    stereo = np.stack([left, right])
    peak = float(np.max(np.abs(stereo))) or 1.0
    return DemoPiece((0.8 * stereo / peak).astype(np.float32), sample_rate, tempo_map)


def write_demo_midi(tempo_map: TempoMap, path: str | os.PathLike[str]) -> Path:
    """The tempo map as a Standard MIDI File (set_tempo, time_signature, marker), as a DAW would export it."""
    import mido

    events: list[tuple[int, int, mido.MetaMessage]] = []

    def tick(beat: float) -> int:
        return int(round(beat * TICKS_PER_BEAT))

    for point in tempo_map.tempo:
        events.append((tick(point.beat), 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(point.bpm))))
    for meter in tempo_map.meters:
        events.append((tick(meter.beat), 1, mido.MetaMessage(
            "time_signature", numerator=meter.numerator, denominator=meter.denominator)))
    for marker in tempo_map.markers:
        events.append((tick(marker.beat), 2, mido.MetaMessage("marker", text=marker.name)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    now = 0
    for at, _order, message in events:
        track.append(message.copy(time=at - now))
        now = at
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    path = Path(path)
    with atomic_output(path) as tmp:
        midi.save(os.fspath(tmp))
    return path


def write_demo(out_dir: str | os.PathLike[str], name: str = "barlight-demo") -> tuple[Path, Path, DemoPiece]:
    """Write ``<name>.wav`` and ``<name>.mid`` into ``out_dir``; returns their paths and the piece."""
    import soundfile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    piece = synthesize_demo()
    wav = out / f"{name}.wav"
    with atomic_output(wav) as tmp:
        soundfile.write(os.fspath(tmp), piece.samples.T, piece.sample_rate, subtype="PCM_16", format="WAV")
    mid = write_demo_midi(piece.tempo_map, out / f"{name}.mid")
    return wav, mid, piece

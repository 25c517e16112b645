"""Training music: seeded random MIDI songs (rendered with FluidSynth) and numpy-synthesised clips.

A song is a list of sections (2-4 bars each) that differ in dynamics, density, register,
instrumentation and drums, so one song spans quiet/loud, dark/bright, sparse/dense
passages. Everything is a pure function of the seed; the tempo and meter are returned so
beat and bar phases are exact.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bridge.errors import BarlightError
from bridge.timeline.tempo_map import InMeter, Meter

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SOUNDFONT_LICENCE = "FluidR3_GM.sf2 by Frank Wen et al., MIT licence (Debian fluid-soundfont-gm, /usr/share/doc/fluid-soundfont-gm/copyright)"
SAMPLE_RATE = 22050
TICKS_PER_BEAT = 480

# GM programs (0-based) by role
PADS = [0, 1, 4, 5, 16, 17, 19, 48, 49, 50, 52, 88, 89, 90, 91, 94]
LEADS = [11, 12, 13, 24, 25, 26, 40, 56, 60, 64, 65, 68, 71, 73, 80, 81, 82, 83]
BASSES = [32, 33, 34, 35, 36, 38, 39, 43]
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10], "dorian": [0, 2, 3, 5, 7, 9, 10]}
DRUMS = {"kick": 36, "snare": 38, "closed_hat": 42, "open_hat": 46, "crash": 49, "ride": 51, "clap": 39, "tom": 45}


@dataclass(frozen=True)
class SongInfo(InMeter):
    """What a generated song is: for the data manifest and for exact beat/bar phases."""

    seed: int
    bpm: float
    numerator: int
    denominator: int
    key: int
    scale: str
    programs: dict[str, int]
    sections: list[dict[str, Any]]
    seconds: float

    def beat_phase(self, seconds: np.ndarray) -> np.ndarray:
        return np.mod(np.asarray(seconds) * self.bpm / 60.0, 1.0)

    def bar_phase(self, seconds: np.ndarray) -> np.ndarray:
        return np.mod(np.asarray(seconds) * self.bpm / 60.0 / self.bar_beats, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_song(seed: int, min_seconds: float = 24.0):
    """A seeded random song -> (mido.MidiFile, SongInfo)."""
    rng = np.random.default_rng(seed)
    bpm = float(rng.choice([rng.uniform(60, 100), rng.uniform(100, 140), rng.uniform(140, 175)]))
    numerator, denominator = [(4, 4), (4, 4), (3, 4), (6, 8), (5, 4)][rng.integers(5)]
    bar_beats = Meter(0.0, numerator, denominator).bar_beats
    key = int(rng.integers(12))
    scale_name = str(rng.choice(list(SCALES)))
    programs = {"pad": int(rng.choice(PADS)), "lead": int(rng.choice(LEADS)), "bass": int(rng.choice(BASSES))}
    seconds_per_beat = 60.0 / bpm
    sections, total_beats = _draw_sections(rng, bar_beats, seconds_per_beat, min_seconds)
    events = _Events(key, SCALES[scale_name])
    for section in sections:
        _play_section(rng, events, section, bar_beats)
    midi = _midi_file(events, bpm, numerator, denominator, programs, total_beats)
    info = SongInfo(seed=seed, bpm=bpm, numerator=numerator, denominator=denominator, key=key, scale=scale_name,
                    programs=programs, sections=sections, seconds=(total_beats + 1.0) * seconds_per_beat)
    return midi, info


def _draw_sections(rng: np.random.Generator, bar_beats: float, seconds_per_beat: float, min_seconds: float
                   ) -> tuple[list[dict[str, Any]], float]:
    """Sections of 2-4 bars, each with its own dynamics, density, register and instruments, until
    the song lasts ``min_seconds``; returns them and the song's length in beats."""
    sections: list[dict[str, Any]] = []
    total_beats = 0.0
    while total_beats * seconds_per_beat < min_seconds:
        bars = int(rng.integers(2, 5))
        section = {
            "start_beat": total_beats,
            "bars": bars,
            "velocity": int(rng.choice([rng.integers(15, 50), rng.integers(50, 95), rng.integers(95, 128)])),
            "density": float(rng.choice([0.5, 1.0, 2.0, 3.0, 4.0])),  # lead notes per beat
            "register": int(rng.choice([-12, 0, 12, 24])),
            "pad": bool(rng.random() < 0.7),
            "lead": bool(rng.random() < 0.65),
            "bass": bool(rng.random() < 0.6),
            "drums": bool(rng.random() < 0.55),
            "hats_per_beat": int(rng.choice([1, 2, 4])),
            "degree": int(rng.integers(7)),
            "lead_program": int(rng.choice(LEADS)) if rng.random() < 0.3 else None,
        }
        if rng.random() < 0.08:  # a break: (almost) silence
            section.update(pad=False, lead=False, bass=False, drums=False)
        sections.append(section)
        total_beats += bars * bar_beats
    return sections, total_beats


class _Events:
    """The song's MIDI messages as (beat, order, message), and its key and scale."""

    def __init__(self, key: int, scale: tuple[int, ...]) -> None:
        self.key, self.scale = key, scale
        self.items: list[tuple[float, int, Any]] = []

    def note(self, beat: float, length: float, channel: int, pitch: int, velocity: int) -> None:
        import mido

        pitch = int(np.clip(pitch, 0, 127))
        velocity = int(np.clip(velocity, 1, 127))
        self.items.append((beat, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        self.items.append((beat + length, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))

    def pitch(self, degree: int, octave_base: int) -> int:
        return octave_base + self.key + self.scale[degree % 7] + 12 * (degree // 7)


def _play_section(rng: np.random.Generator, events: _Events, section: dict[str, Any], bar_beats: float) -> None:
    """A section's pad chords, bass, lead line and drums, bar by bar."""
    import mido

    start, vel, reg = section["start_beat"], section["velocity"], section["register"]
    if section["lead_program"] is not None:
        events.items.append((start, 0, mido.Message("program_change", channel=1, program=section["lead_program"])))
    for bar in range(section["bars"]):
        bar_start = start + bar * bar_beats
        root_degree = (section["degree"] + int(rng.choice([0, 3, 4, 5]))) % 7
        if section["pad"]:
            for third in (0, 2, 4):
                events.note(bar_start, bar_beats * 0.98, 0, events.pitch(root_degree + third, 48 + reg // 2),
                            vel - 10 + int(rng.integers(-8, 8)))
        if section["bass"]:
            for beat in range(int(bar_beats)):
                if rng.random() < 0.8:
                    events.note(bar_start + beat, 0.45, 2, events.pitch(root_degree, 36), vel + int(rng.integers(-10, 10)))
        if section["lead"]:
            n = max(1, int(round(bar_beats * section["density"])))
            step = bar_beats / n
            degree = root_degree + 7
            for i in range(n):
                degree += int(rng.integers(-2, 3))
                if rng.random() < 0.85:
                    events.note(bar_start + i * step, step * 0.9, 1, events.pitch(degree, 60 + reg),
                                vel + int(rng.integers(-15, 10)))
        if section["drums"]:
            _play_drums(rng, events, section, bar, bar_start, bar_beats)


def _play_drums(rng: np.random.Generator, events: _Events, section: dict[str, Any], bar: int, bar_start: float,
                bar_beats: float) -> None:
    vel = section["velocity"]
    for beat in range(int(bar_beats)):
        b = bar_start + beat
        if beat % 2 == 0 or rng.random() < 0.2:
            events.note(b, 0.1, 9, DRUMS["kick"], vel + 10)
        if beat % 2 == 1:
            events.note(b, 0.1, 9, DRUMS["snare"] if rng.random() < 0.7 else DRUMS["clap"], vel)
        for h in range(section["hats_per_beat"]):
            events.note(b + h / section["hats_per_beat"], 0.05, 9, DRUMS["closed_hat"],
                        vel - 20 + int(rng.integers(-10, 10)))
    if bar == 0 and rng.random() < 0.5:
        events.note(bar_start, 1.0, 9, DRUMS["crash"], vel)


def _midi_file(events: _Events, bpm: float, numerator: int, denominator: int, programs: dict[str, int],
               total_beats: float):
    """One-track MIDI file: tempo, meter, programs, then the events in time order."""
    import mido

    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator, time=0))
    for channel, role in ((0, "pad"), (1, "lead"), (2, "bass")):
        track.append(mido.Message("program_change", channel=channel, program=programs[role], time=0))
    items = events.items + [(total_beats + 1.0, 2, mido.Message("note_off", channel=0, note=0, velocity=0))]
    items.sort(key=lambda e: (e[0], e[1]))
    last_tick = 0
    for beat, _, message in items:
        tick = int(round(beat * TICKS_PER_BEAT))
        track.append(message.copy(time=tick - last_tick))
        last_tick = tick
    return midi


def render_song(midi_path: Path, wav_path: Path, seed: int) -> None:
    """FluidSynth -> WAV at 22.05 kHz, then scaled to a seeded random peak level (-20..-1 dBFS)."""
    import soundfile

    if shutil.which("fluidsynth") is None or not SOUNDFONT.is_file():
        raise BarlightError("training data needs fluidsynth and fluid-soundfont-gm "
                            "(apt install fluidsynth fluid-soundfont-gm)")
    tmp = wav_path.with_name(wav_path.stem + ".raw.wav")
    subprocess.run(["fluidsynth", "-ni", "-q", "-F", str(tmp), "-r", str(SAMPLE_RATE), str(SOUNDFONT), str(midi_path)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    audio, rate = soundfile.read(tmp, dtype="float32", always_2d=True)
    tmp.unlink()
    mono = audio.mean(axis=1)
    peak = float(np.max(np.abs(mono))) or 1.0
    level_db = np.random.default_rng(seed + 7_000_000).uniform(-20.0, -1.0)
    mono = mono / peak * 10 ** (level_db / 20)
    write_float_wav(wav_path, mono, rate)


def write_float_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """``samples`` as a float32 WAV at ``path``, written under a temporary name, then renamed."""
    import soundfile

    from bridge.files import atomic_output

    with atomic_output(path) as tmp:
        soundfile.write(tmp, samples, rate, format="WAV", subtype="FLOAT")


def synth_clip(seed: int, seconds: float = 16.0, segment_seconds: float = 0.5,
               sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A numpy-synthesised clip whose loudness, brightness and noisiness/click rate vary independently.

    Segments of ``segment_seconds``; each draws a level (-50..-3 dBFS), a harmonic tone whose
    spectral tilt sets its brightness, a noise share and a click rate; each segment's RMS is its
    level (click peaks may exceed 0 dBFS: it is float audio). Returns (mono float32,
    per-segment parameters) — no FluidSynth needed (used by the fast evaluation test).
    """
    rng = np.random.default_rng(seed)
    n_seg = int(round(seconds / segment_seconds))
    seg_len = int(round(segment_seconds * sample_rate))
    params = {
        "level_db": rng.uniform(-50.0, -3.0, n_seg),
        "tilt": rng.uniform(0.0, 1.0, n_seg),  # 0: dark (fundamental only) .. 1: bright (rich harmonics)
        "noise": rng.uniform(0.0, 1.0, n_seg) ** 1.5,
        "clicks_per_second": rng.choice([0.0, 1.0, 2.0, 4.0, 8.0, 12.0], n_seg),
        "f0_hz": 110.0 * 2 ** (rng.integers(0, 24, n_seg) / 12),
    }
    t = np.arange(seg_len) / sample_rate
    out = []
    for i in range(n_seg):
        f0 = params["f0_hz"][i]
        tone = np.zeros(seg_len)
        rolloff = 3.0 - 2.6 * params["tilt"][i]
        for h in range(1, 40):
            if f0 * h > sample_rate / 2 - 500:
                break
            tone += np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 2 * np.pi)) / h ** rolloff
        tone /= np.sqrt(np.mean(tone ** 2)) + 1e-9
        noise = rng.standard_normal(seg_len)
        rate = params["clicks_per_second"][i]
        clicks = np.zeros(seg_len)
        if rate > 0:
            period = int(sample_rate / rate)
            decay = np.exp(-np.arange(int(0.03 * sample_rate)) / (0.004 * sample_rate))
            for start in range(rng.integers(0, max(1, period // 4)), seg_len - len(decay), period):
                clicks[start:start + len(decay)] += rng.standard_normal(len(decay)) * decay * 4.0
        mix = (1 - params["noise"][i]) * tone + params["noise"][i] * noise + clicks
        mix /= np.sqrt(np.mean(mix ** 2)) + 1e-9
        fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)
        out.append(mix * fade * 10 ** (params["level_db"][i] / 20))
    audio = np.concatenate(out).astype(np.float32)
    return audio, params

"""A short real song for the PCM tests: a MIDI arrangement (its own timeline) rendered by FluidSynth.

Eight bars at 120 BPM in 4/4 (16 s) with locators, in sections that differ in loudness, timbre,
density and pitch (pad intro, verse with bass and drums, loud chorus with a lead and hats, a
quiet break, an outro), so every conditioning source moves. Rendered at 22.05 kHz by FluidSynth
with the FluidR3 GM soundfont (Debian's fluidsynth + fluid-soundfont-gm) and written as 16-bit
stereo, the form a DAW bounce takes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SAMPLE_RATE = 22050
BPM = 120.0
#: (name, bars, velocity, parts): the arrangement, 8 bars.
SECTIONS = (("Intro", 1, 45, "pad"), ("Verse", 2, 80, "pad bass drums"), ("Chorus", 2, 115, "pad bass drums lead hats"),
            ("Break", 1, 40, "pad lead"), ("Outro", 2, 95, "bass drums hats"))
SECONDS = 16.0
CHORDS = ((48, 52, 55), (45, 48, 52), (41, 45, 48), (43, 47, 50))  # C, Am, F, G
TICKS = 480


def write_midi(path: Path) -> Path:
    """The arrangement as a Standard MIDI File: tempo, meter and a locator per section on track 0."""
    import mido

    events: list[tuple[int, int, object]] = []

    def note(beat: float, length: float, channel: int, pitch: int, velocity: int) -> None:
        events.append((round(beat * TICKS), 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((round((beat + length) * TICKS), 0, mido.Message("note_off", channel=channel, note=pitch)))

    bar = 0
    for name, bars, velocity, parts in SECTIONS:
        events.append((bar * 4 * TICKS, 0, mido.MetaMessage("marker", text=name)))
        for b in range(bar, bar + bars):
            chord, start = CHORDS[b % 4], b * 4.0
            if "pad" in parts:
                for pitch in chord:
                    note(start, 3.9, 0, pitch + 12, velocity - 15)
            for beat in range(4):
                if "bass" in parts:
                    note(start + beat, 0.45, 1, chord[0] - 12, velocity)
                if "drums" in parts:
                    note(start + beat, 0.1, 9, 36 if beat % 2 == 0 else 38, velocity)
                if "hats" in parts:
                    note(start + beat + 0.5, 0.05, 9, 42, velocity - 25)
                if "lead" in parts:
                    note(start + beat, 0.4, 2, chord[beat % 3] + 24 + 2 * (b % 2), velocity - 10)
        bar += bars
    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    head = [mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM)), mido.MetaMessage("time_signature"),
            mido.Message("program_change", channel=0, program=89), mido.Message("program_change", channel=1, program=33),
            mido.Message("program_change", channel=2, program=81)]
    track.extend(head)
    last = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - last))
        last = tick
    midi.save(path)
    return path


def render(folder: Path) -> tuple[Path, Path]:
    """``(song.wav, song.mid)`` in ``folder``; skips the calling test without FluidSynth."""
    if shutil.which("fluidsynth") is None or not SOUNDFONT.is_file():
        pytest.skip("needs fluidsynth and fluid-soundfont-gm (apt install fluidsynth fluid-soundfont-gm)")
    midi = write_midi(folder / "song.mid")
    raw = folder / "raw.wav"
    subprocess.run(["fluidsynth", "-ni", "-q", "-F", str(raw), "-r", str(SAMPLE_RATE), str(SOUNDFONT), str(midi)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    audio, rate = soundfile.read(raw, dtype="float32", always_2d=True)
    audio = audio[: int(SECONDS * rate)]
    audio *= 0.7 / max(float(np.abs(audio).max()), 1e-6)
    song = folder / "song.wav"
    soundfile.write(song, audio, rate, subtype="PCM_16")
    raw.unlink()
    return song, midi

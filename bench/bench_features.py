"""Benchmark the audio features against librosa computing the same features, in the same run.

    python bench/bench_features.py [--minutes 4] [--song-dir DIR] [--repeat 3]

Synthesises a stereo 44.1 kHz song (a MIDI arrangement rendered by fluidsynth with the
FluidR3 GM soundfont when both are installed, else a numpy synth), then times:
- ours: ``FeatureExtractor.analyze`` (mel, RMS, peak, 8 bands, centroid, flatness, onset
  strength + onsets, chroma, pitch class, harmonic share),
- librosa, as a user calls it: one feature function per feature from the samples,
- librosa sharing one STFT (its fastest use), with ``librosa.decompose.hpss`` for the balance,
- streaming: the cost of one 512-sample block (one hop) through ``process``.
The whole-file runs are repeated with OpenBLAS at its default thread count and at one
thread (threadpoolctl): on a loaded 2-core machine the threaded matrix products lose.
Prints a table; the numbers go to docs/benchmarks.md ("Audio features").

``--song-dir DIR`` also keeps the MIDI (with section markers) and WAV there, which is how
the picture in docs/features.md was made: ``barlight analyze DIR/song.wav --timeline DIR/song.mid --plot ...``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SAMPLE_RATE = 44100
BPM = 120
#: (name, share of the song) — the arrangement grows and breaks like a pop song.
SECTIONS = (("Intro", 1 / 15), ("Verse", 3 / 15), ("Chorus", 3 / 15), ("Break", 2 / 15),
            ("Chorus 2", 3 / 15), ("Outro", 3 / 15))
PROGRESSION = ((60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62))  # C, Am, F, G
MELODY = (72, 74, 76, 79, 76, 74, 72, 69)


def write_song_midi(path: Path, bars: int) -> None:
    """A 4/4 arrangement at 120 bpm with section markers: pad, bass, drums, lead; sections by SECTIONS."""
    import mido

    tpb = 480
    bar_ticks = 4 * tpb
    events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message); note-offs sort first

    def note(start: int, length: int, channel: int, pitch: int, velocity: int) -> None:
        events.append((start, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((start + length, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))

    starts, bar = [], 0
    for name, share in SECTIONS:
        starts.append((bar, name))
        bar += max(1, round(share * bars))
    section_of = {}
    for i, (first, name) in enumerate(starts):
        last = starts[i + 1][0] if i + 1 < len(starts) else bars
        for b in range(first, min(last, bars)):
            section_of[b] = name
    for b in range(bars):
        section = section_of.get(b, "Outro")
        t0 = b * bar_ticks
        chord = PROGRESSION[b % 4]
        loud = section.startswith("Chorus")
        for pitch in chord:  # pad
            note(t0, bar_ticks - 10, 0, pitch, 70 if loud else 55)
        if section in ("Verse", "Chorus", "Chorus 2", "Outro"):
            for beat in range(4):  # bass: root on every beat, octave on the off-beat
                note(t0 + beat * tpb, tpb // 2, 1, chord[0] - 24, 90)
                note(t0 + beat * tpb + tpb // 2, tpb // 2 - 20, 1, chord[0] - 12, 70)
            for beat in range(4):  # drums: kick 1+3, snare 2+4, hats on eighths
                note(t0 + beat * tpb, 100, 9, 36 if beat % 2 == 0 else 38, 110 if beat % 2 == 0 else 95)
            for eighth in range(8):
                note(t0 + eighth * tpb // 2, 60, 9, 42, 70 if eighth % 2 else 50)
        if section == "Intro" or section == "Break":
            for eighth in range(8):
                note(t0 + eighth * tpb // 2, 60, 9, 42, 45)
        if loud:  # lead melody in eighths
            for eighth in range(8):
                pitch = MELODY[(b * 8 + eighth) % len(MELODY)] + (chord[0] % 12 == 9) * -3
                note(t0 + eighth * tpb // 2, tpb // 2 - 30, 2, pitch, 100)
        if b in {s for s, _ in starts} and b > 0:
            note(t0, tpb * 2, 9, 49, 100)  # crash on each new section

    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    for program, channel in ((89, 0), (33, 1), (81, 2)):  # warm pad, finger bass, saw lead
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    for first, name in starts:
        if first < bars:
            events.append((first * bar_ticks, -1, mido.MetaMessage("marker", text=name)))
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=bar_ticks))
    midi = mido.MidiFile(ticks_per_beat=tpb)
    midi.tracks.append(track)
    midi.save(path)


def render_song(folder: Path, minutes: float) -> tuple[Path, str]:
    """Write folder/song.mid and folder/song.wav (stereo 44.1 kHz); returns the WAV and how it was made."""
    import soundfile as sf

    bars = max(4, round(minutes * 60 * BPM / 240))
    midi = folder / "song.mid"
    wav = folder / "song.wav"
    write_song_midi(midi, bars)
    if shutil.which("fluidsynth") and os.path.exists(SOUNDFONT):
        subprocess.run(["fluidsynth", "-ni", "-g", "0.6", "-F", str(wav), "-r", str(SAMPLE_RATE), SOUNDFONT,
                        str(midi)], check=True, capture_output=True)
        return wav, "fluidsynth + FluidR3_GM"
    rng = np.random.default_rng(0)  # fallback: noise bursts over a chord pad
    n = int(bars * 240 / BPM * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    y = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0))
    for beat in np.arange(0, n / SAMPLE_RATE, 60 / BPM):
        i = int(beat * SAMPLE_RATE)
        y[i:i + 4000] += 0.5 * np.exp(-np.arange(min(4000, n - i)) / 500) * rng.standard_normal(min(4000, n - i))
    sf.write(wav, np.stack([y, 0.9 * y], axis=1).astype(np.float32), SAMPLE_RATE)
    return wav, "numpy synth (fluidsynth not found)"


def ours(samples: np.ndarray, sample_rate: int) -> None:
    from bridge.features import FeatureExtractor

    FeatureExtractor(sample_rate).analyze(samples)


def librosa_per_feature(stereo: np.ndarray, sr: int) -> None:
    """The same feature set, each from the samples, as the librosa docs call them."""
    import librosa

    y = librosa.to_mono(stereo.T)

    kw = {"n_fft": 2048, "hop_length": 512}
    librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=64, **kw))
    librosa.feature.rms(y=y, frame_length=2048, hop_length=512)
    librosa.feature.spectral_centroid(y=y, sr=sr, **kw)
    librosa.feature.spectral_flatness(y=y, **kw)
    envelope = librosa.onset.onset_strength(y=y, sr=sr, n_mels=64, **kw)
    librosa.onset.onset_detect(onset_envelope=envelope, sr=sr, hop_length=512)
    librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0, **kw)
    stft = librosa.stft(y, **kw)
    harmonic, percussive = librosa.decompose.hpss(np.abs(stft) ** 2)
    _bands(np.abs(stft) ** 2, sr)


def librosa_shared_stft(stereo: np.ndarray, sr: int) -> None:
    """The same feature set from one STFT (librosa's fastest use)."""
    import librosa

    y = librosa.to_mono(stereo.T)

    power = np.abs(librosa.stft(y, n_fft=2048, hop_length=512)) ** 2
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64)
    mel_db = librosa.power_to_db(mel)
    librosa.feature.rms(y=y, frame_length=2048, hop_length=512)
    librosa.feature.spectral_centroid(S=np.sqrt(power), sr=sr)
    librosa.feature.spectral_flatness(S=np.sqrt(power))
    envelope = librosa.onset.onset_strength(S=mel_db, sr=sr)
    librosa.onset.onset_detect(onset_envelope=envelope, sr=sr, hop_length=512)
    librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0)
    librosa.decompose.hpss(mel, kernel_size=(9, 9))  # on the mel power, like ours
    _bands(power, sr)


def _bands(power: np.ndarray, sr: int) -> None:
    from bridge.protocol.spec import BAND_EDGES_HZ

    freqs = np.fft.rfftfreq(2048, 1 / sr)
    for lo, hi in zip(BAND_EDGES_HZ, BAND_EDGES_HZ[1:]):
        np.sqrt(power[(freqs >= lo) & (freqs < hi)].sum(axis=0))


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def streaming_block_ms(samples: np.ndarray, sample_rate: int, blocks: int = 2000) -> tuple[float, float]:
    """Median and 99th-percentile cost (ms) of one 512-sample block, after warm-up."""
    from bridge.features import FeatureExtractor

    extractor = FeatureExtractor(sample_rate)
    extractor.process(samples[:8192])
    costs = []
    for i in range(blocks):
        block = samples[8192 + i * 512: 8192 + (i + 1) * 512]
        start = time.perf_counter()
        extractor.process(block)
        costs.append(time.perf_counter() - start)
    costs_ms = np.array(costs) * 1000
    return float(np.median(costs_ms)), float(np.percentile(costs_ms, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--song-dir", type=Path, help="keep song.mid and song.wav here")
    args = parser.parse_args()

    import soundfile as sf

    folder = args.song_dir or Path(tempfile.mkdtemp(prefix="barlight-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    wav, how = render_song(folder, args.minutes)
    print(f"song: {wav} ({how}, {time.perf_counter() - start:.1f} s to make)")
    stereo, sr = sf.read(wav, dtype="float32", always_2d=True)
    mono = stereo.mean(axis=1)
    print(f"audio: {len(stereo) / sr:.1f} s, {stereo.shape[1]} channels, {sr} Hz; machine: {platform.machine()}, "
          f"{os.cpu_count()} cores (shared)")

    import librosa  # noqa: F401  import and filter-bank costs are paid before timing
    from bridge.features import FeatureExtractor

    FeatureExtractor(sr).analyze(stereo[: sr])
    librosa_shared_stft(stereo[: sr], sr)
    librosa_per_feature(stereo[: sr], sr)

    from threadpoolctl import threadpool_limits  # installed with librosa (via scikit-learn)

    duration = len(mono) / sr
    fast = {
        "barlight FeatureExtractor.analyze": lambda: ours(stereo, sr),
        "librosa, one shared STFT": lambda: librosa_shared_stft(stereo, sr),
    }
    best: dict[str, float] = {}
    for threads, label in ((None, "BLAS default threads"), (1, "BLAS 1 thread")):
        with threadpool_limits(threads):
            for _ in range(args.repeat):  # interleaved, so load on a shared machine hits both alike
                for name, run in fast.items():
                    key = f"{name} ({label})"
                    best[key] = min(best.get(key, float("inf")), best_of(1, run))
    best["librosa, one call per feature (BLAS default threads)"] = best_of(1, lambda: librosa_per_feature(stereo, sr))

    print(f"\n{'full feature set, stereo in, ' + format(duration, '.0f') + ' s of audio':62s} {'seconds':>8s} {'x realtime':>10s}")
    for name, seconds in best.items():
        print(f"{name:62s} {seconds:8.2f} {duration / seconds:10.0f}")
    for label in ("BLAS default threads", "BLAS 1 thread"):
        mine = best[f"barlight FeatureExtractor.analyze ({label})"]
        shared = best[f"librosa, one shared STFT ({label})"]
        print(f"speed-up vs librosa shared STFT, {label}: {shared / mine:.1f}x")
    mine = best["barlight FeatureExtractor.analyze (BLAS default threads)"]
    print(f"speed-up vs librosa one call per feature: {best['librosa, one call per feature (BLAS default threads)'] / mine:.1f}x")
    median, p99 = streaming_block_ms(mono, sr)
    print(f"streaming one 512-sample block: median {median:.3f} ms, p99 {p99:.3f} ms "
          f"(budget: {512 / sr * 1000:.1f} ms of audio)")


if __name__ == "__main__":
    main()

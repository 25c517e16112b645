"""Per-bar and per-beat summaries with a TempoMap, and the CLI's bars and plot."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from barlight.cli import main
from bridge.features import FeatureExtractor, summarize_bars, summarize_beats
from bridge.timeline import Marker, Meter, TempoMap, TempoPoint

SR = 22050
NOTES = (261.63, 293.66, 329.63, 349.23)  # C, D, E, F


def song(signals, bpm: float = 120.0, bars: int = 4) -> np.ndarray:
    """4/4 at ``bpm``: bar k holds note k (C, D, E, F) at rising level, with a click on every beat."""
    bar_seconds = 4 * 60.0 / bpm
    parts = [signals.tone(NOTES[k], bar_seconds, SR, amplitude=0.05 * (k + 1)) for k in range(bars)]
    y = np.concatenate(parts)
    beats = np.arange(0, bars * 4) * 60.0 / bpm + 0.01
    return y + signals.clicks(beats, len(y) / SR, SR, amplitude=0.6)


def test_bars_carry_level_onsets_pitch_and_sections(signals):
    track = FeatureExtractor(SR).analyze(song(signals))
    tempo_map = TempoMap.constant(120.0, markers=[Marker("Intro", 0.0), Marker("Verse", 8.0)])
    bars = summarize_bars(track, tempo_map)
    assert [b.bar for b in bars] == [1, 2, 3, 4]
    assert [b.stats.pitch_class for b in bars] == [0, 2, 4, 5]
    assert [b.stats.onset_count for b in bars] == [4, 4, 4, 4]
    means = [b.stats.mean["rms"] for b in bars]
    assert means == sorted(means)
    assert [b.marker for b in bars] == ["Intro", "Intro", "Verse", "Verse"]
    assert bars[1].start_seconds == pytest.approx(2.0) and bars[1].end_seconds == pytest.approx(4.0)
    assert bars[0].stats.max["peak"] >= bars[0].stats.mean["peak"]
    assert len(bars[0].stats.mean["chroma"]) == 12 and len(bars[0].stats.max["bands"]) == 8
    assert bars[0].stats.frame_count == pytest.approx(2.0 / track.hop_seconds, abs=1)
    data = json.loads(json.dumps(bars[2].to_dict(), allow_nan=False))
    assert data["bar"] == 3 and data["meter"] == "4/4" and data["marker"] == "Verse" and data["pitch_class"] == 4


def test_beats_follow_meter_and_tempo_changes(signals):
    track = FeatureExtractor(SR).analyze(song(signals))
    # 7/8 from the start: a beat is an eighth note, a bar 3.5 quarter notes; tempo doubles at bar 2
    tempo_map = TempoMap((TempoPoint(0.0, 120.0), TempoPoint(3.5, 240.0)), (Meter(0.0, 7, 8),))
    beats = summarize_beats(track, tempo_map, last_bar=2)
    assert [b.beat_in_bar for b in beats] == list(range(1, 8)) * 2
    assert beats[1].start_beat == pytest.approx(0.5)
    assert beats[0].end_seconds - beats[0].start_seconds == pytest.approx(0.25)
    assert beats[-1].end_seconds - beats[-1].start_seconds == pytest.approx(0.125)
    assert all(b.stats.frame_count >= 1 for b in beats)


def test_audio_start_shifts_the_bar_grid(signals):
    track = FeatureExtractor(SR).analyze(song(signals))
    tempo_map = TempoMap.constant(120.0)
    shifted = summarize_bars(track, tempo_map, first_bar=2, last_bar=5, audio_start_seconds=2.0)
    assert [b.stats.pitch_class for b in shifted] == [0, 2, 4, 5]


def test_cli_writes_bars_beats_and_a_plot(tmp_path, signals, capsys):
    path = tmp_path / "song.wav"
    sf.write(path, song(signals), SR)
    out, png = tmp_path / "song.json", tmp_path / "song.png"
    assert main(["analyze", str(path), "--bpm", "120", "--meter", "4/4", "--beats",
                 "--json", str(out), "--plot", str(png)]) == 0
    data = json.loads(out.read_text())
    n = data["frame_count"]
    for key in ("time", "rms", "peak", "centroid", "flatness", "onset_strength"):
        assert len(data["frames"][key]) == n
    assert np.shape(data["frames"]["chroma"]) == (n, 12) and np.shape(data["frames"]["bands"]) == (n, 8)
    assert len(data["onsets"]) >= 16
    assert [b["bar"] for b in data["bars"]] == [1, 2, 3, 4] and len(data["beats"]) == 16
    stats = {"frame_count", "mean", "max", "onset_count", "onsets", "pitch_class"}  # as docs/features.md lists them
    assert set(data["bars"][0]) == {"bar", "start_beat", "start_seconds", "end_seconds", "meter", "bpm", "marker"} | stats
    assert set(data["beats"][0]) == {"bar", "beat_in_bar", "start_beat", "start_seconds", "end_seconds"} | stats
    assert data["bars"][0]["meter"] == "4/4" and len(data["bars"][0]["mean"]["chroma"]) == 12
    assert TempoMap.from_dict(data["timeline"]) == TempoMap.constant(120.0, 4, 4)  # TempoMap's own JSON
    assert [row["bar"] for row in data["timeline"]["bars"]] == [1, 2, 3, 4]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    umask = os.umask(0)
    os.umask(umask)
    assert png.stat().st_mode & 0o777 == out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.json", "song.png", "song.wav"]  # no temp files left
    assert "4 bars" in capsys.readouterr().out


def test_cli_refuses_bad_meter_and_missing_folder(tmp_path, signals, capsys):
    path = tmp_path / "song.wav"
    sf.write(path, signals.tone(440.0, 0.5, SR), SR)
    assert main(["analyze", str(path), "--bpm", "120", "--meter", "4/3"]) == 2
    assert main(["analyze", str(path), "--json", str(tmp_path / "nowhere" / "x.json")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and "4/3" in errors[0] and "nowhere" in errors[1]


def test_cli_refuses_options_it_cannot_honour_before_analysing(tmp_path, signals, capsys):
    path = tmp_path / "song.wav"
    sf.write(path, signals.tone(440.0, 0.5, SR), SR)
    cases = [
        (["--beats", "--json", str(tmp_path / "x.json")], "--beats: needs --bpm or --timeline"),
        (["--bpm", "120", "--audio-start", "nan"], "--audio-start: must be within ±3600 seconds"),
        (["--plot", str(tmp_path / "song.jpg")], "--plot: the plot is a PNG picture: name it .png"),
    ]
    for extra, problem in cases:
        assert main(["analyze", str(path), *extra]) == 2, extra
        err = capsys.readouterr().err.strip()
        assert err == f"barlight analyze: error: {problem}" or err.startswith(f"barlight analyze: error: {problem}"), err
        assert "\n" not in err
    # a missing output folder is reported before the audio is even read (here: not audio at all)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio" * 100)
    assert main(["analyze", str(garbage), "--plot", str(tmp_path / "nowhere" / "x.png")]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.wav", "song.wav"]

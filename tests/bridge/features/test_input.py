"""Bad and odd input: silence, NaN, sample rates, channel layouts, files, and the CLI's exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from barlight.cli import main
from bridge.errors import InputError
from bridge.features import FeatureConfig, FeatureExtractor, analyze_file


def test_silence_gives_zeros_never_nan():
    track = FeatureExtractor(44100).analyze(np.zeros(44100, np.float32))
    for name, column in track.columns().items():
        assert np.isfinite(column.astype(float)).all(), name
    for name in ("rms", "peak", "bands", "centroid_hz", "flatness", "onset_strength", "chroma", "harmonic_ratio"):
        assert not getattr(track, name).any(), name
    assert (track.mel == FeatureConfig().floor_db).all()
    assert (track.rms_db == FeatureConfig().floor_db).all()
    assert not track.onset.any()
    assert (track.pitch_class == -1).all()


def test_nan_and_inf_samples_are_replaced_and_counted(signals):
    y = signals.tone(440.0, 1.0, 44100)
    y[1000:1010] = np.nan
    y[5000] = np.inf
    y[6000] = -np.inf
    extractor = FeatureExtractor(44100)
    track = extractor.analyze(y)
    assert track.nonfinite_samples == 12
    assert all(np.isfinite(c.astype(float)).all() for c in track.columns().values())
    for block in np.array_split(y, 10):
        extractor.process(block)
    assert extractor.nonfinite_samples == 12
    extractor.reset()
    assert extractor.nonfinite_samples == 0


@pytest.mark.parametrize("sample_rate", [8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000])
def test_every_sample_rate_gives_the_same_hop_in_seconds_and_the_right_centroid(signals, sample_rate):
    y = signals.tone(1500.0, 0.5, sample_rate)
    extractor = FeatureExtractor(sample_rate)
    track = extractor.analyze(y)
    assert track.hop_seconds == pytest.approx(512 / 44100, rel=0.01)
    assert track.mel.shape[1] == 64
    assert track.centroid_hz[len(track) // 2] == pytest.approx(1500.0, rel=0.05)
    assert track.bands[len(track) // 2].argmax() == 5  # 1414..3162 Hz
    assert np.isfinite(track.mel).all()


@pytest.mark.parametrize("sample_rate", [7999, 192001, 44100.5])
def test_unsupported_sample_rates_are_refused(sample_rate):
    with pytest.raises(ValueError, match="sample_rate"):
        FeatureExtractor(sample_rate)


def test_integer_and_multichannel_blocks(signals):
    y = signals.tone(440.0, 0.5, 44100, amplitude=0.5)
    as_int = np.round(y * 32767).astype(np.int16)
    surround = np.repeat(y[:, None], 6, axis=1)
    extractor = FeatureExtractor(44100)
    reference = extractor.analyze(y)
    np.testing.assert_allclose(extractor.analyze(as_int).rms, reference.rms, rtol=1e-3)
    np.testing.assert_allclose(extractor.analyze(surround).rms, reference.rms, rtol=1e-5)
    with pytest.raises(ValueError, match="1-D or"):
        extractor.analyze(np.zeros((2, 3, 4), np.float32))


@pytest.mark.parametrize("suffix,subtype", [(".wav", "PCM_16"), (".aiff", "PCM_24"), (".flac", "PCM_16"),
                                            (".ogg", "VORBIS"), (".mp3", "MPEG_LAYER_III")])
def test_file_formats_read_like_the_samples(tmp_path, signals, suffix, subtype):
    y = signals.music(1.0, 22050)
    stereo = np.stack([y, y], axis=1) * 0.9
    path = tmp_path / f"music{suffix}"
    sf.write(path, stereo, 22050, subtype=subtype)
    track = analyze_file(path)
    reference = FeatureExtractor(22050).analyze(sf.read(path, dtype="float32")[0])
    assert len(track) == len(reference) and track.sample_rate == 22050
    np.testing.assert_allclose(track.rms, reference.rms, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(track.onset, reference.onset)


def test_long_file_read_in_blocks_equals_whole_analysis(tmp_path, signals, monkeypatch):
    from bridge.features import audio_file

    monkeypatch.setattr(audio_file, "READ_BLOCK_FRAMES", 1000)
    y = signals.music(1.0, 22050)
    path = tmp_path / "blocks.wav"
    sf.write(path, y, 22050, subtype="FLOAT")
    track = analyze_file(path)
    reference = FeatureExtractor(22050).analyze(y)
    np.testing.assert_allclose(track.mel, reference.mel, atol=1e-3)
    np.testing.assert_array_equal(track.onset, reference.onset)


def _send_file(path):
    """``barlight send file``'s reader: the same checks as analyze_file (one opener, open_audio_file)."""
    from bridge.senders.file import FileSource
    from bridge.timeline.tempo_map import TempoMap

    FileSource(path, TempoMap.constant(120.0)).close()


@pytest.mark.parametrize("read", [analyze_file, _send_file], ids=["analyze_file", "FileSource"])
@pytest.mark.parametrize("content,problem", [
    (None, "no such audio file"),
    (b"", "empty file"),
    (b"this is not audio at all" * 10, "cannot read audio"),
    ("zero", "zero-length"),
    ("dir", "directory"),
    ("4 kHz", "sample rate 4000 Hz outside 8000..192000 Hz"),
])
def test_bad_files_raise_one_line_input_errors(tmp_path, content, problem, read):
    path = tmp_path / "bad.wav"
    if content == "zero":
        sf.write(path, np.zeros((0, 2), np.float32), 44100)
    elif content == "4 kHz":
        sf.write(path, np.zeros(4000, np.float32), 4000)
    elif content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read(path)
    assert problem in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("name,content", [("missing.wav", None), ("garbage.wav", b"RIFF1234garbage"),
                                          ("empty.flac", b"")])
def test_cli_exits_2_with_one_line_for_bad_files(tmp_path, capsys, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["analyze", str(path), "--json", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("barlight analyze: error: ") and err.count("\n") == 1 and name in err
    assert not (tmp_path / "out.json").exists()


def test_cli_reports_cleaned_nan_samples(tmp_path, capsys, signals):
    y = signals.tone(440.0, 0.5, 44100)
    y[100:105] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, y, 44100, subtype="FLOAT")
    assert main(["analyze", str(path), "--json", str(tmp_path / "out.json")]) == 0
    assert "replaced 5 NaN/inf samples" in capsys.readouterr().err
    assert json.loads((tmp_path / "out.json").read_text())["nonfinite_samples"] == 5

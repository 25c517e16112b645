"""Musical behaviour on generated signals: onsets at known times, chords, pitch, harmonic balance."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.features import FeatureExtractor

C, E, G, A = 0, 4, 7, 9


@pytest.mark.parametrize("sample_rate", [22050, 44100, 48000])
def test_clicks_are_found_within_one_hop(signals, sample_rate):
    times = [0.31, 0.7, 1.123, 1.5, 2.05, 2.61]
    y = signals.clicks(times, 3.0, sample_rate)
    extractor = FeatureExtractor(sample_rate)
    track = extractor.analyze(y)
    found = track.onset_seconds
    assert len(found) == len(times)
    np.testing.assert_allclose(found, times, atol=extractor.hop_seconds)
    g = extractor.geometry
    if g.n_fft % (2 * g.hop) == 0:  # windows end exactly on frame centres: stamped in (t, t + hop]
        assert (found > np.array(times)).all()


def test_clicks_in_music_are_found_and_streaming_finds_them_too(signals):
    sr = 44100
    times = [0.5, 1.0, 1.5, 2.0]
    y = signals.tone([220.0, 330.0], 2.5, sr, amplitude=0.1, harmonics=4) + signals.clicks(times, 2.5, sr)
    extractor = FeatureExtractor(sr)
    whole = extractor.analyze(y)
    streamed = [f.seconds for block in np.array_split(y, 97) for f in extractor.process(block) if f.onset]
    streamed += [f.seconds for f in extractor.flush() if f.onset]
    np.testing.assert_allclose(streamed, whole.onset_seconds)
    later = whole.onset_seconds[whole.onset_seconds > 0.1]  # the tone itself starts at 0
    np.testing.assert_allclose(later, times, atol=extractor.hop_seconds)


def test_c_major_chord_chroma_peaks_at_c_e_g(signals):
    notes = [signals.note_hz[n] for n in ("C4", "E4", "G4")]
    y = signals.tone(notes, 1.5, 44100, amplitude=0.15, harmonics=3)
    track = FeatureExtractor(44100).analyze(y)
    mean = track.chroma[10:-10].mean(axis=0)
    assert set(np.argsort(mean)[-3:]) == {C, E, G}
    assert mean[[C, E, G]].min() > 1.3 * np.delete(mean, [C, E, G]).max()  # harmonics feed B and D a little
    assert set(track.pitch_class[10:-10]) <= {C, E, G}


def test_a4_has_pitch_class_a_and_silence_has_none(signals):
    y = np.concatenate([signals.tone(440.0, 1.0, 44100), np.zeros(44100, np.float32)])
    track = FeatureExtractor(44100).analyze(y)
    assert track.frame(40).pitch_class == A
    assert track.frame(len(track) - 10).pitch_class is None


def test_harmonic_ratio_separates_chords_from_drums(signals):
    sr = 44100
    chord = signals.tone([261.63, 329.63, 392.0], 2.0, sr, amplitude=0.15, harmonics=4)
    drums = signals.clicks(np.arange(0.05, 2.0, 0.125), 2.0, sr, amplitude=0.9, noise=0.0)
    extractor = FeatureExtractor(sr)
    held = extractor.analyze(chord).harmonic_ratio[20:-20]
    hits = extractor.analyze(drums)
    assert held.mean() > 0.8
    loud = hits.rms_db > -40
    assert hits.harmonic_ratio[loud].mean() < 0.4


def test_centroid_rises_with_a_rising_tone(signals):
    sr = 44100
    y = np.concatenate([signals.tone(f, 0.3, sr) for f in (200, 800, 3200)])
    track = FeatureExtractor(sr).analyze(y)
    c = [track.centroid_hz[track.index_at(t)] for t in (0.15, 0.45, 0.75)]
    assert c[0] < c[1] < c[2]
    assert c[2] == pytest.approx(3200, rel=0.05)

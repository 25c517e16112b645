"""Every feature we compute ourselves is checked against librosa on the same frames."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from bridge.features import FeatureExtractor
from bridge.features.spectral import filter_banks, parseval_weights

SR = 22050



@pytest.fixture
def case(signals):
    y = signals.music(4.0, SR)
    extractor = FeatureExtractor(SR)
    g = extractor.geometry
    power = np.abs(librosa.stft(y, n_fft=g.n_fft, hop_length=g.hop)) ** 2  # center=True, constant padding
    return y, extractor, extractor.analyze(y), power


def correlation(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def test_frame_grid_matches_librosa_centered_stft(case):
    y, extractor, track, power = case
    assert len(track) == power.shape[1]
    np.testing.assert_allclose(track.seconds, librosa.frames_to_time(np.arange(len(track)), sr=SR,
                                                                      hop_length=extractor.geometry.hop))


def test_mel_is_librosa_mel_power_scaled_to_signal_power(case):
    y, extractor, track, power = case
    g = extractor.geometry
    fmin, fmax = extractor.config.mel_range_hz(SR)
    mel = librosa.feature.melspectrogram(S=power, sr=SR, n_mels=64, fmin=fmin, fmax=fmax, norm=None)
    scale = parseval_weights(g.n_fft, filter_banks(extractor.config, SR).window.astype(np.float64))[1]
    ours = 10.0 ** (track.mel / 10.0)
    audible = ours > 1e-9
    np.testing.assert_allclose(ours[audible], (mel.T * scale)[audible], rtol=1e-3)
    assert correlation(track.mel.ravel(), librosa.power_to_db(mel.T * scale, amin=1e-10, top_db=None).ravel()) > 0.999


def test_centroid_flatness_rms_chroma_match_librosa(case):
    y, extractor, track, power = case
    g = extractor.geometry
    centroid = librosa.feature.spectral_centroid(S=np.sqrt(power), sr=SR)[0]
    np.testing.assert_allclose(track.centroid_hz, centroid, rtol=1e-3, atol=0.5)
    assert correlation(track.centroid_hz, centroid) > 0.999
    flatness = librosa.feature.spectral_flatness(S=np.sqrt(power))[0]
    np.testing.assert_allclose(track.flatness, flatness, rtol=1e-3, atol=1e-6)
    rms = librosa.feature.rms(y=y, frame_length=g.n_fft, hop_length=g.hop)[0]
    np.testing.assert_allclose(track.rms, rms, rtol=1e-4, atol=1e-7)
    chroma = librosa.feature.chroma_stft(S=power, sr=SR, tuning=0.0)
    np.testing.assert_allclose(track.chroma, chroma.T, atol=1e-4)


def test_onset_strength_follows_librosa(case):
    y, extractor, track, power = case
    g = extractor.geometry
    reference = librosa.onset.onset_strength(y=y, sr=SR, n_fft=g.n_fft, hop_length=g.hop, n_mels=64)
    assert correlation(track.onset_strength, reference) >= 0.95
    # the same onsets as librosa's detector (ours also reports the chirp starting at 0)
    theirs = librosa.onset.onset_detect(onset_envelope=reference, sr=SR, hop_length=g.hop, units="time")
    ours = track.onset_seconds
    for t in theirs:
        assert np.min(np.abs(ours - t)) <= g.hop_seconds + 1e-9


def test_peak_and_band_levels_of_a_sine(signals):
    y = signals.tone(1000.0, 1.0, 44100, amplitude=0.5)
    track = FeatureExtractor(44100).analyze(y)
    middle = track.frame(len(track) // 2)
    assert middle.peak == pytest.approx(0.5, abs=1e-3)
    assert middle.rms == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    assert middle.rms_db == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.01)
    assert middle.bands[4] == pytest.approx(0.5 / np.sqrt(2), rel=1e-2)  # 707..1414 Hz band
    assert max(middle.bands[:4] + middle.bands[5:]) < 0.01
    # the mel values sum to the signal power (triangles sum to 1 between fmin and fmax)
    assert 10 * np.log10(np.sum(10 ** (np.asarray(middle.mel) / 10))) == pytest.approx(middle.rms_db, abs=0.1)

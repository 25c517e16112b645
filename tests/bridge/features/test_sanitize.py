"""bridge.features.sanitize: NaN/inf and absurd samples are repaired and reported once, for every reader."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import soundfile

from bridge.errors import InputWarning
from bridge.features import FeatureExtractor, analyze_file
from bridge.features.audio_file import read_samples
from bridge.features.sanitize import MAX_AMPLITUDE, SampleCheck


def test_clean_replaces_nonfinite_and_limits_absurd_samples_counting_each():
    check = SampleCheck()
    samples = np.array([0.5, np.nan, np.inf, -np.inf, 1e30, -17.0, 2.0], np.float32)
    cleaned = check.clean(samples)
    assert cleaned.tolist() == [0.5, 0.0, 0.0, 0.0, MAX_AMPLITUDE, -MAX_AMPLITUDE, 2.0]  # a hot 2.0 is music
    assert (check.nonfinite, check.limited) == (3, 2)
    assert np.isnan(samples[1])  # the caller's array is not changed


def test_clean_samples_pass_unchanged_and_without_a_copy():
    samples = np.linspace(-1, 1, 100, dtype=np.float32)
    check = SampleCheck()
    assert check.clean(samples) is samples and check.describe() is None


def test_a_stream_is_reported_once():
    check = SampleCheck()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            check.clean(np.array([np.nan], np.float32))
            check.warn("audio input")
    assert [str(w.message) for w in caught] == ["audio input: replaced 1 NaN/inf sample by 0"]
    assert issubclass(caught[0].category, InputWarning)


@pytest.fixture
def broken_wav(tmp_path):
    x = (0.3 * np.sin(np.linspace(0, 200, 22050))).astype(np.float32)
    x[100], x[200], x[300] = np.nan, np.inf, 1e30
    path = tmp_path / "broken.wav"
    soundfile.write(path, np.stack([x, x]).T, 22050, subtype="FLOAT")
    return path


def test_every_file_reader_repairs_and_names_the_file_once(broken_wav):
    for read in (analyze_file, read_samples):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = read(broken_wav)
        assert [str(w.message) for w in caught] == [
            f"{broken_wav}: replaced 4 NaN/inf samples by 0; limited 2 samples beyond ±16 (+24 dBFS) to it"]
    with pytest.warns(InputWarning):
        track = analyze_file(broken_wav)
    assert (track.nonfinite_samples, track.limited_samples) == (4, 2)
    assert all(np.isfinite(column).all() for column in track.columns().values() if column.dtype.kind == "f")
    with pytest.warns(InputWarning):
        samples, _ = read_samples(broken_wav)
    assert np.isfinite(samples).all() and np.abs(samples).max() <= MAX_AMPLITUDE


def test_streaming_counts_what_it_repaired():
    extractor = FeatureExtractor(22050)
    extractor.process(np.array([np.nan, 0.1, 1e9], np.float32))
    assert (extractor.nonfinite_samples, extractor.sample_check.limited) == (1, 1)

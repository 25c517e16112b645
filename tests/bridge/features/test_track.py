"""FeatureFrame and FeatureTrack values: DAW frames, columns, lookup, JSON round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bridge.features import FeatureExtractor, FeatureFrame, FeatureTrack
from bridge.protocol.spec import BAND_CENTRES_HZ


@pytest.fixture
def track(signals) -> FeatureTrack:
    return FeatureExtractor(22050).analyze(signals.music(2.0, 22050))


def test_daw_frame_estimates_centroid_and_flatness_and_marks_the_rest_missing():
    only_1k = [0.0] * 8
    only_1k[4] = 0.3
    frame = FeatureFrame.from_daw_audio(1.5, 0.3, 0.5, only_1k)
    assert frame.centroid_hz == pytest.approx(BAND_CENTRES_HZ[4])
    assert frame.flatness < 0.01
    assert frame.rms_db == pytest.approx(20 * math.log10(0.3))
    assert set(frame.missing) == {"mel", "onset_strength", "onset", "chroma", "pitch_class", "harmonic_ratio"}
    assert frame.estimated == ("centroid_hz", "flatness")
    pink = FeatureFrame.from_daw_audio(0.0, 0.3, 0.5, [0.1] * 8)  # equal RMS per roughly-octave band
    white_ish = FeatureFrame.from_daw_audio(0.0, 0.3, 0.5, [math.sqrt(c) * 1e-3 for c in BAND_CENTRES_HZ])
    assert white_ish.flatness > pink.flatness > frame.flatness
    assert white_ish.centroid_hz > pink.centroid_hz
    silent = FeatureFrame.from_daw_audio(0.0, 0.0, 0.0, [0.0] * 8)
    assert (silent.centroid_hz, silent.flatness, silent.rms_db) == (0.0, 0.0, -100.0)
    with pytest.raises(ValueError, match="8 values"):
        FeatureFrame.from_daw_audio(0.0, 0.0, 0.0, [0.0] * 7)


def test_measured_frame_has_nothing_missing(track):
    frame = track.frame(10)
    assert frame.missing == () and frame.estimated == ()
    assert len(frame.mel) == 64 and len(frame.chroma) == 12 and len(frame.bands) == 8
    assert FeatureFrame.from_dict(json.loads(json.dumps(frame.to_dict()))) == frame


def test_frames_round_trip_through_from_frames(track):
    again = FeatureTrack.from_frames(track.frames(), track.hop_seconds, track.sample_rate)
    for name, column in track.columns().items():
        np.testing.assert_allclose(getattr(again, name), column, err_msg=name)


def test_from_frames_of_a_daw_feed_has_missing_columns():
    frames = [FeatureFrame.from_daw_audio(i / 60, 0.1, 0.2, [0.01] * 8) for i in range(30)]
    track = FeatureTrack.from_frames(frames)
    assert track.hop_seconds == pytest.approx(1 / 60)
    assert track.mel is None and track.chroma is None and track.onset is None
    assert set(track.missing) == {"mel", "onset_strength", "onset", "chroma", "pitch_class", "harmonic_ratio"}
    assert track.frame(3).missing == frames[3].missing
    assert len(track.onset_seconds) == 0


def test_index_at_and_window(track):
    hop = track.hop_seconds
    assert track.index_at(-5.0) == 0
    assert track.index_at(1e9) == len(track) - 1
    assert track.index_at(10 * hop + 0.4 * hop) == 10
    assert track.index_at(10 * hop + 0.6 * hop) == 11
    around = track.window(1.0, before_seconds=0.1, after_seconds=0.05)
    assert around.seconds[0] >= 1.0 - 0.1 and around.seconds[-1] <= 1.05
    assert len(around) == pytest.approx(0.15 / hop, abs=1.5)
    single = track.window(1.0)
    assert len(single) == 1 and single.seconds[0] == track.seconds[track.index_at(1.0)]


def test_json_round_trip(track):
    data = json.loads(json.dumps(track.to_json_dict(), allow_nan=False))
    assert data["frame_time"] == "centre" and data["sample_rate"] == 22050
    assert len(data["frames"]["chroma"][0]) == 12 and len(data["frames"]["bands"][0]) == 8
    np.testing.assert_allclose(data["onsets"], track.onset_seconds, atol=1e-6)
    again = FeatureTrack.from_json_dict(data)
    for name, column in track.columns().items():
        atol = 5e-4 if name in ("rms_db", "mel", "onset_strength") else 5e-6  # dB to 1/1000, the rest to 1e-6
        np.testing.assert_allclose(getattr(again, name), column, atol=atol, err_msg=name)


def test_columns_are_read_only(track):
    with pytest.raises(ValueError):
        track.rms[0] = 1.0

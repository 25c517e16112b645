"""StreamFeatures: live PCM blocks through the export's extractor give the export's frames; gap frames are left out."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.features import FeatureExtractor
from bridge.features.reduced import estimated_onsets, filled
from bridge.features.stream import StreamFeatures
from bridge.features.track import FeatureTrack
from bridge.pcm_stream import PcmStream, to_int16

RATE = 22050


def music(seconds: float = 3.0) -> np.ndarray:
    """Decaying plucks on a beat grid over a quiet drone: onsets, pitch and level changes."""
    t = np.arange(int(seconds * RATE)) / RATE
    out = 0.05 * np.sin(2 * np.pi * 110 * t)
    for k, start in enumerate(np.arange(0.1, seconds - 0.2, 0.25)):
        n = t >= start
        out[n] += 0.4 * np.sin(2 * np.pi * (220 + 55 * (k % 5)) * (t[n] - start)) * np.exp(-(t[n] - start) * 8)
    return to_int16(out.astype(np.float32))


def streamed(samples: np.ndarray, lost: set[int] = frozenset(), block: int = 512, first: int = 0):
    stream, features, parts = PcmStream(reorder_seconds=0.02), StreamFeatures(), []
    for k, start in enumerate(range(0, len(samples), block)):
        if k in lost:
            continue
        arrival = 10.0 + (first + start + block) / RATE
        for released in stream.add(first + start, RATE, samples[start:start + block], arrival):
            track = features.feed(released)
            if track is not None:
                parts.append(track)
    return FeatureTrack.concatenate(parts), features


def test_streamed_pcm_gives_the_export_extractors_frames():
    audio = music()
    live, features = streamed(audio, first=44100)
    whole = FeatureExtractor(RATE).analyze(audio)
    n = len(live)
    assert n > 0.9 * len(whole) and features.skipped_frames == 0
    assert np.allclose(live.seconds, whole.seconds[:n] + 44100 / RATE)  # on the sender's sample clock
    for name in ("rms_db", "centroid_hz", "flatness", "mel", "chroma", "onset_strength", "harmonic_ratio"):
        assert np.allclose(getattr(live, name), getattr(whole, name)[:n], atol=1e-3), name
    assert np.array_equal(live.onset, whole.onset[:n]) and live.onset.sum() >= 8


def test_frames_touching_a_gap_are_left_out_and_the_rest_match_the_lossless_audio():
    audio = music()
    live, features = streamed(audio, lost={20, 40, 41})
    whole = FeatureExtractor(RATE).analyze(audio)
    assert features.skipped_frames > 0
    index = np.rint(live.seconds * RATE / 256).astype(int)  # hop 256 at 22.05 kHz
    assert len(index) + features.skipped_frames == index[-1] + 1
    for name in ("rms_db", "centroid_hz", "mel", "chroma"):
        assert np.allclose(getattr(live, name), getattr(whole, name)[index], atol=1e-3), name
    gap_seconds = [(20 * 512 / RATE, 21 * 512 / RATE), (40 * 512 / RATE, 42 * 512 / RATE)]
    for lo, hi in gap_seconds:  # nothing analysed from the silence: no frame whose window (512 samples each
        # side at 22.05 kHz) or whose flux's window two hops back holds it
        assert not np.any((live.seconds > lo - 512 / RATE) & (live.seconds < hi + 1024 / RATE))


def test_the_reduced_frame_is_filled_in_one_way():
    bands = np.full((6, 8), 0.01, np.float32)
    bands[3] *= 10.0  # +20 dB in every band: an onset
    onset, rise = estimated_onsets(bands)
    assert onset.tolist() == [False, False, False, True, False, False] and rise[3] == pytest.approx(20.0)
    from bridge.features import FeatureFrame

    frames = [FeatureFrame.from_daw_audio(k * 0.02, float(b.mean()), float(b.max()), b) for k, b in enumerate(bands)]
    reduced = FeatureTrack.from_frames(frames)
    assert reduced.mel is None and reduced.onset is None and reduced.chroma is None
    full = filled(reduced)
    assert full.mel.shape == (6, 64) and np.allclose(full.mel, reduced.rms_db[:, None])
    assert full.onset.tolist() == onset.tolist() and not full.chroma.any()
    measured = FeatureExtractor(RATE).analyze(music(0.5))
    assert filled(measured) is measured

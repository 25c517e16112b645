"""Streaming in blocks of any size equals whole-signal analysis (the madmom equivalence test)."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.features import FeatureConfig, FeatureExtractor, FeatureTrack

SR = 22050


def stream(extractor: FeatureExtractor, y: np.ndarray, sizes) -> FeatureTrack:
    frames = []
    position = 0
    for size in sizes:
        if position >= len(y):
            break
        frames += extractor.process(y[position:position + size])
        position += size
    assert position >= len(y)
    frames += extractor.flush()
    return FeatureTrack.from_frames(frames, extractor.hop_seconds, extractor.sample_rate)


def assert_same(streamed: FeatureTrack, whole: FeatureTrack) -> None:
    assert len(streamed) == len(whole)
    for name, column in whole.columns().items():
        other = getattr(streamed, name)
        if column.dtype.kind in "bi":
            np.testing.assert_array_equal(other, column, err_msg=name)
        else:
            np.testing.assert_allclose(other, column, rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("block", [7, 511, 512, 4096, 100_000])
def test_fixed_block_sizes_equal_whole_file(signals, block):
    y = signals.music(2.0, SR)
    extractor = FeatureExtractor(SR)
    whole = extractor.analyze(y)
    assert whole.onset.sum() >= 3
    assert_same(stream(extractor, y, iter(lambda: block, None)), whole)


def test_one_sample_blocks_equal_whole_file(signals):
    y = signals.music(0.6, SR)
    extractor = FeatureExtractor(SR)
    assert_same(stream(extractor, y, iter(lambda: 1, None)), extractor.analyze(y))


def test_random_block_sizes_and_onset_delay_equal_whole_file(signals):
    y = signals.music(2.0, SR)
    rng = np.random.default_rng(3)
    for config in (FeatureConfig(), FeatureConfig(onset_post_frames=2)):
        extractor = FeatureExtractor(SR, config)
        sizes = (int(s) for s in rng.integers(1, 3000, size=10_000))
        assert_same(stream(extractor, y, sizes), extractor.analyze(y))


def test_stereo_blocks_fold_to_mono_like_the_whole_file(signals):
    left = signals.music(1.0, SR)
    stereo = np.stack([left, 0.5 * left[::-1]], axis=1)
    extractor = FeatureExtractor(SR)
    whole = extractor.analyze(stereo)
    assert_same(stream(extractor, stereo, iter(lambda: 333, None)), whole)
    np.testing.assert_allclose(whole.rms, extractor.analyze(stereo.mean(axis=1)).rms, rtol=1e-6)


def test_without_reset_a_second_stream_differs_and_with_reset_repeats(signals):
    y = signals.music(1.0, SR)
    extractor = FeatureExtractor(SR)
    first = FeatureTrack.from_frames(extractor.process(y) + extractor.flush())
    with pytest.raises(RuntimeError):
        extractor.process(y)
    extractor.reset()
    again = FeatureTrack.from_frames(extractor.process(y) + extractor.flush())
    assert_same(again, first)
    extractor.reset()
    continued = FeatureTrack.from_frames(extractor.process(y) + extractor.process(y) + extractor.flush())
    assert len(continued) > len(first)
    assert not np.allclose(continued.harmonic_ratio[: len(first) // 8], continued.harmonic_ratio[
        len(continued) // 2: len(continued) // 2 + len(first) // 8])


def test_frames_arrive_with_the_documented_latency(signals):
    y = signals.music(1.0, SR)
    for config in (FeatureConfig(), FeatureConfig(onset_post_frames=2)):
        extractor = FeatureExtractor(SR, config)
        received = 0
        for end in range(256, len(y), 256):
            received += len(extractor.process(y[end - 256:end]))
            if not received:
                continue
            newest_centre = (received - 1) * extractor.hop_seconds
            assert end / SR - newest_centre == pytest.approx(extractor.latency_seconds, abs=extractor.hop_seconds)


def test_analyze_leaves_the_stream_alone(signals):
    y = signals.music(1.0, SR)
    extractor = FeatureExtractor(SR)
    head = extractor.process(y[:5000])
    extractor.analyze(y)
    rest = extractor.process(y[5000:]) + extractor.flush()
    assert_same(FeatureTrack.from_frames(head + rest), extractor.analyze(y))

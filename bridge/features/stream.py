"""Features of live PCM: the export's extractor fed as the audio arrives, frames touched by a gap left out.

:class:`StreamFeatures` takes the blocks a :class:`~bridge.pcm_stream.PcmStream` releases (in sample
order, lost audio replaced by silence flagged ``gap``) and runs them through the one
:class:`~bridge.features.extractor.FeatureExtractor`, so a live preview's frames are the ones an
export computes from the same samples (its streaming equals whole-file analysis). A call costs about
the same whatever its length, so audio is batched: ``batch_seconds`` of it per call.

Frames come out on the stream's sample clock: ``seconds`` is the frame centre's sample number over
the rate. A frame whose analysis reached into a gap (its FFT window, or the window ``flux_lag`` hops
back that its onset flux compares with) is left out and counted in :attr:`skipped_frames`: silence
standing in for lost audio must read as neither a quiet passage nor an onset. A new sample rate or
a jump in the numbering starts the analysis afresh.
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from bridge.features.config import FeatureConfig
from bridge.features.extractor import FeatureExtractor
from bridge.features.track import FeatureTrack
from bridge.pcm_stream import PcmBlock


class StreamFeatures:
    """One PCM stream's feature frames (module docstring).

    Thread-safety: one thread. Realtime-safety: a call that completes a batch runs the extractor
    (about 2 ms plus 0.1 ms per hop on a laptop core): keep it off the audio thread.
    """

    def __init__(self, config: FeatureConfig | None = None, batch_seconds: float = 0.02) -> None:
        self.config = config or FeatureConfig()
        self.batch_seconds = batch_seconds
        self.extractor: FeatureExtractor | None = None
        self.skipped_frames = 0
        self.restarts = 0  #: times the analysis started afresh after the first (new rate, jump in the numbering)
        self._origin = 0  # sample number of the extractor's sample 0
        self._next = 0  # sample number the next block must start at
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._gaps: deque[tuple[int, int]] = deque()

    def feed(self, block: PcmBlock) -> FeatureTrack | None:
        """Take the next released block; return the frames that became final (None: none yet)."""
        if self.extractor is None or block.sample_rate != self.extractor.sample_rate or block.first_sample != self._next:
            self._restart(block)
        self._pending.append(block.samples)
        self._pending_samples += len(block.samples)
        self._next = block.end_sample
        if block.gap:
            self._gaps.append((block.first_sample, block.end_sample))
        assert self.extractor is not None
        if self._pending_samples < self.batch_seconds * self.extractor.sample_rate:
            return None
        samples = np.concatenate(self._pending)
        self._pending, self._pending_samples = [], 0
        track = self.extractor.process_track(samples)
        track = self._clean(track) if len(track) else track
        return track if len(track) else None

    def _restart(self, block: PcmBlock) -> None:
        self.restarts += self.extractor is not None
        if self.extractor is None or self.extractor.sample_rate != block.sample_rate:
            self.extractor = FeatureExtractor(block.sample_rate, self.config)
        else:
            self.extractor.reset()
        self._origin = self._next = block.first_sample
        self._pending, self._pending_samples = [], 0
        self._gaps.clear()

    def _clean(self, track: FeatureTrack) -> FeatureTrack:
        """``track`` on the sample clock, without the frames whose analysis touched a gap."""
        assert self.extractor is not None
        rate, geometry = self.extractor.sample_rate, self.extractor.geometry
        centres = self._origin + np.rint(np.asarray(track.seconds) * rate).astype(np.int64)
        reach_back = geometry.pad + self.extractor.flux_lag * geometry.hop
        starts, stops = centres - reach_back, centres + geometry.n_fft - geometry.pad
        touched = np.zeros(len(track), bool)
        for first, end in self._gaps:
            touched |= (starts < end) & (stops > first)
        while self._gaps and self._gaps[0][1] <= starts[-1]:
            self._gaps.popleft()  # no later frame reaches back that far
        self.skipped_frames += int(touched.sum())
        track = dataclasses.replace(track, seconds=centres / rate)
        return track.take(~touched) if touched.any() else track

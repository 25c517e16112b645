"""Audio features: one analysis for files and live streams (contract: docs/features.md).

- :mod:`bridge.features.config` — :class:`FeatureConfig` (seconds/Hz, any rate 8–192 kHz)
- :mod:`bridge.features.frame` — :class:`FeatureFrame`, one hop; ``from_daw_audio`` for OSC feeds
- :mod:`bridge.features.track` — :class:`FeatureTrack`, columnar features of a signal
- :mod:`bridge.features.extractor` — :class:`FeatureExtractor`: ``process``/``flush`` (streaming), ``analyze`` (whole)
- :mod:`bridge.features.stream` — :class:`~bridge.features.stream.StreamFeatures`: the extractor fed by live ``/daw/pcm``
- :mod:`bridge.features.reduced` — the reduced frame of a sender without PCM (``/daw/audio``) and how it is filled in
- :mod:`bridge.features.spectral`, :mod:`~bridge.features.onsets`, :mod:`~bridge.features.hpss` — the pure functions
- :mod:`bridge.features.audio_file` — :func:`analyze_file`
- :mod:`bridge.features.summary` — per-bar / per-beat summaries with a TempoMap
- :mod:`bridge.features.plot` — the producer-facing PNG (matplotlib, imported there only)

librosa is only imported to build filter banks (once per geometry), never at import time.
"""

from bridge.features.audio_file import analyze_file
from bridge.features.config import FeatureConfig, FrameGeometry
from bridge.features.extractor import FeatureExtractor
from bridge.features.frame import FeatureFrame
from bridge.features.summary import BarSummary, BeatSummary, SpanStats, summarize_bars, summarize_beats
from bridge.features.track import FeatureTrack

__all__ = [
    "FeatureConfig",
    "FeatureExtractor",
    "FeatureFrame",
    "FeatureTrack",
    "FrameGeometry",
    "BarSummary",
    "BeatSummary",
    "SpanStats",
    "analyze_file",
    "summarize_bars",
    "summarize_beats",
]

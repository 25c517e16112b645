"""Measures of the shipped presets' pictures, drawn through the Renderer exactly as export draws them.

* :func:`song_frames`: a preset's frames of a song at evenly spaced moments (a bar-locked seed walk,
  the preset's mapping, motion and post-processing), at any size;
* :func:`preset_report`: per preset the median detail share, residual autocorrelation and
  colourfulness (:mod:`renderer.embedded.metrics`), and how well a classifier on colour-blind
  structure descriptors tells the presets apart (fitted on one half of the song, tested on the other);
* :func:`motion_lag`: the lag (in frames) at which the frame-to-frame motion energy of a preset on
  a steady groove is most self-similar, beside the beat and bar periods it should lock to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.timeline.tempo_map import TempoMap

if TYPE_CHECKING:
    from renderer.presets import Preset


def is_monochrome(preset: "Preset") -> bool:
    """Whether every prompt of ``preset`` that names a palette names a monochrome one (and at least one
    does): a black-and-white preset, exempt from the colourfulness goal like the ink look."""
    from renderer.embedded.looks.palettes import PALETTES
    from renderer.embedded.vocabulary import default_vocabulary, split_words

    vocabulary = default_vocabulary()
    grey = {p.name: p.monochrome for p in PALETTES}
    texts = [t for section in preset.prompts.values() for t in (section.calm, section.intense, section.dark,
                                                                section.bright) if t]
    named = []
    for text in texts:
        for word in split_words(text):
            i = vocabulary.index(word)
            if i is not None and vocabulary.words[i].kind == "palette":
                named.append(grey[str(vocabulary.words[i].meaning)])
    return bool(named) and all(named)


def song_frames(renderer, track, tempo_map: TempoMap, seconds: Sequence[float]) -> np.ndarray:
    """``(n, H, W, 3)`` uint8 frames of ``renderer`` at ``seconds`` of a song (state carried frame to frame)."""
    from renderer.moment import moment_at

    frames, state = [], None
    for s in seconds:
        result = renderer.render(moment_at(tempo_map, track, float(s), window_beats=renderer.preset.window_beats),
                                 state)
        frames.append(result.frame)
        state = result.state
    return np.stack(frames)


def preset_report(presets: Sequence[str], track, tempo_map: TempoMap, duration_seconds: float, size: int = 512,
                  frames: int = 24, backend=None) -> dict[str, Any]:
    """Detail, structure, colour and separability of ``presets`` on one song (see the module docstring)."""
    from renderer.embedded import metrics
    from renderer.renderer import Renderer

    seconds = np.linspace(1.0, duration_seconds - 1.0, frames)
    report: dict[str, Any] = {"presets": {}}
    features, labels = [], []
    for k, name in enumerate(presets):
        renderer = Renderer.from_preset(name, backend=backend, size=(size, size))
        backend = renderer.backend  # the weights load once
        pictures = song_frames(renderer, track, tempo_map, seconds).astype(np.float64) / 255.0
        report["presets"][name] = {
            "detail": float(np.median(metrics.detail_share(pictures))),
            "autocorr": float(np.median(metrics.residual_autocorr(pictures))),
            "colourfulness": float(np.median(metrics.colourfulness(pictures))),
            "monochrome": is_monochrome(renderer.preset),
        }
        features.append(metrics.structure_descriptors(pictures))
        labels.append(np.full(len(pictures), k))
    x, y = np.concatenate(features), np.concatenate(labels)
    first = np.tile(np.arange(frames) < frames // 2, len(presets))
    report["told_apart"] = metrics.held_out_accuracy(x[first], y[first], x[~first], y[~first])
    return report


def motion_lag(preset: "str | Preset", bpm: float = 120.0, fps: float = 30.0, seconds: float = 8.0, size: int = 128,
               backend=None) -> dict[str, float]:
    """Motion-energy autocorrelation peak of ``preset`` on a steady groove, in frames, beside the
    beat and bar periods in frames."""
    from bridge.features import FeatureExtractor
    from renderer.embedded import metrics
    from renderer.embedded.probes import groove_audio
    from renderer.embedded.songs import SAMPLE_RATE
    from renderer.renderer import Renderer

    track = FeatureExtractor(SAMPLE_RATE).analyze(groove_audio(bpm, seconds + 2.0))
    renderer = Renderer.from_preset(preset, backend=backend, size=(size, size))
    at = 1.0 + np.arange(int(seconds * fps)) / fps
    frames = song_frames(renderer, track, TempoMap.constant(bpm), at).astype(np.float64) / 255.0
    beat_frames = fps * 60.0 / bpm
    lag = metrics.autocorr_peak_lag(metrics.motion_energy(frames), max_lag=int(round(4 * beat_frames * 1.25)))
    return {"lag_frames": float(lag), "beat_frames": beat_frames, "bar_frames": 4 * beat_frames,
            "lock": renderer.preset.motion.lock}

"""``plot_track``: one PNG a producer can read: waveform, mel spectrogram, chroma, feature curves, bars and sections.

matplotlib (Agg) is imported inside the function, never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from bridge.files import atomic_output
from bridge.features.track import FeatureTrack
from bridge.timeline.tempo_map import TempoMap

PITCH_NAMES = ("C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B")
SECTION_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")


def _bar_step(bar_count: int) -> int:
    """Label every bar, or every 2/4/8/16th so that about 40 labels fit."""
    for step in (1, 2, 4, 8, 16, 32, 64):
        if bar_count / step <= 40:
            return step
    return 128


def _time_step(duration_seconds: float) -> float:
    """Seconds between time ticks: a round step giving about 8 to 16 ticks."""
    for step in (0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if duration_seconds / step <= 16:
            return step
    return 1200.0


def _time_label(seconds: float, _position: object = None) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    if not minutes:
        return f"{rest:g}s"
    return f"{int(minutes)}:{rest:02.0f}" if abs(rest - round(rest)) < 1e-6 else f"{int(minutes)}:{rest:04.1f}"


def _smooth(values: np.ndarray, frames: int) -> np.ndarray:
    """Moving average over ``frames`` (centred, edges shortened) for a readable trend line."""
    if frames <= 1 or len(values) < frames:
        return values
    kernel = np.ones(frames) / frames
    clean = np.nan_to_num(values.astype(np.float64))
    return np.convolve(clean, kernel, mode="same") / np.convolve(np.ones(len(values)), kernel, mode="same")


def _mel_ticks(track: FeatureTrack) -> tuple[list[float], list[str]]:
    """Positions (mel band index) and labels of round frequencies on the mel axis."""
    import librosa

    sample_rate = track.sample_rate or 44100
    n_mels = track.mel.shape[1]
    fmax = min(sample_rate / 2.0, 20000.0)
    centres = librosa.mel_frequencies(n_mels=n_mels + 2, fmin=0.0, fmax=fmax)[1:-1]
    positions, labels = [], []
    for hz, label in ((100, "100"), (300, "300"), (1000, "1k"), (3000, "3k"), (10000, "10k")):
        if centres[0] <= hz <= centres[-1]:
            positions.append(float(np.interp(hz, centres, np.arange(n_mels))))
            labels.append(label)
    return positions, labels


def _wave_panel(a: Any, track: FeatureTrack, waveform: Sequence[float] | None) -> None:
    """Peak and RMS envelopes (or the samples), onsets as ticks at the bottom."""
    seconds = track.seconds
    if waveform is not None:
        samples = np.asarray(waveform, dtype=np.float32)
        t = np.arange(len(samples)) / (track.sample_rate or 1)
        a.plot(t, samples, color="#3b5b92", linewidth=0.3)
    else:
        a.fill_between(seconds, -track.peak, track.peak, color="#9db4d9", linewidth=0, label="peak")
        a.fill_between(seconds, -track.rms, track.rms, color="#3b5b92", linewidth=0, label="RMS")
    top = float(max(1e-3, np.nanmax(track.peak))) if len(track) else 1.0
    a.set_ylim(-1.05 * top, 1.05 * top)
    a.set_yticks([])
    a.set_ylabel("wave")
    if track.onset is not None:
        for t in track.onset_seconds:
            a.axvline(t, ymin=0.0, ymax=0.08, color="#c44e52", linewidth=0.6)


def _mel_panel(a: Any, track: FeatureTrack) -> None:
    """The mel spectrogram, 80 dB under its peak, with Hz ticks."""
    seconds = track.seconds
    end = track.duration_seconds
    if track.mel is not None and len(track):
        mel = track.mel.T
        vmax = float(np.nanmax(mel))
        a.imshow(mel, origin="lower", aspect="auto", cmap="magma", vmin=vmax - 80.0, vmax=vmax,
                 extent=(seconds[0] - track.hop_seconds / 2, end - track.hop_seconds / 2, -0.5, mel.shape[0] - 0.5),
                 interpolation="antialiased")
        positions, labels = _mel_ticks(track)
        a.set_yticks(positions, labels)
    a.set_ylabel("mel (Hz)")


def _chroma_panel(a: Any, track: FeatureTrack) -> None:
    """Chroma, blank where the audio is near silence."""
    seconds = track.seconds
    end = track.duration_seconds
    audible = (track.rms_db > -60.0)[None, :]  # chroma of near-silence is noise: leave it blank
    a.imshow(np.nan_to_num(track.chroma.T) * audible, origin="lower", aspect="auto", cmap="Greens", vmin=0, vmax=1,
             extent=(seconds[0] - track.hop_seconds / 2, end - track.hop_seconds / 2, -0.5, 11.5),
             interpolation="antialiased")
    a.set_yticks([0, 2, 4, 5, 7, 9, 11], [PITCH_NAMES[i] for i in (0, 2, 4, 5, 7, 9, 11)], fontsize=8)
    a.set_ylabel("chroma")


def _level_panel(a: Any, track: FeatureTrack) -> None:
    """Peak and RMS level in dBFS, onset strength and onsets on a second axis."""
    seconds = track.seconds
    peak_db = 20 * np.log10(np.maximum(track.peak, 1e-5))
    a.plot(seconds, peak_db, color="#9db4d9", linewidth=0.7, label="peak dBFS")
    a.plot(seconds, track.rms_db, color="#3b5b92", linewidth=0.9, label="RMS dBFS")
    floor = float(np.nanpercentile(track.rms_db, 5)) if len(track) else -60.0
    a.set_ylim(max(-100.0, min(floor - 6.0, -30.0)), 3.0)
    a.set_ylabel("dBFS")
    if track.onset_strength is not None:
        b = a.twinx()
        b.plot(seconds, track.onset_strength, color="#c44e52", linewidth=0.5, alpha=0.6, label="onset strength")
        if track.onset is not None and len(track.onset_seconds) <= 400:  # beyond that, the ticks on top say it
            b.plot(track.onset_seconds, track.onset_strength[track.onset], "v", color="#c44e52", markersize=3,
                   label="onsets")
        b.set_ylabel("flux (dB)", color="#c44e52")
        a.set_zorder(b.get_zorder() + 1)  # level lines above the flux
        a.patch.set_visible(False)
        b.set_ylim(0, max(1.0, float(np.nanpercentile(track.onset_strength, 99.5)) * 1.3) if len(track) else 1.0)
        b.legend(loc="upper right", fontsize=7, ncol=2, framealpha=0.6)
    a.legend(loc="upper left", fontsize=7, ncol=2, framealpha=0.6)


def _timbre_panel(a: Any, track: FeatureTrack) -> None:
    """Centroid and harmonic share, raw (faint) and as a trend (0.25 s or longer), and flatness."""
    seconds = track.seconds
    end = track.duration_seconds
    trend_seconds = max(0.25, end / 400.0)  # about 400 trend points across the picture
    span = max(1, round(trend_seconds / track.hop_seconds)) if track.hop_seconds > 0 else 1
    a.plot(seconds, track.centroid_hz / 1000.0, color="#55a868", linewidth=0.4, alpha=0.3)
    a.plot(seconds, _smooth(track.centroid_hz, span) / 1000.0, color="#2f7d43", linewidth=1.2,
           label="centroid (kHz)")
    a.set_ylabel("kHz", color="#2f7d43")
    a.set_ylim(0, max(1.0, float(np.nanpercentile(track.centroid_hz, 99)) / 1000.0 * 1.15) if len(track) else 1.0)
    b = a.twinx()
    if track.harmonic_ratio is not None:
        b.plot(seconds, track.harmonic_ratio, color="#8172b3", linewidth=0.4, alpha=0.3)
        b.plot(seconds, _smooth(track.harmonic_ratio, span), color="#5a4a9c", linewidth=1.2, label="harmonic share")
    b.plot(seconds, _smooth(track.flatness, span), color="#937860", linewidth=1.0, label="flatness")
    b.set_ylim(0, 1.05)
    b.set_ylabel("0..1")
    a.legend(loc="upper left", fontsize=7, framealpha=0.6)
    b.legend(loc="upper right", fontsize=7, ncol=2, framealpha=0.6)


def plot_track(track: FeatureTrack, path: str | os.PathLike[str], tempo_map: TempoMap | None = None,
               title: str = "", waveform: Sequence[float] | None = None, dpi: int = 110) -> None:
    """Write a PNG of ``track`` to ``path`` (atomically); with ``tempo_map``, bar lines, numbers and sections.

    ``waveform``: optional mono samples for the top panel; without it the panel shows the
    per-frame peak and RMS envelopes (which is what the eye reads at song scale anyway).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    end = track.duration_seconds
    panels = [("wave", 1.2), ("mel", 2.0)]
    if track.chroma is not None:
        panels.append(("chroma", 1.0))
    panels += [("level", 1.0), ("timbre", 1.0)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(15, 9.5), sharex=True, dpi=dpi,
                             gridspec_kw={"height_ratios": [h for _, h in panels], "hspace": 0.08})
    ax = dict(zip((name for name, _ in panels), axes))
    fig.subplots_adjust(left=0.07, right=0.93, top=0.90, bottom=0.06)

    _wave_panel(ax["wave"], track, waveform)
    _mel_panel(ax["mel"], track)
    if "chroma" in ax:
        _chroma_panel(ax["chroma"], track)
    _level_panel(ax["level"], track)
    _timbre_panel(ax["timbre"], track)

    axes[-1].xaxis.set_major_locator(MultipleLocator(_time_step(end)))
    axes[-1].xaxis.set_major_formatter(FuncFormatter(_time_label))
    axes[-1].set_xlabel("time (song seconds from the start of the audio)")
    axes[-1].set_xlim(0, max(end, 1e-3))

    if tempo_map is not None and len(track):
        _draw_bars(fig, axes, tempo_map, end)
    fig.suptitle(title, x=0.07, ha="left", fontsize=12, y=0.985)

    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _draw_bars(fig: object, axes: Sequence[object], tempo_map: TempoMap, end_seconds: float) -> None:
    """Bar lines through every panel, bar numbers on top, marker sections as coloured bands."""
    bars = list(tempo_map.bars_in_seconds(0.0, end_seconds))
    step = _bar_step(len(bars))
    top = axes[0]
    for row in bars:
        strong = (row.bar - 1) % step == 0
        for a in axes:
            a.axvline(row.seconds, color="white" if a is axes[1] else "#333333",
                      linewidth=0.6 if strong else 0.25, alpha=0.6 if strong else 0.3)
        if strong:
            top.annotate(str(row.bar), (row.seconds, 1.0), xycoords=("data", "axes fraction"),
                         xytext=(2, 2), textcoords="offset points", fontsize=7, color="#333333")
    markers = [m for m in tempo_map.markers if tempo_map.seconds_at(m.beat) < end_seconds]
    for i, marker in enumerate(markers):
        start = max(0.0, tempo_map.seconds_at(marker.beat))
        stop = tempo_map.seconds_at(markers[i + 1].beat) if i + 1 < len(markers) else end_seconds
        colour = SECTION_COLOURS[i % len(SECTION_COLOURS)]
        top.axvspan(start, stop, ymin=0.92, ymax=1.0, color=colour, alpha=0.85, linewidth=0)
        for a in axes:
            a.axvline(start, color=colour, linewidth=1.4)
        top.annotate(marker.name, (start, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 12),
                     textcoords="offset points", fontsize=9, fontweight="bold", color=colour)
    meter = tempo_map.meter_at(0.0)
    top.annotate(f"{tempo_map.bpm_at(0.0):g} bpm  {meter.numerator}/{meter.denominator}  (bar numbers above)",
                 (1.0, 1.0), xycoords="axes fraction", xytext=(0, 26), textcoords="offset points",
                 ha="right", fontsize=8, color="#555555")

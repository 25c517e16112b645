"""FeatureFrame: the audio features of one analysis hop, as a value (see docs/features.md)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.protocol.spec import BAND_CENTRES_HZ, BAND_EDGES_HZ

N_BANDS = len(BAND_CENTRES_HZ)
N_CHROMA = 12
#: Fields a DAW sender cannot carry; ``from_daw_audio`` sets these to None (missing).
DAW_MISSING = ("mel", "onset_strength", "onset", "chroma", "pitch_class", "harmonic_ratio")
#: Fields ``from_daw_audio`` estimates from the 8 bands (marked in ``estimated``).
DAW_ESTIMATED = ("centroid_hz", "flatness")
RMS_FLOOR_DB = -100.0


def amplitude_db(amplitude: float, floor_db: float = RMS_FLOOR_DB) -> float:
    """``20 log10(amplitude)`` in dBFS (a full-scale square wave is 0 dB), floored at ``floor_db``."""
    if not amplitude > 10.0 ** (floor_db / 20.0):
        return floor_db
    return 20.0 * math.log10(amplitude)


@dataclass(frozen=True)
class FeatureFrame:
    """Features of one hop. ``seconds`` is the centre of the analysis window, from the first sample.

    Levels are linear full-scale amplitudes (1.0 = digital full scale) unless named ``_db``.
    A field is None when its source could not provide it (a DAW sender only sends
    rms, peak and 8 bands): see :attr:`missing`.
    """

    seconds: float
    rms: float
    rms_db: float
    peak: float
    bands: tuple[float, ...]  # 8 protocol bands (BAND_CENTRES_HZ), RMS of the signal in each
    centroid_hz: float
    flatness: float
    mel: tuple[float, ...] | None = None  # n_mels values, dB of the mean-square power under each mel filter
    onset_strength: float | None = None  # spectral flux, mean dB rise over mel bands
    onset: bool | None = None  # an onset peaks on this frame
    chroma: tuple[float, ...] | None = None  # 12 pitch classes from C, max 1
    pitch_class: int | None = None  # dominant pitch class 0 (C) .. 11 (B); None for silence or missing
    harmonic_ratio: float | None = None  # harmonic share of the energy, 0..1
    estimated: tuple[str, ...] = ()  # fields estimated from the bands rather than measured

    @property
    def missing(self) -> tuple[str, ...]:
        """Names of the fields this frame lacks (None); pitch_class None on a measured frame means 'no pitch'."""
        return tuple(
            name for name in DAW_MISSING
            if getattr(self, name) is None and not (name == "pitch_class" and self.chroma is not None)
        )

    @classmethod
    def from_daw_audio(cls, seconds: float, rms: float, peak: float, bands: Sequence[float]) -> FeatureFrame:
        """A frame from what ``/daw/audio`` carries; centroid and flatness estimated from the bands, the rest missing.

        Centroid: band centres weighted by band amplitude. Flatness: geometric over
        arithmetic mean of the band powers per Hz (each band's power spread over its width),
        the band-resolution analogue of the spectral flatness.
        """
        values = tuple(float(b) for b in bands)
        if len(values) != N_BANDS:
            raise ValueError(f"bands must have {N_BANDS} values, got {len(values)}")
        clean = [b if math.isfinite(b) and b > 0.0 else 0.0 for b in values]
        total = sum(clean)
        centroid = sum(c * b for c, b in zip(BAND_CENTRES_HZ, clean)) / total if total > 0.0 else 0.0
        widths = [hi - lo for lo, hi in zip(BAND_EDGES_HZ, BAND_EDGES_HZ[1:])]
        density = [b * b / w for b, w in zip(clean, widths)]
        mean = sum(density) / N_BANDS
        if mean > 0.0:
            geometric = math.exp(sum(math.log(max(d, mean * 1e-12)) for d in density) / N_BANDS)
            flat = min(1.0, geometric / mean)
        else:
            flat = 0.0
        rms = float(rms) if math.isfinite(rms) else 0.0
        return cls(
            seconds=float(seconds),
            rms=rms,
            rms_db=amplitude_db(rms),
            peak=float(peak) if math.isfinite(peak) else 0.0,
            bands=tuple(clean),
            centroid_hz=centroid,
            flatness=flat,
            estimated=DAW_ESTIMATED,
        )

    def replace(self, **changes: Any) -> FeatureFrame:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for name in ("bands", "mel", "chroma", "estimated"):
            if data[name] is not None:
                data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureFrame:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        for name in ("bands", "mel", "chroma", "estimated"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        return cls(**values)

"""FeatureTrack: features of a whole signal, one numpy array per feature (columnar)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bridge.features.frame import DAW_ESTIMATED, N_BANDS, N_CHROMA, FeatureFrame

#: Scalar float columns, then vector columns (frames x width), then the rest, in FeatureFrame order.
SCALAR_COLUMNS = ("rms", "rms_db", "peak", "centroid_hz", "flatness", "onset_strength", "harmonic_ratio")
VECTOR_COLUMNS = ("bands", "mel", "chroma")
OPTIONAL_COLUMNS = ("mel", "onset_strength", "onset", "chroma", "pitch_class", "harmonic_ratio")
NO_PITCH = -1  # pitch_class value for "no dominant pitch class"
DB_COLUMNS = ("rms_db", "mel", "onset_strength")  # written to JSON with DB_DECIMALS decimals (1/1000 dB)
DB_DECIMALS = 3


@dataclass(frozen=True, eq=False)
class FeatureTrack:
    """Frames ``0..n-1`` hop_seconds apart; ``seconds[i]`` is frame i's window centre.

    Columns: ``seconds``, ``rms``, ``rms_db``, ``peak``, ``centroid_hz``, ``flatness``,
    ``onset_strength``, ``harmonic_ratio`` (n,), ``bands`` (n, 8), ``mel`` (n, n_mels),
    ``chroma`` (n, 12), ``onset`` (n, bool), ``pitch_class`` (n, int, -1 = none).
    Optional columns are None when the source lacked them (a DAW feed). Arrays are
    read-only; ``nonfinite_samples`` counts NaN/inf input samples that were replaced by 0 and
    ``limited_samples`` those limited to ±16 (:mod:`bridge.features.sanitize`).
    """

    seconds: np.ndarray
    rms: np.ndarray
    rms_db: np.ndarray
    peak: np.ndarray
    bands: np.ndarray
    centroid_hz: np.ndarray
    flatness: np.ndarray
    mel: np.ndarray | None
    onset_strength: np.ndarray | None
    onset: np.ndarray | None
    chroma: np.ndarray | None
    pitch_class: np.ndarray | None
    harmonic_ratio: np.ndarray | None
    hop_seconds: float
    sample_rate: int | None = None
    nonfinite_samples: int = 0
    limited_samples: int = 0
    estimated: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.seconds)
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                if len(value) != n:
                    raise ValueError(f"column {field.name} has {len(value)} rows, seconds has {n}")
                value.setflags(write=False)

    # -- access -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.seconds)

    @property
    def duration_seconds(self) -> float:
        return float(self.seconds[-1] + self.hop_seconds) if len(self) else 0.0

    @property
    def onset_seconds(self) -> np.ndarray:
        """Times (seconds) of the detected onsets."""
        if self.onset is None:
            return np.zeros(0)
        return self.seconds[self.onset]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in OPTIONAL_COLUMNS if getattr(self, name) is None)

    def columns(self) -> dict[str, np.ndarray]:
        """The present columns by name."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }

    def frame(self, index: int) -> FeatureFrame:
        """Frame ``index`` as a :class:`FeatureFrame` (negative indices count from the end)."""
        i = range(len(self))[index]

        def scalar(name: str) -> float | None:
            column = getattr(self, name)
            return None if column is None else float(column[i])

        def vector(name: str) -> tuple[float, ...] | None:
            column = getattr(self, name)
            return None if column is None else tuple(float(v) for v in column[i])

        pitch = None if self.pitch_class is None or self.pitch_class[i] < 0 else int(self.pitch_class[i])
        return FeatureFrame(
            seconds=float(self.seconds[i]),
            rms=float(self.rms[i]),
            rms_db=float(self.rms_db[i]),
            peak=float(self.peak[i]),
            bands=vector("bands"),
            centroid_hz=float(self.centroid_hz[i]),
            flatness=float(self.flatness[i]),
            mel=vector("mel"),
            onset_strength=scalar("onset_strength"),
            onset=None if self.onset is None else bool(self.onset[i]),
            chroma=vector("chroma"),
            pitch_class=pitch,
            harmonic_ratio=scalar("harmonic_ratio"),
            estimated=self.estimated,
        )

    def frames(self) -> list[FeatureFrame]:
        return [self.frame(i) for i in range(len(self))]

    def index_at(self, seconds: float) -> int:
        """Index of the frame whose centre is nearest ``seconds`` (clamped to the track)."""
        if not len(self):
            raise IndexError("empty feature track")
        i = int(np.searchsorted(self.seconds, seconds))
        if i >= len(self):
            return len(self) - 1
        if i > 0 and seconds - self.seconds[i - 1] <= self.seconds[i] - seconds:
            return i - 1
        return i

    def slice(self, start: int, stop: int) -> FeatureTrack:
        """Frames ``start..stop-1`` as a track (views, no copy)."""
        changes = {name: column[start:stop] for name, column in self.columns().items()}
        return dataclasses.replace(self, **changes)

    def take(self, rows: np.ndarray) -> FeatureTrack:
        """The frames ``rows`` selects (a boolean mask or indices, in order) as a track (copies)."""
        changes = {name: column[rows] for name, column in self.columns().items()}
        return dataclasses.replace(self, **changes)

    def window(self, seconds: float, before_seconds: float = 0.0, after_seconds: float = 0.0) -> FeatureTrack:
        """The frames whose centres lie in ``[seconds - before_seconds, seconds + after_seconds]``.

        With both spans 0 (or too short to hold a centre) it is the single nearest frame.
        """
        start = int(np.searchsorted(self.seconds, seconds - before_seconds, side="left"))
        stop = int(np.searchsorted(self.seconds, seconds + after_seconds, side="right"))
        if stop <= start and len(self):
            start = self.index_at(seconds)
            stop = start + 1
        return self.slice(start, stop)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_frames(cls, frames: Sequence[FeatureFrame], hop_seconds: float | None = None,
                    sample_rate: int | None = None) -> FeatureTrack:
        """Stack frames into columns. A field missing in every frame becomes None; missing in some, NaN (-1 for pitch)."""
        frames = list(frames)
        if hop_seconds is None:
            hop_seconds = float(np.median(np.diff([f.seconds for f in frames]))) if len(frames) > 1 else 0.0

        def stack(name: str, width: int | None, dtype: Any, fill: Any) -> np.ndarray | None:
            values = [getattr(f, name) for f in frames]
            if frames and all(v is None for v in values):
                return None
            if width is None:
                return np.array([fill if v is None else v for v in values], dtype=dtype)
            width = width or max((len(v) for v in values if v is not None), default=0)
            return np.array([[fill] * width if v is None else v for v in values], dtype=dtype).reshape(-1, width)

        n_mels = max((len(f.mel) for f in frames if f.mel is not None), default=0)
        estimated = tuple(sorted({name for f in frames for name in f.estimated}, key=DAW_ESTIMATED.index))
        pitch = [NO_PITCH if f.pitch_class is None else f.pitch_class for f in frames]
        any_chroma = any(f.chroma is not None for f in frames)
        return cls(
            seconds=np.array([f.seconds for f in frames], dtype=np.float64),
            rms=stack("rms", None, np.float32, np.nan),
            rms_db=stack("rms_db", None, np.float32, np.nan),
            peak=stack("peak", None, np.float32, np.nan),
            bands=stack("bands", N_BANDS, np.float32, np.nan),
            centroid_hz=stack("centroid_hz", None, np.float32, np.nan),
            flatness=stack("flatness", None, np.float32, np.nan),
            mel=stack("mel", n_mels, np.float32, np.nan),
            onset_strength=stack("onset_strength", None, np.float32, np.nan),
            onset=stack("onset", None, bool, False),
            chroma=stack("chroma", N_CHROMA, np.float32, np.nan),
            pitch_class=np.array(pitch, dtype=np.int16) if any_chroma else None,
            harmonic_ratio=stack("harmonic_ratio", None, np.float32, np.nan),
            hop_seconds=float(hop_seconds),
            sample_rate=sample_rate,
            estimated=estimated,
        )

    @classmethod
    def concatenate(cls, tracks: Sequence[FeatureTrack]) -> FeatureTrack:
        """Tracks one after another (same hop, same columns present)."""
        first = tracks[0]
        changes = {name: np.concatenate([getattr(t, name) for t in tracks]) for name in first.columns()}
        return dataclasses.replace(first, nonfinite_samples=sum(t.nonfinite_samples for t in tracks),
                                   limited_samples=sum(t.limited_samples for t in tracks), **changes)

    # -- serialisation ------------------------------------------------------------------

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON types: metadata plus ``frames`` (column name -> list), ``onsets`` (seconds).

        Floats are rounded to 6 decimals, dB columns (``rms_db``, ``mel``, ``onset_strength``) to 3.
        """

        def plain(column: np.ndarray, decimals: int = 6) -> list[Any]:
            if column.dtype.kind == "f":
                return np.round(column.astype(np.float64), decimals).tolist()
            return column.tolist()

        return {
            "hop_seconds": self.hop_seconds,
            "sample_rate": self.sample_rate,
            "frame_count": len(self),
            "frame_time": "centre",
            "duration_seconds": self.duration_seconds,
            "nonfinite_samples": self.nonfinite_samples,
            "limited_samples": self.limited_samples,
            "estimated": list(self.estimated),
            "missing": list(self.missing),
            "frames": {name: plain(column, DB_DECIMALS if name in DB_COLUMNS else 6)
                       for name, column in self.columns().items()},
            "onsets": plain(self.onset_seconds.astype(np.float64)),
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> FeatureTrack:
        """Rebuild a track from :meth:`to_json_dict` output (floats rounded to 6 decimals)."""
        frames = data["frames"]
        n = len(frames["seconds"])
        dtypes = {"seconds": np.float64, "onset": bool, "pitch_class": np.int16}
        columns: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name in ("hop_seconds", "sample_rate", "nonfinite_samples", "limited_samples", "estimated"):
                continue
            value = frames.get(field.name)
            if value is None:
                columns[field.name] = None
                continue
            array = np.array(value, dtype=dtypes.get(field.name, np.float32))
            if field.name in VECTOR_COLUMNS:
                array = array.reshape(n, -1)
            columns[field.name] = array
        return cls(
            hop_seconds=float(data["hop_seconds"]),
            sample_rate=data.get("sample_rate"),
            nonfinite_samples=int(data.get("nonfinite_samples", 0)),
            limited_samples=int(data.get("limited_samples", 0)),
            estimated=tuple(data.get("estimated", ())),
            **columns,
        )

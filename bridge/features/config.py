"""FeatureConfig: analysis parameters in seconds and Hz, turned into sample counts per sample rate."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000


@dataclass(frozen=True)
class FrameGeometry:
    """Sample counts of one analysis at one sample rate: hop, FFT window, and where frame 0 sits."""

    sample_rate: int
    hop: int
    n_fft: int

    @property
    def hop_seconds(self) -> float:
        """The actual hop (``hop`` samples), which may differ from the config's by rounding."""
        return self.hop / self.sample_rate

    @property
    def pad(self) -> int:
        """Zeros before sample 0 (and after the last): frame ``k`` is centred on sample ``k * hop``."""
        return self.n_fft // 2

    @property
    def latency_samples(self) -> int:
        """Samples after a frame's centre that streaming needs before it can compute that frame."""
        return self.n_fft - self.pad


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the audio analysis; one config serves every sample rate from 8 to 192 kHz.

    Sizes are given in seconds and converted per rate by :meth:`geometry`: the hop is
    ``round(hop_seconds * rate)`` samples (512 at 44.1 kHz), the FFT window the power of
    two nearest ``window_seconds * rate`` (2048 at 44.1 kHz) unless ``n_fft`` fixes it.
    """

    hop_seconds: float = 512 / 44100
    window_seconds: float = 2048 / 44100
    n_fft: int | None = None
    n_mels: int = 64
    fmin_hz: float = 0.0
    fmax_hz: float | None = None  # None: min(Nyquist, 20 kHz)
    floor_db: float = -100.0  # dB floor of mel, rms_db (power floor 10 ** (floor_db / 10))
    silence_db: float = -60.0  # frames whose rms_db is below this have no pitch_class
    # Onset detection on the spectral flux (mean rise of the mel dB values, in dB):
    onset_floor_db: float = -80.0  # mel values below this count as this (rises in near-silence are ignored)
    onset_delta_db: float = 1.5  # the flux must exceed its recent mean by this much
    onset_threshold_db: float = 2.0  # and this absolute value
    onset_pre_max_seconds: float = 0.03  # a peak is the maximum of this much past ...
    onset_post_frames: int = 0  # ... and this many future frames (the streaming delay; 0: none)
    onset_pre_avg_seconds: float = 0.1  # the recent mean covers this much past
    onset_wait_seconds: float = 0.03  # minimum gap between onsets
    # Causal harmonic/percussive balance (median filters on the mel power):
    hpss_time_seconds: float = 0.1  # harmonic: median over this much past, per mel band
    hpss_mel_bands: int = 9  # percussive: median over this many neighbouring mel bands
    tuning: float = 0.0  # chroma tuning offset in fractions of a semitone

    def __post_init__(self) -> None:
        for name in ("hop_seconds", "window_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.n_fft is not None and (not isinstance(self.n_fft, int) or self.n_fft < 16):
            raise ValueError(f"n_fft must be an integer >= 16 samples, got {self.n_fft!r}")
        if not isinstance(self.n_mels, int) or not 1 <= self.n_mels <= 512:
            raise ValueError(f"n_mels must be an integer 1..512, got {self.n_mels!r}")
        if self.fmin_hz < 0 or (self.fmax_hz is not None and self.fmax_hz <= self.fmin_hz):
            raise ValueError(f"need 0 <= fmin_hz < fmax_hz, got {self.fmin_hz!r}, {self.fmax_hz!r}")
        if self.onset_post_frames < 0 or self.hpss_mel_bands < 1:
            raise ValueError("onset_post_frames must be >= 0 and hpss_mel_bands >= 1")

    def geometry(self, sample_rate: int) -> FrameGeometry:
        """Hop and window in samples at ``sample_rate`` (Hz, 8000..192000)."""
        check_sample_rate(sample_rate)
        hop = max(1, round(self.hop_seconds * sample_rate))
        if self.n_fft is not None:
            n_fft = self.n_fft
        else:
            n_fft = 2 ** max(4, round(math.log2(self.window_seconds * sample_rate)))
        return FrameGeometry(int(sample_rate), hop, max(n_fft, hop))

    def mel_range_hz(self, sample_rate: int) -> tuple[float, float]:
        """``(fmin_hz, fmax_hz)`` of the mel filters at ``sample_rate``."""
        nyquist = sample_rate / 2.0
        fmax = min(nyquist, 20000.0) if self.fmax_hz is None else min(self.fmax_hz, nyquist)
        return min(self.fmin_hz, fmax * 0.5), fmax

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(**data)


def check_sample_rate(sample_rate: int) -> None:
    """Raise ValueError unless ``sample_rate`` is an integer rate in 8000..192000 Hz."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int,)) and not (
        isinstance(sample_rate, float) and sample_rate.is_integer()
    ):
        raise ValueError(f"sample_rate must be an integer number of Hz, got {sample_rate!r}")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ValueError(f"sample_rate must be {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz, got {sample_rate!r}")

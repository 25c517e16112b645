"""FeatureExtractor: streaming (``process``) and whole-signal (``analyze``) analysis, one implementation.

Both modes push samples through :meth:`FeatureExtractor._advance`, which computes
every complete frame in batches (one rfft over all of them) and carries the little
state a frame needs from the past: unconsumed samples, the last few mel frames (flux),
recent mel power (causal HPSS) and recent onset strength (peak picking). Streaming
therefore equals whole-file analysis of the same samples, up to float rounding.

Timing: frame ``k`` is centred on sample ``k * hop`` (the signal is zero-padded by
``n_fft // 2`` at both ends, like ``librosa.stft(center=True, pad_mode="constant")``).
Streaming emits frame ``k`` once sample ``k * hop + n_fft // 2`` has arrived and the
onset decision for it is known, i.e. ``onset_post_frames`` hops later (0 by default):
at 44.1 kHz with the defaults a frame arrives 1024 samples (23 ms) after its centre.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from bridge.features import hpss, onsets, spectral
from bridge.features.config import FeatureConfig, FrameGeometry, check_sample_rate
from bridge.features.frame import N_BANDS, N_CHROMA, FeatureFrame
from bridge.features.sanitize import SampleCheck
from bridge.features.track import NO_PITCH, SCALAR_COLUMNS, VECTOR_COLUMNS, FeatureTrack

#: Frames per batch inside ``_advance``: big enough to vectorise, small enough to stay in cache.
BATCH_FRAMES = 2048


@dataclass
class _StreamState:
    """What one stream carries from one call to the next (see the module docstring)."""

    buffer: np.ndarray  # samples not yet fully consumed, frame `next_frame` starts at buffer[0]
    mel_db_history: np.ndarray  # last flux_lag + 1 mel dB frames (flux)
    mel_history: np.ndarray  # last hpss_time_frames - 1 mel power frames
    strength: np.ndarray  # onset strength of frames strength_base ..
    strength_base: int = 0
    next_frame: int = 0  # first frame not computed yet
    last_onset: int = -(10**9)
    pending: dict[str, np.ndarray] = field(default_factory=dict)  # computed, onset not decided yet
    check: SampleCheck = field(default_factory=SampleCheck)  # NaN/inf and absurd samples repaired so far
    finished: bool = False


def to_mono(block: np.ndarray) -> np.ndarray:
    """Samples as float32 mono: 1-D as is, 2-D ``(samples, channels)`` averaged; integers scaled to ±1."""
    array = np.asarray(block)
    if array.dtype.kind in "iu":
        half = 2.0 ** (8 * array.dtype.itemsize - 1)
        offset = half if array.dtype.kind == "u" else 0.0
        array = (array.astype(np.float64) - offset) / half
    elif array.dtype.kind != "f":
        raise TypeError(f"audio samples must be a float or integer array, got dtype {array.dtype}")
    if array.ndim == 2:
        mono = np.array(array[:, 0], dtype=np.float32)
        for channel in range(1, array.shape[1]):  # column adds: much faster than mean(axis=1)
            mono += array[:, channel]
        if array.shape[1] > 1:
            mono *= np.float32(1.0 / array.shape[1])
        array = mono
    elif array.ndim != 1:
        raise ValueError(f"audio block must be 1-D or (samples, channels), got shape {array.shape}")
    return np.asarray(array, dtype=np.float32)


class FeatureExtractor:
    """Audio features of one signal at ``sample_rate`` Hz, streamed or whole.

    ``process(block)`` takes blocks of any length (1 sample or a whole file; 1-D or
    ``(samples, channels)``) and returns the frames that became final (``process_track``: the
    same as a columnar :class:`FeatureTrack`, cheaper for a live stream); ``flush()`` ends
    the stream (pads with silence) and returns the rest; ``reset()`` starts a new one.
    ``analyze(samples)`` runs one whole signal and returns a :class:`FeatureTrack`
    without touching the stream.
    Thread-safety: one stream per instance; not thread-safe.
    Realtime-safety: allocates (numpy), so run it off the audio thread.
    """

    def __init__(self, sample_rate: int, config: FeatureConfig | None = None) -> None:
        check_sample_rate(sample_rate)
        self.sample_rate = int(sample_rate)
        self.config = config or FeatureConfig()
        self.geometry: FrameGeometry = self.config.geometry(self.sample_rate)
        self.peaks = onsets.PeakPicking.from_config(self.config, self.geometry.hop_seconds)
        self.flux_lag = self.geometry.n_fft // (2 * self.geometry.hop)
        self.hpss_frames = max(1, round(self.config.hpss_time_seconds / self.geometry.hop_seconds))
        self._banks: spectral.FilterBanks | None = None
        self._state = self._new_state()

    @property
    def hop_seconds(self) -> float:
        return self.geometry.hop_seconds

    @property
    def latency_seconds(self) -> float:
        """How long after a frame's centre streaming emits it (window half plus the onset delay)."""
        return (self.geometry.latency_samples + self.peaks.post * self.geometry.hop) / self.sample_rate

    @property
    def sample_check(self) -> SampleCheck:
        """The samples repaired since the last reset (:mod:`bridge.features.sanitize`): NaN/inf, absurd amplitudes."""
        return self._state.check

    @property
    def nonfinite_samples(self) -> int:
        """NaN/inf samples seen (and replaced by 0) since the last reset."""
        return self._state.check.nonfinite

    @property
    def banks(self) -> spectral.FilterBanks:
        if self._banks is None:
            self._banks = spectral.filter_banks(self.config, self.sample_rate)
        return self._banks

    def _new_state(self) -> _StreamState:
        n_mels = self.config.n_mels
        return _StreamState(
            buffer=np.zeros(self.geometry.pad, dtype=np.float32),
            mel_db_history=np.full((self.flux_lag + 1, n_mels), self.config.floor_db, dtype=np.float32),
            mel_history=np.zeros((self.hpss_frames - 1, n_mels), dtype=np.float32),
            strength=np.zeros(0, dtype=np.float32),
        )

    # -- public API ---------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the stream: the next ``process`` starts a new signal at sample 0."""
        self._state = self._new_state()

    def process(self, block: np.ndarray) -> list[FeatureFrame]:
        """Feed the next samples; return the frames that became final (possibly none)."""
        return self.process_track(block).frames()

    def process_track(self, block: np.ndarray) -> FeatureTrack:
        """Feed the next samples; return the frames that became final as a track (possibly empty)."""
        if self._state.finished:
            raise RuntimeError("stream already flushed; call reset() to start a new one")
        return self._to_track(self._advance(self._state, block, final=False))

    def flush(self) -> list[FeatureFrame]:
        """End the stream: pad with silence, return the remaining frames (through sample ``n - 1``)."""
        if self._state.finished:
            return []
        return self._to_track(self._advance(self._state, np.zeros(0, np.float32), final=True)).frames()

    def analyze(self, samples: np.ndarray) -> FeatureTrack:
        """Features of the whole signal ``samples`` (1-D or ``(samples, channels)``)."""
        state = self._new_state()
        columns = self._advance(state, samples, final=True)
        return self._to_track(columns, state.check)

    def analyze_blocks(self, blocks: Iterable[np.ndarray]) -> FeatureTrack:
        """Like :meth:`analyze` for a signal given as consecutive blocks (a file read piece by piece)."""
        state = self._new_state()
        parts = [self._advance(state, block, final=False) for block in blocks]
        parts.append(self._advance(state, np.zeros(0, np.float32), final=True))
        return self._to_track(_concat_columns(parts), state.check)

    # -- the one implementation -----------------------------------------------------------

    def _advance(self, state: _StreamState, block: np.ndarray, final: bool) -> dict[str, np.ndarray]:
        """Consume ``block``; compute all complete frames; return the columns of frames now final."""
        samples = np.asarray(block)
        if samples.dtype.kind == "f":  # integer samples are always finite and within ±1
            samples = state.check.clean(samples)
        mono = to_mono(samples)
        hop, n_fft = self.geometry.hop, self.geometry.n_fft
        if final:
            total = state.next_frame * hop + len(state.buffer) + len(mono) - self.geometry.pad  # signal length
            frame_count = total // hop + 1 if total > 0 else 0
            pad = max(0, (frame_count - 1) * hop + n_fft - (state.next_frame * hop + len(state.buffer) + len(mono)))
            mono = np.concatenate([mono, np.zeros(pad, np.float32)])
        buffer = np.concatenate([state.buffer, mono]) if len(state.buffer) else mono
        available = (len(buffer) - n_fft) // hop + 1 if len(buffer) >= n_fft else 0
        if final:
            available = max(0, min(available, frame_count - state.next_frame))

        decided: list[dict[str, np.ndarray]] = []
        for start in range(0, available, BATCH_FRAMES):
            count = min(BATCH_FRAMES, available - start)
            frames = spectral.frame_signal(buffer[start * hop:], self.geometry, count)
            computed = self._compute(state, frames)
            decided.append(self._decide_onsets(state, computed, final=False))
        if final:
            decided.append(self._decide_onsets(state, {}, final=True))
            state.finished = True
        state.buffer = buffer[available * hop:].copy()
        return _concat_columns(decided)

    def _compute(self, state: _StreamState, frames: np.ndarray) -> dict[str, np.ndarray]:
        """Every feature except ``onset`` for a batch of consecutive frames; advances ``state``."""
        config, banks = self.config, self.banks
        count = frames.shape[0]
        power = spectral.power_spectra(frames, banks)
        rms, peak = spectral.level_features(frames)
        mel_power, chroma_energy, band_power = banks.project(power)
        mel_db = spectral.to_db(mel_power, config.floor_db)
        chroma = spectral.chroma(chroma_energy)
        rms_db = spectral.to_db(rms.astype(np.float64) ** 2, config.floor_db)
        pitch = np.where(rms_db >= config.silence_db, np.argmax(chroma, axis=1), NO_PITCH).astype(np.int16)
        pitch[chroma.max(axis=1) <= 0.0] = NO_PITCH
        columns = {
            "seconds": (state.next_frame + np.arange(count)) * self.geometry.hop_seconds,
            "rms": rms,
            "rms_db": rms_db,
            "peak": peak,
            "bands": np.sqrt(band_power),
            "centroid_hz": spectral.centroid_hz(power, banks),
            "flatness": spectral.flatness(power),
            "mel": mel_db,
            "onset_strength": onsets.spectral_flux(mel_db, state.mel_db_history, config.onset_floor_db),
            "chroma": chroma,
            "pitch_class": pitch,
            "harmonic_ratio": hpss.harmonic_ratio(mel_power, state.mel_history, config.hpss_mel_bands),
        }
        state.mel_db_history = np.vstack([state.mel_db_history, mel_db])[-(self.flux_lag + 1):]
        if len(state.mel_history):
            state.mel_history = np.vstack([state.mel_history, mel_power])[-len(state.mel_history):].astype(np.float32)
        state.next_frame += count
        return columns

    def _decide_onsets(self, state: _StreamState, computed: dict[str, np.ndarray], final: bool) -> dict[str, np.ndarray]:
        """Append ``computed`` to the pending frames; return those whose onset is now decided."""
        pending = _concat_columns([state.pending, computed]) if computed else state.pending
        if computed:
            state.strength = np.concatenate([state.strength, computed["onset_strength"]])
        if not pending:
            return {}
        first = state.next_frame - len(pending["seconds"])  # absolute index of pending[0]
        stop = state.next_frame if final else state.next_frame - self.peaks.post
        if stop <= first:
            state.pending = pending
            return {}
        strength = state.strength
        if final and self.peaks.post:  # silence after the end
            strength = np.concatenate([strength, np.zeros(self.peaks.post, np.float32)])
        found, state.last_onset = onsets.pick_onsets(
            strength, state.strength_base, first, stop, state.last_onset, self.peaks
        )
        count = stop - first
        done = {name: column[:count] for name, column in pending.items()}
        flags = np.zeros(count, dtype=bool)
        flags[found - first] = True
        done["onset"] = flags
        state.pending = {name: column[count:] for name, column in pending.items()}
        keep = self.peaks.history + self.peaks.post + 1  # strength context the next decision needs
        drop = max(0, len(state.strength) - keep - len(state.pending["seconds"]))
        state.strength = state.strength[drop:]
        state.strength_base += drop
        return done

    def _to_track(self, columns: dict[str, np.ndarray], check: SampleCheck | None = None) -> FeatureTrack:
        if not columns:
            columns = self._empty_columns()
        check = check or self._state.check
        return FeatureTrack(
            hop_seconds=self.geometry.hop_seconds,
            sample_rate=self.sample_rate,
            nonfinite_samples=check.nonfinite,
            limited_samples=check.limited,
            **columns,
        )

    def _empty_columns(self) -> dict[str, np.ndarray]:
        widths = {"bands": N_BANDS, "mel": self.config.n_mels, "chroma": N_CHROMA}
        columns: dict[str, np.ndarray] = {"seconds": np.zeros(0)}
        for name in SCALAR_COLUMNS:
            columns[name] = np.zeros(0, np.float32)
        for name in VECTOR_COLUMNS:
            columns[name] = np.zeros((0, widths[name]), np.float32)
        columns["onset"] = np.zeros(0, bool)
        columns["pitch_class"] = np.zeros(0, np.int16)
        return columns


def _concat_columns(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    parts = [p for p in parts if p and len(p["seconds"])]
    if not parts:
        return {}
    if len(parts) == 1:
        return dict(parts[0])
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


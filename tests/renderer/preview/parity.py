"""Streaming a song into a live preview, and comparing what the preview's model gets with what the export's gets.

:func:`stream_into_preview` runs a real :class:`~renderer.preview.session.PreviewSession` (receiver,
live features, recorder, render worker) and ``barlight send file`` in a subprocess over loopback
UDP, and samples the preview every ``every_seconds`` as its render worker does: the transport
snapshot, and the feature tracks the preview holds at that instant (its PCM frames and its
``/daw/audio`` band frames). :func:`inputs` turns a Moment into the model's inputs: the
conditioning sources and the embedded model's input vector (``EmbeddedBackend.context``).
:func:`agreement` scores two series of inputs: Spearman's rho per source, and the correlation of
the mel windows of the input vectors.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bridge.clock import TransportSnapshot
from renderer.moment import MIN_WINDOW_SECONDS, Moment
from tests.receiving import wait_for

ROOT = Path(__file__).resolve().parents[2]
#: The conditioning sources compared (issue 15): each 0..1, from renderer.conditioning.summarize.
SOURCES = ("energy", "brightness", "noisiness", "onset", "density", "pitch")


@dataclass(frozen=True, eq=False)
class Sample:
    """The preview at one instant: host time, transport, the frames it had (PCM and bands) and where its PCM
    line put sample 0 then (host seconds)."""

    host_seconds: float
    snapshot: TransportSnapshot
    pcm: Any
    bands: Any
    pcm_zero: float | None


@dataclass
class Streamed:
    """What a stream into a preview left: the samples, every frame the preview analysed (``pcm``, ``bands``,
    on the host clock), the recording, the receiver's counts."""

    samples: list[Sample] = field(default_factory=list)
    pcm: Any = None
    pcm_zero: float | None = None
    bands: Any = None
    recording: Path | None = None
    stats: Any = None
    sender_output: str = ""


def stream_into_preview(renderer: Any, song: Path, timeline: Path, sessions: Path, every_seconds: float = 0.1,
                        relay: Any = None, seconds: float | None = None) -> Streamed:
    """Stream ``song`` on ``timeline`` with ``barlight send file`` into a live preview (``relay``: an optional
    object with ``start(to) -> address`` and ``stop()`` between them); sample it until the sender ends."""
    from renderer.preview.session import PreviewOptions, PreviewSession

    session = PreviewSession(renderer, PreviewOptions(listen=("127.0.0.1", 0), sessions_folder=sessions, max_fps=2.0))
    session.features.keep_seconds = 600.0  # every frame, to compare once they have all arrived
    session.start()
    out, running = Streamed(), threading.Event()
    running.set()
    sampler = threading.Thread(target=_sample, args=(session, out, running, every_seconds), daemon=True)
    sampler.start()
    target = session.listen if relay is None else relay.start(session.listen)
    command = [sys.executable, "-m", "barlight", "send", "file", str(song), "--timeline", str(timeline),
               "--to", f"{target[0]}:{target[1]}", *(["--seconds", str(seconds)] if seconds else [])]
    try:
        sender = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        # the sender has ended; the bye, its last datagram, has reached the preview (the relay loses only PCM)
        wait_for(session.receiver, lambda: any(info.ended for info in session.receiver.stats().sessions), 10.0)
    finally:
        running.clear()
        sampler.join()
        if relay is not None:
            relay.stop()
        out.stats = session.receiver.stats()
        session.features.wait_idle(timeout=30.0)
        sid = out.stats.driver
        out.pcm, out.bands = (session.features.track(sid, source=kind) for kind in ("pcm", "bands"))
        out.pcm_zero = session.features.pcm_zero(sid)
        out.recording = session.stop()
    out.sender_output = sender.stdout + sender.stderr
    assert sender.returncode == 0, out.sender_output
    return out


def _sample(session: Any, out: Streamed, running: threading.Event, every_seconds: float) -> None:
    window = 4.0 * 60.0 / 120.0
    while running.is_set():
        now = time.monotonic()
        snapshot = session.receiver.snapshot()
        if snapshot.valid and snapshot.playing:
            since = now - max(window, MIN_WINDOW_SECONDS) - 0.1
            tracks = [session.features.track(snapshot.session_id, now, since, source=kind) for kind in ("pcm", "bands")]
            out.samples.append(Sample(now, snapshot, *tracks, session.features.pcm_zero(snapshot.session_id)))
        time.sleep(max(0.0, now + every_seconds - time.monotonic()))


def pcm_as_then(streamed: Streamed, sample: Sample, shift: float = 0.0) -> Any:
    """Every PCM frame the preview analysed, where the PCM line of ``sample``'s instant put them (moved
    ``shift`` seconds later): what the preview would have held at that instant had every frame arrived."""
    import dataclasses

    if sample.pcm_zero is None or streamed.pcm is None:
        return None
    seconds = streamed.pcm.seconds - streamed.pcm_zero + sample.pcm_zero + shift
    return dataclasses.replace(streamed.pcm, seconds=seconds)


def inputs(renderer: Any, moment: Moment) -> tuple[dict[str, float], np.ndarray]:
    """What the model gets at ``moment``: the conditioning sources, and the embedded backend's input vector."""
    from renderer.backends.base import BackendRequest

    conditioning = renderer.condition(moment)
    request = BackendRequest(conditioning=conditioning, moment=moment, latents=None, init_image=None,
                             strength=0.0, seed=0, width=renderer.size[0], height=renderer.size[1])
    return dict(conditioning.sources), renderer.backend.context(request)


@dataclass(frozen=True)
class Agreement:
    """Spearman's rho per source, and the mel windows' correlation (all moments' windows together, and the
    median of per-moment correlations)."""

    rho: dict[str, float]
    mel: float
    mel_median: float
    moments: int

    def line(self, label: str) -> str:
        sources = "  ".join(f"{name} {self.rho[name]:.3f}" for name in SOURCES)
        return f"{label:<22} {sources}  mel {self.mel:.3f} (median {self.mel_median:.3f})  n={self.moments}"


def agreement(live: list[tuple[dict[str, float], np.ndarray]],
              export: list[tuple[dict[str, float], np.ndarray]]) -> Agreement:
    from scipy.stats import spearmanr

    from renderer.embedded.context import MEL_DIM

    rho = {}
    for name in SOURCES:
        a = np.array([s[name] for s, _ in live])
        b = np.array([s[name] for s, _ in export])
        rho[name] = float(spearmanr(a, b).statistic) if np.ptp(a) > 0 and np.ptp(b) > 0 else float("nan")
    mel_live = np.array([c[:MEL_DIM] for _, c in live])
    mel_export = np.array([c[:MEL_DIM] for _, c in export])
    overall = float(np.corrcoef(mel_live.ravel(), mel_export.ravel())[0, 1])
    each = [np.corrcoef(a, b)[0, 1] for a, b in zip(mel_live, mel_export) if np.ptp(a) > 0 and np.ptp(b) > 0]
    return Agreement(rho, overall, float(np.median(each)) if each else float("nan"), len(live))


def export_job(renderer: Any, audio: Path, tempo_map: Any, out: Path) -> Any:
    """A prepared export of ``audio`` (the whole song, from bar 1) on ``tempo_map``, with ``renderer``."""
    from renderer.export.job import prepare_export
    from renderer.export.request import ExportRequest

    request = ExportRequest(audio=audio, out_dir=out, tempo_map=tempo_map, size=renderer.size,
                            preset="neon", audio_from_bar_1=True)
    return prepare_export(request, renderer=renderer)


def compare(streamed: Streamed, job: Any, renderer: Any) -> tuple[dict[str, Agreement], float]:
    """The preview's inputs against the export's at every sampled instant, and the lag of the preview's PCM
    frames against the export's on the song timeline.

    Two ways (tests/renderer/preview/test_pcm_parity.py says why): *aligned*, every frame the preview analysed,
    placed by its PCM line of that instant and moved by the measured lag (the lag itself is what says
    whether the frames are on the beat), over the export's window, at an instant moved (by under half a
    hop) so the window ends half-way between two frames; *live*, the frames the preview had then. The
    ``/daw/audio`` band frames are scored both ways beside them."""
    from renderer.preview.live import live_moment

    lag = alignment_lag(streamed, job.features)

    ahead, window = float(1 / (2 * job.plan.fps)), renderer.preset.window_beats
    hop = job.features.hop_seconds
    series: dict[str, list] = {name: [] for name in ("pcm aligned", "pcm live", "bands aligned", "bands live",
                                                     "export", "export live")}
    for sample in streamed.samples:
        snapshot, host = sample.snapshot, sample.host_seconds
        live = live_moment(snapshot, host, sample.pcm, window_beats=window)
        if not 1.0 <= live.seconds <= float(job.plan.duration_seconds) - 0.5:
            continue
        middle = (np.floor((live.seconds + ahead) / hop) + 0.5) * hop - ahead - live.seconds  # song s = host s here
        aligned = host + middle
        moments = {"pcm live": live, "bands live": live_moment(snapshot, host, sample.bands, window_beats=window),
                   "export live": job.moment(job.plan.tempo_map.seconds_at(live.beat)),
                   "pcm aligned": live_moment(snapshot, aligned, pcm_as_then(streamed, sample, lag),
                                              window_beats=window, lookahead_seconds=ahead),
                   "bands aligned": live_moment(snapshot, aligned, streamed.bands, window_beats=window,
                                                lookahead_seconds=ahead),
                   "export": job.moment(job.plan.tempo_map.seconds_at(snapshot.beat_at(aligned)))}
        for name, moment in moments.items():
            series[name].append(inputs(renderer, moment))
    scores = {name: agreement(series[name], series["export live" if "live" in name else "export"])
              for name in series if not name.startswith("export")}
    return scores, lag


def report(title: str, scores: dict[str, Agreement], lag: float, streamed: Streamed) -> None:
    print(f"\n{title}: Spearman rho per source, mel-window correlation")
    for name, score in scores.items():
        print(score.line(name))
    print(f"PCM frames vs the export's on the song timeline: best lag {lag * 1000:+.1f} ms; receiver {streamed.stats.pcm}")


def alignment_lag(streamed: Streamed, export_features: Any, search_seconds: float = 0.05) -> float:
    """Seconds by which the preview's PCM frames, put on the song timeline by the last transport snapshot
    (one tempo, no jumps), sit off the export's frames of the same song: the lag that best matches their
    ``rms_db`` (0.5 ms steps)."""
    snapshot = streamed.samples[-1].snapshot
    song = np.array([snapshot.beat_at(t) * 60.0 / snapshot.bpm for t in streamed.pcm.seconds])
    keep = (song > 1.0) & (song < export_features.seconds[-1] - 1.0)
    lags = np.arange(-search_seconds, search_seconds + 1e-9, 0.0005)
    errors = [np.mean(np.abs(np.interp(song[keep] + lag, export_features.seconds, export_features.rms_db)
                             - streamed.pcm.rms_db[keep])) for lag in lags]
    return float(lags[int(np.argmin(errors))])


def video_audio(path: Path) -> tuple[np.ndarray, int]:
    """The sound of a video file as mono float32 and its rate (PyAV)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        parts = [frame.to_ndarray().astype(np.float32) for frame in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    audio = np.concatenate(parts, axis=1) if parts[0].ndim == 2 else np.concatenate(parts)[None, :]
    return audio.mean(axis=0), rate


def mono(path: Path, rate: int) -> np.ndarray:
    """An audio file as mono float32 at ``rate`` (it must be its rate)."""
    import soundfile

    samples, file_rate = soundfile.read(path, dtype="float32", always_2d=True)
    assert file_rate == rate, (file_rate, rate)
    return samples.mean(axis=1)


def best_lag(a: np.ndarray, b: np.ndarray, most: int) -> tuple[int, float]:
    """``(lag, correlation)``: the shift of ``a`` against ``b`` within ±``most`` samples that correlates
    best (an AAC encoder's priming delay, say; found by FFT cross-correlation), and that correlation."""
    from scipy.signal import correlate

    n = min(len(a), len(b)) - 2 * most
    core = b[most:most + n]
    scores = correlate(a[:n + 2 * most], core, mode="valid", method="fft")  # index i: a shifted by i - most
    lag = int(np.argmax(scores)) - most
    return lag, float(np.corrcoef(a[most + lag:most + lag + n], core)[0, 1])


class LossyRelay:
    """A UDP relay on loopback between a sender and a preview that loses and reorders ``/daw/pcm``.

    One in every ``round(1 / drop)`` ``/daw/pcm`` datagrams is dropped, and of those that pass one in every
    ``round(1 / reorder)`` is held back and sent after the next one, each at a seeded random place in its
    run (a deck dealt per share): the shares are the ones asked for, to within one deck (a coin per
    datagram gave 3.5% for 5% over the 16 s song), the places random. Everything else passes unchanged,
    in order. ``pcm`` counts the ``/daw/pcm`` datagrams seen, ``dropped`` and ``reordered`` what it did.
    """

    def __init__(self, drop: float = 0.05, reorder: float = 0.01, seed: int = 15) -> None:
        import random

        self.drop, self.reorder = drop, reorder
        self._random = random.Random(seed)
        self._decks: dict[str, list[bool]] = {"drop": [], "hold": []}
        self.dropped = self.reordered = self.passed = self.pcm = 0
        self._socket: Any = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()

    def start(self, to: tuple[str, int]) -> tuple[str, int]:
        import socket

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self._running.set()
        self._thread = threading.Thread(target=self._relay, args=(to,), daemon=True)
        self._thread.start()
        return self._socket.getsockname()

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join()
        self._socket.close()

    def _deal(self, fate: str, share: float) -> bool:
        """Whether the next datagram gets ``fate``: one True per deck of ``round(1 / share)``, shuffled."""
        deck = self._decks[fate]
        if not deck:
            deck += [True] + [False] * (max(round(1.0 / share), 1) - 1) if share > 0 else [False]
            self._random.shuffle(deck)
        return deck.pop()

    def _relay(self, to: tuple[str, int]) -> None:
        held, sender = None, None
        while self._running.is_set():
            try:
                datagram, source = self._socket.recvfrom(65536)
            except TimeoutError:
                continue
            if source == to:  # the preview's answer (an ack to a sender without a reply port) goes back
                if sender is not None:
                    self._socket.sendto(datagram, sender)
                continue
            sender = source
            if datagram.startswith(b"/daw/pcm\0"):
                self.pcm += 1
                if self._deal("drop", self.drop):
                    self.dropped += 1
                    continue
                if self._deal("hold", self.reorder) and held is None:
                    held = datagram
                    continue
            self._socket.sendto(datagram, to)
            self.passed += 1
            if held is not None and datagram.startswith(b"/daw/pcm\0"):
                self._socket.sendto(held, to)  # after the block that followed it
                self.reordered += 1
                self.passed += 1
                held = None

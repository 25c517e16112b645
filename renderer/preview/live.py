"""What the DAW streams besides its transport, kept for the live preview, and the live Moment.

:class:`LiveFeatures` keeps each session's recent feature frames and its latest ``/daw/macros``,
keyed by host seconds. A session that streams its mix (``/daw/pcm``, protocol 1.1) gets the full
frames of the export's extractor (:class:`bridge.features.stream.StreamFeatures`, run on a thread of
its own so the receiver never waits for it), each at the host time of its centre sample on the
stream's latest line (so frames analysed before the receiver refined its estimate move with it); a
session without PCM gets the reduced frames of its ``/daw/audio`` readings
(:meth:`bridge.features.FeatureFrame.from_daw_audio`), at their arrival. The PCM frames are used
while they are fresh, the band frames otherwise. :func:`live_moment` turns a transport snapshot and a host time into the
:class:`~renderer.moment.Moment` the renderer takes: bar, beat and meter from the snapshot's
:meth:`~bridge.clock.TransportSnapshot.position`, the section from its locators, and the
audio heard in the past window, through :func:`renderer.moment.moment_from_position`, the
builder the export uses too.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import queue
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.clock import TransportSnapshot
from bridge.protocol.messages import AudioMessage, MacrosMessage
from bridge.receiver import PcmAudio
from renderer.moment import DEFAULT_WINDOW_BEATS, MACRO_COUNT, Moment, moment_from_position

if TYPE_CHECKING:
    from bridge.features import FeatureFrame, FeatureTrack
    from bridge.receiver import Receiver

log = logging.getLogger(__name__)

#: Audio frames kept per session, in seconds of arrival.
KEEP_SECONDS = 8.0
#: PCM frames are used while the newest is at most this old (host seconds); else the band frames.
PCM_FRESH_SECONDS = 1.0
#: Which frames :meth:`LiveFeatures.track` gives: the fresh PCM ones, else the bands (``auto``), or one kind.
SOURCES = ("auto", "pcm", "bands")
#: The receiver's events :meth:`LiveFeatures.receive` keeps: these messages, and released ``/daw/pcm`` blocks.
RECEIVED_KINDS = (AudioMessage, MacrosMessage, PcmAudio)


def kept(event: Any) -> bool:
    """Whether :meth:`LiveFeatures.receive` keeps this receiver event (what a render process is forwarded)."""
    return isinstance(event, PcmAudio) or isinstance(getattr(event, "message", None), RECEIVED_KINDS)


class _PcmFrames:
    """One session's PCM frames: its extractor stream, the frames on the sender's sample clock, and the
    host time of sample 0 on the stream's latest line. :meth:`analyse` runs on the analysis thread;
    :meth:`keep` and :meth:`on_host_clock` under the owner's lock."""

    def __init__(self) -> None:
        from bridge.features.stream import StreamFeatures

        self.stream = StreamFeatures()
        self.chunks: deque[FeatureTrack] = deque()
        self.host_zero = math.nan
        self.restarts = 0

    def analyse(self, event: PcmAudio) -> FeatureTrack | None:
        """The frames ``event``'s block completed, on the sample clock (None: none yet)."""
        return self.stream.feed(event.block)

    def keep(self, event: PcmAudio, track: FeatureTrack | None, keep_seconds: float) -> None:
        """Keep ``track``, and the host time of sample 0 from ``event``; a restarted stream drops the old frames."""
        if self.stream.restarts != self.restarts:
            self.restarts = self.stream.restarts
            self.chunks.clear()  # another numbering: the old frames' sample times mean nothing on the new line
        block = event.block
        self.host_zero = block.host_seconds - block.first_sample / block.sample_rate
        if track is not None:
            self.chunks.append(track)
            while self.chunks and track.seconds[-1] - self.chunks[0].seconds[-1] > keep_seconds:
                self.chunks.popleft()

    def on_host_clock(self) -> FeatureTrack | None:
        """Every kept frame at the host time of its centre sample (the latest line)."""
        from bridge.features import FeatureTrack

        if not self.chunks:
            return None
        track = FeatureTrack.concatenate(list(self.chunks))
        return dataclasses.replace(track, seconds=track.seconds + self.host_zero)


class LiveFeatures:
    """Recent feature frames (from ``/daw/pcm``, or ``/daw/audio``) and the latest ``/daw/macros`` of every session.

    Thread-safety: the receiver thread appends (:meth:`attach`), a thread of its own runs the PCM
    through the extractor; any thread reads. Realtime-safety: the receiver thread's work is O(1) per
    message; :meth:`track` copies at most ``keep_seconds`` of frames.
    """

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self.keep_seconds = keep_seconds
        self._frames: dict[str | None, deque[FeatureFrame]] = {}
        self._pcm: dict[str | None, _PcmFrames] = {}
        self._macros: dict[str | None, tuple[float, ...]] = {}
        self._lock = threading.Lock()
        self._unsubscribe: Any = None
        self._inbox: queue.Queue[PcmAudio | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def attach(self, receiver: Receiver) -> LiveFeatures:
        self.start()
        self._unsubscribe = receiver.subscribe(self.receive, kinds=RECEIVED_KINDS)
        return self

    def start(self) -> LiveFeatures:
        """Start the PCM analysis thread (:meth:`attach` does; a render process fed by :meth:`receive` calls it)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._analyse, name="barlight-live-features", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(timeout=5.0)
            self._thread = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until the PCM handed over so far is analysed (tests, benchmarks); False on timeout."""
        done = threading.Event()
        self._inbox.put(done)  # type: ignore[arg-type]
        return done.wait(timeout)

    def receive(self, event: Any) -> None:
        """Keep a released ``/daw/pcm`` block (analysed on the thread :meth:`start` started), or a
        :class:`~bridge.receiver.Received` ``/daw/audio`` or ``/daw/macros`` (others are ignored)."""
        if isinstance(event, PcmAudio):
            self._inbox.put(event)
            return
        message = event.message
        if isinstance(message, MacrosMessage):
            self._macros[event.session_id] = tuple(min(1.0, max(0.0, float(m))) for m in message.macros)
        elif isinstance(message, AudioMessage):
            self.add(event.session_id, event.arrival_seconds, message)

    def _analyse(self) -> None:
        from bridge.features import FeatureConfig
        from bridge.features.spectral import filter_banks

        filter_banks(FeatureConfig(), 44100)  # load librosa and the usual banks before the first block needs them
        filter_banks(FeatureConfig(), 48000)
        while True:
            event = self._inbox.get()
            if event is None:
                return
            if isinstance(event, threading.Event):
                event.set()
                continue
            try:
                self.add_pcm(event)
            except Exception:  # a bad block must not stop the analysis of the next ones
                log.exception("live features: a PCM block failed")

    def add(self, session_id: str | None, arrival_seconds: float, message: AudioMessage) -> None:
        """Keep one ``/daw/audio`` reading that arrived at ``arrival_seconds`` (host)."""
        from bridge.features import FeatureFrame

        frame = FeatureFrame.from_daw_audio(arrival_seconds, message.rms, message.peak, message.bands)
        with self._lock:
            frames = self._frames.setdefault(session_id, deque())
            frames.append(frame)
            while frames and arrival_seconds - frames[0].seconds > self.keep_seconds:
                frames.popleft()

    def add_pcm(self, event: PcmAudio) -> None:
        """Run one released ``/daw/pcm`` block through the session's extractor and keep the frames it completed
        (the analysis thread calls it; tests may call it directly)."""
        frames = self._pcm.get(event.session_id) or _PcmFrames()
        track = frames.analyse(event)
        with self._lock:
            self._pcm.setdefault(event.session_id, frames).keep(event, track, self.keep_seconds)

    def pcm_zero(self, session_id: str | None) -> float | None:
        """Host seconds of the session's PCM sample 0 on its latest line (None without PCM): where
        :meth:`track` puts its PCM frames."""
        with self._lock:
            frames = self._pcm.get(session_id)
            return None if frames is None or math.isnan(frames.host_zero) else frames.host_zero

    def macros(self, session_id: str | None) -> tuple[float, ...]:
        """The session's latest macro values (zeros before any ``/daw/macros``)."""
        return self._macros.get(session_id, (0.0,) * MACRO_COUNT)

    def track(self, session_id: str | None, until_seconds: float | None = None,
              since_seconds: float | None = None, source: str = "auto") -> FeatureTrack | None:
        """The session's kept frames in ``[since_seconds, until_seconds]`` (host) as a track, None without any (and
        None with a single band frame: one frame has no hop, so the first frames of a song go without audio).

        ``source``: ``auto`` gives the PCM frames while the newest is under :data:`PCM_FRESH_SECONDS`
        older than ``until_seconds`` (or than the newest band frame), else the band frames; ``pcm`` and
        ``bands`` give that kind only."""
        from bridge.features import FeatureTrack

        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        with self._lock:
            pcm_frames = self._pcm.get(session_id)
            pcm = pcm_frames.on_host_clock() if pcm_frames is not None and source != "bands" else None
            frames = [f for f in self._frames.get(session_id, ())
                      if (until_seconds is None or f.seconds <= until_seconds)
                      and (since_seconds is None or f.seconds >= since_seconds)]
        if pcm is not None:
            pcm = _between(pcm, since_seconds, until_seconds)
            newest = pcm.seconds[-1] if len(pcm) else -math.inf
            reference = until_seconds if until_seconds is not None else frames[-1].seconds if frames else newest
            if source == "pcm" or newest >= reference - PCM_FRESH_SECONDS:
                return pcm if len(pcm) else None
        if source == "pcm":
            return None
        return FeatureTrack.from_frames(frames) if len(frames) >= 2 else None

    def export(self) -> dict[str | None, tuple[tuple[FeatureFrame, ...], tuple[float, ...] | None]]:
        """Every session's kept band frames and macros, for another LiveFeatures (a render process) to
        :meth:`restore`. PCM frames are not carried: the other one analyses the blocks it is forwarded from
        then on, and uses the band frames until its PCM frames are fresh."""
        with self._lock:
            sessions = set(self._frames) | set(self._macros)
            return {s: (tuple(self._frames.get(s, ())), self._macros.get(s)) for s in sessions}

    def restore(self, exported: dict[str | None, tuple[tuple[FeatureFrame, ...], tuple[float, ...] | None]]) -> None:
        """Take what :meth:`export` gave, replacing the band frames and macros kept."""
        with self._lock:
            self._frames = {s: deque(frames) for s, (frames, _) in exported.items() if frames}
            self._macros = {s: macros for s, (_, macros) in exported.items() if macros is not None}

    def latest(self, session_id: str | None) -> FeatureFrame | None:
        with self._lock:
            frames = self._frames.get(session_id)
            return frames[-1] if frames else None


def _between(track: FeatureTrack, since_seconds: float | None, until_seconds: float | None) -> FeatureTrack:
    """The frames of ``track`` whose seconds lie in ``[since_seconds, until_seconds]`` (either may be None)."""
    keep = np.ones(len(track), bool)
    if since_seconds is not None:
        keep &= track.seconds >= since_seconds
    if until_seconds is not None:
        keep &= track.seconds <= until_seconds
    return track if keep.all() else track.take(keep)


def live_moment(snapshot: TransportSnapshot, host_seconds: float, features: FeatureTrack | None = None,
                macros: tuple[float, ...] = (0.0,) * MACRO_COUNT,
                window_beats: float = DEFAULT_WINDOW_BEATS, lookahead_seconds: float = 0.0) -> Moment:
    """The Moment on screen at ``host_seconds``. Pure.

    ``features`` is keyed by host seconds (:meth:`LiveFeatures.track`); a frame at host ``a`` is
    heard at ``a + snapshot.latency_seconds``, like the beat. The Moment's ``seconds`` is song time
    on the snapshot's tempo line (``beat * 60 / bpm``) and the feature window is moved into that
    timebase, so only audio heard before the frame is in it (``lookahead_seconds``, as for an
    export, lets in what is heard that much after; the preview itself never has it).
    """
    beat = snapshot.beat_at(host_seconds)
    bpm = snapshot.bpm
    song_seconds = beat * 60.0 / bpm
    if features is not None and len(features):
        shift = host_seconds - snapshot.latency_seconds - song_seconds  # arrival -> song seconds
        features = dataclasses.replace(features, seconds=features.seconds - shift)
    marker = snapshot.section(beat)
    return moment_from_position(song_seconds, beat, snapshot.position(beat), bpm,
                                marker.name if marker is not None else None, features, macros, window_beats,
                                lookahead_seconds)

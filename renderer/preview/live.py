"""What the DAW streams besides its transport, kept for the live preview, and the live Moment.

:class:`LiveFeatures` keeps each session's recent feature frames and its latest ``/daw/macros``,
keyed by host seconds. A session that streams its mix (``/daw/pcm``, protocol 1.1) gets the full
frames of the export's extractor (:class:`bridge.features.stream.StreamFeatures`), each at the host
time of its centre sample; a session without PCM gets the reduced frames of its ``/daw/audio``
readings (:meth:`bridge.features.FeatureFrame.from_daw_audio`), at their arrival. The PCM frames
are used while they are fresh, the band frames otherwise. :func:`live_moment` turns a transport snapshot and a host time into the
:class:`~renderer.moment.Moment` the renderer takes: bar, beat and meter from the snapshot's
:meth:`~bridge.clock.TransportSnapshot.position`, the section from its locators, and the
audio heard in the past window, through :func:`renderer.moment.moment_from_position`, the
builder the export uses too.
"""

from __future__ import annotations

import dataclasses
import math
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
    from bridge.features.stream import StreamFeatures
    from bridge.receiver import Receiver

#: Audio frames kept per session, in seconds of arrival.
KEEP_SECONDS = 8.0
#: PCM frames are used while the newest is at most this old (host seconds); else the band frames.
PCM_FRESH_SECONDS = 1.0
#: Which frames :meth:`LiveFeatures.track` gives: the fresh PCM ones, else the bands (``auto``), or one kind.
SOURCES = ("auto", "pcm", "bands")


class LiveFeatures:
    """Recent feature frames (from ``/daw/pcm``, or ``/daw/audio``) and the latest ``/daw/macros`` of every session.

    Thread-safety: the receiver thread appends (:meth:`attach`); any thread reads.
    Realtime-safety: a band append is O(1), a PCM block runs the extractor now and then (a batch);
    :meth:`track` copies at most ``keep_seconds`` of frames.
    """

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self.keep_seconds = keep_seconds
        self._frames: dict[str | None, deque[FeatureFrame]] = {}
        self._pcm: dict[str | None, deque[FeatureTrack]] = {}
        self._streams: dict[str | None, StreamFeatures] = {}
        self._macros: dict[str | None, tuple[float, ...]] = {}
        self._lock = threading.Lock()
        self._unsubscribe: Any = None

    def attach(self, receiver: Receiver) -> LiveFeatures:
        self._unsubscribe = receiver.subscribe(self._on_received, kinds=(AudioMessage, MacrosMessage, PcmAudio))
        return self

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_received(self, event: Any) -> None:
        if isinstance(event, PcmAudio):
            self.add_pcm(event)
            return
        message = event.message
        if isinstance(message, MacrosMessage):
            self._macros[event.session_id] = tuple(min(1.0, max(0.0, float(m))) for m in message.macros)
        elif isinstance(message, AudioMessage):
            self.add(event.session_id, event.arrival_seconds, message)

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
        """Run one released ``/daw/pcm`` block through the session's extractor; keep the frames it completed,
        each at the host time of its centre sample."""
        from bridge.features.stream import StreamFeatures

        block = event.block
        stream = self._streams.get(event.session_id)
        if stream is None:
            stream = self._streams[event.session_id] = StreamFeatures()
        track = stream.feed(block)
        if track is None:
            return
        host_zero = block.host_seconds - block.first_sample / block.sample_rate
        track = dataclasses.replace(track, seconds=track.seconds + host_zero)
        with self._lock:
            chunks = self._pcm.setdefault(event.session_id, deque())
            chunks.append(track)
            while chunks and track.seconds[-1] - chunks[0].seconds[-1] > self.keep_seconds:
                chunks.popleft()

    def macros(self, session_id: str | None) -> tuple[float, ...]:
        """The session's latest macro values (zeros before any ``/daw/macros``)."""
        return self._macros.get(session_id, (0.0,) * MACRO_COUNT)

    def track(self, session_id: str | None, until_seconds: float | None = None,
              since_seconds: float | None = None, source: str = "auto") -> FeatureTrack | None:
        """The session's kept frames in ``[since_seconds, until_seconds]`` (host) as a track, None without any.

        ``source``: ``auto`` gives the PCM frames while the newest is under :data:`PCM_FRESH_SECONDS`
        older than ``until_seconds`` (or than the newest band frame), else the band frames; ``pcm`` and
        ``bands`` give that kind only."""
        from bridge.features import FeatureTrack

        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        with self._lock:
            chunks = list(self._pcm.get(session_id, ()))
            frames = [f for f in self._frames.get(session_id, ())
                      if (until_seconds is None or f.seconds <= until_seconds)
                      and (since_seconds is None or f.seconds >= since_seconds)]
        if source != "bands" and chunks:
            pcm = _between(FeatureTrack.concatenate(chunks), since_seconds, until_seconds)
            newest = pcm.seconds[-1] if len(pcm) else -math.inf
            reference = until_seconds if until_seconds is not None else frames[-1].seconds if frames else newest
            if source == "pcm" or newest >= reference - PCM_FRESH_SECONDS:
                return pcm if len(pcm) else None
        if source == "pcm":
            return None
        return FeatureTrack.from_frames(frames) if frames else None

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
                window_beats: float = DEFAULT_WINDOW_BEATS) -> Moment:
    """The Moment on screen at ``host_seconds``. Pure.

    ``features`` is keyed by host arrival seconds (:meth:`LiveFeatures.track`); a frame that
    arrived at ``a`` is heard at ``a + snapshot.latency_seconds``, like the beat. The Moment's
    ``seconds`` is song time on the snapshot's tempo line (``beat * 60 / bpm``) and the
    feature window is moved into that timebase, so only audio heard before the frame is in it.
    """
    beat = snapshot.beat_at(host_seconds)
    bpm = snapshot.bpm
    song_seconds = beat * 60.0 / bpm
    if features is not None and len(features):
        shift = host_seconds - snapshot.latency_seconds - song_seconds  # arrival -> song seconds
        features = dataclasses.replace(features, seconds=features.seconds - shift)
    marker = snapshot.section(beat)
    return moment_from_position(song_seconds, beat, snapshot.position(beat), bpm,
                                marker.name if marker is not None else None, features, macros, window_beats)

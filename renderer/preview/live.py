"""What the DAW streams besides its transport, kept for the live preview, and the live Moment.

:class:`LiveFeatures` keeps each session's recent ``/daw/audio`` frames
(:meth:`bridge.features.FeatureFrame.from_daw_audio`) and its latest ``/daw/macros``, keyed by
host arrival seconds. :func:`live_moment` turns a transport snapshot and a host time into the
:class:`~renderer.moment.Moment` the renderer takes: bar, beat and meter from the snapshot's
:meth:`~bridge.clock.TransportSnapshot.position`, the section from its locators, and the
audio heard in the past window, through :func:`renderer.moment.moment_from_position`, the
builder the export uses too.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from bridge.clock import TransportSnapshot
from bridge.protocol.messages import AudioMessage, MacrosMessage
from renderer.moment import DEFAULT_WINDOW_BEATS, MACRO_COUNT, Moment, moment_from_position

if TYPE_CHECKING:
    from bridge.features import FeatureFrame, FeatureTrack
    from bridge.receiver import Receiver

#: Audio frames kept per session, in seconds of arrival.
KEEP_SECONDS = 8.0


class LiveFeatures:
    """Recent ``/daw/audio`` frames and the latest ``/daw/macros`` of every session.

    Thread-safety: the receiver thread appends (:meth:`attach`); any thread reads.
    Realtime-safety: an append is O(1); :meth:`track` copies at most ``keep_seconds`` of frames.
    """

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self.keep_seconds = keep_seconds
        self._frames: dict[str | None, deque[FeatureFrame]] = {}
        self._macros: dict[str | None, tuple[float, ...]] = {}
        self._lock = threading.Lock()
        self._unsubscribe: Any = None

    def attach(self, receiver: Receiver) -> LiveFeatures:
        self._unsubscribe = receiver.subscribe(self._on_received, kinds=(AudioMessage, MacrosMessage))
        return self

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_received(self, event: Any) -> None:
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

    def macros(self, session_id: str | None) -> tuple[float, ...]:
        """The session's latest macro values (zeros before any ``/daw/macros``)."""
        return self._macros.get(session_id, (0.0,) * MACRO_COUNT)

    def track(self, session_id: str | None, until_seconds: float | None = None,
              since_seconds: float | None = None) -> FeatureTrack | None:
        """The session's kept frames that arrived in ``[since_seconds, until_seconds]`` (host) as a track,
        None without any."""
        from bridge.features import FeatureTrack

        with self._lock:
            frames = [f for f in self._frames.get(session_id, ())
                      if (until_seconds is None or f.seconds <= until_seconds)
                      and (since_seconds is None or f.seconds >= since_seconds)]
        return FeatureTrack.from_frames(frames) if frames else None

    def latest(self, session_id: str | None) -> FeatureFrame | None:
        with self._lock:
            frames = self._frames.get(session_id)
            return frames[-1] if frames else None


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

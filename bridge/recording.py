"""Session recordings: every accepted message with its arrival time, as JSON Lines.

A recording is written to ``NAME.jsonl.part`` and renamed to ``NAME.jsonl`` when it
is closed; it is flushed at least every ``flush_seconds`` (default 0.5 s), so a crash
loses at most that much and leaves a readable ``.part`` file. Lines (docs/protocol.md,
"Session recordings"):

- header: ``{"format": "barlight-session", "version": 1, "protocol": "1", "started_unix": …, "started_host_seconds": …}``
- message: ``{"t": host_seconds, "session": id, "from": "HOST:PORT", "beat": song beat or null, "address": …, "args": {…}}``
- jump: ``{"t": …, "session": id, "event": "seek"|"loop"|…, "beat_before": …, "beat_after": …}``
- footer: ``{"end": true, "t": …, "messages": n}``

Host seconds are ``time.monotonic()`` of the recording machine; ``beat`` is the
sending session's fitted song beat at arrival, so an export can align audio frames
with the arrangement. :func:`read_recording`, :func:`tempo_map_from_recording` and
:func:`feature_track_from_recording` read it back.
"""

from __future__ import annotations

import json
import math
import os
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.clock import Discontinuity
from bridge.errors import InputError
from bridge.protocol.messages import (
    AudioMessage,
    MarkersMessage,
    Message,
    TransportMessage,
    message_from_dict,
    message_to_dict,
)
from bridge.protocol.spec import PROTOCOL_VERSION
from bridge.timeline.tempo_map import Meter, TempoMap, TempoPoint

if TYPE_CHECKING:
    from bridge.features import FeatureTrack
    from bridge.receiver import Receiver, Received

SESSIONS_ENV = "BARLIGHT_SESSIONS"
FORMAT = "barlight-session"
SUFFIX = ".jsonl"
PART_SUFFIX = ".jsonl.part"


# -- where sessions live -----------------------------------------------------------------------

def sessions_dir() -> Path:
    """The sessions folder: ``$BARLIGHT_SESSIONS`` if set, else ``./sessions``."""
    return Path(os.environ.get(SESSIONS_ENV) or "sessions")


def new_session_path(folder: str | os.PathLike[str] | None = None) -> Path:
    """A fresh ``YYYYmmdd-HHMMSS.jsonl`` path in ``folder`` (default :func:`sessions_dir`), not yet existing."""
    base = Path(folder) if folder is not None else sessions_dir()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = base / f"{stamp}{SUFFIX}", 1
    while path.exists() or path.with_name(path.name + ".part").exists():
        n += 1
        path = base / f"{stamp}-{n}{SUFFIX}"
    return path


def latest_session(folder: str | os.PathLike[str] | None = None, include_partial: bool = False) -> Path | None:
    """The most recently modified recording in ``folder`` (default :func:`sessions_dir`), or None.

    ``include_partial`` also considers ``.jsonl.part`` files (being recorded, or left by a crash).
    """
    base = Path(folder) if folder is not None else sessions_dir()
    if not base.is_dir():
        return None
    paths = list(base.glob(f"*{SUFFIX}"))
    if include_partial:
        paths += list(base.glob(f"*{PART_SUFFIX}"))
    return max(paths, key=lambda p: (p.stat().st_mtime, p.name), default=None)


def session_path(name: str | os.PathLike[str], folder: str | os.PathLike[str] | None = None) -> Path:
    """The recording called ``name``: a path to an existing file, or a session name in ``folder``
    (default :func:`sessions_dir`), with or without ``.jsonl``; ``latest`` is :func:`latest_session`.
    InputError naming the session when there is no such recording."""
    text = os.fspath(name)
    if text == "latest":
        latest = latest_session(folder)
        if latest is None:
            raise InputError("session", "no recorded sessions yet (record one with 'barlight record')")
        return latest
    direct = Path(text)
    if direct.is_file():
        return direct
    base = Path(folder) if folder is not None else sessions_dir()
    for candidate in (base / text, base / f"{text}{SUFFIX}", base / f"{text}{PART_SUFFIX}"):
        if candidate.is_file():
            return candidate
    raise InputError(text, f"no such session recording (looked in {base})")


# -- writing ------------------------------------------------------------------------------------

def _message_line(event: Received) -> dict[str, Any]:
    line = {"t": event.arrival_seconds, "session": event.session_id, "from": f"{event.address[0]}:{event.address[1]}",
            "beat": event.beat}
    line.update(message_to_dict(event.message))
    return line


def _jump_line(event: Discontinuity) -> dict[str, Any]:
    return {"t": event.host_seconds, "session": event.session_id, "event": event.kind,
            "beat_before": event.beat_before, "beat_after": event.beat_after}


class Recorder:
    """Appends :class:`~bridge.receiver.Received` messages and jumps to ``path`` on a writer thread.

    Use as a context manager, or :meth:`attach` to a receiver and :meth:`close` at the end.
    Thread-safety: :meth:`write` from any thread (the receiver's); the rest from the owner.
    Realtime-safety: :meth:`write` only enqueues.
    """

    def __init__(self, path: str | os.PathLike[str], flush_seconds: float = 0.5) -> None:
        self.path = Path(path)
        if self.path.suffix != SUFFIX:
            raise InputError(self.path, f"a session recording must end in {SUFFIX}")
        self.part_path = self.path.with_name(self.path.name + ".part")
        if self.path.exists():
            raise InputError(self.path, "exists: a recording is never overwritten; pick another name or move it away")
        self.flush_seconds = flush_seconds
        self.messages = 0
        self.sessions: set[str] = set()
        self.last_beat: float | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._unsubscribe: list[Any] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._file = open(self.part_path, "x", encoding="utf-8")
        except FileExistsError:
            raise InputError(self.part_path, "exists: another recording is writing it (or crashed); move it away") from None
        except OSError as err:
            raise InputError(self.part_path, f"cannot write: {err.strerror or err}") from None
        header = {"format": FORMAT, "version": 1, "protocol": PROTOCOL_VERSION, "started_unix": time.time(),
                  "started_host_seconds": time.monotonic(), "host_clock": "monotonic"}
        self._file.write(json.dumps(header) + "\n")
        self._file.flush()
        self._thread = threading.Thread(target=self._drain, name="barlight-recorder", daemon=True)
        self._thread.start()
        self._closed = False

    def attach(self, receiver: Receiver) -> Recorder:
        """Record everything ``receiver`` accepts from now on."""
        self._unsubscribe.append(receiver.subscribe(self.write))
        return self

    def write(self, event: Received | Discontinuity) -> None:
        if isinstance(event, Discontinuity):
            self._queue.put(_jump_line(event))
            return
        self.messages += 1
        self.sessions.add(event.session_id)
        if event.beat is not None:
            self.last_beat = event.beat
        self._queue.put(_message_line(event))

    def _drain(self) -> None:
        flushed = time.monotonic()
        while True:
            try:
                line = self._queue.get(timeout=min(0.2, self.flush_seconds))
            except queue.Empty:
                line = ...
            if line is None:
                break
            if line is not ...:
                self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
            if time.monotonic() - flushed >= self.flush_seconds:
                self._file.flush()
                flushed = time.monotonic()

    def close(self) -> Path:
        """Stop recording, write the footer, and rename the ``.part`` file into place; returns the path."""
        if self._closed:
            return self.path
        self._closed = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._queue.put(None)
        self._thread.join()
        self._file.write(json.dumps({"end": True, "t": time.monotonic(), "messages": self.messages}) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.part_path, self.path)
        return self.path

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordedMessage:
    """One message line of a recording."""

    arrival_seconds: float
    session_id: str
    address: str
    beat: float | None
    message: Message


@dataclass(frozen=True)
class Recording:
    """A recording read back: its header, messages and jumps in arrival order, and whether it was closed."""

    path: Path
    header: dict[str, Any]
    messages: tuple[RecordedMessage, ...]
    jumps: tuple[dict[str, Any], ...]
    complete: bool

    def session_ids(self) -> list[str]:
        """Sessions, the one with most transport messages first."""
        counts = Counter(m.session_id for m in self.messages if isinstance(m.message, TransportMessage))
        others = {m.session_id for m in self.messages} - set(counts)
        return [s for s, _ in counts.most_common()] + sorted(others)

    def main_session(self) -> str | None:
        ids = self.session_ids()
        return ids[0] if ids else None

    def of_session(self, session_id: str | None = None, kind: type | None = None) -> list[RecordedMessage]:
        session_id = session_id or self.main_session()
        return [m for m in self.messages
                if m.session_id == session_id and (kind is None or isinstance(m.message, kind))]


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a ``.jsonl`` (or ``.jsonl.part``) recording; a torn last line (crash) is ignored.

    Raises InputError naming the file and line for anything else that is malformed.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise InputError(path, f"cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise InputError(path, "not a UTF-8 JSON Lines recording") from None
    if not lines:
        raise InputError(path, "empty file, not a barlight session recording")
    messages, jumps, complete, header = [], [], False, None
    for number, text in enumerate(lines, 1):
        try:
            line = json.loads(text)
            if number == 1:
                if not isinstance(line, dict) or line.get("format") != FORMAT:
                    raise InputError(path, "not a barlight session recording (line 1 has no barlight-session header)")
                header = line
            elif "address" in line:
                messages.append(RecordedMessage(float(line["t"]), str(line["session"]), str(line.get("from", "")),
                                                None if line.get("beat") is None else float(line["beat"]),
                                                message_from_dict(line)))
            elif "event" in line:
                jumps.append(line)
            elif line.get("end"):
                complete = True
        except InputError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            if number == len(lines) and number > 1:
                break  # the line being written when the recorder stopped
            raise InputError(path, f"line {number}: malformed ({type(err).__name__}: {err})") from None
    assert header is not None
    return Recording(path, header, tuple(messages), tuple(jumps), complete)


def _change_beat(before: RecordedMessage, after: RecordedMessage) -> float:
    """Where between two playing transport messages the tempo most likely changed (lines through both)."""
    b0, b1 = before.message, after.message
    assert isinstance(b0, TransportMessage) and isinstance(b1, TransportMessage)
    r0, r1 = b0.bpm / 60.0, b1.bpm / 60.0
    if not (b0.playing and b1.playing) or b1.beat < b0.beat or r0 == r1:
        return b1.beat
    t0, t1 = before.arrival_seconds, after.arrival_seconds
    change_seconds = (b1.beat - b0.beat - t1 * r1 + t0 * r0) / (r0 - r1)
    return min(max(b0.beat + (change_seconds - t0) * r0, b0.beat), b1.beat)


@dataclass(frozen=True)
class RecordedTimeline:
    """The song's timeline as a recording saw it: tempo steps, meters, the last locator list, beats covered."""

    tempo_map: TempoMap
    start_beat: float
    end_beat: float
    session_id: str | None


def timeline_from_recording(path: str | os.PathLike[str] | Recording, session_id: str | None = None) -> RecordedTimeline:
    """Tempo steps where the tempo changed, meters where it changed (on their bar line), markers (the last list),
    and the first and last beat played, for ``session_id`` (default: the one with most transport messages)."""
    recording = path if isinstance(path, Recording) else read_recording(path)
    session_id = session_id or recording.main_session()
    transport = recording.of_session(session_id, TransportMessage)
    if not transport:
        raise InputError(recording.path, "no /daw/transport messages: nothing to build a tempo map from")
    first = transport[0].message
    assert isinstance(first, TransportMessage)
    points = [TempoPoint(min(0.0, first.beat), first.bpm)]
    bar_beats = first.numerator * 4.0 / first.denominator
    on_grid_from_zero = math.isclose(first.bar_start_beat, (first.bar - 1) * bar_beats, abs_tol=1e-3)
    meters = [Meter(0.0 if on_grid_from_zero else first.bar_start_beat, first.numerator, first.denominator)]
    for before, after in zip(transport, transport[1:]):
        b0, b1 = before.message, after.message
        assert isinstance(b0, TransportMessage) and isinstance(b1, TransportMessage)
        if not math.isclose(b0.bpm, b1.bpm, rel_tol=1e-6):
            points.append(TempoPoint(_change_beat(before, after), b1.bpm))
        if (b0.numerator, b0.denominator) != (b1.numerator, b1.denominator):
            meters.append(Meter(b1.bar_start_beat, b1.numerator, b1.denominator))
    markers: tuple = ()
    marker_messages = recording.of_session(session_id, MarkersMessage)
    if marker_messages:
        last = marker_messages[-1].message
        assert isinstance(last, MarkersMessage)
        markers = last.markers
    beats = [m.message.beat for m in transport if isinstance(m.message, TransportMessage) and m.message.playing]
    beats = beats or [first.beat]
    return RecordedTimeline(TempoMap(tuple(points), tuple(meters), markers), min(beats), max(beats), session_id)


def tempo_map_from_recording(path: str | os.PathLike[str] | Recording, session_id: str | None = None) -> TempoMap:
    """The recording's :class:`TempoMap` (see :func:`timeline_from_recording`)."""
    return timeline_from_recording(path, session_id).tempo_map


def recording_end_beat(path: str | os.PathLike[str] | Recording, session_id: str | None = None) -> float:
    """The last (highest) beat the recording saw playing."""
    return timeline_from_recording(path, session_id).end_beat


def feature_track_from_recording(path: str | os.PathLike[str] | Recording, session_id: str | None = None,
                                 timebase: str = "song") -> FeatureTrack:
    """The ``/daw/audio`` frames as a :class:`~bridge.features.FeatureTrack`.

    ``timebase="song"``: frames received while playing, at the song seconds of their beat on the
    recording's tempo map (sorted; a looped passage appears once per pass). ``"arrival"``: every
    frame, at seconds since the session's first message.
    """
    from bridge.features import FeatureFrame, FeatureTrack

    if timebase not in ("song", "arrival"):
        raise ValueError(f"timebase must be 'song' or 'arrival', got {timebase!r}")
    recording = path if isinstance(path, Recording) else read_recording(path)
    session_id = session_id or recording.main_session()
    ours = recording.of_session(session_id)
    if not any(isinstance(m.message, AudioMessage) for m in ours):
        raise InputError(recording.path, f"no /daw/audio messages from session {session_id!r}")
    frames = []
    if timebase == "arrival":
        origin = ours[0].arrival_seconds
        for m in ours:
            if isinstance(m.message, AudioMessage):
                frames.append(FeatureFrame.from_daw_audio(m.arrival_seconds - origin, m.message.rms, m.message.peak,
                                                          m.message.bands))
    else:
        tempo_map = tempo_map_from_recording(recording, session_id)
        playing = False
        for m in ours:
            if isinstance(m.message, TransportMessage):
                playing = m.message.playing
            elif isinstance(m.message, AudioMessage) and playing and m.beat is not None:
                frames.append(FeatureFrame.from_daw_audio(tempo_map.seconds_at(m.beat), m.message.rms,
                                                          m.message.peak, m.message.bands))
        frames.sort(key=lambda f: f.seconds)
        if not frames:
            raise InputError(recording.path, "no /daw/audio messages arrived while playing")
    return FeatureTrack.from_frames(frames)

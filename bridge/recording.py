"""Session recordings: every accepted message with its arrival time, as JSON Lines.

A recording is written to ``NAME.jsonl.part`` and renamed to ``NAME.jsonl`` when it
is closed; it is flushed at least every ``flush_seconds`` (default 0.5 s), so a crash
loses at most that much and leaves a readable ``.part`` file. Lines (docs/protocol.md,
"Session recordings"):

- header: ``{"format": "barlight-session", "version": 1, "protocol": "1", "started_unix": …, "started_host_seconds": …}``
- message: ``{"t": host_seconds, "session": id, "from": "HOST:PORT", "beat": song beat or null, "address": …, "args": {…}}``
- jump: ``{"t": …, "session": id, "event": "seek"|"loop"|…, "beat_before": …, "beat_after": …}``
- audio anchor: ``{"t": …, "session": id, "pcm": {"file", "frame", "first_sample", "sample_rate", "beat",
  "playing", "gap"}}``: where the ``/daw/pcm`` audio kept beside the recording (``NAME.pcmN.flac``,
  :mod:`bridge.session_audio`) sits on the song
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

from bridge.clock import DISCONTINUITY_KINDS, Discontinuity
from bridge.errors import InputError
from bridge.inputs import json_lines, open_limited, parse_json
from bridge.receiver import PcmAudio
from bridge.session_audio import PcmAnchor, PcmWriter
from bridge.protocol.messages import (
    AudioMessage,
    MarkersMessage,
    Message,
    PcmMessage,
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


def latest_session(folder: str | os.PathLike[str] | None = None, include_partial: bool = False,
                   crashed: bool = False) -> Path | None:
    """The most recently modified recording in ``folder`` (default :func:`sessions_dir`), or None.

    ``include_partial`` also considers ``.jsonl.part`` files (being recorded, or left by a crash);
    ``crashed`` only those no recorder is writing (a crash or a kill left them: readable up to
    their last whole line).
    """
    base = Path(folder) if folder is not None else sessions_dir()
    if not base.is_dir():
        return None
    paths = list(base.glob(f"*{SUFFIX}"))
    if include_partial or crashed:
        paths += [p for p in base.glob(f"*{PART_SUFFIX}") if include_partial or not is_being_recorded(p)]
    return max(paths, key=lambda p: (p.stat().st_mtime, p.name), default=None)


def is_being_recorded(part: Path) -> bool:
    """Whether a live :class:`Recorder` holds ``part`` (it keeps an exclusive lock on it while it writes)."""
    try:
        import fcntl
    except ImportError:  # no advisory locks (Windows): take every part file as crashed
        return False
    try:
        with open(part, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def session_path(name: str | os.PathLike[str], folder: str | os.PathLike[str] | None = None) -> Path:
    """The recording called ``name``: a path to an existing file, or a session name in ``folder``
    (default :func:`sessions_dir`), with or without ``.jsonl``; ``latest`` is the newest one, a crashed
    ``.jsonl.part`` included (:func:`latest_session` with ``crashed``). InputError naming the session
    when there is no such recording."""
    text = os.fspath(name)
    if text == "latest":
        latest = latest_session(folder, crashed=True)
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


def _lock(handle: Any) -> None:
    """Hold an exclusive advisory lock on ``handle``'s file until it is closed (where the OS has them)."""
    try:
        import fcntl
    except ImportError:
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # a file system without locks: the part file just looks crashed to `latest`


class Recorder:
    """Appends :class:`~bridge.receiver.Received` messages and jumps to ``path`` on a writer thread, and
    the ``/daw/pcm`` audio (:class:`~bridge.receiver.PcmAudio`) as FLAC beside it (:class:`PcmWriter`).

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
        self.pcm = PcmWriter(self.path)
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
        _lock(self._file)  # tells readers this part file is live, not left by a crash
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

    def write(self, event: Received | Discontinuity | PcmAudio) -> None:
        if isinstance(event, Discontinuity):
            self._queue.put(_jump_line(event))
            return
        if isinstance(event, PcmAudio):
            self._queue.put(event)  # into FLAC on the writer thread
            return
        if isinstance(event.message, PcmMessage):
            return  # its audio arrives as PcmAudio, in order
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
            if isinstance(line, PcmAudio):
                lines = self.pcm.write(line)  # the audio into FLAC; anchor lines now and then
            else:
                lines = [] if line is ... else [line]
            for text in lines:
                self._file.write(json.dumps(text, ensure_ascii=False) + "\n")
            if time.monotonic() - flushed >= self.flush_seconds:
                self._file.flush()
                self.pcm.flush()
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
        self.pcm.close()  # the audio files are in place before the recording that names them
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
    """A recording read back: its header, messages, jumps and audio anchors in arrival order, and whether it
    was closed."""

    path: Path
    header: dict[str, Any]
    messages: tuple[RecordedMessage, ...]
    jumps: tuple[dict[str, Any], ...]
    complete: bool
    pcm: tuple[PcmAnchor, ...] = ()

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

    Lines are split on ``\n`` only (JSON Lines: a marker named with U+2028 reads back). Every
    message is checked as the receiver checked it when it arrived (the protocol's codec), every
    jump as a jump; anything else malformed raises InputError naming the file, the line and the field.
    """
    path = Path(path)
    messages: list[RecordedMessage] = []
    jumps: list[dict[str, Any]] = []
    anchors: list[PcmAnchor] = []
    complete, header, torn = False, None, None
    with open_limited(path, "recording") as handle:
        for number, raw, _ended in json_lines(handle, path):
            if torn is not None:
                raise torn  # a malformed line with more after it: not a crash's torn tail
            try:
                line = parse_json(raw.decode("utf-8"))
                if number == 1:
                    header = _header(line, path)
                elif not isinstance(line, dict):
                    raise ValueError(f"not a JSON object: {raw[:40]!r}")
                elif "address" in line:
                    messages.append(_message(line))
                elif "event" in line:
                    jumps.append(_jump(line))
                elif "pcm" in line:
                    anchors.append(PcmAnchor.from_line(line))
                elif line.get("end"):
                    complete = True
            except InputError:
                raise
            except (ValueError, KeyError, TypeError, AttributeError) as err:
                torn = InputError(path, f"line {number}: {_problem(err)}")
                if number == 1:
                    raise InputError(path, "not a barlight session recording (line 1 is not JSON)") from None
    if header is None:
        raise InputError(path, "empty file, not a barlight session recording")
    return Recording(path, header, tuple(messages), tuple(jumps), complete, tuple(anchors))


def _problem(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"malformed (no {err.args[0]!r} field)"
    if isinstance(err, UnicodeDecodeError):
        return "malformed (not UTF-8)"
    return f"malformed ({err})" if isinstance(err, ValueError) else f"malformed ({type(err).__name__}: {err})"


def _header(line: Any, path: Path) -> dict[str, Any]:
    if not isinstance(line, dict) or line.get("format") != FORMAT:
        raise InputError(path, "not a barlight session recording (line 1 has no barlight-session header)")
    return line


def _finite(line: dict[str, Any], key: str, optional: bool = False) -> float | None:
    """``line[key]`` as a finite number (None allowed with ``optional``); ValueError naming the field."""
    value = line.get(key) if optional else line[key]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    return float(value)


def _message(line: dict[str, Any]) -> RecordedMessage:
    """A message line, checked like a datagram: its arguments must be what the protocol table says, in range."""
    from bridge.protocol.checks import ProtocolError
    from bridge.protocol.decode import decode
    from bridge.protocol.encode import encode

    address = line["address"]
    try:
        message = message_from_dict(line)
    except KeyError as err:
        if err.args and err.args[0] == address:
            raise ValueError(f"unknown address {address!r}") from None
        raise
    try:
        checked = decode(encode(message))
    except ProtocolError as err:
        raise ValueError(f"{address} {err.detail} ({err.reason})") from None
    except Exception as err:  # noqa: BLE001 - struct.error & co: a value the wire format cannot carry
        raise ValueError(f"{address}: {err}") from None
    given, canonical = line["args"], message_to_dict(message)["args"]
    for key, value in canonical.items():
        if key in given and given[key] != value:  # a string for a number, a number for a flag ...
            raise ValueError(f"{address} {key} is {given[key]!r}, not a {type(value).__name__}")
    if not isinstance(line["session"], str):
        raise ValueError(f"session must be a string, got {line['session']!r}")
    return RecordedMessage(_finite(line, "t"), line["session"], str(line.get("from", "")),
                           _finite(line, "beat", optional=True), checked)


def _jump(line: dict[str, Any]) -> dict[str, Any]:
    """A jump line (a tempo change, seek, loop ...), checked: a known kind, finite times and beats."""
    kind = line["event"]
    if kind not in DISCONTINUITY_KINDS:
        raise ValueError(f"unknown event {kind!r} (one of {', '.join(DISCONTINUITY_KINDS)})")
    for key in ("t", "beat_before", "beat_after"):
        try:
            _finite(line, key)
        except ValueError as err:
            raise ValueError(f"{kind} event: {err}") from None
    return line


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

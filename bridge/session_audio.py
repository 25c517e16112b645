"""The mix a session recording keeps: the ``/daw/pcm`` audio the preview heard, as FLAC beside the recording.

Writing (:class:`PcmWriter`, driven by :class:`bridge.recording.Recorder`): each session's released
audio (:class:`bridge.receiver.PcmAudio`, gaps already filled with silence) goes, in sample order,
into ``NAME.pcmN.flac`` next to ``NAME.jsonl`` (``.part`` while recording, renamed when it closes;
16-bit FLAC through soundfile). A new file starts when a session's stream restarts or changes rate.
At most :data:`MAX_PCM_SECONDS` are kept per recording (an hour, what any command takes as audio);
after that the recording goes on without audio. The recording's JSON lines say where the audio is
on the song: an *anchor* line ``{"t", "session", "pcm": {"file", "frame", "first_sample",
"sample_rate", "beat", "playing", "gap"}}`` when a file starts, every :data:`ANCHOR_SECONDS` of
audio, and at every gap: the file frame ``frame`` is sender sample ``first_sample``, whose beat on
the session's transport was ``beat``.

Reading (:func:`session_audio`): the anchors of one session are put on the recording's tempo map.
Audio played without a jump in between forms a run whose song offset is the median of its
anchors'; each run is laid on the song timeline (a loop's later pass over an earlier one), from
song second 0, silence where nothing was streamed. That is the audio ``barlight export --session``
exports and muxes when no bounce is given.
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.errors import InputError
from bridge.features.audio_file import MAX_AUDIO_SECONDS

if TYPE_CHECKING:
    from bridge.receiver import PcmAudio
    from bridge.timeline.tempo_map import TempoMap

log = logging.getLogger(__name__)

#: Seconds of audio between two anchor lines of one stream.
ANCHOR_SECONDS = 0.5
#: The most audio one recording keeps, in seconds (all sessions together).
MAX_PCM_SECONDS = MAX_AUDIO_SECONDS
#: Anchors whose song offsets differ by more than this belong to different runs (a seek or loop between).
#: Each anchor's beat comes from the session's fitted transport clock, which wanders by tens of
#: milliseconds on a loaded machine; a smaller tolerance splits one take into runs placed a few
#: milliseconds apart (clicks, doubled transients), while a real jump moves the song by a beat or more.
RUN_TOLERANCE_SECONDS = 0.1
_FILE_NAME = re.compile(r"[^/\\]+\.pcm\d+\.flac")


@dataclass(frozen=True)
class PcmAnchor:
    """One anchor line (see the module docstring), read back and checked."""

    session_id: str
    file: str
    frame: int
    first_sample: int
    sample_rate: int
    beat: float | None
    playing: bool
    gap: bool

    @classmethod
    def from_line(cls, line: dict[str, Any]) -> PcmAnchor:
        """The anchor of a recording line; ValueError naming the field that is wrong."""
        pcm, session = line["pcm"], line["session"]
        if not isinstance(pcm, dict) or not isinstance(session, str):
            raise ValueError("pcm must be an object and session a string")
        name = pcm["file"]
        if not isinstance(name, str) or not _FILE_NAME.fullmatch(name):
            raise ValueError(f"pcm file must be a NAME.pcmN.flac beside the recording, got {name!r}")
        numbers = {key: pcm[key] for key in ("frame", "first_sample", "sample_rate")}
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"pcm {key} must be a whole number >= 0, got {value!r}")
        beat = pcm.get("beat")
        if beat is not None and (isinstance(beat, bool) or not isinstance(beat, (int, float)) or not math.isfinite(beat)):
            raise ValueError(f"pcm beat must be a finite number or null, got {beat!r}")
        if not isinstance(pcm.get("playing"), bool) or not isinstance(pcm.get("gap", False), bool):
            raise ValueError("pcm playing and gap must be true or false")
        return cls(session, name, numbers["frame"], numbers["first_sample"], numbers["sample_rate"],
                   None if beat is None else float(beat), pcm["playing"], pcm.get("gap", False))


@dataclass
class _File:
    """One FLAC being written: its name, the open soundfile, its rate and where the stream is."""

    name: str
    handle: Any
    sample_rate: int
    frames: int = 0
    next_sample: int = -1
    anchored_frame: int = -(1 << 62)


class PcmWriter:
    """Writes a recording's PCM into FLAC files beside ``recording_path`` (see the module docstring).

    Thread-safety: one thread (the recorder's writer). Realtime-safety: file I/O; never on the receiver thread.
    """

    def __init__(self, recording_path: str | os.PathLike[str], max_seconds: float = MAX_PCM_SECONDS) -> None:
        self.recording_path = Path(recording_path)
        self.max_seconds = max_seconds
        self.seconds = 0.0
        self.full = False
        self._files: dict[str, _File] = {}
        self._written: list[_File] = []

    @property
    def stem(self) -> str:
        return self.recording_path.name.removesuffix(".jsonl")

    def write(self, event: PcmAudio) -> list[dict[str, Any]]:
        """Append ``event``'s samples to its session's file; return the anchor lines to record (maybe none)."""
        block = event.block
        if self.full or self.seconds + len(block.samples) / block.sample_rate > self.max_seconds:
            if not self.full:
                log.warning("recording keeps no more audio: %.0f minutes is the most", self.max_seconds / 60)
            self.full = True
            return []
        file = self._files.get(event.session_id)
        if file is None or file.sample_rate != block.sample_rate or file.next_sample != block.first_sample:
            file = self._open(event.session_id, block.sample_rate)
        lines = []
        if block.gap or file.frames - file.anchored_frame >= ANCHOR_SECONDS * file.sample_rate:
            file.anchored_frame = file.frames
            lines.append({"t": block.host_seconds, "session": event.session_id, "pcm": {
                "file": file.name, "frame": file.frames, "first_sample": block.first_sample,
                "sample_rate": block.sample_rate, "beat": event.beat, "playing": event.playing, "gap": block.gap}})
        file.handle.write(block.samples)
        file.frames += len(block.samples)
        file.next_sample = block.end_sample
        self.seconds += len(block.samples) / block.sample_rate
        return lines

    def _open(self, session_id: str, sample_rate: int) -> _File:
        import soundfile

        old = self._files.pop(session_id, None)
        if old is not None:
            old.handle.flush()
        name = f"{self.stem}.pcm{len(self._written) + 1}.flac"
        handle = soundfile.SoundFile(self.recording_path.parent / f"{name}.part", "x", samplerate=sample_rate,
                                     channels=1, subtype="PCM_16", format="FLAC")
        file = _File(name, handle, sample_rate)
        self._files[session_id] = file
        self._written.append(file)
        return file

    def flush(self) -> None:
        for file in self._files.values():
            file.handle.flush()

    def close(self) -> list[Path]:
        """Finish every file and rename it into place; returns their paths."""
        paths = []
        for file in self._written:
            if not file.handle.closed:
                file.handle.close()
            path = self.recording_path.parent / file.name
            os.replace(path.with_name(file.name + ".part"), path)
            paths.append(path)
        self._files.clear()
        return paths


@dataclass(frozen=True, eq=False)
class SessionAudio:
    """A recording's audio on the song timeline: mono ``samples`` (float32) from song second 0 at
    ``sample_rate``; ``first_seconds`` and ``end_seconds`` bound what was streamed."""

    samples: np.ndarray
    sample_rate: int
    first_seconds: float
    end_seconds: float


def _runs(anchors: list[PcmAnchor], tempo_map: TempoMap) -> list[tuple[str, int, int | None, float]]:
    """``(file, first frame, end frame or None, song seconds of frame 0)`` per run of audio played without
    a jump: consecutive anchors of one file whose song offsets agree (their median)."""
    runs: list[tuple[str, int, list[float]]] = []
    ends: list[int | None] = []
    for k, anchor in enumerate(anchors):
        following = anchors[k + 1] if k + 1 < len(anchors) else None
        end = following.frame if following is not None and following.file == anchor.file else None
        if not anchor.playing or anchor.beat is None:
            continue
        offset = tempo_map.seconds_at(anchor.beat) - anchor.frame / anchor.sample_rate
        if runs and runs[-1][0] == anchor.file and ends[-1] == anchor.frame \
                and abs(offset - float(np.median(runs[-1][2]))) <= RUN_TOLERANCE_SECONDS:
            runs[-1][2].append(offset)
            ends[-1] = end
        else:
            runs.append((anchor.file, anchor.frame, [offset]))
            ends.append(end)
    return [(file, frame, end, float(np.median(offsets))) for (file, frame, offsets), end in zip(runs, ends)]


def session_audio(recording: Any, tempo_map: TempoMap, session_id: str | None = None) -> SessionAudio:
    """The audio ``recording`` (a :class:`bridge.recording.Recording`) kept of ``session_id`` (default: its
    main session), on ``tempo_map``'s song timeline (module docstring). InputError naming the recording when
    it kept none, or its files cannot be read."""
    session_id = session_id or recording.main_session()
    anchors = [a for a in recording.pcm if a.session_id == session_id]
    runs = _runs(anchors, tempo_map)
    if not runs:
        raise InputError(recording.path, "kept no audio of the mix played (its sender sent no /daw/pcm): give the "
                                         "bounce as AUDIO")
    rate = max({a.sample_rate for a in anchors}, key=lambda r: sum(a.sample_rate == r for a in anchors))
    files = {name: read_pcm_file(recording.path, name) for name in {run[0] for run in runs}}
    placed = []
    for name, first, end, offset in runs:
        samples, file_rate = files[name]
        if file_rate == rate:
            start = round((offset + first / rate) * rate)
            placed.append((start, samples[first:end]))
    stop = max(start + len(part) for start, part in placed)
    song = np.zeros(max(stop, 0), np.float32)
    for start, part in placed:
        cut = max(0, -start)
        song[start + cut:start + len(part)] = part[cut:]
    first_sample = max(0, min(start for start, _ in placed))
    return SessionAudio(song, rate, first_sample / rate, len(song) / rate)


def read_pcm_file(recording_path: Path, name: str) -> tuple[np.ndarray, int]:
    """A recording's FLAC file as mono float32; its ``.part`` if the recording was never closed."""
    from bridge.features.audio_file import read_samples

    path = recording_path.parent / name
    if not path.exists() and path.with_name(name + ".part").exists():
        return _read_unfinished(path.with_name(name + ".part"))
    samples, rate = read_samples(path)
    return samples[:, 0], rate


def _read_unfinished(path: Path) -> tuple[np.ndarray, int]:
    """A FLAC a crash left unfinished: its header does not know its length, so it is read a piece at a time
    up to the last whole piece (a crash loses the audio of its last half second or so)."""
    import soundfile

    from bridge.features.sanitize import SampleCheck
    from bridge.inputs import check_regular_file

    check_regular_file(path, "audio")
    pieces, frames, check = [], 0, SampleCheck()
    try:
        with soundfile.SoundFile(path) as audio:
            rate = int(audio.samplerate)
            while frames < MAX_PCM_SECONDS * rate:
                try:
                    piece = audio.read(4096, dtype="float32", always_2d=True)
                except (RuntimeError, soundfile.SoundFileError):
                    break  # the end of what was written
                pieces.append(check.clean(piece[:, 0]))
                frames += len(piece)
                if len(piece) < 4096:
                    break
    except (RuntimeError, soundfile.SoundFileError) as err:
        raise InputError(path, f"cannot read audio ({str(err).splitlines()[0]})") from None
    check.warn(path)
    return (np.concatenate(pieces) if pieces else np.zeros(0, np.float32)), rate

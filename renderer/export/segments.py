"""The export's video in segments: one per chunk, joined without re-encoding, the audio muxed once.

Each chunk (:mod:`renderer.export.chunks`) is encoded by a fresh encoder with the export's codec
settings (:func:`open_segment`), so its first frame is a keyframe and no frame refers to another
segment (a closed GOP). :func:`join_segments` copies the segments' packets into the video, each
shifted to its chunk's first frame, and encodes the audio alongside. A local export encodes its
own segments (:class:`SegmentedVideo`, the export's video sink); a distributed one gets them from
its workers. Both join them the same way, so both make the same video.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from bridge.files import atomic_output
from renderer.export.audio import AudioClip
from renderer.export.chunks import Chunk
from renderer.sinks.base import FramePosition, FrameSink
from renderer.sinks.video_file import AudioTrack, VideoFormat, VideoWriter, container_options


def segment_path(folder: str | os.PathLike[str], chunk: Chunk, video_format: VideoFormat) -> Path:
    """Where chunk ``chunk``'s segment is kept: ``folder/NNNNN.mp4`` (``.mov`` for ProRes)."""
    return Path(folder) / f"{chunk.index:05d}{video_format.suffix}"


def open_segment(path: str | os.PathLike[str], fps: Fraction, size: tuple[int, int],
                 video_format: VideoFormat) -> VideoWriter:
    """A writer for one segment: video only, a fresh encoder; the file appears at ``path`` when closed."""
    return VideoWriter(path, fps, size, None, video_format)


def join_segments(segments: Sequence[tuple[Path, Chunk]], path: str | os.PathLike[str], fps: Fraction,
                  audio: AudioClip | None, video_format: VideoFormat) -> Path:
    """Write ``path`` from ``segments`` (each file with its chunk, in order): their packets copied with
    timestamps moved to the chunk's first frame, ``audio`` encoded once alongside. The file is written whole or
    not at all (:func:`bridge.files.atomic_output`). ValueError when a segment's frame count or codec settings
    differ from its chunk's and the first segment's."""
    import av

    path = Path(path)
    options = container_options(video_format, Fraction(fps))
    with atomic_output(path) as tmp, av.open(os.fspath(segments[0][0])) as first, \
            av.open(os.fspath(tmp), "w", container_options=options) as out:
        template = first.streams.video[0]
        stream = out.add_stream_from_template(template)
        track = AudioTrack(out, audio, video_format, fps) if audio is not None else None
        for segment, chunk in segments:
            _copy_segment(segment, chunk, out, stream, bytes(template.codec_context.extradata or b""), fps)
            if track is not None:
                track.write_until_frame(chunk.stop_frame)
        if track is not None:
            track.finish()
    return path


def _copy_segment(segment: Path, chunk: Chunk, out, stream, extradata: bytes, fps: Fraction) -> None:
    """Mux ``segment``'s video packets into ``out``'s ``stream``, shifted to ``chunk.first_frame``."""
    import av

    with av.open(os.fspath(segment)) as container:
        source = container.streams.video[0]
        if bytes(source.codec_context.extradata or b"") != extradata:
            raise ValueError(f"{segment.name}: codec settings differ from the first segment's")
        shift = Fraction(chunk.first_frame) / fps / source.time_base
        if shift.denominator != 1:
            raise ValueError(f"{segment.name}: time base {source.time_base} cannot place frame {chunk.first_frame}")
        packets = 0
        for packet in container.demux(source):
            if packet.size == 0:  # the demuxer's end-of-stream marker
                continue
            packet.pts += int(shift)
            if packet.dts is not None:
                packet.dts += int(shift)
            packet.stream = stream
            out.mux(packet)
            packets += 1
    if packets != len(chunk.frames):
        raise ValueError(f"{segment.name}: {packets} frames, chunk {chunk.index} has {len(chunk.frames)}")


class SegmentedVideo(FrameSink):
    """The export's video file as a frame sink: frames are encoded into one segment per chunk in ``folder``
    (each renamed into place when its chunk is complete), and :meth:`close` joins every chunk's segment
    into ``path`` with the audio. Segments already in ``folder`` (an earlier run's, a distributed export's)
    are joined too: ``first_frame``, a chunk's first frame, is the first frame this sink is sent.

    Not thread-safe: one thread sends. Not realtime-safe: encodes and does file I/O.
    """

    name = "video"

    def __init__(self, path: str | os.PathLike[str], fps: Fraction, size: tuple[int, int], audio: AudioClip | None,
                 video_format: VideoFormat, chunks: Sequence[Chunk], folder: str | os.PathLike[str],
                 first_frame: int = 0) -> None:
        super().__init__()
        self.path = Path(path)
        self.fps = Fraction(fps)
        self.size = tuple(size)
        self.audio = audio
        self.format = video_format
        self.chunks = tuple(chunks)
        self.folder = Path(folder)
        starts = [chunk.first_frame for chunk in self.chunks] + [self.chunks[-1].stop_frame if self.chunks else 0]
        if first_frame not in starts:
            raise ValueError(f"frame {first_frame} is not the first frame of a chunk")
        self.frames_written = first_frame
        self._chunk = starts.index(first_frame)
        self._writer: VideoWriter | None = None

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        """Encode the next frame into its chunk's segment (frames must come in order)."""
        if position.frame is not None and position.frame != self.frames_written:
            raise ValueError(f"frame {position.frame} sent where frame {self.frames_written} is next")
        chunk = self.chunks[self._chunk]
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writer = open_segment(segment_path(self.folder, chunk, self.format), self.fps, self.size, self.format)
        self._writer.write(frame)
        self.frames_written += 1
        if self.frames_written == chunk.stop_frame:
            self._writer.close()
            self._writer, self._chunk = None, self._chunk + 1

    def close(self) -> Path:
        """Join every chunk's segment into ``path`` (with the audio); returns ``path``."""
        if self._writer is not None:
            self.abort()
            raise ValueError(f"the video ends inside chunk {self._chunk} (frame {self.frames_written})")
        segments = [(segment_path(self.folder, chunk, self.format), chunk) for chunk in self.chunks]
        return join_segments(segments, self.path, self.fps, self.audio, self.format)

    def abort(self) -> None:
        """Drop the unfinished segment (finished ones stay in ``folder``)."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None

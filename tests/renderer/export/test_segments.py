"""The video in segments, one per chunk, joined without re-encoding (renderer/export/segments.py): real x264
and AAC through PyAV."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from renderer.export.audio import AudioClip
from renderer.export.chunks import Chunk
from renderer.export.segments import SegmentedVideo, join_segments, open_segment, segment_path
from renderer.sinks.base import FramePosition
from renderer.sinks.video_file import H264, PRORES, VideoWriter

FPS = Fraction(24)
SIZE = (64, 48)
CHUNKS = (Chunk(0, 1, 0, 17, 0), Chunk(1, 3, 17, 30, 9), Chunk(2, 5, 30, 41, 23))


def frames(count: int) -> list[np.ndarray]:
    y, x = np.mgrid[0:SIZE[1], 0:SIZE[0]]
    return [np.stack([(x * 4 + k * 9) % 256, (y * 5 - k * 7) % 256, np.full_like(x, k * 6 % 256)], -1).astype(np.uint8)
            for k in range(count)]


def noise(seconds: float, rate: int = 44100) -> AudioClip:
    rng = np.random.default_rng(1)
    return AudioClip((rng.standard_normal((2, round(seconds * rate))) * 0.2).astype(np.float32), rate)


def position(frame: int) -> FramePosition:
    return FramePosition(frame / 24, frame / 12, 1, 0.0, 120.0, 4, 4, None, frame)


def send_all(sink: SegmentedVideo, pictures: list[np.ndarray]) -> None:
    for k, picture in enumerate(pictures):
        sink.send(picture, position(k))


def decoded(path) -> list[tuple[Fraction, np.ndarray]]:
    with av.open(str(path)) as container:
        return [(frame.pts * frame.time_base, frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)]


def packets(path, kind: str) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(**{kind: 0}) if packet.size]


@pytest.mark.parametrize("video_format", [H264, PRORES], ids=["h264", "prores"])
def test_joined_segments_are_the_segments_frames_at_exact_times_with_the_audio_once(tmp_path, video_format):
    pictures, audio = frames(41), noise(41 / 24)
    path = tmp_path / f"out{video_format.suffix}"
    sink = SegmentedVideo(path, FPS, SIZE, audio, video_format, CHUNKS, tmp_path / "segments")
    send_all(sink, pictures)
    sink.close()
    segments = [segment_path(tmp_path / "segments", chunk, video_format) for chunk in CHUNKS]
    pieces = [picture for segment in segments for _, picture in decoded(segment)]
    joined = decoded(path)
    assert [pts for pts, _ in joined] == [Fraction(k, 24) for k in range(41)]
    assert all(np.array_equal(a, b) for (_, a), b in zip(joined, pieces, strict=True))  # copied, not re-encoded
    for segment in segments:  # each segment opens on a keyframe: it needs no other segment
        with av.open(str(segment)) as container:
            assert next(p for p in container.demux(video=0) if p.size).is_keyframe
    whole = tmp_path / f"whole{video_format.suffix}"
    with VideoWriter(whole, FPS, SIZE, audio, video_format) as writer:  # the same audio, encoded in one go
        for picture in pictures:
            writer.write(picture)
    assert packets(path, "audio") == packets(whole, "audio")


def test_a_segment_that_does_not_fit_its_chunk_is_refused(tmp_path):
    pictures = frames(17)
    short = tmp_path / "short.mp4"
    with open_segment(short, FPS, SIZE, H264) as writer:
        for picture in pictures[:16]:
            writer.write(picture)
    with pytest.raises(ValueError, match="16 frames, chunk 0 has 17"):
        join_segments([(short, CHUNKS[0])], tmp_path / "out.mp4", FPS, None, H264)
    right, wide = tmp_path / "right.mp4", tmp_path / "wide.mp4"
    with open_segment(right, FPS, SIZE, H264) as writer:
        for picture in pictures:
            writer.write(picture)
    with open_segment(wide, FPS, (80, 48), H264) as writer:
        for _ in range(13):
            writer.write(np.zeros((48, 80, 3), np.uint8))
    with pytest.raises(ValueError, match="codec settings differ"):
        join_segments([(right, CHUNKS[0]), (wide, CHUNKS[1])], tmp_path / "out.mp4", FPS, None, H264)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["right.mp4", "short.mp4", "wide.mp4"]  # no video, no temp


def test_an_aborted_video_keeps_its_finished_segments_only(tmp_path):
    folder = tmp_path / "segments"
    sink = SegmentedVideo(tmp_path / "out.mp4", FPS, SIZE, None, H264, CHUNKS, folder)
    send_all(sink, frames(20))  # chunk 0 complete, chunk 1 begun
    sink.abort()
    assert sorted(p.name for p in folder.iterdir()) == ["00000.mp4"]
    assert len(decoded(folder / "00000.mp4")) == 17
    assert not (tmp_path / "out.mp4").exists()


def test_frames_out_of_order_or_a_video_ending_inside_a_chunk_are_refused(tmp_path):
    sink = SegmentedVideo(tmp_path / "out.mp4", FPS, SIZE, None, H264, CHUNKS, tmp_path / "segments")
    with pytest.raises(ValueError, match="frame 1 sent where frame 0 is next"):
        sink.send(frames(1)[0], position(1))
    send_all(sink, frames(18))
    with pytest.raises(ValueError, match="inside chunk 1"):
        sink.close()
    assert not (tmp_path / "out.mp4").exists()

"""The video writer: exact frame times at integer and NTSC rates, audio starting with frame 0."""

from fractions import Fraction

import av
import numpy as np
import pytest
from scipy.signal import correlate

from renderer.export.audio import AudioClip
from renderer.export.timing import frame_count
from renderer.sinks.video_file import H264, PRORES, VideoWriter


def noise(seconds: float, rate: int = 44100, seed: int = 0) -> AudioClip:
    rng = np.random.default_rng(seed)
    return AudioClip((rng.standard_normal((2, round(seconds * rate))) * 0.2).astype(np.float32), rate)


def decode_audio(path) -> np.ndarray:
    with av.open(str(path)) as container:
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
        fmt = container.streams.audio[0].codec_context.format.name
    data = np.concatenate(chunks, axis=1)
    if fmt == "s16":  # packed: (1, n * channels)
        return data.reshape(-1, 2).T.astype(np.float32) / 32767.0
    return data.astype(np.float32)


def lag_samples(decoded: np.ndarray, original: np.ndarray) -> int:
    n = min(decoded.shape[-1], original.shape[-1])
    cc = correlate(decoded[:n], original[:n], mode="full", method="fft")
    return int(np.argmax(cc)) - (n - 1)


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30)])
def test_frames_have_exact_pts_and_the_audio_has_no_offset(tmp_path, fps):
    audio = noise(1.05)
    count = frame_count(audio.duration_seconds, fps)
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps, (64, 48), audio) as writer:
        for k in range(count):
            writer.write(np.full((48, 64, 3), (k * 7) % 256, np.uint8))
    assert path.exists() and not list(tmp_path.glob(".*"))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert stream.average_rate == fps
    assert len(frames) == count == frame_count(Fraction(46305, 44100), fps)
    for k, frame in enumerate(frames):
        assert frame.pts * frame.time_base == Fraction(k) / fps  # exact: no drift at any k
    decoded = decode_audio(path)
    assert lag_samples(decoded[0], audio.samples[0]) == 0
    n = audio.frames
    assert decoded.shape[1] >= n
    assert np.corrcoef(decoded[0, :n], audio.samples[0])[0, 1] > 0.8  # AAC keeps white noise only roughly; the timing is what matters


def test_prores_mov_carries_pcm_audio_from_frame_zero(tmp_path):
    audio = noise(0.5, rate=48000, seed=1)
    fps = Fraction(24000, 1001)
    path = tmp_path / "out.mov"
    with VideoWriter(path, fps, (64, 64), audio, PRORES) as writer:
        for k in range(frame_count(audio.duration_seconds, fps)):
            writer.write(np.zeros((64, 64, 3), np.uint8))
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "prores"
        assert container.streams.video[0].frames == 12
    decoded = decode_audio(path)
    assert np.allclose(decoded[:, : audio.frames], audio.samples, atol=2 / 32767)


def test_an_aborted_writer_leaves_no_file(tmp_path):
    path = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(path, Fraction(24), (64, 64), noise(0.2), H264) as writer:
            writer.write(np.zeros((64, 64, 3), np.uint8))
            raise RuntimeError("crash mid-export")
    assert list(tmp_path.iterdir()) == []


def test_wrong_frame_shape_is_refused(tmp_path):
    writer = VideoWriter(tmp_path / "out.mp4", Fraction(24), (64, 64))
    with pytest.raises(ValueError, match="64, 64, 3"):
        writer.write(np.zeros((32, 32, 3), np.uint8))
    writer.abort()


def test_a_long_ntsc_video_has_no_drift_at_its_end(tmp_path):
    """Two minutes at 29.97 fps: the last frame's time and the audio at the very end are exact."""
    fps = Fraction(30000, 1001)
    audio = noise(120.0, rate=48000, seed=2)
    count = frame_count(audio.duration_seconds, fps)
    assert count == 3597  # 120 s * 29.97 = 3596.4 -> 3597
    path = tmp_path / "long.mp4"
    frame = np.zeros((16, 16, 3), np.uint8)
    with VideoWriter(path, fps, (16, 16), audio) as writer:
        for _ in range(count):
            writer.write(frame)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [f.pts * f.time_base for f in container.decode(stream)]
    assert len(pts) == count and pts[-1] == Fraction(count - 1) / fps == Fraction(3596 * 1001, 30000)
    decoded = decode_audio(path)
    tail = 48000  # the last second: any drift would show as a lag here
    assert lag_samples(decoded[0, audio.frames - tail:audio.frames], audio.samples[0, -tail:]) == 0


def test_the_same_frames_encode_to_the_same_bytes_whatever_the_heap_held_before(tmp_path):
    """A cluster's segments must join into the video a local export makes: x264's output may not depend on
    the process's history. With its macroblock tree on, 4 of 6 encodes of this clip differed after heap churn."""
    yy, xx = np.mgrid[0:256, 0:144]
    frames = [((np.stack([np.sin(xx / 7 + k * 0.3 + c) * np.cos(yy / 5 - k * 0.2) for c in range(3)], -1)
                * 0.5 + 0.5) * 255).astype(np.uint8) for k in range(64)]
    rng = np.random.default_rng()  # fresh noise each run: what the heap holds is not up to the encoder

    def churn(count: int, largest: int) -> None:  # leave noise in freed heap memory
        junk = [rng.integers(0, 255, int(size), dtype=np.uint8) for size in rng.integers(1000, largest, count)]
        del junk

    encodes = set()
    for run in range(5):
        churn(50, 200_000)
        writer = VideoWriter(tmp_path / f"{run}.mp4", Fraction(4), (144, 256), None, H264)
        for frame in frames:
            churn(10, 100_000)
            writer.write(frame)
        encodes.add(writer.close().read_bytes())
    assert len(encodes) == 1

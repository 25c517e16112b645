"""The video file sink: frames and the piece's audio in one video file with exact timing (PyAV / FFmpeg).

Frame ``k`` gets presentation time ``k`` in a time base of ``1/fps`` (exactly
``1001/30000`` s at 29.97 fps), so no frame time is ever accumulated or rounded.
Audio sample ``n`` gets time ``n`` in ``1/sample_rate``; the first sample plays with
frame 0. AAC's encoder delay (its 1024 priming samples) is carried by negative
packet timestamps, which the MP4 muxer turns into an edit list that players and
decoders honour, so decoded audio starts exactly at frame 0 (a test decodes the
file and cross-correlates). Audio is interleaved as the video advances.

The file is written under a hidden temporary name beside ``path`` and renamed
into place by :meth:`VideoWriter.close`; :meth:`VideoWriter.abort` deletes it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from renderer.export.audio import AudioClip
from renderer.sinks.base import FramePosition, FrameSink


@dataclass(frozen=True)
class VideoFormat:
    """A container and codecs: the mp4 default (H.264 + AAC) or ProRes 422 HQ + PCM in a mov."""

    name: str
    suffix: str
    video_codec: str
    pix_fmt: str
    audio_codec: str
    audio_format: str
    video_options: dict[str, str] = field(default_factory=dict)
    audio_rates: tuple[int, ...] = ()  # empty: any rate


#: x264's output depends on its thread count, so it is fixed: the same frames encode to the same
#: bytes on every machine (a cluster's segments join into the video a local export makes).
X264_THREADS = "2"
#: x264's macroblock tree is off: with it, the same frames encoded to different bytes from the first
#: P-frame on, depending on what the process's heap held before (10 encodes of one 144x256 clip gave 5
#: distinct files; without it 16 gave one). Off, files are 13 % smaller at 0.5 dB lower PSNR (the demo, 256x256).
X264_MBTREE = "0"

#: x264's preset and quality: ``veryfast`` at CRF 16 keeps the picture of ``medium`` at CRF 18 (the
#: embedded looks' fine lines at 1280 x 720: 29.58 against 29.61 dB PSNR on neon, 29.50 against 29.06 on ink;
#: yuv420p itself caps it at 31.6) in 25 % more bytes, for 0.4x the encoder's CPU time (64-67 against
#: 155-183 ms a frame): at 720p ``medium`` cost more than rendering the frame.
X264_PRESET, X264_CRF = "veryfast", "16"

H264 = VideoFormat(
    "h264", ".mp4", "libx264", "yuv420p", "aac", "fltp",
    {"crf": X264_CRF, "preset": X264_PRESET, "threads": X264_THREADS, "mbtree": X264_MBTREE,
     "movflags": "+faststart"},
    (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000),
)
PRORES = VideoFormat("prores", ".mov", "prores_ks", "yuv422p10le", "pcm_s16le", "s16", {"profile": "3"})

AUDIO_CHUNK = 1024  # samples per audio frame handed to the encoder (AAC's frame size)


def container_options(video_format: VideoFormat, fps: Fraction) -> dict[str, str]:
    """The muxer's options: the format's ``movflags``, and a movie timescale in which every frame boundary
    is exact (``fps``' numerator, x 1000 for whole rates). The mp4 muxer writes edit lists (B-frame delay,
    AAC priming) in the movie timescale, 1000 by default: a 32-frame video at 24 fps then lasted
    16380/12288 s instead of 4/3 s whenever x264 put B-frames at the start."""
    options = {k: v for k, v in video_format.video_options.items() if k == "movflags"}
    if video_format.suffix in (".mp4", ".mov"):
        options["movie_timescale"] = str(fps.numerator * (1000 if fps.denominator == 1 else 1))
    return options


class VideoWriter(FrameSink):
    """Encodes RGB frames one by one, audio alongside; the file appears at ``path`` only on :meth:`close`.

    Not thread-safe: one thread writes. Not realtime-safe: encodes and does file I/O.
    """

    name = "video"

    def __init__(self, path: str | os.PathLike[str], fps: Fraction, size: tuple[int, int],
                 audio: AudioClip | None = None, video_format: VideoFormat = H264, latency_seconds: float = 0.0) -> None:
        import av

        super().__init__(latency_seconds)
        self.path = Path(path)
        self.fps = Fraction(fps)
        self.width, self.height = size
        self.format = video_format
        self.frames_written = 0
        self._tmp = self.path.with_name(f".{self.path.stem}.incomplete{self.path.suffix}")
        self._tmp.unlink(missing_ok=True)
        options = container_options(video_format, self.fps)
        self._container = av.open(os.fspath(self._tmp), "w", container_options=options)
        video = self._container.add_stream(video_format.video_codec, rate=self.fps)
        video.width, video.height = self.width, self.height
        video.pix_fmt = video_format.pix_fmt
        video.time_base = 1 / self.fps
        video.codec_context.time_base = 1 / self.fps
        video.codec_context.colorspace = 1  # BT.709 (AVCOL_SPC_BT709), which :meth:`write` converts to
        video.codec_context.color_primaries = 1
        video.codec_context.color_trc = 1
        video.codec_context.color_range = 1  # limited ("tv") range
        codec_options = {k: v for k, v in video_format.video_options.items() if k != "movflags"}
        video.codec_context.options = codec_options
        self._video = video
        self._audio = AudioTrack(self._container, audio, video_format, self.fps) if audio is not None else None

    # -- writing --------------------------------------------------------------------------

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        """The sink's call: :meth:`write`, checking that an export's frames come in order."""
        if position.frame is not None and position.frame != self.frames_written:
            raise ValueError(f"frame {position.frame} sent where frame {self.frames_written} is next")
        self.write(frame)

    def write(self, rgb: np.ndarray) -> None:
        """Append the next frame: ``(height, width, 3)`` uint8 RGB, shown at ``frames_written / fps`` s."""
        import av

        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 ({self.height}, {self.width}, 3), got {rgb.dtype} {rgb.shape}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame = frame.reformat(format=self.format.pix_fmt, dst_colorspace="itu709")
        frame.pts = self.frames_written
        frame.time_base = self._video.codec_context.time_base
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1
        if self._audio is not None:  # keep the audio level with the video
            self._audio.write_until_frame(self.frames_written)

    def close(self) -> Path:
        """Flush encoders, finish the file and move it to ``path``; returns ``path``."""
        if self._audio is not None:
            self._audio.finish()
        for packet in self._video.encode(None):
            self._container.mux(packet)
        self._container.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Stop without a file: close and delete the temporary one."""
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - an encoder left mid-stream may refuse to finish; the file goes anyway
            pass
        self._tmp.unlink(missing_ok=True)



class AudioTrack:
    """The piece's sound as one stream of an output ``container``, encoded in AAC-sized frames (PCM for
    ProRes) as the video advances: :meth:`write_until_frame` after each video frame, :meth:`finish` at
    the end. Sample ``n`` gets time ``n`` in ``1/sample_rate``; the first one plays with frame 0.

    Not thread-safe: one thread writes (the container's). Not realtime-safe: encodes.
    """

    def __init__(self, container, audio: AudioClip, video_format: VideoFormat, fps: Fraction) -> None:
        self.audio = _fit_rate(audio, video_format)
        self.fps = Fraction(fps)
        self.format = video_format
        self._container = container
        self._cursor = 0
        self._layout = "mono" if self.audio.channels == 1 else "stereo"
        stream = container.add_stream(video_format.audio_codec, rate=self.audio.sample_rate)
        stream.layout = self._layout
        stream.format = video_format.audio_format
        stream.time_base = Fraction(1, self.audio.sample_rate)
        if video_format.audio_codec == "aac":
            stream.bit_rate = 128_000 * self.audio.channels
        self.stream = stream

    def sample_at(self, frame: int) -> int:
        """Samples that play before video frame ``frame`` starts (exact rational, then floored)."""
        return math.floor(Fraction(frame) / self.fps * self.audio.sample_rate)

    def write_until_frame(self, frame: int) -> None:
        """Encode every sample that plays before video frame ``frame``, in whole encoder frames."""
        self._write_until(self.sample_at(frame))

    def finish(self) -> None:
        """Encode the rest (a short last frame included) and flush the encoder."""
        self._write_until(self.audio.frames, final=True)
        for packet in self.stream.encode(None):
            self._container.mux(packet)

    def _write_until(self, sample: int, final: bool = False) -> None:
        import av

        sample = min(sample, self.audio.frames)
        while self._cursor < sample:
            stop = min(self._cursor + AUDIO_CHUNK, self.audio.frames)
            if stop - self._cursor < AUDIO_CHUNK and not final:
                return  # a short frame only at the very end: AAC wants full frames
            chunk = self.audio.samples[:, self._cursor:stop]
            if self.format.audio_format == "s16":  # packed int16, interleaved channels
                ints = np.clip(np.round(chunk * 32767.0), -32768, 32767).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(ints.T.reshape(1, -1), format="s16", layout=self._layout)
            else:
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=self._layout)
            frame.sample_rate = self.audio.sample_rate
            frame.pts = self._cursor
            frame.time_base = Fraction(1, self.audio.sample_rate)
            for packet in self.stream.encode(frame):
                self._container.mux(packet)
            self._cursor = stop


def _fit_rate(audio: AudioClip, video_format: VideoFormat) -> AudioClip:
    """Resample to 48 kHz only when the codec can't carry the file's own rate."""
    if not video_format.audio_rates or audio.sample_rate in video_format.audio_rates:
        return audio
    from scipy.signal import resample_poly

    gcd = math.gcd(48000, audio.sample_rate)
    samples = resample_poly(audio.samples, 48000 // gcd, audio.sample_rate // gcd, axis=1).astype(np.float32)
    return AudioClip(samples, 48000)

"""The NDI output over real NDI on this machine (ndi-python, loopback): what a receiver gets for each frame."""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest

from renderer.sinks import open_video_out
from renderer.sinks.base import FramePosition
from renderer.sinks.ndi import TIMECODE_PER_SECOND, frame_rate, position_xml
from tests.renderer.sinks.ndi_receiver import NdiReceiver


def position(k: int) -> FramePosition:
    beat = 8.0 + k * 0.5  # bar 3 from beat 8 in 4/4
    return FramePosition(seconds=beat * 0.5, beat=beat, bar=3 + int(k * 0.5 // 4), beat_in_bar=(k * 0.5) % 4,
                         bpm=120.0, numerator=4, denominator=4, section="drop" if k % 2 else None)



def luma_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 pictures' Rec. 601 luma (what NDI's 4:2:2 codec keeps at full size)."""
    weights = np.array([0.299, 0.587, 0.114])
    return float(np.abs(a.astype(float) @ weights - b.astype(float) @ weights).mean())

def test_metadata_counts_bar_and_beat_as_a_daw_does_and_escapes_the_section():
    xml = position_xml(FramePosition(seconds=5.25, beat=10.5, bar=3, beat_in_bar=2.5, bpm=128.0, numerator=4,
                                     denominator=4, section='Drop "A" & <B>'))
    assert xml == ('<barlight bar="3" beat="3.5" song_beat="10.5" bpm="128" meter="4/4" '
                   'section="Drop &quot;A&quot; &amp; &lt;B&gt;" seconds="5.25"/>')
    assert "section" not in position_xml(FramePosition(0.0, 0.0, 1, 0.0, 120.0, 4, 4))
    assert frame_rate(Fraction(30000, 1001)) == (30000, 1001) and frame_rate(59.94) == (60000, 1001)
    assert frame_rate(60) == (60, 1)


def test_a_real_receiver_gets_every_frame_with_its_size_pixels_timecode_and_position():
    name = f"barlight-test-{os.getpid()}"
    sink = open_video_out(f"ndi:{name}", fps=Fraction(30000, 1001))
    receiver = NdiReceiver(name)
    rng = np.random.default_rng(2)
    sent = [np.kron(rng.integers(0, 256, (6, 8, 3)), np.ones((8, 8, 1))).astype(np.uint8) for _ in range(20)]
    try:
        while not receiver.frames:  # NDI drops frames sent before the receiver has connected
            sink.send(sent[0], position(0))
            receiver.wait_for(1, 0.05)
        first = len(receiver.frames)
        for k, frame in enumerate(sent):
            sink.send(frame, position(k))
            assert receiver.wait_for(first + k + 1, 5.0), f"frame {k} did not arrive"
    finally:
        sink.close()
        receiver.close()
    got = receiver.frames[first:]
    assert len(got) == len(sent)
    for k, (frame, received) in enumerate(zip(sent, got)):
        assert received.image.shape == (48, 64, 3)
        difference = luma_difference(received.image, frame)
        assert difference < 8, difference  # NDI's codec is lossy (4:2:2 colour); another frame differs by ~80
        assert received.metadata == {key: value for key, value in {
            "bar": str(position(k).bar), "beat": f"{1 + position(k).beat_in_bar:g}",
            "song_beat": f"{position(k).beat:g}", "bpm": "120", "meter": "4/4", "section": position(k).section,
            "seconds": f"{position(k).seconds:g}"}.items() if value is not None}
        assert received.timecode == pytest.approx(position(k).seconds * TIMECODE_PER_SECOND)
        assert received.rate == (30000, 1001)


def test_an_export_sends_its_frames_to_ndi_as_they_render(tmp_path):
    """`barlight export --video-out ndi:NAME` (a VJ watching an export arrive): a real receiver that connects while
    the export renders gets the frames from then on, in order, each with the export's size, frame rate, bar and
    beat, the bars' first frames matching the keyframe images."""
    import threading

    import soundfile

    from barlight.cli import main
    from renderer.embedded.config import tiny_pipeline

    model = tmp_path / "tiny-model"
    tiny_pipeline(seed=0).save_pretrained(model)
    song = tmp_path / "song.wav"  # 24 s at 120 BPM: 12 bars, 192 frames at 8 fps, long enough to connect meanwhile
    audio = 0.1 * np.sin(np.linspace(0, 24 * 440 * 2 * np.pi, 24 * 22050))
    for start in range(0, len(audio), 11025):  # a click on every beat: the picture walks from bar to bar
        audio[start:start + 200] += 0.8 * np.exp(-np.arange(len(audio[start:start + 200])) / 40.0)
    soundfile.write(song, audio.astype(np.float32), 22050)
    name = f"barlight-export-{os.getpid()}"
    codes = []
    export = threading.Thread(target=lambda: codes.append(main([
        "export", str(song), "--bpm", "120", "--out", str(tmp_path / "out"), "--fps", "8", "--size", "64x48",
        "--model", str(model), "--quiet", "--video-out", f"ndi:{name}"])))
    export.start()
    try:
        receiver = NdiReceiver(name)
    finally:
        export.join(300)
    receiver.wait_for(len(receiver.frames) + 1, 1.0)  # the last frames in flight
    receiver.close()
    assert codes == [0]
    got = receiver.frames
    assert got, "no frame arrived while the export rendered"
    seconds = [float(r.metadata["seconds"]) for r in got]
    frames = [round(s * 8) for s in seconds]
    assert frames == list(range(frames[0], frames[0] + len(got)))  # every frame from the first one received, in order
    assert frames[-1] == 191 and all(s == pytest.approx(k / 8, abs=1e-6) for s, k in zip(seconds, frames))
    assert all(r.image.shape == (48, 64, 3) and r.rate == (8, 1) for r in got)
    assert all(r.metadata["bar"] == str(1 + k // 16) and float(r.metadata["beat"]) == pytest.approx(1 + (k % 16) / 4)
               for r, k in zip(got, frames))  # 120 BPM in 4/4 at 8 fps: a bar every 16 frames, a beat every 4
    from PIL import Image

    starts = [(r, 1 + k // 16) for r, k in zip(got, frames) if k % 16 == 0]
    keyframes = {bar: np.asarray(Image.open(tmp_path / "out" / "keyframes" / f"bar_{bar:04d}.png").convert("RGB"))
                 for bar in range(1, 13)}
    for r, bar in starts:
        # NDI's codec is lossy (4:2:2 colour): the luma of the bar's keyframe, and no other bar's closer
        own = luma_difference(r.image, keyframes[bar])
        assert own < 8 and all(own <= luma_difference(r.image, other) for other in keyframes.values())

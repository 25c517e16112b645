"""The NDI output over real NDI on this machine (ndi-python, loopback): what a receiver gets for each frame."""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest

from renderer.sinks import open_video_out
from renderer.sinks.base import FramePosition
from renderer.sinks.ndi import TIMECODE_PER_SECOND, frame_rate, position_xml
from tests.sinks.ndi_receiver import NdiReceiver


def position(k: int) -> FramePosition:
    beat = 8.0 + k * 0.5  # bar 3 from beat 8 in 4/4
    return FramePosition(seconds=beat * 0.5, beat=beat, bar=3 + int(k * 0.5 // 4), beat_in_bar=(k * 0.5) % 4,
                         bpm=120.0, numerator=4, denominator=4, section="drop" if k % 2 else None)


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
        difference = np.abs(received.image.astype(int) - frame.astype(int)).mean()
        assert difference < 8, difference  # NDI's codec is lossy; another frame differs by ~80
        assert received.metadata == {key: value for key, value in {
            "bar": str(position(k).bar), "beat": f"{1 + position(k).beat_in_bar:g}",
            "song_beat": f"{position(k).beat:g}", "bpm": "120", "meter": "4/4", "section": position(k).section,
            "seconds": f"{position(k).seconds:g}"}.items() if value is not None}
        assert received.timecode == pytest.approx(position(k).seconds * TIMECODE_PER_SECOND)
        assert received.rate == (30000, 1001)

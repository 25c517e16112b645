"""The shared-memory frame ring: frames and what they were rendered for cross intact, a reader that fell
behind loses the overwritten frames instead of showing torn ones, and the display clock crosses the other way."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.preview.ring import SLOTS, FrameRing
from renderer.preview.schedule import DisplayClock, PreviewFrame, RenderTarget
from renderer.sinks.base import FramePosition


def frame(k: int, size: tuple[int, int] = (6, 4)) -> PreviewFrame:
    width, height = size
    image = np.random.default_rng(k).integers(0, 256, (height, width, 3), dtype=np.uint8)
    target = RenderTarget(10.0 + k / 60, 10.02 + k / 60, 4.0 + k / 30, generation=3, playing=True, session_id="s")
    position = FramePosition(seconds=2.0 + k / 60, beat=4.0 + k / 30, bar=2, beat_in_bar=k / 30, bpm=120.0,
                             numerator=4, denominator=4, section="drop")
    return PreviewFrame(image, target, "2.1", "drop", 0.004, 9.99 + k / 60, "Neon", {"energy": 0.5}, position)


@pytest.fixture
def rings():
    writer = FrameRing.create((6, 4))
    reader_side = FrameRing.attach(writer.name, (6, 4))  # as the render process would, by name
    yield writer, reader_side
    reader_side.close()
    writer.close()


def test_frames_cross_with_their_pixels_and_what_they_were_rendered_for(rings):
    owner, child = rings
    sent = [frame(k) for k in range(3)]
    for f in sent:
        child.put(f)
    received = owner.take_new()
    assert len(received) == 3 and owner.take_new() == []
    for got, want in zip(received, sent):
        assert np.array_equal(got.image, want.image) and got.image is not want.image
        assert (got.target, got.label, got.section, got.preset, got.info, got.position) == (
            want.target, want.label, want.section, want.preset, want.info, want.position)
    assert owner.dropped == 0


def test_a_reader_behind_by_more_than_the_ring_loses_the_oldest_never_gets_a_torn_frame(rings):
    owner, child = rings
    for k in range(SLOTS + 3):
        child.put(frame(k))
    received = owner.take_new()
    assert [f.target.beat for f in received] == [frame(k).target.beat for k in range(3, SLOTS + 3)]
    assert owner.dropped == 3


def test_a_slot_overwritten_while_it_is_read_is_dropped(rings):
    owner, child = rings
    child.put(frame(0))
    header = owner._header(0)
    header[0] = 2 * SLOTS + 1  # the writer has begun frame SLOTS in slot 0 meanwhile
    assert owner.take_new() == [] and owner.dropped == 1


def test_the_writer_counts_frames_waiting_on_the_preview_side(rings):
    owner, child = rings
    for k in range(3):
        child.put(frame(k))
    assert len(child) == 3  # published, not taken
    owner.take_new()
    owner.publish_display(DisplayClock(1 / 60, 5.0, 0.02), waiting=2)
    assert len(child) == 2  # taken, two still wait in the preview's buffer


def test_the_display_clock_and_the_heartbeat_cross_between_the_sides(rings):
    owner, child = rings
    assert child.display() == DisplayClock()  # nothing published yet: the default
    owner.publish_display(DisplayClock(1 / 50, 7.25, 0.03), waiting=0)
    assert child.display() == DisplayClock(1 / 50, 7.25, 0.03)
    owner.board[0] += 1  # a publication under way: the last whole one is kept
    assert child.display() == DisplayClock(1 / 50, 7.25, 0.03)
    assert owner.heartbeat_seconds == -np.inf and owner.render_last_seconds is None
    child.report(12.5, rendered=7, last_seconds=0.08, estimate_seconds=0.09)
    assert (owner.heartbeat_seconds, owner.rendered, owner.render_last_seconds, owner.render_estimate_seconds) == (
        12.5, 7, 0.08, 0.09)


def test_a_frame_larger_than_the_ring_is_refused(rings):
    _, child = rings
    with pytest.raises(ValueError, match="does not fit"):
        child.put(frame(0, size=(8, 8)))

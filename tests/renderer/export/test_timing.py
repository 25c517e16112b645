"""Exact frame timing: rational rates, frame times k/fps, counts ceil(duration * fps)."""

from fractions import Fraction

import pytest

from bridge.errors import InputError
from renderer.export.timing import (
    BarRange, fps_label, frame_count, frame_seconds, nearest_frame, parse_bars, parse_fps, parse_size,
)


@pytest.mark.parametrize(("text", "fps"), [
    ("24", Fraction(24)), ("25", Fraction(25)), ("30", Fraction(30)),
    ("29.97", Fraction(30000, 1001)), ("23.976", Fraction(24000, 1001)), ("59.94", Fraction(60000, 1001)),
    ("30000/1001", Fraction(30000, 1001)), ("12.5", Fraction(25, 2)),
])
def test_parse_fps_is_exact(text, fps):
    assert parse_fps(text) == fps


@pytest.mark.parametrize("text", ["0", "-24", "abc", "1/0", "2000"])
def test_parse_fps_rejects_nonsense_naming_the_option(text):
    with pytest.raises(InputError, match="--fps"):
        parse_fps(text)


def test_fps_label_round_trips_ntsc_spellings():
    for text in ("24", "25", "29.97", "23.976", "59.94"):
        assert parse_fps(fps_label(parse_fps(text))) == parse_fps(text)


def test_frame_time_of_a_late_frame_is_exact_not_accumulated():
    fps = Fraction(30000, 1001)
    k = 10 * 3600 * 30  # ten hours of frames
    assert frame_seconds(k, fps) == Fraction(k * 1001, 30000)
    assert frame_seconds(1000, fps) == Fraction(1001, 30)


def test_frame_count_is_ceil_of_duration_times_fps():
    assert frame_count(Fraction(10), Fraction(24)) == 240
    assert frame_count(Fraction(10) + Fraction(1, 48000), Fraction(24)) == 241
    # 10 s at 29.97: 299.7 -> 300 frames; at 23.976: 239.76 -> 240
    assert frame_count(Fraction(10), Fraction(30000, 1001)) == 300
    assert frame_count(Fraction(10), Fraction(24000, 1001)) == 240
    assert frame_count(Fraction(7007, 30), Fraction(30000, 1001)) == 7000  # exactly 7000 frames, not 7001


def test_nearest_frame_rounds_exactly():
    assert nearest_frame(2.0, Fraction(30000, 1001)) == round(2.0 * 30000 / 1001)
    assert nearest_frame(Fraction(1, 60), Fraction(30)) == 0  # 0.5 -> even
    assert nearest_frame(0.26, Fraction(24)) == 6


def test_parse_size_and_bars():
    assert parse_size("1280x720") == (1280, 720)
    assert parse_size(" 64X64 ") == (64, 64)
    with pytest.raises(InputError, match="even"):
        parse_size("65x64")
    assert parse_bars("5:12") == BarRange(5, 12)
    assert parse_bars("5:") == BarRange(5, None)
    assert parse_bars(":8") == BarRange(1, 8)
    assert parse_bars(None) == BarRange()
    with pytest.raises(InputError, match="--bars"):
        parse_bars("8:5")
    with pytest.raises(InputError, match="--bars"):
        parse_bars("0:5")

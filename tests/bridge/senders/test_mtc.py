"""MTC decoding: quarter frames (2 frames to carry one time), full frames, rates, drop frame."""

from __future__ import annotations

import mido
import pytest

from bridge.errors import InputError
from bridge.senders.mtc import (
    MtcDecoder,
    Timecode,
    full_frame_data,
    parse_full_frame,
    parse_timecode,
    quarter_frame_values,
)


def quarter_frames(timecode: Timecode) -> list[mido.Message]:
    return [mido.Message("quarter_frame", frame_type=i, frame_value=v)
            for i, v in enumerate(quarter_frame_values(timecode))]


def test_quarter_frame_bytes_decode_to_the_time_plus_seven_quarter_frames() -> None:
    # 01:02:03:04 at 25 fps, as raw bytes F1 0nnndddd through mido's parser
    timecode = Timecode(1, 2, 3, 4, rate=1)
    raw = b"".join(bytes(m.bytes()) for m in quarter_frames(timecode))
    assert raw[:2] == bytes([0xF1, 0x04]) and raw[-2:] == bytes([0xF1, 0x70 | (1 << 1)])
    decoder = MtcDecoder()
    parser = mido.Parser()
    parser.feed(raw)
    samples = [decoder.feed(m, 10.0 + i * 0.01) for i, m in enumerate(parser)]
    assert samples[:7] == [None] * 7
    last = samples[7]
    assert last.fps == 25.0
    # piece 7 arrives 7 quarter frames after the frame it names began
    assert last.mtc_seconds == pytest.approx(3723 + 4 / 25 + 7 / 100)
    # the next set's pieces are stamped without waiting for its piece 7
    follow = decoder.feed(mido.Message("quarter_frame", frame_type=0, frame_value=6), 10.08)
    assert follow.mtc_seconds == pytest.approx(3723 + 6 / 25)


def test_out_of_order_pieces_wait_for_the_next_piece_zero() -> None:
    decoder = MtcDecoder()
    messages = quarter_frames(Timecode(0, 0, 10, 0))
    assert all(decoder.feed(m, 0.0) is None for m in messages[3:])  # started mid-set
    results = [decoder.feed(m, 0.1) for m in quarter_frames(Timecode(0, 0, 10, 2))]
    assert results[-1].mtc_seconds == pytest.approx(10 + 2 / 25 + 7 / 100)


@pytest.mark.parametrize("rate,fps", [(0, 24.0), (1, 25.0), (2, 30000 / 1001), (3, 30.0)])
def test_full_frame_round_trip_and_rates(rate: int, fps: float) -> None:
    timecode = Timecode(1, 0, 0, 12, rate)
    data = full_frame_data(timecode)
    assert bytes(mido.Message("sysex", data=data).bytes())[:5] == bytes([0xF0, 0x7F, 0x7F, 0x01, 0x01])
    assert parse_full_frame(data) == timecode
    sample = MtcDecoder().feed(mido.Message("sysex", data=data), 5.0)
    assert sample.locate and sample.fps == pytest.approx(fps)


def test_drop_frame_labels_skip_two_frames_a_minute_except_every_tenth() -> None:
    assert Timecode(0, 1, 0, 2, rate=2).total_seconds == pytest.approx(1800 / (30000 / 1001))
    assert Timecode(0, 10, 0, 0, rate=2).total_seconds == pytest.approx(17982 / (30000 / 1001))


def test_other_sysex_is_not_a_timecode() -> None:
    assert parse_full_frame((0x7E, 0x7F, 0x06, 0x01)) is None
    assert MtcDecoder().feed(mido.Message("sysex", data=(0x43, 0x10)), 0.0) is None


def test_parse_timecode() -> None:
    assert parse_timecode("01:00:00:00") == 3600.0
    assert parse_timecode("00:00:01:10", fps=25) == pytest.approx(1.4)
    for bad in ("1:00:00", "00:61:00:00", "00:00:00:30"):
        with pytest.raises(InputError, match="--mtc-start"):
            parse_timecode(bad)

"""decode()/encode() from the table: drop reasons, f/d and i/h, trailing args, wire bytes, round trips, a new row."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.protocol.checks import DROP_REASONS, ProtocolError, Range
from bridge.protocol.decode import RENDERER_TO_SENDER, decode
from bridge.protocol.encode import encode
from bridge.protocol.messages import (
    AckMessage,
    AudioMessage,
    ByeMessage,
    HelloMessage,
    LoopMessage,
    MacrosMessage,
    MarkersMessage,
    PcmMessage,
    TransportMessage,
    message_from_dict,
    message_to_dict,
    message_type,
)
from bridge.protocol.spec import (
    BLOB,
    FLOAT,
    INT,
    PROTOCOL_VERSION,
    SPECS,
    Field,
    MessageSpec,
    numbered,
    protocol_version,
)
from bridge.timeline.tempo_map import Marker


def osc(address: str, *args: tuple[object, str]) -> bytes:
    builder = OscMessageBuilder(address)
    for value, tag in args:
        builder.add_arg(value, tag)
    return builder.build().dgram


def transport(*override: tuple[object, str], **by_name: tuple[object, str]) -> bytes:
    names = ["playing", "beat", "bpm", "numerator", "denominator", "bar_start_beat", "bar"]
    args = dict(zip(names, [(1, "i"), (9.5, "f"), (120.0, "f"), (4, "i"), (4, "i"), (8.0, "f"), (3, "i")]))
    args.update(by_name)
    return osc("/daw/transport", *args.values(), *override)


def reason_of(datagram: bytes) -> str:
    with pytest.raises(ProtocolError) as info:
        decode(datagram)
    assert info.value.reason in DROP_REASONS
    return info.value.reason


# A /daw/transport datagram as Max's udpsend writes it (float32/int32 only), pinned as bytes.
MAX_TRANSPORT = (
    b"/daw/transport\x00\x00"
    b",iffiifi\x00\x00\x00\x00"
    b"\x00\x00\x00\x01" b"\x41\x18\x00\x00" b"\x42\xf0\x00\x00" b"\x00\x00\x00\x04"
    b"\x00\x00\x00\x04" b"\x41\x00\x00\x00" b"\x00\x00\x00\x03"
)


def test_max_style_datagram_decodes():
    assert decode(MAX_TRANSPORT) == TransportMessage(True, 9.5, 120.0, 4, 4, 8.0, 3)
    assert decode(MAX_TRANSPORT) == decode(transport())


def test_double_and_int64_accepted_where_float_and_int_listed():
    message = decode(transport(beat=(1234.000123, "d"), bar=(309, "h"), numerator=(3, "h")))
    assert message.beat == 1234.000123 and message.bar == 309 and message.numerator == 3


ROUND_TRIPS = [
    TransportMessage(False, -4.0, 87.5, 7, 8, -3.5, 0),
    AudioMessage(0.25, 0.5, (0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 0.0625, 0.0)),
    HelloMessage("m4l", "1", "abcd", 9421),
    HelloMessage("file", "1.2", "é-日本"),
    MarkersMessage((Marker("Intro", 0.0), Marker("Drop ", 64.0), Marker("", 128.0))),
    MarkersMessage(()),
    LoopMessage(True, 16.0, 32.0),
    MacrosMessage((0.0, 0.25, 0.5, 1.0)),
    ByeMessage("abcd"),
    PcmMessage(0, 8000, b"\x80\x00"),
    PcmMessage(2**40, 192000, b"\x7f\xff\x00\x01" * 4096),
]


@pytest.mark.parametrize("message", ROUND_TRIPS)
def test_encode_decode_round_trip(message):
    assert decode(encode(message)) == message
    assert message_from_dict(message_to_dict(message)) == message


def test_ack_is_known_only_in_the_renderer_to_sender_direction():
    datagram = encode(AckMessage("abcd", "1"))
    assert decode(datagram, RENDERER_TO_SENDER) == AckMessage("abcd", "1")
    assert reason_of(datagram) == "unknown_address"
    assert reason_of(osc("/daw/nope", (1, "i"))) == "unknown_address"


def test_extra_trailing_arguments_are_ignored():
    assert decode(transport((7, "i"), ("later", "s"))) == decode(transport())
    assert decode(osc("/daw/bye", ("s1", "s"), (1.5, "f"))) == ByeMessage("s1")
    # markers: a lone trailing argument after complete pairs is ignored
    assert decode(osc("/daw/markers", ("A", "s"), (4.0, "f"), ("B", "s"))) == MarkersMessage((Marker("A", 4.0),))


def test_markers_are_sorted_by_beat():
    message = decode(osc("/daw/markers", ("B", "s"), (8.0, "f"), ("A", "s"), (0.0, "d")))
    assert [m.name for m in message.markers] == ["A", "B"]


@pytest.mark.parametrize("datagram, reason", [
    (b"", "undecodable"),
    (b"garbage", "undecodable"),
    (b"#bundle\x00" + bytes(8), "undecodable"),
    (b"/daw/transport\x00\x00,ii", "undecodable"),  # type tags not padded/terminated
    (b"/daw/transport\x00\x00,iiii\x00\x00\x00\x00\x00\x00", "undecodable"),  # args missing
    (b"/daw/bye\x00\x00\x00\x00,s\x00\x00\xff\xfe\x00\x00", "undecodable"),  # not UTF-8
    (b"/daw/bye\x00\x00\x00\x00,Q\x00\x00", "undecodable"),  # unknown type tag
    (osc("/daw/tranport", (1, "i")), "unknown_address"),
    (osc("/daw/transport", (1, "i"), (2.0, "f")), "too_few_args"),
    (b"/daw/bye\x00\x00\x00\x00", "too_few_args"),  # no type tag string at all
    (transport(playing=(1.0, "f")), "wrong_type"),
    (transport(beat=(9, "i")), "wrong_type"),
    (transport(beat=("9", "s")), "wrong_type"),
    (transport(playing=(True, "T")), "wrong_type"),
    (transport(beat=(math.nan, "f")), "not_finite"),
    (transport(bar_start_beat=(math.inf, "d")), "not_finite"),
    (transport(bpm=(0.0, "f")), "bad_bpm"),
    (transport(bpm=(-120.0, "f")), "bad_bpm"),
    (transport(bpm=(999.5, "f")), "bad_bpm"),
    (transport(denominator=(6, "i")), "bad_meter"),
    (transport(denominator=(0, "i")), "bad_meter"),
    (transport(numerator=(0, "i")), "bad_meter"),
    (transport(numerator=(100, "i")), "bad_meter"),
    (osc("/daw/audio", (-0.5, "f"), *[(0.0, "f")] * 9), "out_of_range"),
    (osc("/daw/macros", (0.5, "f"), (1.5, "f"), (0.0, "f"), (0.0, "f")), "out_of_range"),
    (osc("/daw/loop", (1, "i"), (8.0, "f"), (4.0, "f")), "out_of_range"),
    (osc("/daw/hello", ("m4l", "s"), ("1", "s"), ("x", "s"), (0, "i")), "out_of_range"),
    (osc("/daw/hello", ("m4l", "s"), ("1", "s"), ("x", "s"), (9000.0, "f")), "wrong_type"),
    (osc("/daw/hello", ("m4l", "s"), ("2", "s"), ("x", "s")), "unsupported_version"),
    (osc("/daw/markers", ("A", "s"), ("B", "s")), "wrong_type"),
    (osc("/daw/markers", ("A", "s"), (math.nan, "f")), "not_finite"),
    (b"/daw/transport\x00\x00,[iiiiiii]\x00\x00" + bytes(28), "wrong_type"),
    (osc("/daw/pcm", (0, "h"), (44100, "i"), (1.0, "f")), "wrong_type"),  # samples must be a blob
    (osc("/daw/pcm", (0, "h"), (44100, "i"), ("\x00\x01", "s")), "wrong_type"),
    (osc("/daw/pcm", (0, "h"), (44100.0, "f"), (b"\x00\x01", "b")), "wrong_type"),
    (osc("/daw/pcm", (-1, "h"), (44100, "i"), (b"\x00\x01", "b")), "out_of_range"),
    (osc("/daw/pcm", (0, "i"), (7999, "i"), (b"\x00\x01", "b")), "out_of_range"),
    (osc("/daw/pcm", (0, "i"), (44100, "i"), (b"\x00\x01\x02", "b")), "out_of_range"),  # half a sample
    (osc("/daw/pcm", (0, "i"), (44100, "i"), (bytes(2 * 8193), "b")), "out_of_range"),
    (b"/daw/pcm\x00\x00\x00\x00,hib\x00\x00\x00\x00" + bytes(8) + b"\x00\x00\xacD\x00\x00\x00\x00", "out_of_range"),
    (osc("/daw/pcm", (0, "h"), (44100, "i")), "too_few_args"),
    (osc("/daw/audio", *[(0.0, "f")] * 9, (b"\x00\x00\x00\x00", "b")), "wrong_type"),  # blobs on /daw/pcm only
    (osc("/daw/hello", ("m4l", "s"), ("1.1", "s"), (b"id\x00\x00", "b")), "wrong_type"),
])
def test_rejections_name_their_reason(datagram, reason):
    assert reason_of(datagram) == reason


def test_bpm_limits_are_inclusive_at_999():
    assert decode(transport(bpm=(999.0, "f"))).bpm == 999.0
    assert decode(transport(bpm=(0.001, "d"))).bpm == 0.001


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=96))
def test_random_bytes_decode_or_raise_protocol_error(data):
    try:
        decode(b"/daw/transport\x00\x00" + data)
    except ProtocolError as err:
        assert err.reason in DROP_REASONS


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=255))
def test_single_byte_mutations_never_escape(position, value):
    datagram = bytearray(encode(HelloMessage("file", "1", "abcd", 9000)))
    datagram[position % len(datagram)] = value
    try:
        decode(bytes(datagram))
    except ProtocolError as err:
        assert err.reason in DROP_REASONS


# What encode() writes, pinned as bytes: beats as 'd', other floats as 'f', flags and ints as 'i'.
@pytest.mark.parametrize("message, datagram", [
    (TransportMessage(True, 9.5, 120.0, 4, 4, 8.0, 3),
     b"/daw/transport\x00\x00,idfiidi\x00\x00\x00\x00\x00\x00\x00\x01@#\x00\x00\x00\x00\x00\x00B\xf0\x00\x00"
     b"\x00\x00\x00\x04\x00\x00\x00\x04@ \x00\x00\x00\x00\x00\x00\x00\x00\x00\x03"),
    (HelloMessage("m4l", "1", "ab", 9421),
     b"/daw/hello\x00\x00,sssi\x00\x00\x00m4l\x001\x00\x00\x00ab\x00\x00\x00\x00$\xcd"),
    (HelloMessage("m4l", "1", "ab"), b"/daw/hello\x00\x00,sss\x00\x00\x00\x00m4l\x001\x00\x00\x00ab\x00\x00"),
    (MarkersMessage((Marker("A", 4.0),)),
     b"/daw/markers\x00\x00\x00\x00,sd\x00A\x00\x00\x00@\x10\x00\x00\x00\x00\x00\x00"),
    (PcmMessage(44100, 22050, b"\x01\x00\xff\x7f\x00\x02"),  # sample numbers as 'h', samples as 'b' (padded)
     b"/daw/pcm\x00\x00\x00\x00,hib\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xacD\x00\x00V\"\x00\x00\x00\x06"
     b"\x01\x00\xff\x7f\x00\x02\x00\x00"),
])
def test_encode_writes_the_rows_wire_types(message, datagram):
    assert encode(message) == datagram


def test_round_trips_cover_every_row_of_the_table():
    covered = {m.ADDRESS for m in ROUND_TRIPS} | {AckMessage.ADDRESS}
    assert covered == set(SPECS)


@pytest.mark.parametrize("datagram, detail", [
    (transport(bpm=(0.0, "f")), "bpm must be > 0 and <= 999, got 0.0"),
    (osc("/daw/audio", *[(0.0, "f")] * 5, (-0.5, "f"), *[(0.0, "f")] * 4), "band_3 must be >= 0, got -0.5"),
    (osc("/daw/macros", (0.5, "f"), (1.5, "f"), (0.0, "f"), (0.0, "f")), "macro_2 must be 0..1, got 1.5"),
    (osc("/daw/hello", ("m4l", "s"), ("1", "s"), ("x", "s"), (70000, "i")), "reply_port must be 1..65535, got 70000"),
    (transport(bar=(2.0, "f")), "/daw/transport bar has type 'f', expected 'i'"),
])
def test_rejections_name_the_argument_and_its_range(datagram, detail):
    with pytest.raises(ProtocolError) as info:
        decode(datagram)
    assert info.value.detail == detail


# A row of a later minor version with a blob and a tuple field, added to the table by a test only:
# one row is all the codec and the recordings need.
PCM_ROW = MessageSpec(
    "/daw/pcmtest",
    (Field("first_sample", INT, Range(at_least=0)), Field("sample_rate", INT, Range(at_least=8000, at_most=192000)),
     Field("samples", BLOB)),
    optional=(Field("gains", FLOAT, Range(at_least=0.0), numbered("gain", range(2))),),
    since="1.2",
    doc="test-only",
)


def test_one_new_row_is_a_new_message_with_codec_and_recording_form(monkeypatch):
    monkeypatch.setitem(SPECS, PCM_ROW.address, PCM_ROW)
    pcm = message_type(PCM_ROW)
    assert pcm.__name__ == "PcmtestMessage"
    message = pcm(44100 * 3, 22050, b"\x01\x00\xff\x7f", (0.5, 1.0))
    assert decode(encode(message)) == message
    assert decode(encode(replace(message, gains=None))) == replace(message, gains=None)
    stored = json.loads(json.dumps(message_to_dict(message)))
    assert stored == {"address": "/daw/pcmtest", "args": {"first_sample": 132300, "sample_rate": 22050,
                                                          "samples": "AQD/fw==", "gains": [0.5, 1.0]}}
    assert message_from_dict(stored) == message
    assert protocol_version(SPECS.values()) == "1.2"
    # a blob is accepted only where its row lists one, and the row's ranges apply
    assert reason_of(osc("/daw/pcmtest", (0, "i"), (22050, "i"), (1.0, "f"))) == "wrong_type"
    assert reason_of(osc("/daw/bye", (b"id", "b"))) == "wrong_type"
    assert reason_of(osc("/daw/pcmtest", (0, "i"), (4000, "i"), (b"\x00\x00", "b"))) == "out_of_range"
    assert reason_of(osc("/daw/pcmtest", (0, "i"), (22050, "i"))) == "too_few_args"


def test_a_receiver_without_the_row_counts_its_address_as_unknown():
    assert PCM_ROW.address not in SPECS
    assert reason_of(osc("/daw/pcmtest", (0, "i"), (22050, "i"), (b"\x00\x00", "b"))) == "unknown_address"
    assert PROTOCOL_VERSION == "1.1"


def test_a_v1_receiver_counts_pcm_as_an_unknown_address_and_v1_senders_still_speak(monkeypatch):
    """Protocol 1.1 adds /daw/pcm: a table without it (a v1 receiver) counts it as unknown, and every v1
    message still decodes in 1.1 (a v1 sender's hello says "1")."""
    pcm = encode(PcmMessage(0, 44100, b"\x00\x01"))
    assert SPECS["/daw/pcm"].since == "1.1" and decode(pcm) == PcmMessage(0, 44100, b"\x00\x01")
    v1 = {address: spec for address, spec in SPECS.items() if spec.since == "1"}
    assert protocol_version(v1.values()) == "1"
    monkeypatch.delitem(SPECS, "/daw/pcm")
    assert reason_of(pcm) == "unknown_address"
    assert decode(encode(HelloMessage("m4l", "1", "old"))) == HelloMessage("m4l", "1", "old")

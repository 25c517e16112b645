"""decode(): v1 table checks, drop reasons, f/d and i/h, trailing args, round trips with encode()."""

from __future__ import annotations

import math
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.protocol.checks import DROP_REASONS, ProtocolError
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
    TransportMessage,
    message_from_dict,
    message_to_dict,
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


@pytest.mark.parametrize("message", [
    TransportMessage(False, -4.0, 87.5, 7, 8, -3.5, 0),
    AudioMessage(0.25, 0.5, (0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 0.0625, 0.0)),
    HelloMessage("m4l", "1", "abcd", 9421),
    HelloMessage("file", "1.2", "é-日本"),
    MarkersMessage((Marker("Intro", 0.0), Marker("Drop ", 64.0), Marker("", 128.0))),
    MarkersMessage(()),
    LoopMessage(True, 16.0, 32.0),
    MacrosMessage((0.0, 0.25, 0.5, 1.0)),
    ByeMessage("abcd"),
])
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


def test_every_spec_row_has_a_message_type_that_encodes_to_its_tags():
    from bridge.protocol.messages import MESSAGE_TYPES
    from bridge.protocol.spec import ACCEPTED_TAGS, SPECS
    from pythonosc.osc_message import OscMessage
    from pythonosc.parsing import osc_types

    assert set(MESSAGE_TYPES) == set(SPECS)
    samples = {
        "/daw/hello": HelloMessage("m4l", "1", "id"),
        "/daw/transport": TransportMessage(True, 1.0, 120.0, 4, 4, 0.0, 1),
        "/daw/audio": AudioMessage(0.0, 0.0, (0.0,) * 8),
        "/daw/markers": MarkersMessage((Marker("A", 1.0),)),
        "/daw/loop": LoopMessage(False, 0.0, 4.0),
        "/daw/macros": MacrosMessage((0.0, 0.0, 0.0, 0.0)),
        "/daw/bye": ByeMessage("id"),
        "/renderer/ack": AckMessage("id", "1"),
    }
    for address, spec in SPECS.items():
        datagram = encode(samples[address])
        assert OscMessage(datagram).address == address
        _, index = osc_types.get_string(datagram, 0)
        tags = osc_types.get_string(datagram, index)[0][1:]
        assert len(tags) == len(spec.args)
        for tag, (_, want) in zip(tags, spec.args):
            assert tag in ACCEPTED_TAGS[want]

"""Datagram -> message value, pure and socket-free (a fuzzer drives it directly).

python-osc parses the OSC (address, type tags, arguments); this module checks the
result against the v1 table in :mod:`bridge.protocol.spec` and builds the frozen
message. Every rejection raises :class:`~bridge.protocol.checks.ProtocolError`
whose ``reason`` the receiver counts.
"""

from __future__ import annotations

from typing import Any

from pythonosc.osc_message import OscMessage
from pythonosc.parsing import osc_types

from bridge.protocol import checks
from bridge.protocol.checks import ProtocolError
from bridge.protocol.messages import (
    AckMessage,
    AudioMessage,
    ByeMessage,
    HelloMessage,
    LoopMessage,
    MacrosMessage,
    MarkersMessage,
    Message,
    TransportMessage,
)
from bridge.protocol.spec import ACCEPTED_TAGS, SPECS, MessageSpec
from bridge.timeline.tempo_map import Marker

SENDER_TO_RENDERER = "sender->renderer"
RENDERER_TO_SENDER = "renderer->sender"

# Tags python-osc parses without complaint; any other makes the datagram undecodable.
_PARSEABLE_TAGS = frozenset("ifhdsbTFNmrt[]")


def _parse(datagram: bytes) -> tuple[str, str, list[Any]]:
    """(address, type tags without the comma, arguments) via python-osc; ProtocolError if not OSC."""
    if not isinstance(datagram, (bytes, bytearray, memoryview)):
        raise ProtocolError("undecodable", f"expected bytes, got {type(datagram).__name__}")
    datagram = bytes(datagram)
    if not OscMessage.dgram_is_message(datagram):
        raise ProtocolError("undecodable", "not an OSC message (bundles are not part of v1)")
    try:
        address, index = osc_types.get_string(datagram, 0)
        tags = ""
        if datagram[index:]:
            tags, _ = osc_types.get_string(datagram, index)
            if not tags.startswith(","):
                raise ProtocolError("undecodable", "type tag string does not start with ','")
            tags = tags[1:]
            if not _PARSEABLE_TAGS.issuperset(tags):
                raise ProtocolError("undecodable", f"unsupported type tag in {tags!r}")
        params = OscMessage(datagram).params
    except ProtocolError:
        raise
    except Exception as err:  # python-osc raises ParseError, but also UnicodeDecodeError, struct.error...
        raise ProtocolError("undecodable", f"{type(err).__name__}: {err}") from None
    return address, tags, params


def _typed(spec: MessageSpec, fields: tuple[tuple[str, str], ...], tags: str, params: list[Any],
           offset: int = 0) -> list[Any]:
    """The values of ``fields`` starting at argument ``offset``, their tags checked (f<-f/d, i<-i/h)."""
    values = []
    for k, (name, want) in enumerate(fields):
        tag = tags[offset + k]
        if tag not in ACCEPTED_TAGS[want]:
            raise ProtocolError("wrong_type", f"{spec.address} {name} has type {tag!r}, expected {want!r}")
        value = params[offset + k]
        values.append(checks.check_finite(name, value) if want == "f" else value)
    return values


def _required(spec: MessageSpec, tags: str, params: list[Any]) -> list[Any]:
    need = len(spec.args)
    if len(tags) < need:
        raise ProtocolError("too_few_args", f"{spec.address} needs {need} arguments, got {len(tags)}")
    if "[" in tags[:need] or "]" in tags[:need]:
        raise ProtocolError("wrong_type", f"{spec.address}: arrays are not part of v1")
    return _typed(spec, spec.args, tags, params)


def _markers(spec: MessageSpec, tags: str, params: list[Any]) -> MarkersMessage:
    pairs = len(tags) // 2  # a lone trailing argument is ignored
    if "[" in tags[: pairs * 2] or "]" in tags[: pairs * 2]:
        raise ProtocolError("wrong_type", f"{spec.address}: arrays are not part of v1")
    markers = []
    for k in range(pairs):
        name, beat = _typed(spec, spec.args, tags, params, 2 * k)
        markers.append(Marker(name, beat))
    return MarkersMessage(tuple(sorted(markers, key=lambda m: m.beat)))


def _build(spec: MessageSpec, tags: str, params: list[Any]) -> Message:
    address = spec.address
    if address == MarkersMessage.ADDRESS:
        return _markers(spec, tags, params)
    values = _required(spec, tags, params)
    if address == TransportMessage.ADDRESS:
        playing, beat, bpm, numerator, denominator, bar_start_beat, bar = values
        checks.check_bpm(bpm)
        checks.check_meter(numerator, denominator)
        return TransportMessage(bool(playing), beat, bpm, numerator, denominator, bar_start_beat, bar)
    if address == AudioMessage.ADDRESS:
        rms, peak, *bands = (checks.check_amplitude(name, v) for (name, _), v in zip(spec.args, values))
        return AudioMessage(rms, peak, tuple(bands))
    if address == HelloMessage.ADDRESS:
        source, version, session_id = values
        checks.check_version(version)
        reply_port = None
        if len(tags) > len(spec.args):
            (port,) = _typed(spec, spec.optional, tags, params, len(spec.args))
            reply_port = checks.check_port("reply_port", port)
        return HelloMessage(source, version, session_id, reply_port)
    if address == LoopMessage.ADDRESS:
        on, start_beat, end_beat = values
        checks.check_loop(start_beat, end_beat)
        return LoopMessage(bool(on), start_beat, end_beat)
    if address == MacrosMessage.ADDRESS:
        return MacrosMessage(tuple(checks.check_unit(f"macro_{i + 1}", v) for i, v in enumerate(values)))  # type: ignore[arg-type]
    if address == ByeMessage.ADDRESS:
        return ByeMessage(values[0])
    if address == AckMessage.ADDRESS:
        return AckMessage(values[0], values[1])
    raise ProtocolError("unknown_address", address)  # a row in SPECS without a builder


def decode(datagram: bytes, direction: str = SENDER_TO_RENDERER) -> Message:
    """The v1 message in ``datagram``, validated; raise ProtocolError (with ``reason``) otherwise.

    ``direction`` picks which addresses are known: what a renderer receives
    (default) or what a sender receives (``/renderer/ack``). Extra trailing
    arguments are ignored. Thread-safe: pure. Realtime-safe: no I/O, allocates.
    """
    address, tags, params = _parse(datagram)
    spec = SPECS.get(address)
    if spec is None or spec.direction != direction:
        raise ProtocolError("unknown_address", f"{address[:64]!r} is not a {direction} address of v1")
    return _build(spec, tags, params)

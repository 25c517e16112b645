"""Message value -> datagram, with python-osc's builder.

Floats go out as ``f`` except beat positions, which go out as ``d`` (float64):
float32 has only ~0.5 ms of resolution at beat 10,000. Ints go out as ``i``.
"""

from __future__ import annotations

from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

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


def _args(message: Message) -> list[tuple[Any, str]]:
    if isinstance(message, TransportMessage):
        return [(int(message.playing), "i"), (message.beat, "d"), (message.bpm, "f"), (message.numerator, "i"),
                (message.denominator, "i"), (message.bar_start_beat, "d"), (message.bar, "i")]
    if isinstance(message, AudioMessage):
        return [(message.rms, "f"), (message.peak, "f")] + [(b, "f") for b in message.bands]
    if isinstance(message, HelloMessage):
        args = [(message.source, "s"), (message.version, "s"), (message.session_id, "s")]
        return args + ([(message.reply_port, "i")] if message.reply_port is not None else [])
    if isinstance(message, MarkersMessage):
        return [arg for m in message.markers for arg in ((m.name, "s"), (m.beat, "d"))]
    if isinstance(message, LoopMessage):
        return [(int(message.on), "i"), (message.start_beat, "d"), (message.end_beat, "d")]
    if isinstance(message, MacrosMessage):
        return [(v, "f") for v in message.macros]
    if isinstance(message, ByeMessage):
        return [(message.session_id, "s")]
    if isinstance(message, AckMessage):
        return [(message.session_id, "s"), (message.version, "s")]
    raise TypeError(f"not a protocol v1 message: {message!r}")


def encode(message: Message) -> bytes:
    """The OSC datagram for ``message``. Thread-safe: pure."""
    builder = OscMessageBuilder(message.ADDRESS)
    for value, tag in _args(message):
        builder.add_arg(float(value) if tag in "fd" else value, tag)
    return builder.build().dgram

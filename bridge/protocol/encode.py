"""Message value -> datagram, with python-osc's builder, in the order and types of the message's row.

Each argument goes out with its type's ``sent_as`` tag (:mod:`bridge.protocol.spec`):
floats as ``f`` except beat positions, which go out as ``d`` (float64): float32 has only
~0.5 ms of resolution at beat 10,000. Flags and ints go out as ``i``, sample numbers as ``h``
(int64), blobs as ``b``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.protocol.messages import Message
from bridge.protocol.spec import Field

#: Numbers are converted to the type their tag writes (a flag's bool becomes 0 or 1); the rest go as they are.
_NUMBER = {"i": int, "h": int, "f": float, "d": float}


def _args(message: Message) -> Iterator[tuple[Any, str]]:
    """(value, tag) per argument: the fields in row order (a repeating row item by item), then the
    optional fields that are set."""
    spec = message.SPEC
    if spec.repeat is not None:
        for item in getattr(message, spec.repeat.name):
            for field in spec.fields:
                yield getattr(item, field.name), field.type.sent_as
        return
    for field in spec.fields:
        for value in _values(message, field):
            yield value, field.type.sent_as
    for field in spec.optional:
        if getattr(message, field.name) is None:
            break
        for value in _values(message, field):
            yield value, field.type.sent_as


def _values(message: Message, field: Field) -> tuple[Any, ...]:
    value = getattr(message, field.name)
    return tuple(value) if field.args else (value,)


def encode(message: Message) -> bytes:
    """The OSC datagram for ``message``. Thread-safe: pure."""
    if not isinstance(message, Message):
        raise TypeError(f"not a protocol message: {message!r}")
    builder = OscMessageBuilder(message.ADDRESS)
    for value, tag in _args(message):
        number = _NUMBER.get(tag)
        builder.add_arg(number(value) if number is not None else value, tag)
    return builder.build().dgram

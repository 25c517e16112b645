"""Datagram -> message value, pure and socket-free (a fuzzer drives it directly).

python-osc parses the OSC (address, type tags, arguments); this module checks the
result against the address's row in :mod:`bridge.protocol.spec` (argument count, type
tags, finite floats, each field's range, the row's rules) and builds the row's frozen
message. Every rejection raises :class:`~bridge.protocol.checks.ProtocolError`
whose ``reason`` the receiver counts.
"""

from __future__ import annotations

from typing import Any

from pythonosc.osc_message import OscMessage
from pythonosc.parsing import osc_types

from bridge.protocol.checks import ProtocolError, check_finite
from bridge.protocol.messages import Message, message_type
from bridge.protocol.spec import RENDERER_TO_SENDER, SENDER_TO_RENDERER, SPECS, Argument, Field, MessageSpec

__all__ = ["RENDERER_TO_SENDER", "SENDER_TO_RENDERER", "decode"]

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


def _typed(spec: MessageSpec, arguments: tuple[Argument, ...], tags: str, params: list[Any], offset: int) -> list[Any]:
    """The values of ``arguments`` from ``offset`` on. First every argument's type (f<-f/d, i<-i/h;
    floats finite, flags made bools), then every argument's range."""
    values = []
    for k, argument in enumerate(arguments, offset):
        kind = argument.type
        if tags[k] not in kind.accepted:
            raise ProtocolError("wrong_type",
                                f"{spec.address} {argument.name} has type {tags[k]!r}, expected {kind.tag!r}")
        value = params[k]  # python-osc gives int, float, str, bytes: only floats and flags need more
        if kind.value is float:
            value = check_finite(argument.name, value)
        elif kind.value is bool:
            value = bool(value)
        values.append(value)
    for argument, value in zip(arguments, values):
        if argument.check is not None:
            argument.check(argument.name, value)
    return values


def _by_field(fields: tuple[Field, ...], values: list[Any]) -> dict[str, Any]:
    """Argument values as field values: one each, or a tuple for a field of several arguments."""
    by_field: dict[str, Any] = {}
    k = 0
    for field in fields:
        if field.args:
            by_field[field.name] = tuple(values[k:k + len(field.args)])
            k += len(field.args)
        else:
            by_field[field.name] = values[k]
            k += 1
    return by_field


def _no_arrays(spec: MessageSpec, tags: str) -> None:
    if "[" in tags or "]" in tags:
        raise ProtocolError("wrong_type", f"{spec.address}: arrays are not part of v1")


def _repeated(spec: MessageSpec, tags: str, params: list[Any]) -> Message:
    """A repeating row: every complete group of arguments is one item; a trailing partial group is ignored."""
    assert spec.repeat is not None
    size = len(spec.arguments)
    count = len(tags) // size
    _no_arrays(spec, tags[: count * size])
    items = [spec.repeat.item(**_by_field(spec.fields, _typed(spec, spec.arguments, tags, params, k * size)))
             for k in range(count)]
    sort_by = spec.repeat.sort_by
    return message_type(spec)(tuple(sorted(items, key=lambda item: getattr(item, sort_by))))


def _build(spec: MessageSpec, tags: str, params: list[Any]) -> Message:
    """The message of ``spec`` from its arguments: count, types, ranges, rules, then the optional trailing fields."""
    if spec.repeat is not None:
        return _repeated(spec, tags, params)
    need = len(spec.arguments)
    if len(tags) < need:
        raise ProtocolError("too_few_args", f"{spec.address} needs {need} arguments, got {len(tags)}")
    _no_arrays(spec, tags[:need])
    values = _by_field(spec.fields, _typed(spec, spec.arguments, tags, params, 0))
    for rule in spec.rules:
        rule.check(*[values[name] for name in rule.fields])
    offset = need
    for field in spec.optional:
        width = len(field.arguments)
        if offset + width > len(tags):
            break
        values.update(_by_field((field,), _typed(spec, field.arguments, tags, params, offset)))
        offset += width
    return message_type(spec)(**values)  # type: ignore[no-any-return]


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

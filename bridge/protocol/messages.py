"""Protocol messages as values: one frozen dataclass per row of :data:`bridge.protocol.spec.SPECS`.

The classes are made from the rows (:func:`message_type`): their fields, ``to_dict()``
(JSON-able, how session recordings store them) and ``from_dict()`` all follow the row,
so no class is written by hand. Change one with :func:`dataclasses.replace`. Values
are already validated when :func:`~bridge.protocol.decode.decode` returns them;
constructing one by hand checks nothing.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

from bridge.protocol.spec import SPECS, Field, MessageSpec


class Message:
    """Base of every message class; ``ADDRESS`` and ``SPEC`` are its row."""

    ADDRESS: ClassVar[str]
    SPEC: ClassVar[MessageSpec]

    def to_dict(self) -> dict[str, Any]:
        """The fields by name, as JSON values (tuples as lists, markers as ``{name, beat}`` objects)."""
        spec = self.SPEC
        if spec.repeat is not None:
            items = getattr(self, spec.repeat.name)
            return {spec.repeat.name: [{f.name: _to_json(f, getattr(item, f.name)) for f in spec.fields}
                                       for item in items]}
        return {f.name: _to_json(f, getattr(self, f.name)) for f in spec.fields + spec.optional}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Inverse of :meth:`to_dict`; KeyError/ValueError/TypeError on a malformed object."""
        spec = cls.SPEC
        if spec.repeat is not None:
            item = spec.repeat.item
            return cls(tuple(item(**{f.name: _from_json(f, entry[f.name]) for f in spec.fields})
                             for entry in data[spec.repeat.name]))
        required = [_from_json(f, data[f.name]) for f in spec.fields]
        optional = [None if data.get(f.name) is None else _from_json(f, data[f.name]) for f in spec.optional]
        return cls(*required, *optional)


def _to_json(field: Field, value: Any) -> Any:
    if value is None:
        return None
    if field.args:
        return [field.type.to_json(v) for v in value]
    return field.type.to_json(value)


def _from_json(field: Field, data: Any) -> Any:
    if not field.args:
        return field.type.read_json(data)
    values = tuple(field.type.read_json(v) for v in data)
    if len(values) != len(field.args):
        raise ValueError(f"{field.name} needs {len(field.args)} values, got {len(values)}")
    return values


def _annotation(field: Field) -> Any:
    kind = field.type.value
    return tuple[kind, ...] if field.args else kind  # type: ignore[valid-type]


@functools.cache
def message_type(spec: MessageSpec) -> type:
    """The frozen dataclass for ``spec``: fields in argument order, optional ones defaulting to None,
    a repeating row as one tuple field of its items."""
    if spec.repeat is not None:
        fields: list[Any] = [(spec.repeat.name, tuple[spec.repeat.item, ...])]  # type: ignore[name-defined]
    else:
        fields = [(f.name, _annotation(f)) for f in spec.fields]
        fields += [(f.name, _annotation(f) | None, dataclasses.field(default=None)) for f in spec.optional]
    namespace = {"ADDRESS": spec.address, "SPEC": spec, "__doc__": f"``{spec.address}``: {spec.doc}"}
    cls = dataclasses.make_dataclass(spec.class_name, fields, bases=(Message,), frozen=True, namespace=namespace)
    cls.__module__ = __name__
    return cls


# The classes code names; every other row's class is message_type(SPECS[address]).
HelloMessage = message_type(SPECS["/daw/hello"])
TransportMessage = message_type(SPECS["/daw/transport"])
AudioMessage = message_type(SPECS["/daw/audio"])
PcmMessage = message_type(SPECS["/daw/pcm"])
MarkersMessage = message_type(SPECS["/daw/markers"])
LoopMessage = message_type(SPECS["/daw/loop"])
MacrosMessage = message_type(SPECS["/daw/macros"])
ByeMessage = message_type(SPECS["/daw/bye"])
AckMessage = message_type(SPECS["/renderer/ack"])


def message_to_dict(message: Message) -> dict[str, Any]:
    """``{"address": ..., "args": {...}}``: how a recording stores a message."""
    return {"address": message.ADDRESS, "args": message.to_dict()}


def message_from_dict(data: dict[str, Any]) -> Message:
    """Inverse of :func:`message_to_dict`; KeyError/ValueError on a malformed object."""
    cls = message_type(SPECS[data["address"]])
    return cls.from_dict(data["args"])  # type: ignore[no-any-return, attr-defined]

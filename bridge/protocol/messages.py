"""Protocol v1 messages as values: one frozen dataclass per address.

Each has ``ADDRESS``, ``to_dict()`` (JSON-able, used by session recordings) and
``from_dict()``; change one with :func:`dataclasses.replace`. Values are
already validated by :mod:`bridge.protocol.checks` when :func:`~bridge.protocol.decode.decode`
returns them; constructing one by hand checks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Union

from bridge.timeline.tempo_map import Marker


@dataclass(frozen=True)
class HelloMessage:
    """``/daw/hello``: who is sending, and where it wants ``/renderer/ack`` (None: its source port)."""

    ADDRESS: ClassVar[str] = "/daw/hello"
    source: str
    version: str
    session_id: str
    reply_port: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "version": self.version, "session_id": self.session_id,
                "reply_port": self.reply_port}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HelloMessage:
        port = data.get("reply_port")
        return cls(str(data["source"]), str(data["version"]), str(data["session_id"]),
                   None if port is None else int(port))


@dataclass(frozen=True)
class TransportMessage:
    """``/daw/transport``: the playhead ``beat`` (quarter notes from song start) when it was sent."""

    ADDRESS: ClassVar[str] = "/daw/transport"
    playing: bool
    beat: float
    bpm: float
    numerator: int
    denominator: int
    bar_start_beat: float
    bar: int

    def to_dict(self) -> dict[str, Any]:
        return {"playing": self.playing, "beat": self.beat, "bpm": self.bpm, "numerator": self.numerator,
                "denominator": self.denominator, "bar_start_beat": self.bar_start_beat, "bar": self.bar}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransportMessage:
        return cls(bool(data["playing"]), float(data["beat"]), float(data["bpm"]), int(data["numerator"]),
                   int(data["denominator"]), float(data["bar_start_beat"]), int(data["bar"]))


@dataclass(frozen=True)
class AudioMessage:
    """``/daw/audio``: linear RMS and peak of the master, and the RMS of the 8 protocol bands."""

    ADDRESS: ClassVar[str] = "/daw/audio"
    rms: float
    peak: float
    bands: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rms": self.rms, "peak": self.peak, "bands": list(self.bands)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioMessage:
        return cls(float(data["rms"]), float(data["peak"]), tuple(float(b) for b in data["bands"]))


@dataclass(frozen=True)
class MarkersMessage:
    """``/daw/markers``: the full locator list (possibly empty)."""

    ADDRESS: ClassVar[str] = "/daw/markers"
    markers: tuple[Marker, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"markers": [{"name": m.name, "beat": m.beat} for m in self.markers]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MarkersMessage:
        return cls(tuple(Marker(str(m["name"]), float(m["beat"])) for m in data["markers"]))


@dataclass(frozen=True)
class LoopMessage:
    """``/daw/loop``: whether the loop is on and its span in beats."""

    ADDRESS: ClassVar[str] = "/daw/loop"
    on: bool
    start_beat: float
    end_beat: float

    def to_dict(self) -> dict[str, Any]:
        return {"on": self.on, "start_beat": self.start_beat, "end_beat": self.end_beat}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoopMessage:
        return cls(bool(data["on"]), float(data["start_beat"]), float(data["end_beat"]))


@dataclass(frozen=True)
class MacrosMessage:
    """``/daw/macros``: the four visual macro dials, each 0..1."""

    ADDRESS: ClassVar[str] = "/daw/macros"
    macros: tuple[float, float, float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"macros": list(self.macros)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MacrosMessage:
        values = tuple(float(v) for v in data["macros"])
        if len(values) != 4:
            raise ValueError(f"macros needs 4 values, got {len(values)}")
        return cls(values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ByeMessage:
    """``/daw/bye``: the sender with ``session_id`` stopped."""

    ADDRESS: ClassVar[str] = "/daw/bye"
    session_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ByeMessage:
        return cls(str(data["session_id"]))


@dataclass(frozen=True)
class AckMessage:
    """``/renderer/ack`` (renderer -> sender): the renderer heard ``session_id``'s hello."""

    ADDRESS: ClassVar[str] = "/renderer/ack"
    session_id: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "version": self.version}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AckMessage:
        return cls(str(data["session_id"]), str(data["version"]))


Message = Union[HelloMessage, TransportMessage, AudioMessage, MarkersMessage, LoopMessage, MacrosMessage,
                ByeMessage, AckMessage]

#: Address -> message class, for every address in :data:`bridge.protocol.spec.SPECS`.
MESSAGE_TYPES: dict[str, type] = {
    cls.ADDRESS: cls
    for cls in (HelloMessage, TransportMessage, AudioMessage, MarkersMessage, LoopMessage, MacrosMessage,
                ByeMessage, AckMessage)
}


def message_to_dict(message: Message) -> dict[str, Any]:
    """``{"address": ..., "args": {...}}``: how a recording stores a message."""
    return {"address": message.ADDRESS, "args": message.to_dict()}


def message_from_dict(data: dict[str, Any]) -> Message:
    """Inverse of :func:`message_to_dict`; KeyError/ValueError on a malformed object."""
    cls = MESSAGE_TYPES[data["address"]]
    return cls.from_dict(data["args"])  # type: ignore[no-any-return, attr-defined]

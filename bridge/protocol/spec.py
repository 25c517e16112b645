"""Protocol v1 (v1.1: ``/daw/pcm``) as a table: one row per OSC address (see docs/protocol.md).

This table is the single source of the protocol: :mod:`bridge.protocol.messages` makes
each row's frozen message class from it, and :mod:`~bridge.protocol.encode`,
:mod:`~bridge.protocol.decode` and the recordings read the rows for argument order,
type tags, ranges and field names. Adding an address is adding a row.

Argument types are OSC tags: ``i`` int, ``h`` int64, ``f`` float, ``s`` string, ``b`` blob. Receivers
also accept ``d`` (float64) where ``f`` is listed and ``h`` where ``i`` is (and ``i`` where ``h`` is).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bridge.protocol.checks import BlobSize, Range, check_loop, check_meter, check_version
from bridge.timeline.tempo_map import Marker

DEFAULT_PORT = 9420
DEFAULT_HOST = "127.0.0.1"

#: Centre frequencies (Hz) of the 8 ``/daw/audio`` bands: log-spaced, one octave + a bit apart.
BAND_CENTRES_HZ: tuple[float, ...] = (60.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, 12000.0)
#: Band edges (Hz): geometric means between neighbouring centres, closed by 30 Hz and 20 kHz.
BAND_EDGES_HZ: tuple[float, ...] = (30.0, 86.6, 176.8, 353.6, 707.1, 1414.2, 3162.3, 7746.0, 20000.0)

SENDER_TO_RENDERER = "sender->renderer"
RENDERER_TO_SENDER = "renderer->sender"


def _unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class ArgType:
    """How one argument travels: the tag the table lists, the tags a receiver accepts, the tag
    :func:`~bridge.protocol.encode.encode` writes, the Python type of the value, and its JSON form."""

    tag: str
    accepted: str
    sent_as: str
    value: type
    to_json: Callable[[Any], Any] = _unchanged
    from_json: Callable[[Any], Any] | None = None  #: None: ``value``

    def read_json(self, data: Any) -> Any:
        return (self.from_json or self.value)(data)


INT = ArgType("i", "ih", "i", int)
FLAG = ArgType("i", "ih", "i", bool)  #: true for any non-zero int
FLOAT = ArgType("f", "fd", "f", float)
#: A beat position: float64 where the sender can (float32 has ~0.5 ms of resolution at beat 10,000).
BEAT = ArgType("f", "fd", "d", float)
#: A sample number: int64 where the sender can (an int32 count of 48 kHz samples ends after 12 hours).
SAMPLE_INDEX = ArgType("h", "ih", "h", int)
STRING = ArgType("s", "s", "s", str)
BLOB = ArgType("b", "b", "b", bytes, lambda data: base64.b64encode(data).decode("ascii"), base64.b64decode)


@dataclass(frozen=True)
class Argument:
    """One OSC argument of a row: its name, type and range check (its field's)."""

    name: str
    type: ArgType
    check: Callable[[str, Any], None] | None


@dataclass(frozen=True)
class Field:
    """One field of a message value and the argument(s) carrying it.

    A field is one argument named like the field, or, with ``args``, a tuple of one
    argument per name (``bands`` is ``band_0`` … ``band_7``). ``check(name, value)``
    raises :class:`~bridge.protocol.checks.ProtocolError` for a value out of range.
    """

    name: str
    type: ArgType
    check: Callable[[str, Any], None] | None = None
    args: tuple[str, ...] = ()

    @functools.cached_property
    def arguments(self) -> tuple[Argument, ...]:
        return tuple(Argument(name, self.type, self.check) for name in self.args or (self.name,))


@dataclass(frozen=True)
class Rule:
    """A check across fields of one message: ``check(*values of fields)``, e.g. the meter or a loop's order."""

    check: Callable[..., None]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Repeat:
    """Makes a row's fields repeat zero or more times: each repetition is one ``item(**fields)``,
    and the message holds them in one tuple field ``name``, sorted by ``sort_by`` when decoded."""

    name: str
    item: type
    sort_by: str


@dataclass(frozen=True, eq=False)
class MessageSpec:
    """One OSC address: its fields in argument order, trailing optional fields, cross-field rules,
    the protocol version that introduced it (``since``) and what it means (``doc``).

    A row is compared and hashed by identity: the codec looks its class up per datagram.
    """

    address: str
    fields: tuple[Field, ...]
    optional: tuple[Field, ...] = ()
    rules: tuple[Rule, ...] = ()
    repeat: Repeat | None = None
    direction: str = SENDER_TO_RENDERER
    since: str = "1"
    doc: str = ""

    @property
    def class_name(self) -> str:
        """``/daw/transport`` -> ``TransportMessage``."""
        return self.address.rsplit("/", 1)[1].capitalize() + "Message"

    @functools.cached_property
    def arguments(self) -> tuple[Argument, ...]:
        """The arguments of the fields in order (once, for a repeating row), without the optional ones."""
        return tuple(argument for field in self.fields for argument in field.arguments)


def numbered(prefix: str, numbers: Iterable[int]) -> tuple[str, ...]:
    """``numbered("band", range(2))`` -> ``("band_0", "band_1")``: the argument names of a tuple field."""
    return tuple(f"{prefix}_{n}" for n in numbers)


#: Highest tempo a v1 message may carry (quarter notes per minute); it must also be > 0.
MAX_BPM = 999.0
BPM = Range(above=0.0, at_most=MAX_BPM, reason="bad_bpm")
AMPLITUDE = Range(at_least=0.0)
UNIT = Range(at_least=0.0, at_most=1.0)
PORT = Range(at_least=1, at_most=65535)
#: Sample rates a ``/daw/pcm`` block may have (Hz): what ``bridge.features`` analyses (its FeatureConfig's range).
PCM_RATE = Range(at_least=8000, at_most=192000)
#: Most int16 samples in one ``/daw/pcm`` datagram (16 KiB; Barlight's senders send PCM_BLOCK_SAMPLES).
MAX_PCM_SAMPLES = 8192
#: Samples per ``/daw/pcm`` datagram from Barlight's senders: 1 KiB of audio, a datagram under an Ethernet MTU.
PCM_BLOCK_SAMPLES = 512

SPECS: dict[str, MessageSpec] = {
    spec.address: spec
    for spec in (
        MessageSpec(
            "/daw/hello",
            (Field("source", STRING), Field("version", STRING, check_version), Field("session_id", STRING)),
            optional=(Field("reply_port", INT, PORT),),
            doc="who is sending, on start and every 2 s; reply_port: where it listens for /renderer/ack "
                "(None: its source port).",
        ),
        MessageSpec(
            "/daw/transport",
            (Field("playing", FLAG), Field("beat", BEAT), Field("bpm", FLOAT, BPM), Field("numerator", INT),
             Field("denominator", INT), Field("bar_start_beat", BEAT), Field("bar", INT)),
            rules=(Rule(check_meter, ("numerator", "denominator")),),
            doc="the playhead ``beat`` (quarter notes from song start) when it was sent; "
                "30-60 Hz playing, 2-5 Hz stopped, at once on change.",
        ),
        MessageSpec(
            "/daw/audio",
            (Field("rms", FLOAT, AMPLITUDE), Field("peak", FLOAT, AMPLITUDE),
             Field("bands", FLOAT, AMPLITUDE, numbered("band", range(8)))),
            doc="linear RMS and peak of the master, and the RMS of the 8 bands centred on BAND_CENTRES_HZ.",
        ),
        MessageSpec(
            "/daw/pcm",
            (Field("first_sample", SAMPLE_INDEX, Range(at_least=0)), Field("sample_rate", INT, PCM_RATE),
             Field("samples", BLOB, BlobSize(2, 1, MAX_PCM_SAMPLES))),
            since="1.1",
            doc="the mix itself, mono: ``samples`` is big-endian int16 PCM at ``sample_rate`` Hz whose first "
                "sample is number ``first_sample`` on the sender's own audio clock (consecutive blocks continue "
                "the count, so gaps, reordering and duplicates show).",
        ),
        MessageSpec(
            "/daw/markers",
            (Field("name", STRING), Field("beat", BEAT)),
            repeat=Repeat("markers", Marker, sort_by="beat"),
            doc="the full locator list (possibly empty), as (name, beat) pairs.",
        ),
        MessageSpec(
            "/daw/loop",
            (Field("on", FLAG), Field("start_beat", BEAT), Field("end_beat", BEAT)),
            rules=(Rule(check_loop, ("start_beat", "end_beat")),),
            doc="whether the loop is on and its span in beats.",
        ),
        MessageSpec(
            "/daw/macros",
            (Field("macros", FLOAT, UNIT, numbered("macro", range(1, 5))),),
            doc="the four visual macro dials, each 0..1; on change and with every hello.",
        ),
        MessageSpec("/daw/bye", (Field("session_id", STRING),), doc="the sender with ``session_id`` stopped."),
        MessageSpec(
            "/renderer/ack",
            (Field("session_id", STRING), Field("version", STRING)),
            direction=RENDERER_TO_SENDER,
            doc="the renderer heard ``session_id``'s hello; sent to the hello's host at reply_port "
                "(or its source port).",
        ),
    )
}


def version_key(version: str) -> tuple[int, ...]:
    """``"1.1"`` -> ``(1, 1)``, for comparing protocol versions."""
    return tuple(int(part) for part in version.split("."))


def protocol_version(specs: Iterable[MessageSpec]) -> str:
    """The newest ``since`` among ``specs``: the version a table speaks (a row added in 1.1 makes it "1.1")."""
    return max((spec.since for spec in specs), key=version_key)


#: The version this code speaks and announces (hello, ack, recordings).
PROTOCOL_VERSION = protocol_version(SPECS.values())

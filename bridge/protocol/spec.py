"""Protocol v1 as a table: one row per OSC address (see docs/protocol.md).

Type letters are OSC tags: ``i`` int, ``f`` float, ``s`` string. Receivers also
accept ``d`` (float64) where ``f`` is listed and ``h`` (int64) where ``i`` is.
A row with ``repeat=True`` may carry its arguments zero or more times.
"""

from __future__ import annotations

from dataclasses import dataclass

PROTOCOL_VERSION = "1"
DEFAULT_PORT = 9420
DEFAULT_HOST = "127.0.0.1"

#: Centre frequencies (Hz) of the 8 ``/daw/audio`` bands: log-spaced, one octave + a bit apart.
BAND_CENTRES_HZ: tuple[float, ...] = (60.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, 12000.0)
#: Band edges (Hz): geometric means between neighbouring centres, closed by 30 Hz and 20 kHz.
BAND_EDGES_HZ: tuple[float, ...] = (30.0, 86.6, 176.8, 353.6, 707.1, 1414.2, 3162.3, 7746.0, 20000.0)

ACCEPTED_TAGS = {"f": "fd", "i": "ih", "s": "s"}


@dataclass(frozen=True)
class MessageSpec:
    """One OSC address of protocol v1: argument names and their type letters."""

    address: str
    args: tuple[tuple[str, str], ...]
    direction: str = "sender->renderer"
    repeat: bool = False
    optional: tuple[tuple[str, str], ...] = ()
    doc: str = ""

    @property
    def typetags(self) -> str:
        return "".join(tag for _, tag in self.args)


SPECS: dict[str, MessageSpec] = {
    spec.address: spec
    for spec in (
        MessageSpec(
            "/daw/hello",
            (("source", "s"), ("version", "s"), ("session_id", "s")),
            optional=(("reply_port", "i"),),
            doc="On start and every 2 s. reply_port: where the sender listens for /renderer/ack.",
        ),
        MessageSpec(
            "/daw/transport",
            (
                ("playing", "i"),
                ("beat", "f"),
                ("bpm", "f"),
                ("numerator", "i"),
                ("denominator", "i"),
                ("bar_start_beat", "f"),
                ("bar", "i"),
            ),
            doc="Playhead in quarter notes from song start; 30-60 Hz playing, 2-5 Hz stopped, at once on change.",
        ),
        MessageSpec(
            "/daw/audio",
            (("rms", "f"), ("peak", "f")) + tuple((f"band_{i}", "f") for i in range(8)),
            doc="Linear amplitudes of the master signal; bands centred on BAND_CENTRES_HZ.",
        ),
        MessageSpec("/daw/markers", (("name", "s"), ("beat", "f")), repeat=True, doc="The full locator list."),
        MessageSpec("/daw/loop", (("on", "i"), ("start_beat", "f"), ("end_beat", "f"))),
        MessageSpec(
            "/daw/macros",
            tuple((f"macro_{i}", "f") for i in range(1, 5)),
            doc="The four visual macro dials, each 0..1; on change and with every hello.",
        ),
        MessageSpec("/daw/bye", (("session_id", "s"),)),
        MessageSpec(
            "/renderer/ack",
            (("session_id", "s"), ("version", "s")),
            direction="renderer->sender",
            doc="Answer to /daw/hello, sent to the hello's host at reply_port (or its source port).",
        ),
    )
}

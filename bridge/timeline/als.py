"""Ableton Live sets (``.als``, Live 8 to 12) -> :class:`TempoMap`: tempo automation, meters, locators.

An ``.als`` is gzipped XML. The main track is ``LiveSet/MasterTrack`` (Live 8–11) or
``LiveSet/MainTrack`` (Live 12); its mixer is ``DeviceChain/Mixer`` (Live 9–12) or
``MasterChain/Mixer`` (Live 8). Tempo and time signature are each read from, in order:

1. inline ``ArrangerAutomation/Events`` under the parameter (Live 8 and 9), or
2. the main track's ``AutomationEnvelopes/Envelopes/AutomationEnvelope`` whose
   ``EnvelopeTarget/PointeeId@Value`` is the parameter's ``AutomationTarget@Id`` (Live 10–12),
3. falling back to the parameter's ``Manual@Value`` when it has no automation.

An envelope's first event sits at ``Time=-63072000`` and holds the value before the
first real breakpoint. Tempo is linear between breakpoints (a ramp, integrated exactly
by the TempoMap); two breakpoints at one time are a vertical step. Bezier curve
handles (``CurveControl*`` attributes) are read as straight lines. Time signatures are
``EnumEvent`` values ``(numerator - 1) + 99 * log2(denominator)`` and hold until the
next one. Locators (``LiveSet/Locators/Locators/Locator``) are stored unsorted; their
names are NFC-normalised and stripped of surrounding whitespace; empty names stay empty.
"""

from __future__ import annotations

import gzip
import math
import os
import unicodedata
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from typing import BinaryIO

from bridge.errors import InputError
from bridge.inputs import MiB, open_limited
from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint, check_bpm, check_meter

#: The time of the "initial value" event at the head of every Live automation envelope (beats).
INITIAL_EVENT_TIME = -63072000.0
_INITIAL_BELOW = INITIAL_EVENT_TIME / 2  # anything this early is that sentinel

#: The largest XML a Live set may unpack to. Live's own sets are a few MB up to ~100 MB; a gzip
#: bomb (8 MB of zeros unpacks to 8 GB) stops here, while it is being unpacked.
MAX_XML_BYTES = 512 * MiB
#: The deepest element nesting accepted (Live sets nest about 20 levels).
MAX_XML_DEPTH = 256
#: The most elements a set may have (a 100 MB set has about 2 million): bounds the parsing time too.
MAX_XML_ELEMENTS = 10_000_000
#: The most elements kept from the parts the tempo map is read from (main track, locators).
MAX_KEPT_ELEMENTS = 1_000_000
#: The most XML the parser may take in without reporting anything (a tag, its end or text): a single tag,
#: attribute or comment this long is not a Live set's (its longest are hex plugin states, which are text,
#: reported as they come). Expat holds such a piece whole and rescans it as each chunk arrives, so a 400 MB
#: attribute (0.4 MB gzipped) took 1.2 GB and five minutes; one of 16 MB takes a second.
MAX_XML_PIECE_BYTES = 16 * MiB
#: The children of ``<LiveSet>`` the tempo map is read from; everything else (tracks, clips,
#: devices) streams past the parser without being kept.
KEPT_PARTS = frozenset({"MainTrack", "MasterTrack", "Locators"})


class _TempoParts:
    """An ElementTree parser target that keeps only ``<Ableton><LiveSet>`` and its :data:`KEPT_PARTS`,
    so memory does not grow with the size of the set; too deep or too many kept elements are an InputError."""

    def __init__(self, where: str | os.PathLike[str]) -> None:
        self.where = where
        self.builder = ET.TreeBuilder()
        self.path: list[str] = []
        self.kept = 0
        self.seen = 0
        self.events = 0  # start, end and data calls: the parser got through a piece of the XML

    def _keeping(self) -> bool:
        return len(self.path) <= 2 or self.path[2] in KEPT_PARTS

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.events += 1
        self.path.append(tag)
        self.seen += 1
        if len(self.path) > MAX_XML_DEPTH or self.seen > MAX_XML_ELEMENTS:
            raise InputError(self.where, f"XML nested deeper than {MAX_XML_DEPTH} levels or with more than "
                                         f"{MAX_XML_ELEMENTS} elements: not a Live set")
        if self._keeping():
            self.kept += 1
            if self.kept > MAX_KEPT_ELEMENTS:
                raise InputError(self.where, f"more than {MAX_KEPT_ELEMENTS} elements in its main track and "
                                             "locators: not a Live set")
            self.builder.start(tag, attrs)

    def end(self, tag: str) -> None:
        self.events += 1
        if self._keeping():
            self.builder.end(tag)
        self.path.pop()

    def data(self, text: str) -> None:
        self.events += 1
        if self._keeping():
            self.builder.data(text)

    def close(self) -> ET.Element:
        return self.builder.close()


def read_live_set(path: str | os.PathLike[str]) -> ET.Element:
    """The parsed root ``<Ableton>`` element of the set at ``path`` (only the parts the tempo map is read
    from); every failure is an :class:`InputError`. Bounded: the file is at most 64 MB, its XML at most
    :data:`MAX_XML_BYTES` and :data:`MAX_XML_DEPTH` deep, unpacked and parsed piece by piece."""
    with open_limited(path, "live set") as raw:
        if raw.read(2) != b"\x1f\x8b":
            raise InputError(path, "not an Ableton Live set (not gzip-compressed)")
        raw.seek(0)
        try:
            root = _parse_gzipped_xml(raw, path)
        except (EOFError, zlib.error, gzip.BadGzipFile) as err:
            raise InputError(path, f"truncated or corrupt Ableton Live set ({err or type(err).__name__})") from None
        except (ET.ParseError, LookupError, ValueError) as err:  # LookupError: an unknown declared encoding
            if isinstance(err, InputError):
                raise
            raise InputError(path, f"Ableton Live set holds broken XML ({err})") from None
        except OSError as err:
            raise InputError(path, f"cannot read ({err.strerror or err})") from None
    if root.tag != "Ableton" or root.find("LiveSet") is None:
        raise InputError(path, f"not an Ableton Live set (root element <{root.tag}>, no <LiveSet>)")
    return root


def _parse_gzipped_xml(raw: BinaryIO, where: str | os.PathLike[str]) -> ET.Element:
    target = _TempoParts(where)
    parser = ET.XMLParser(target=target)
    unpacked = 0
    quiet = 0  # bytes fed since the parser last reported something (at least this piece's length)
    with gzip.GzipFile(fileobj=raw) as xml:
        while chunk := xml.read(1 * MiB):
            unpacked += len(chunk)
            if unpacked > MAX_XML_BYTES:
                raise InputError(where, f"unpacks to more than {MAX_XML_BYTES // MiB} MB of XML: not a Live set "
                                        "(a Live set is at most ~100 MB unpacked)")
            events = target.events
            parser.feed(chunk)
            quiet = 0 if target.events != events else quiet + len(chunk)
            if quiet > MAX_XML_PIECE_BYTES:
                raise InputError(where, f"a single XML tag, attribute or comment of more than "
                                        f"{MAX_XML_PIECE_BYTES // MiB} MB: not a Live set")
    return parser.close()


def _number(element: ET.Element, attribute: str, where: str | os.PathLike[str], what: str) -> float:
    raw = element.get(attribute)
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(where, f"{what}: {attribute}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(where, f"{what}: {attribute}={raw!r} is not finite")
    return value


def _events(master: ET.Element, parameter: ET.Element, tag: str,
            where: str | os.PathLike[str]) -> list[tuple[float, float]]:
    """``(time_beats, value)`` of the parameter's arrangement automation, sorted stably by time."""
    events = parameter.find("ArrangerAutomation/Events")  # Live 8 and 9
    if events is None or len(events.findall(tag)) == 0:
        events = None
        target = parameter.find("AutomationTarget")
        target_id = target.get("Id") if target is not None else None
        if target_id is not None:
            for envelope in master.findall("AutomationEnvelopes/Envelopes/AutomationEnvelope"):
                pointee = envelope.find("EnvelopeTarget/PointeeId")
                if pointee is not None and pointee.get("Value") == target_id:
                    events = envelope.find("Automation/Events")
                    break
    if events is None:
        return []
    pairs = [
        (_number(e, "Time", where, f"{parameter.tag} {tag}"), _number(e, "Value", where, f"{parameter.tag} {tag}"))
        for e in events.findall(tag)
    ]
    return sorted(pairs, key=lambda pair: pair[0])


def _split_initial(
    pairs: list[tuple[float, float]], fallback: float | None
) -> tuple[float | None, list[tuple[float, float]]]:
    """The value before the first breakpoint (sentinel event, else ``fallback``, else the first event) and the rest."""
    initial = fallback
    real = []
    for time, value in pairs:
        if time <= _INITIAL_BELOW:
            initial = value
        else:
            real.append((time, value))
    if initial is None and real:
        initial = real[0][1]
    return initial, real


def _checked(where: str | os.PathLike[str], what: str, check: Callable[..., None], *values: float) -> None:
    try:
        check(*values)
    except ValueError as err:
        raise InputError(where, f"{what}: {err}") from None


#: The largest time-signature enum: 99/64.
MAX_TIME_SIGNATURE_ENUM = 98 + 99 * 6


def decode_time_signature(value: int) -> tuple[int, int]:
    """Live's time-signature enum ``(numerator - 1) + 99 * log2(denominator)`` -> ``(numerator, denominator)``."""
    if not 0 <= value <= MAX_TIME_SIGNATURE_ENUM:
        raise ValueError(f"time-signature value must be 0..{MAX_TIME_SIGNATURE_ENUM}, got {value}")
    return value % 99 + 1, 2 ** (value // 99)


def encode_time_signature(numerator: int, denominator: int) -> int:
    """Inverse of :func:`decode_time_signature`."""
    return numerator - 1 + 99 * (denominator.bit_length() - 1)


def _tempo(master: ET.Element, mixer: ET.Element, where: str | os.PathLike[str]) -> tuple[TempoPoint, ...]:
    parameter = mixer.find("Tempo")
    if parameter is None:
        raise InputError(where, "no tempo: the main track's mixer has no <Tempo>")
    manual_element = parameter.find("Manual")
    manual = _number(manual_element, "Value", where, "Tempo Manual") if manual_element is not None else None
    initial, real = _split_initial(_events(master, parameter, "FloatEvent", where), manual)
    if initial is None:
        raise InputError(where, "no tempo: <Tempo> has neither a Manual value nor automation")
    for time, bpm in [(0.0, initial), *real]:
        _checked(where, f"tempo at beat {time:g}", check_bpm, bpm)
    start = min(0.0, real[0][0]) if real else 0.0
    points = [TempoPoint(start, initial)]
    for i, (time, bpm) in enumerate(real):
        following = real[i + 1] if i + 1 < len(real) else None
        ramp = following is not None and following[0] > time and following[1] != bpm
        points.append(TempoPoint(time, bpm, ramp))
    return tuple(points)


def _meter_from_manual(parameter: ET.Element, where: str | os.PathLike[str]) -> tuple[int, int] | None:
    manual = parameter.find("Manual")
    if manual is not None:
        return _decoded(where, "time signature Manual", _number(manual, "Value", where, "TimeSignature Manual"))
    remoteable = parameter.find("TimeSignatures/RemoteableTimeSignature")  # Live 11 style
    if remoteable is not None:
        numerator, denominator = remoteable.find("Numerator"), remoteable.find("Denominator")
        if numerator is not None and denominator is not None:
            meter = (int(_number(numerator, "Value", where, "TimeSignature Numerator")),
                     int(_number(denominator, "Value", where, "TimeSignature Denominator")))
            _checked(where, "time signature", check_meter, *meter)
            return meter
    return None


def _meters(master: ET.Element, mixer: ET.Element, where: str | os.PathLike[str]) -> tuple[Meter, ...]:
    parameter = mixer.find("TimeSignature")
    if parameter is None:
        return (Meter(0.0, 4, 4),)
    pairs = _events(master, parameter, "EnumEvent", where)
    manual = _meter_from_manual(parameter, where)
    manual_enum = encode_time_signature(*manual) if manual else None
    initial, real = _split_initial(pairs, manual_enum)
    meters = []
    for time, value in [(0.0, initial if initial is not None else 201), *real]:
        numerator, denominator = _decoded(where, f"time signature at beat {time:g}", value)
        meters.append(Meter(max(0.0, time), numerator, denominator))
    return tuple(meters)


def _decoded(where: str | os.PathLike[str], what: str, value: float) -> tuple[int, int]:
    try:
        return decode_time_signature(int(value))
    except ValueError as err:
        raise InputError(where, f"{what}: {err}") from None


def _locator_name(raw: str | None) -> str:
    return unicodedata.normalize("NFC", raw or "").strip()


def _markers(live_set: ET.Element, where: str | os.PathLike[str]) -> tuple[Marker, ...]:
    markers = []
    for locator in live_set.findall("Locators/Locators/Locator"):
        time = locator.find("Time")
        if time is None:
            raise InputError(where, "a locator has no <Time>")
        name = locator.find("Name")
        markers.append(Marker(_locator_name(name.get("Value") if name is not None else ""),
                              _number(time, "Value", where, "Locator Time")))
    return tuple(markers)


def tempo_map_from_live_set(root: ET.Element, where: str | os.PathLike[str] = "<als>") -> TempoMap:
    """The tempo map of a parsed ``<Ableton>`` document; ``where`` names it in errors."""
    live_set = root.find("LiveSet")
    if live_set is None:
        raise InputError(where, "not an Ableton Live set (no <LiveSet>)")
    master = live_set.find("MainTrack")
    if master is None:
        master = live_set.find("MasterTrack")
    if master is None:
        raise InputError(where, "no tempo: the set has no <MainTrack> or <MasterTrack>")
    mixer = master.find("DeviceChain/Mixer")
    if mixer is None:
        mixer = master.find("MasterChain/Mixer")  # Live 8
    if mixer is None:
        raise InputError(where, "no tempo: the main track has no mixer")
    try:
        return TempoMap(_tempo(master, mixer, where), _meters(master, mixer, where), _markers(live_set, where))
    except ValueError as err:
        if isinstance(err, InputError):
            raise
        raise InputError(where, str(err)) from None


#: How ramps are timed: ``exact`` integrates the straight line; ``live`` plays it as Live does.
RAMP_MODES = ("exact", "live")
#: Live samples tempo automation once per 16th note of the song grid (see docs/timeline.md).
LIVE_TEMPO_GRID_BEATS = 0.25


#: A staircase longer than this many steps is refused (a ramp over ~150,000 bars of 4/4).
MAX_LIVE_STEPS = 2_000_000


def step_like_live(tempo_map: TempoMap, grid_beats: float = LIVE_TEMPO_GRID_BEATS) -> TempoMap:
    """The tempo as Live plays it: the envelope sampled at every ``grid_beats`` line, held until the next.

    Ramps become staircases and a change between grid lines waits for the next line.
    Meters and markers are kept. Raises ValueError for ramps over more than
    :data:`MAX_LIVE_STEPS` grid lines.
    """
    tempo = tempo_map.tempo
    # The sampled tempo can only change at the first grid line at or after each point
    # and at every grid line inside a ramp; sample just those.
    lines = {math.floor(min(0.0, tempo[0].beat) / grid_beats)}
    for point, following in zip(tempo, (*tempo[1:], None)):
        start = math.ceil(point.beat / grid_beats)
        if point.ramp and following is not None:
            end = math.ceil(following.beat / grid_beats)
            if end - start + len(lines) > MAX_LIVE_STEPS:
                raise ValueError(f"tempo ramps too long to step per {grid_beats:g} beats")
            lines.update(range(start, end))
        else:
            lines.add(start)
    points: list[TempoPoint] = []
    for line in sorted(lines):
        beat = line * grid_beats
        bpm = tempo_map.bpm_at(beat)
        if not points or bpm != points[-1].bpm:
            points.append(TempoPoint(beat, bpm))
    return TempoMap(tuple(points), tempo_map.meters, tempo_map.markers)


def tempo_map_from_als(path: str | os.PathLike[str], ramps: str = "exact") -> TempoMap:
    """Read the tempo automation, time signatures and locators of the Live set at ``path``.

    ``ramps="exact"`` keeps linear tempo ramps (integrated exactly); ``ramps="live"``
    steps them on Live's 16th-note grid, matching what Live itself plays.
    """
    if ramps not in RAMP_MODES:
        raise InputError("--ramps", f"must be one of {', '.join(RAMP_MODES)}, got {ramps!r}")
    tempo_map = tempo_map_from_live_set(read_live_set(path), path)
    if ramps == "exact":
        return tempo_map
    try:
        return step_like_live(tempo_map)
    except ValueError as err:
        raise InputError(path, str(err)) from None

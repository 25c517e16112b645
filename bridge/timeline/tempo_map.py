"""The TempoMap: musical time <-> seconds, exactly, as pure functions of a value.

Beats are quarter notes from song start (Ableton's ``current_song_time``);
seconds are from song start (beat 0 is 0 s); bars are 1-based and follow every
meter change. Tempo is a function of beats: constant between points, or a
linear ramp in beats (``ramp=True`` on the point where the ramp starts), which
is integrated in closed form. Segment start times are accumulated with
compensated summation, so a position after thousands of tempo changes is exact
to float64 rounding rather than a running sum of rounded steps.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_BPM = 1e-3
MAX_BPM = 1e6
_EPS_BEATS = 1e-9  # tolerance when flooring beats onto bar lines


class InMeter:
    """Mixin of the values that carry a meter (``numerator``/``denominator`` fields): the bar's length."""

    numerator: int
    denominator: int

    @property
    def bar_beats(self) -> float:
        """Quarter notes in a bar: ``numerator * 4 / denominator``."""
        return self.numerator * 4.0 / self.denominator


@dataclass(frozen=True)
class TempoPoint:
    """Tempo ``bpm`` from ``beat`` on; with ``ramp`` it moves linearly (in beats) to the next point's bpm."""

    beat: float
    bpm: float
    ramp: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"beat": self.beat, "bpm": self.bpm, "ramp": self.ramp}


@dataclass(frozen=True)
class Meter(InMeter):
    """A time signature in force from ``beat`` on; a bar lasts ``numerator * 4 / denominator`` beats."""

    beat: float
    numerator: int
    denominator: int

    def position(self, beat: float, bar: int) -> BarPosition:
        """Bar and quarter notes into it for ``beat`` on this meter's grid, where bar ``bar`` starts at :attr:`beat`."""
        bars_in = math.floor((beat - self.beat) / self.bar_beats + _EPS_BEATS)
        into = max(0.0, beat - (self.beat + bars_in * self.bar_beats))
        return BarPosition(bar + bars_in, into, self.numerator, self.denominator)


@dataclass(frozen=True)
class Marker:
    """A named locator (section start) at ``beat``."""

    name: str
    beat: float


@dataclass(frozen=True)
class BarPosition(InMeter):
    """Where a beat falls in the bar grid: 1-based ``bar`` and quarter notes into it."""

    bar: int
    beat_in_bar: float
    numerator: int
    denominator: int

    @property
    def phase(self) -> float:
        """Position in the bar, 0 at the downbeat, approaching 1 at the next one."""
        return self.beat_in_bar / self.bar_beats

    @property
    def label(self) -> str:
        """``bar.beat.fraction`` as a DAW shows it: beat counted in the meter's note value, 1-based."""
        units = self.beat_in_bar * self.denominator / 4.0
        whole = math.floor(units + _EPS_BEATS)
        fraction = max(0.0, units - whole)
        return f"{self.bar}.{whole + 1}.{int(fraction * 100 + _EPS_BEATS):02d}"


@dataclass(frozen=True)
class Bar:
    """One row of the bar table: where bar ``bar`` starts and the tempo and meter there."""

    bar: int
    beat: float
    seconds: float
    numerator: int
    denominator: int
    bpm: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def marker_at(markers: Sequence[Marker], beat: float) -> Marker | None:
    """The marker (section) in force at ``beat`` among ``markers`` sorted by beat: the last one at or before it."""
    i = bisect.bisect_right(markers, beat + _EPS_BEATS, key=lambda m: m.beat)
    return markers[i - 1] if i else None


def is_power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def check_meter(numerator: int, denominator: int) -> None:
    """Raise ValueError unless ``numerator/denominator`` is a meter a DAW can have."""
    if not isinstance(numerator, int) or not 1 <= numerator <= 99:
        raise ValueError(f"meter numerator must be an integer 1..99, got {numerator!r}")
    if not isinstance(denominator, int) or not is_power_of_two(denominator) or denominator > 64:
        raise ValueError(f"meter denominator must be a power of two 1..64, got {denominator!r}")


def check_bpm(bpm: float) -> None:
    """Raise ValueError unless ``bpm`` is a finite positive tempo."""
    if not isinstance(bpm, (int, float)) or not math.isfinite(bpm) or not MIN_BPM <= bpm <= MAX_BPM:
        raise ValueError(f"tempo must be a finite BPM > 0, got {bpm!r}")


def _log1p_ratio(x: float) -> float:
    """``log1p(x) / x``, continuous at 0."""
    if abs(x) < 1e-8:
        return 1.0 - x / 2.0 + x * x / 3.0
    return math.log1p(x) / x


def _expm1_ratio(x: float) -> float:
    """``expm1(x) / x``, continuous at 0."""
    if abs(x) < 1e-8:
        return 1.0 + x / 2.0 + x * x / 6.0
    return math.expm1(x) / x


def _segment_seconds(beats: float, bpm0: float, bpm1: float, length: float) -> float:
    """Seconds spent covering ``beats`` into a segment ramping bpm0 -> bpm1 over ``length`` beats."""
    if bpm0 == bpm1 or length <= 0.0:
        return beats * 60.0 / bpm0
    slope = (bpm1 - bpm0) / length
    return beats * 60.0 / bpm0 * _log1p_ratio(slope * beats / bpm0)


def _segment_beats(seconds: float, bpm0: float, bpm1: float, length: float) -> float:
    """Inverse of :func:`_segment_seconds`."""
    if bpm0 == bpm1 or length <= 0.0:
        return seconds * bpm0 / 60.0
    slope = (bpm1 - bpm0) / length
    return seconds * bpm0 / 60.0 * _expm1_ratio(slope * seconds / 60.0)


def _compensated_prefix_sums(values: Iterable[float]) -> list[float]:
    """Prefix sums with Neumaier compensation: [0, v0, v0+v1, ...] to ~1 ulp, not n ulps."""
    sums = [0.0]
    total = 0.0
    compensation = 0.0
    for value in values:
        t = total + value
        if abs(total) >= abs(value):
            compensation += (total - t) + value
        else:
            compensation += (value - t) + total
        total = t
        sums.append(total + compensation)
    return sums


def _normalize_tempo(points: Iterable[TempoPoint]) -> tuple[TempoPoint, ...]:
    ordered = sorted(
        (TempoPoint(float(p.beat), float(p.bpm), bool(p.ramp)) for p in points), key=lambda p: p.beat
    )  # stable: the points of a vertical step keep their order
    if not ordered:
        raise ValueError("a tempo map needs at least one tempo point")
    for point in ordered:
        if not math.isfinite(point.beat):
            raise ValueError(f"tempo point beat must be finite, got {point.beat!r}")
        check_bpm(point.bpm)
    # Several points at one beat form a vertical step: a ramp into the beat ends at the
    # first one's bpm, the last one holds from there on; the zero-length segments between
    # them take no time, so they need no special case.
    # A ramp flag that changes nothing (last point, zero length, same bpm) is dropped, so
    # maps that time alike compare equal.
    return tuple(
        TempoPoint(p.beat, p.bpm, p.ramp and i + 1 < len(ordered)
                   and ordered[i + 1].beat > p.beat and ordered[i + 1].bpm != p.bpm)
        for i, p in enumerate(ordered)
    )


def _normalize_meters(meters: Iterable[Meter]) -> tuple[Meter, ...]:
    by_beat: dict[float, Meter] = {}
    for meter in sorted(meters, key=lambda m: m.beat):
        if not math.isfinite(meter.beat):
            raise ValueError(f"meter change beat must be finite, got {meter.beat!r}")
        check_meter(meter.numerator, meter.denominator)
        beat = max(0.0, float(meter.beat))
        by_beat[beat] = Meter(beat, meter.numerator, meter.denominator)
    ordered = list(by_beat.values())
    if not ordered or ordered[0].beat > 0.0:
        ordered.insert(0, Meter(0.0, 4, 4))
    # Drop changes that repeat the meter in force: they start no new bar grid.
    kept = [ordered[0]]
    for meter in ordered[1:]:
        if (meter.numerator, meter.denominator) != (kept[-1].numerator, kept[-1].denominator):
            kept.append(meter)
    return tuple(kept)


@dataclass(frozen=True)
class TempoMap:
    """Tempo points, meter changes and markers, with exact conversions between beats, seconds and bars.

    A value: conversions are pure functions of the fields, equal maps compare equal,
    and "changing" a map returns a new one. Thread-safe: immutable after construction.
    """

    tempo: tuple[TempoPoint, ...]
    meters: tuple[Meter, ...] = (Meter(0.0, 4, 4),)
    markers: tuple[Marker, ...] = ()
    _seg_beats: list[float] = field(init=False, repr=False, compare=False)
    _seg_seconds: list[float] = field(init=False, repr=False, compare=False)
    _meter_bars: list[int] = field(init=False, repr=False, compare=False)
    _meter_beats: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tempo = _normalize_tempo(self.tempo)
        meters = _normalize_meters(self.meters)
        markers = tuple(sorted((Marker(str(m.name), float(m.beat)) for m in self.markers), key=lambda m: m.beat))
        for marker in markers:
            if not math.isfinite(marker.beat):
                raise ValueError(f"marker {marker.name!r} beat must be finite")
        object.__setattr__(self, "tempo", tempo)
        object.__setattr__(self, "meters", meters)
        object.__setattr__(self, "markers", markers)

        seg_beats = [p.beat for p in tempo]
        durations = []
        for i in range(len(tempo) - 1):
            length = tempo[i + 1].beat - tempo[i].beat
            bpm0, bpm1 = self._segment_bpms(tempo, i)
            durations.append(_segment_seconds(length, bpm0, bpm1, length))
        # Anchor beat 0 at exactly 0 s: sum forward from the segment holding beat 0 and
        # backward from it, so neither a count-in nor a late first point shifts song start.
        k = max(0, bisect.bisect_right(seg_beats, 0.0) - 1)
        bpm0, bpm1 = self._segment_bpms(tempo, k)
        length = seg_beats[k + 1] - seg_beats[k] if k + 1 < len(tempo) else math.inf
        into = 0.0 - seg_beats[k]
        to_zero = into * 60.0 / bpm0 if into < 0.0 else _segment_seconds(into, bpm0, bpm1, length)
        forward = _compensated_prefix_sums([-to_zero, *durations[k:]])[1:]
        backward = _compensated_prefix_sums([-to_zero, *(-d for d in reversed(durations[:k]))])[1:]
        seconds = backward[::-1] + forward[1:]
        object.__setattr__(self, "_seg_beats", seg_beats)
        object.__setattr__(self, "_seg_seconds", seconds)

        bars = [1]
        for previous, meter in zip(meters, meters[1:]):
            span = (meter.beat - previous.beat) / previous.bar_beats
            bars.append(bars[-1] + max(1, math.ceil(span - _EPS_BEATS)))
        object.__setattr__(self, "_meter_bars", bars)
        object.__setattr__(self, "_meter_beats", [m.beat for m in meters])

    # -- construction -------------------------------------------------------------------

    @classmethod
    def constant(cls, bpm: float, numerator: int = 4, denominator: int = 4,
                 markers: Iterable[Marker] = ()) -> TempoMap:
        """One tempo and one meter from song start."""
        return cls((TempoPoint(0.0, float(bpm)),), (Meter(0.0, numerator, denominator),), tuple(markers))

    # -- tempo ----------------------------------------------------------------------------

    @staticmethod
    def _segment_bpms(tempo: tuple[TempoPoint, ...], i: int) -> tuple[float, float]:
        point = tempo[i]
        if point.ramp and i + 1 < len(tempo):
            return point.bpm, tempo[i + 1].bpm
        return point.bpm, point.bpm

    def _segment_length(self, i: int) -> float:
        if i + 1 < len(self.tempo):
            return self.tempo[i + 1].beat - self.tempo[i].beat
        return math.inf

    def _relative_seconds(self, beat: float) -> float:
        i = max(0, bisect.bisect_right(self._seg_beats, beat) - 1)
        bpm0, bpm1 = self._segment_bpms(self.tempo, i)
        into = beat - self._seg_beats[i]
        if into < 0.0:  # before the first point: its tempo, held constant
            return self._seg_seconds[0] + into * 60.0 / bpm0
        return self._seg_seconds[i] + _segment_seconds(into, bpm0, bpm1, self._segment_length(i))

    def seconds_at(self, beat: float) -> float:
        """Seconds from song start at which ``beat`` (quarter notes from song start) sounds."""
        return self._relative_seconds(float(beat))

    def beat_at(self, seconds: float) -> float:
        """The beat sounding ``seconds`` after song start; inverse of :meth:`seconds_at`."""
        seconds = float(seconds)
        i = max(0, bisect.bisect_right(self._seg_seconds, seconds) - 1)
        bpm0, bpm1 = self._segment_bpms(self.tempo, i)
        into = seconds - self._seg_seconds[i]
        if into < 0.0:
            return self._seg_beats[0] + into * bpm0 / 60.0
        return self._seg_beats[i] + _segment_beats(into, bpm0, bpm1, self._segment_length(i))

    def bpm_at(self, beat: float) -> float:
        """Tempo at ``beat``; at a vertical step, the tempo from there on."""
        i = max(0, bisect.bisect_right(self._seg_beats, beat) - 1)
        bpm0, bpm1 = self._segment_bpms(self.tempo, i)
        length = self._segment_length(i)
        into = min(max(0.0, beat - self._seg_beats[i]), length)
        if bpm0 == bpm1 or into <= 0.0 or length <= 0.0:  # before the first point: its tempo, held
            return bpm0
        return bpm0 + (bpm1 - bpm0) * into / length

    # -- meter and bars -------------------------------------------------------------------

    def _meter_index_at_beat(self, beat: float) -> int:
        return max(0, bisect.bisect_right(self._meter_beats, beat + _EPS_BEATS) - 1)

    def meter_at(self, beat: float) -> Meter:
        """The meter in force at ``beat``."""
        return self.meters[self._meter_index_at_beat(beat)]

    def position_at(self, beat: float) -> BarPosition:
        """Bar (1-based, bar 0 and below before song start) and quarter notes into it."""
        i = self._meter_index_at_beat(beat)
        return self.meters[i].position(beat, self._meter_bars[i])

    def bar_at(self, beat: float) -> int:
        """The 1-based bar that ``beat`` falls in."""
        return self.position_at(beat).bar

    def bar_start_beat(self, bar: int) -> float:
        """The beat on which ``bar`` starts (bar 1 starts on beat 0)."""
        i = max(0, bisect.bisect_right(self._meter_bars, bar) - 1)
        meter = self.meters[i]
        return meter.beat + (bar - self._meter_bars[i]) * meter.bar_beats

    def bar_start_seconds(self, bar: int) -> float:
        """Seconds from song start at which ``bar`` starts."""
        return self.seconds_at(self.bar_start_beat(bar))

    def bar(self, bar: int) -> Bar:
        """The bar-table row for ``bar``."""
        beat = self.bar_start_beat(bar)
        meter = self.meter_at(beat)
        return Bar(bar, beat, self.seconds_at(beat), meter.numerator, meter.denominator, self.bpm_at(beat))

    def bars(self, first: int = 1, last: int | None = None) -> Iterator[Bar]:
        """Rows of the bar table from ``first`` through ``last`` (default: last event plus 8 bars)."""
        if last is None:
            last = self.bar_at(self.last_event_beat) + 8
        for number in range(first, last + 1):
            yield self.bar(number)

    def bars_in_seconds(self, start_seconds: float, end_seconds: float) -> Iterator[Bar]:
        """Bars whose start lies in ``[start_seconds, end_seconds)``."""
        number = self.bar_at(self.beat_at(start_seconds))
        while True:
            row = self.bar(number)
            if row.seconds >= end_seconds:
                return
            if row.seconds >= start_seconds - 1e-12:
                yield row
            number += 1

    # -- sections -------------------------------------------------------------------------

    def marker_at(self, beat: float) -> Marker | None:
        """The marker (section) in force at ``beat``: the last one at or before it."""
        return marker_at(self.markers, beat)

    @property
    def last_event_beat(self) -> float:
        """The beat of the last tempo point, meter change or marker (0 if all are at the start)."""
        beats = [p.beat for p in self.tempo] + [m.beat for m in self.meters] + [m.beat for m in self.markers]
        return max(0.0, *beats)

    # -- serialisation --------------------------------------------------------------------

    def to_dict(self, last_bar: int | None = None) -> dict[str, Any]:
        """The ``barlight timeline --json`` object: tempo, meters, markers and the bar table."""
        return {
            "tempo": [p.to_dict() for p in self.tempo],
            "meters": [
                {"beat": m.beat, "bar": self.bar_at(m.beat), "numerator": m.numerator, "denominator": m.denominator}
                for m in self.meters
            ],
            "markers": [
                {"name": m.name, "beat": m.beat, "seconds": self.seconds_at(m.beat), "bar": self.bar_at(m.beat)}
                for m in self.markers
            ],
            "bars": [b.to_dict() for b in self.bars(1, last_bar)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TempoMap:
        """Rebuild a map from :meth:`to_dict` output (bar table and derived fields are ignored)."""
        return cls(
            tuple(TempoPoint(float(p["beat"]), float(p["bpm"]), bool(p.get("ramp", False))) for p in data["tempo"]),
            tuple(Meter(float(m["beat"]), int(m["numerator"]), int(m["denominator"])) for m in data.get("meters", ())),
            tuple(Marker(str(m["name"]), float(m["beat"])) for m in data.get("markers", ())),
        )

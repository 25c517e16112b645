"""The scripted DAW: what it plays, when, and so where it truly is at any moment.

A :class:`DawScript` is a tempo map and a list of :class:`Play` runs: each starts at
``wall_seconds`` from ``start_beat`` and plays ``beats`` beats; between runs the DAW stands
stopped where the last one ended. ``silences`` are ``(wall_seconds, seconds)`` spans in which it sends nothing (a
crashed DAW, a pulled cable). :meth:`DawScript.true_state` answers the true position at any
time, which is what tests and benchmarks score a receiver against.

The script sends two ways: MIDI sync the way Logic does (:meth:`DawScript.messages`, with
delivery jitter in :meth:`DawScript.received`; how a run begins follows the DAW: beat 0 ->
Start; otherwise SPP then Continue; a run that starts right where the previous one ended is a
cycle jump, SPP while playing or nothing but the MTC jump when ``spp_while_playing`` is False),
and protocol v1 through the sender runtime (:mod:`bridge.senders.scripted.stream`).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import KW_ONLY, dataclass, field
from typing import NamedTuple

import mido
import numpy as np

from bridge.senders.clock_fit import TICKS_PER_BEAT
from bridge.senders.mtc import NOMINAL_FPS, Timecode, full_frame_data, quarter_frame_values
from bridge.timeline.tempo_map import Meter, TempoMap, TempoPoint


@dataclass(frozen=True)
class Play:
    """Play ``beats`` beats from ``start_beat`` (a 16th), starting at ``wall_seconds``."""

    wall_seconds: float
    start_beat: float
    beats: float


class Position(NamedTuple):
    """Where the DAW truly is; unpacks as ``playing, beat, bpm``."""

    playing: bool
    beat: float
    bpm: float


@dataclass(frozen=True)
class Emitted:
    """One MIDI message and the moment it reached the receiver."""

    seconds: float
    message: mido.Message


def timecode_at(seconds: float, rate: int = 1) -> Timecode:
    """The SMPTE label of ``seconds`` (non-drop rates), frames rounded down."""
    fps = NOMINAL_FPS[rate]
    frames = int(math.floor(seconds * fps + 1e-9))
    return Timecode(frames // (3600 * fps), frames // (60 * fps) % 60, frames // fps % 60, frames % fps, rate)


@dataclass(frozen=True)
class DawScript:
    """Plays ``plays`` on ``tempo_map`` (see module doc) for ``length_seconds`` (default: to the end of the last
    run or silence); ``loop`` is the cycle it announces over protocol v1.

    The rest says how it sends MIDI sync: ``clock`` (24 ppqn) and ``mtc`` (quarter frames from
    SMPTE ``mtc_start_seconds`` at song start, at ``mtc_rate``), SPP on cycle jumps, a full frame on locates.
    """

    tempo_map: TempoMap
    plays: tuple[Play, ...]
    _: KW_ONLY
    silences: tuple[tuple[float, float], ...] = ()
    loop: tuple[float, float] | None = None
    length_seconds: float | None = None
    clock: bool = True
    mtc: bool = False
    mtc_start_seconds: float = 0.0
    mtc_rate: int = 1
    spp_while_playing: bool = True
    full_frame_on_locate: bool = True
    _starts: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plays = tuple(sorted(self.plays, key=lambda p: p.wall_seconds))
        object.__setattr__(self, "plays", plays)
        object.__setattr__(self, "silences", tuple((float(a), float(b)) for a, b in self.silences))
        object.__setattr__(self, "_starts", [p.wall_seconds for p in plays])

    @classmethod
    def from_steps(cls, steps: list[tuple[str, float]], bpm: float = 120.0) -> DawScript:
        """A script of ("play" | "stop" | "silence", seconds) steps one after the other, at ``bpm`` in 4/4."""
        tempo_map = TempoMap.constant(bpm)
        wall = beat = 0.0
        plays, silences = [], []
        for kind, seconds in steps:
            if kind == "play":
                plays.append(Play(wall, beat, seconds * bpm / 60.0))
                beat += seconds * bpm / 60.0
            elif kind == "silence":
                silences.append((wall, seconds))
            elif kind != "stop":
                raise ValueError(f"a step is play, stop or silence, got {kind!r}")
            wall += seconds
        return cls(tempo_map, tuple(plays), silences=tuple(silences), length_seconds=wall)

    def _end_wall(self, play: Play) -> float:
        song0 = self.tempo_map.seconds_at(play.start_beat)
        return play.wall_seconds + self.tempo_map.seconds_at(play.start_beat + play.beats) - song0

    @property
    def end_seconds(self) -> float:
        """When the script ends: ``length_seconds``, else when the last run or silence does."""
        if self.length_seconds is not None:
            return self.length_seconds
        ends = [self._end_wall(p) for p in self.plays] + [start + seconds for start, seconds in self.silences]
        return max(ends, default=0.0)

    def true_state(self, wall_seconds: float) -> Position:
        """Where the DAW is at ``wall_seconds`` (before the first run: stopped at beat 0)."""
        i = bisect.bisect_right(self._starts, wall_seconds) - 1
        if i < 0:
            return Position(False, 0.0, self.tempo_map.bpm_at(0.0))
        current = self.plays[i]
        end = self._end_wall(current)
        song0 = self.tempo_map.seconds_at(current.start_beat)
        beat = self.tempo_map.beat_at(song0 + min(wall_seconds, end) - current.wall_seconds)
        return Position(wall_seconds < end, beat, self.tempo_map.bpm_at(beat))

    def silent_at(self, wall_seconds: float) -> bool:
        """True during a silence."""
        return any(start <= wall_seconds < start + seconds for start, seconds in self.silences)

    def jumps(self) -> list[float]:
        """Wall seconds where the position jumps: each run's start and end, and each tempo change inside a run."""
        times = set()
        for play in self.plays:
            times.update((play.wall_seconds, self._end_wall(play)))
            song0 = self.tempo_map.seconds_at(play.start_beat)
            for point in self.tempo_map.tempo:
                if play.start_beat < point.beat < play.start_beat + play.beats:
                    times.add(play.wall_seconds + self.tempo_map.seconds_at(point.beat) - song0)
        return sorted(times)

    def messages(self) -> list[Emitted]:
        """Every message with its send time (no jitter), in order."""
        out: list[tuple[float, int, mido.Message]] = []
        previous_end = -math.inf
        for play in self.plays:
            start = play.wall_seconds
            end = self._end_wall(play)
            cycling = abs(start - previous_end) < 1e-6
            song0 = self.tempo_map.seconds_at(play.start_beat)
            if not cycling:
                if play.start_beat == 0:
                    out.append((start - 0.002, 1, mido.Message("start")))
                else:
                    out.append((start - 0.010, 1, mido.Message("songpos", pos=round(play.start_beat * 4))))
                    if self.mtc and self.full_frame_on_locate:
                        tc = timecode_at(song0 + self.mtc_start_seconds, self.mtc_rate)
                        out.append((start - 0.008, 1, mido.Message("sysex", data=full_frame_data(tc))))
                    out.append((start - 0.002, 1, mido.Message("continue")))
            elif self.spp_while_playing:
                out.append((start - 0.001, 1, mido.Message("songpos", pos=round(play.start_beat * 4))))
            if self.clock:
                first = math.ceil(play.start_beat * TICKS_PER_BEAT - 1e-9)
                last = math.ceil((play.start_beat + play.beats) * TICKS_PER_BEAT - 1e-9)
                for k in range(first, last):
                    wall = start + self.tempo_map.seconds_at(k / TICKS_PER_BEAT) - song0
                    out.append((wall, 0, mido.Message("clock")))
            if self.mtc:
                fps = NOMINAL_FPS[self.mtc_rate]
                quarter = 1.0 / (4 * fps)
                smpte0 = song0 + self.mtc_start_seconds
                q = math.ceil(smpte0 / quarter - 1e-9)
                while q * quarter - smpte0 + start < end:
                    piece = q % 8
                    tc = timecode_at((q - piece) * quarter, self.mtc_rate)
                    value = quarter_frame_values(tc)[piece]
                    out.append((start + q * quarter - smpte0, 2,
                                mido.Message("quarter_frame", frame_type=piece, frame_value=value)))
                    q += 1
            following = [p for p in self.plays if p.wall_seconds > start]
            if not following or abs(following[0].wall_seconds - end) > 1e-6:
                out.append((end + 0.001, 1, mido.Message("stop")))
            previous_end = end
        out.sort(key=lambda item: (item[0], item[1]))
        return [Emitted(seconds, message) for seconds, _, message in out]

    def received(self, jitter_seconds: float, seed: int = 0, symmetric: bool = False) -> list[Emitted]:
        """:meth:`messages` as they arrive: each ``uniform(0, jitter)`` late (±jitter if symmetric), in order."""
        rng = np.random.default_rng(seed)
        arrivals = []
        latest = -math.inf
        for item in self.messages():
            delay = rng.uniform(-jitter_seconds, jitter_seconds) if symmetric else rng.uniform(0.0, jitter_seconds)
            latest = max(latest, item.seconds + delay)
            arrivals.append(Emitted(latest, item.message))
        return arrivals


#: The benchmarks' cycle (``cycle_script``): seconds, and the loop it plays.
CYCLE_SECONDS = 6.5
LOOP = (4.0, 8.0)
CYCLE_MAP = TempoMap((TempoPoint(0.0, 120.0), TempoPoint(3.0, 150.0)), (Meter(0.0, 4, 4),))


def cycle_script(seconds: float) -> DawScript:
    """Cycles of :data:`CYCLE_SECONDS` for at least ``seconds``: 120 BPM from beat 0, 150 BPM from beat 3
    (1.5 s), the loop 4..8 wrapping at 3.5 s, a stop at 4.3 s, a start at 5.0 s, a wrap at 5.8 s; each
    cycle seeks back to beat 0."""
    plays = []
    for cycle in range(max(1, math.ceil(seconds / CYCLE_SECONDS)) + 1):
        t = cycle * CYCLE_SECONDS
        plays += [Play(t, 0.0, 8.0), Play(t + 3.5, 4.0, 2.0), Play(t + 5.0, 6.0, 2.0), Play(t + 5.8, 4.0, 1.75)]
    return DawScript(CYCLE_MAP, tuple(plays), loop=LOOP)

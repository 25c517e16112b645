"""A scripted DAW that emits MIDI sync the way Logic does, with delivery jitter, and knows the truth.

Used by the tests and ``bench/bench_midi_clock.py`` to replay realistic streams through
:class:`~bridge.senders.midi_sync.MidiSync` without hardware. A script is a list of
:class:`Play` runs on a tempo map: each starts at ``wall_seconds`` from ``start_beat`` and
plays ``beats`` beats. How a run begins follows the DAW: beat 0 -> Start; otherwise SPP then
Continue; a run that starts right where the previous one ended without a stop is a cycle jump
(SPP while playing, or nothing but the MTC jump when ``spp_while_playing`` is False).
Messages arrive ``uniform(0, jitter)`` late (``symmetric``: ±jitter) and in order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mido
import numpy as np

from bridge.senders.clock_fit import TICKS_PER_BEAT
from bridge.senders.mtc import NOMINAL_FPS, Timecode, full_frame_data, quarter_frame_values
from bridge.timeline.tempo_map import TempoMap


@dataclass(frozen=True)
class Play:
    """Play ``beats`` beats from ``start_beat`` (a 16th), starting at ``wall_seconds``."""

    wall_seconds: float
    start_beat: float
    beats: float


@dataclass(frozen=True)
class Emitted:
    """One message and the moment it reached the receiver."""

    seconds: float
    message: mido.Message


def timecode_at(seconds: float, rate: int = 1) -> Timecode:
    """The SMPTE label of ``seconds`` (non-drop rates), frames rounded down."""
    fps = NOMINAL_FPS[rate]
    frames = int(math.floor(seconds * fps + 1e-9))
    return Timecode(frames // (3600 * fps), frames // (60 * fps) % 60, frames // fps % 60, frames % fps, rate)


class DawScript:
    """Emits clock/SPP/transport/MTC for a list of :class:`Play` runs and answers the true position."""

    def __init__(self, tempo_map: TempoMap, plays: list[Play], *, clock: bool = True, mtc: bool = False,
                 mtc_start_seconds: float = 0.0, mtc_rate: int = 1, spp_while_playing: bool = True,
                 full_frame_on_locate: bool = True) -> None:
        self.tempo_map = tempo_map
        self.plays = sorted(plays, key=lambda p: p.wall_seconds)
        self.clock = clock
        self.mtc = mtc
        self.mtc_start_seconds = mtc_start_seconds
        self.mtc_rate = mtc_rate
        self.spp_while_playing = spp_while_playing
        self.full_frame_on_locate = full_frame_on_locate

    def _end_wall(self, play: Play) -> float:
        song0 = self.tempo_map.seconds_at(play.start_beat)
        return play.wall_seconds + self.tempo_map.seconds_at(play.start_beat + play.beats) - song0

    def true_state(self, wall_seconds: float) -> tuple[bool, float, float]:
        """(playing, beat, bpm) the DAW shows at ``wall_seconds``."""
        current = None
        for play in self.plays:
            if play.wall_seconds <= wall_seconds:
                current = play
        if current is None:
            return False, 0.0, self.tempo_map.bpm_at(0.0)
        end = self._end_wall(current)
        song0 = self.tempo_map.seconds_at(current.start_beat)
        beat = self.tempo_map.beat_at(song0 + min(wall_seconds, end) - current.wall_seconds)
        return wall_seconds < end, beat, self.tempo_map.bpm_at(beat)

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

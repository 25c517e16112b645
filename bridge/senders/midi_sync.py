"""The DAW's transport from its MIDI sync output: clock, Start/Continue/Stop, SPP and MTC.

:class:`MidiSync` is fed mido messages with their arrival times and answers
:meth:`MidiSync.state_at` (playing, beat, bpm) for any later moment. Socket-free.

- **Clock** (24 per quarter note) drives tempo (:class:`~bridge.senders.clock_fit.ClockFit`)
  and position: the tick after Start is beat 0; the tick after Continue or a Song Position
  Pointer is the pointer's beat (16ths / 4); every tick adds 1/24 beat. Between ticks the
  beat follows the fitted line, so it is smooth and as precise as the fit.
- **Meter and bars** never come over MIDI: they come from ``grid`` (``--meter`` or a tempo
  map exported from the DAW, whose meter changes and markers then hold).
- **MTC** gives time, not beats: with a tempo map it becomes beats (``map.beat_at(mtc -
  mtc_start)``); without one, at the clock's tempo from song start. A full frame is a locate;
  a jump in quarter-frame time while the clock runs (Logic's cycle without "Allow SPP while
  playing") is a seek. Without any clock, MTC alone drives position (tempo from the map).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from typing import Any

from bridge.senders.clock_fit import TICKS_PER_BEAT, ClockFit
from bridge.senders.mtc import MtcDecoder, MtcSample
from bridge.timeline.tempo_map import BarPosition, TempoMap

#: An SPP this recent (seconds) explains an MTC jump; no second seek.
SPP_EXPLAINS_JUMP_SECONDS = 0.25
#: Quarter frames this far apart (seconds) mean MTC stopped.
MTC_TIMEOUT_SECONDS = 0.1
#: Clock ticks this far apart (seconds) while playing mean the clock stopped.
CLOCK_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class SyncState:
    """The transport at one moment: ``beat`` in quarter notes from song start, tempo in BPM.

    ``seeks`` counts discontinuities (start, locate, cycle jump) so a sender can send at once.
    """

    playing: bool
    beat: float
    bpm: float
    seeks: int
    source: str  # "clock" or "mtc"


class MidiSync:
    """Decodes one MIDI sync stream (see module doc).

    ``grid`` gives bars (and tempo and MTC conversion when ``grid_has_tempo``, i.e. it
    came from a file exported from the DAW); ``mtc_start_seconds`` is the SMPTE time at
    song start (Logic's default is 01:00:00:00 = 3600 s); None learns it while clock and
    MTC run together.
    Thread-safety: none; one thread feeds and reads. Realtime-safety: O(window) per tick.
    """

    def __init__(self, grid: TempoMap | None = None, grid_has_tempo: bool = False,
                 mtc_start_seconds: float | None = None, default_bpm: float = 120.0,
                 clock_fit: ClockFit | None = None) -> None:
        self.grid = grid or TempoMap.constant(default_bpm)
        self.grid_has_tempo = grid_has_tempo
        self.user_mtc_start_seconds = mtc_start_seconds
        self.default_bpm = default_bpm
        self.fit = clock_fit or ClockFit()
        self.mtc = MtcDecoder()
        self.playing = False
        self.seeks = 0
        self.counts: dict[str, int] = {}  # messages received, by mido type
        # clock position: the running tick count _anchor_tick is beat _anchor_beat
        self._anchor_tick = 0.0
        self._anchor_beat = 0.0
        self._pending_beat: float | None = None  # the beat of the next tick (after Start/Continue/SPP)
        self._starting = False  # Start/Continue seen, no tick since: hold at the pending beat
        self._stopped_beat = 0.0
        self._last_tick_seconds: float | None = None
        self._last_spp_seconds = -math.inf
        self._last_stop_seconds = -math.inf
        # MTC
        self._mtc_last: MtcSample | None = None
        self._mtc_offsets: deque[float] = deque(maxlen=16)  # mtc_seconds - arrival_seconds
        self._mtc_starts: deque[float] = deque(maxlen=64)  # learned SMPTE times of song start
        self._jump_tick = 0.0  # the tick an MTC jump re-anchored, refined until _jump_until
        self._jump_until = -math.inf

    # -- feeding ----------------------------------------------------------------------------

    def feed(self, message: Any, seconds: float) -> None:
        """Apply one mido message that arrived at ``seconds`` (any monotonic origin)."""
        kind = message.type
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "clock":
            count = self.fit.tick(seconds)
            self._last_tick_seconds = seconds
            if self._pending_beat is not None:
                self._anchor_tick, self._anchor_beat = float(count), self._pending_beat
                self._pending_beat = None
            self._starting = False
        elif kind == "start":
            self._play_from(0.0)
        elif kind == "continue":
            self._play_from(self._stopped_beat)
        elif kind == "stop":
            if self.playing and self._clock_running(seconds):
                self._stopped_beat = self._next_tick_beat()
            self.playing = False
            self._last_stop_seconds = seconds
        elif kind == "songpos":
            beat = message.pos / 4.0
            self._last_spp_seconds = seconds
            self.seeks += 1
            if self.playing:
                self._anchor_at_next_tick(beat)
            else:
                self._stopped_beat = beat
        elif kind in ("quarter_frame", "sysex"):
            sample = self.mtc.feed(message, seconds)
            if sample is not None:
                self._mtc_sample(sample)

    def _play_from(self, beat: float) -> None:
        self.playing = True
        self.seeks += 1
        self._anchor_at_next_tick(beat)
        self._starting = True

    def _anchor_at_next_tick(self, beat: float) -> None:
        self._pending_beat = beat
        self._jump_until = -math.inf

    def _next_tick_beat(self) -> float:
        """Where Continue resumes: the beat of the tick after the last one counted."""
        if self._pending_beat is not None:
            return self._pending_beat
        return self._anchor_beat + (self.fit.count + 1 - self._anchor_tick) / TICKS_PER_BEAT

    def _mtc_sample(self, sample: MtcSample) -> None:
        last = self._mtc_last
        self._mtc_last = sample
        jumped = sample.locate
        if last is not None and not jumped:
            expected = last.mtc_seconds + (sample.arrival_seconds - last.arrival_seconds)
            stale = sample.arrival_seconds - last.arrival_seconds > MTC_TIMEOUT_SECONDS
            jumped = stale or abs(sample.mtc_seconds - expected) > 1.5 / sample.fps
        if jumped:
            self._mtc_offsets.clear()
        self._mtc_offsets.append(sample.mtc_seconds - sample.arrival_seconds)
        clock_playing = self.playing and self._clock_running(sample.arrival_seconds)
        if not clock_playing and not sample.locate:
            self._stopped_beat = self.beat_from_mtc(sample.mtc_seconds)
        if not jumped:
            if clock_playing and sample.arrival_seconds <= self._jump_until:
                self._apply_mtc_jump()  # refine with one more quarter frame
            elif clock_playing and self.user_mtc_start_seconds is None and self._pending_beat is None:
                self._calibrate_mtc_start(sample)
            return
        if sample.arrival_seconds - self._last_spp_seconds < SPP_EXPLAINS_JUMP_SECONDS:
            return
        self.seeks += 1
        if clock_playing and not sample.locate and self._pending_beat is None:
            # re-anchor the last tick at its MTC time (fitted tick time + averaged MTC offset),
            # refined while quarter frames keep coming
            self._jump_tick = float(self.fit.count)
            self._jump_until = sample.arrival_seconds + 1.0
            self._apply_mtc_jump()
        elif clock_playing:
            self._pending_beat = self.beat_from_mtc(sample.mtc_seconds)  # a full frame: the next tick is there
        else:
            self._stopped_beat = self.beat_from_mtc(sample.mtc_seconds)

    def _apply_mtc_jump(self) -> None:
        line = self.fit.line
        tick = self._jump_tick
        if line is not None and line.ticks >= 3:
            tick_seconds = line.seconds_at(tick)
        else:
            tick_seconds = self._last_tick_seconds if self._last_tick_seconds is not None else 0.0
        mtc_at_tick = tick_seconds + statistics.fmean(self._mtc_offsets)
        self._anchor_tick, self._anchor_beat = tick, self.beat_from_mtc(mtc_at_tick)

    def _calibrate_mtc_start(self, sample: MtcSample) -> None:
        """Learn the SMPTE time of song start from MTC running alongside the clock."""
        beat = self._clock_beat(sample.arrival_seconds)
        self._mtc_starts.append(sample.mtc_seconds - self._song_seconds(beat))

    def _song_seconds(self, beat: float) -> float:
        if self.grid_has_tempo:
            return self.grid.seconds_at(beat)
        return beat * 60.0 / self.fitted_bpm

    @property
    def mtc_start_seconds(self) -> float:
        """SMPTE time at song start: as given, else learned from MTC beside the clock, else 0."""
        if self.user_mtc_start_seconds is not None:
            return self.user_mtc_start_seconds
        if self._mtc_starts:
            return statistics.median(self._mtc_starts)
        return 0.0

    @property
    def fitted_bpm(self) -> float:
        """The clock's fitted tempo (the last one while stopped), else ``default_bpm``."""
        return self.fit.bpm or self.default_bpm

    # -- conversions ------------------------------------------------------------------------

    def beat_from_mtc(self, mtc_seconds: float) -> float:
        """The beat at SMPTE time ``mtc_seconds``: through the tempo map, else at the clock's tempo."""
        song_seconds = mtc_seconds - self.mtc_start_seconds
        if self.grid_has_tempo:
            return self.grid.beat_at(song_seconds)
        return song_seconds * self.fitted_bpm / 60.0

    def position(self, beat: float) -> BarPosition:
        """Bar and beat-in-bar of ``beat`` on the grid (meter from --meter or the tempo map)."""
        return self.grid.position_at(beat)

    # -- reading ----------------------------------------------------------------------------

    def _clock_running(self, seconds: float) -> bool:
        last = self._last_tick_seconds
        return last is not None and seconds - last < CLOCK_TIMEOUT_SECONDS

    def _mtc_running(self, seconds: float) -> bool:
        last = self._mtc_last
        return (last is not None and not last.locate and last.arrival_seconds > self._last_stop_seconds
                and seconds - last.arrival_seconds < MTC_TIMEOUT_SECONDS)

    def _clock_beat(self, seconds: float) -> float:
        count = self.fit.count
        if self._starting:  # no tick since Start/Continue yet
            return self._pending_beat if self._pending_beat is not None else self._anchor_beat
        line = self.fit.line
        if line is not None and line.ticks >= 3:
            tick = line.tick_at(seconds)
        else:
            bpm = self.fitted_bpm
            last = self._last_tick_seconds if self._last_tick_seconds is not None else seconds
            tick = count + max(0.0, seconds - last) * bpm * TICKS_PER_BEAT / 60.0
        # never run ahead of the clock by more than a tick and a half (it may have stopped)
        tick = min(tick, count + 1.5)
        return self._anchor_beat + (tick - self._anchor_tick) / TICKS_PER_BEAT

    def _clock_bpm(self, beat: float) -> float:
        clock_bpm = self.fit.bpm
        if not self.grid_has_tempo:
            return clock_bpm if clock_bpm is not None else self.default_bpm
        map_bpm = self.grid.bpm_at(beat)
        line = self.fit.line
        if clock_bpm is None or line is None or not self.playing:
            return map_bpm
        # the map's exact tempo while the clock agrees with it
        return map_bpm if abs(clock_bpm - map_bpm) <= 3.0 * line.bpm_error + 0.5 else clock_bpm

    def state_at(self, seconds: float) -> SyncState:
        """Playing, beat and tempo at ``seconds`` (same clock as the feed)."""
        mtc_running = self._mtc_running(seconds)
        if not mtc_running or self._clock_running(seconds):
            beat = self._clock_beat(seconds) if self.playing else self._stopped_beat
            return SyncState(self.playing, float(beat), float(self._clock_bpm(beat)), self.seeks, "clock")
        # MTC alone: time from the averaged offset of recent quarter frames
        beat = self.beat_from_mtc(seconds + statistics.fmean(self._mtc_offsets))
        bpm = self.grid.bpm_at(beat) if self.grid_has_tempo else self.fitted_bpm
        return SyncState(True, float(beat), float(bpm), self.seeks, "mtc")

"""MidiSync against replayed MIDI sync streams: jittered clock, tempo changes, locates, cycles, MTC.

Streams come from :class:`DawScript` (a scripted DAW that knows the true position) as mido
messages with arrival times; nothing sleeps. Errors are measured against the script's truth.
"""

from __future__ import annotations

import mido
import numpy as np
import pytest

from bridge.senders.clock_fit import ClockFit
from bridge.senders.midi_sync import MidiSync, SyncState
from bridge.senders.scripted import DawScript, Play
from bridge.timeline.tempo_map import Meter, TempoMap, TempoPoint


def replay(script: DawScript, sync: MidiSync, jitter: float, seed: int, step: float = 0.005,
           symmetric: bool = True) -> list[tuple[float, bool, float, float, bool, float, float]]:
    """Feed the jittered stream and sample (t, playing, beat, bpm, true playing, true beat, true bpm)."""
    arrivals = script.received(jitter, seed=seed, symmetric=symmetric)
    end = arrivals[-1].seconds + 0.2
    rows = []
    i = 0
    for seconds in np.arange(0.0, end, step):
        while i < len(arrivals) and arrivals[i].seconds <= seconds:
            sync.feed(arrivals[i].message, arrivals[i].seconds)
            i += 1
        state = sync.state_at(seconds)
        rows.append((seconds, state.playing, state.beat, state.bpm, *script.true_state(seconds)))
    return rows


def settled(rows, script: DawScript, after_beats: float):
    """Rows while playing, at least ``after_beats`` after each jump (run start or end, tempo change)."""
    events = script.jumps()
    out = []
    for row in rows:
        seconds, _, _, _, playing, _, bpm = row
        recent = [e for e in events if e <= seconds]
        ending = not script.true_state(seconds + 0.005).playing  # a stop sent 1 ms late can arrive 1 ms early
        if playing and not ending and recent and seconds - max(recent) >= after_beats * 60.0 / bpm:
            out.append(row)
    return out


def position_errors_ms(rows) -> np.ndarray:
    return np.array([(beat - true_beat) * 60000.0 / true_bpm for _, _, beat, _, _, true_beat, true_bpm in rows])


SONG = TempoMap((TempoPoint(0.0, 120.0), TempoPoint(32.0, 138.0), TempoPoint(64.0, 96.0)), (Meter(0.0, 4, 4),))


def song_plays() -> list[Play]:
    """Play 0..48 (two tempo changes), cycle back to 16, stop, locate to 60 and continue, stop, resume."""
    first_end = 1.0 + SONG.seconds_at(48.0)
    cycle_end = first_end + SONG.seconds_at(32.0) - SONG.seconds_at(16.0)
    plays = [Play(1.0, 0.0, 48.0), Play(first_end, 16.0, 16.0), Play(cycle_end + 1.5, 60.0, 12.0)]
    resume = plays[-1].wall_seconds + SONG.seconds_at(72.0) - SONG.seconds_at(60.0) + 0.8
    plays.append(Play(resume, 72.25, 8.0))
    return plays


# -- tempo --------------------------------------------------------------------------------


def _steady(bpm: float, beats: float, jitter: float, seed: int, symmetric: bool = True) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    period = 60.0 / bpm / 24
    ticks = np.arange(int(beats * 24) + 1) * period + 0.5
    noise = rng.uniform(-jitter, jitter, len(ticks)) if symmetric else rng.uniform(0.0, jitter, len(ticks))
    return list(np.maximum.accumulate(ticks + noise))


def test_tick_to_tick_tempo_swings_but_the_fit_does_not() -> None:
    arrivals = _steady(120.0, 8, 0.002, seed=3)
    tick_to_tick = 60.0 / (24 * np.diff(arrivals))
    assert np.ptp(tick_to_tick) > 10.0  # what a naive receiver would show
    fit = ClockFit()
    for seconds in arrivals:
        fit.tick(seconds)
    assert fit.bpm == pytest.approx(120.0, abs=0.1)


@pytest.mark.parametrize("bpm", [60.0, 90.0, 120.0, 140.0])
@pytest.mark.parametrize("jitter,symmetric", [(0.001, True), (0.002, True), (0.002, False)])
def test_tempo_within_a_tenth_of_a_bpm_once_the_window_is_full(bpm: float, jitter: float, symmetric: bool) -> None:
    for seed in range(5):
        fit = ClockFit()
        for seconds in _steady(bpm, 4, jitter, seed, symmetric):
            fit.tick(seconds)
        assert fit.bpm == pytest.approx(bpm, abs=0.1), (seed, fit.bpm)
        assert fit.changes == 0


def test_tempo_within_a_tenth_of_a_bpm_after_one_beat_with_sub_millisecond_timestamps() -> None:
    # CoreMIDI/IAC timestamps and a quiet machine: ±0.25 ms
    for bpm in (90.0, 120.0, 140.0):
        for seed in range(10):
            fit = ClockFit()
            for seconds in _steady(bpm, 1, 0.00025, seed):
                fit.tick(seconds)
            assert fit.bpm == pytest.approx(bpm, abs=0.1), (bpm, seed, fit.bpm)


def test_tempo_within_a_tenth_of_a_bpm_one_beat_after_resuming_at_the_same_tempo() -> None:
    # Stop and continue (the clock pauses): the tempo from before stays as a prior
    for seed in range(10):
        fit = ClockFit()
        first = _steady(125.0, 8, 0.002, seed)
        for seconds in first:
            fit.tick(seconds)
        for seconds in _steady(125.0, 1, 0.002, seed + 100):
            fit.tick(seconds + first[-1] + 3.0)
        assert fit.line is not None and fit.line.ticks == 25  # a new window after the pause
        assert fit.bpm == pytest.approx(125.0, abs=0.1), (seed, fit.bpm)


def test_a_different_tempo_after_a_pause_drops_the_prior() -> None:
    fit = ClockFit()
    first = _steady(125.0, 8, 0.001, 1)
    for seconds in first:
        fit.tick(seconds)
    for seconds in _steady(100.0, 1, 0.001, 2):
        fit.tick(seconds + first[-1] + 3.0)
    assert fit.bpm == pytest.approx(100.0, abs=0.3)


@pytest.mark.parametrize("new_bpm", [126.0, 132.0, 100.0])
def test_a_tempo_step_is_followed_quickly(new_bpm: float) -> None:
    for seed in range(5):
        rng = np.random.default_rng(seed)
        fit = ClockFit()
        seconds = 0.0
        estimates = []
        for k in range(8 * 24):
            fit.tick(seconds + rng.uniform(-0.002, 0.002))
            seconds += 60.0 / 120.0 / 24
        for k in range(6 * 24):
            fit.tick(seconds + rng.uniform(-0.002, 0.002))
            estimates.append(fit.bpm)
            seconds += 60.0 / new_bpm / 24
        assert fit.changes == 1, seed
        assert abs(estimates[24] - new_bpm) < 0.6, (seed, estimates[24])  # one beat after the step
        assert abs(estimates[4 * 24] - new_bpm) < 0.1, (seed, estimates[96])  # four beats after


def test_late_outliers_do_not_move_the_tempo() -> None:
    # a loaded machine: every 10th tick 8 ms late
    arrivals = _steady(120.0, 8, 0.001, 7)
    stalled = [s + (0.008 if i % 10 == 5 else 0.0) for i, s in enumerate(arrivals)]
    fit = ClockFit()
    for seconds in np.maximum.accumulate(stalled):
        fit.tick(float(seconds))
    assert fit.changes == 0
    assert fit.bpm == pytest.approx(120.0, abs=0.1)


# -- position through a whole song ---------------------------------------------------------


@pytest.mark.parametrize("spp_while_playing,mtc_start", [(True, 3600.0), (False, 3600.0), (False, None)])
@pytest.mark.parametrize("seed", [0, 1])
def test_position_within_2_ms_through_tempo_changes_cycles_locates_and_stops(spp_while_playing: bool,
                                                                              mtc_start: float | None,
                                                                              seed: int) -> None:
    # mtc_start None: the SMPTE time of song start (Logic: 01:00:00:00) is learned from MTC beside the clock
    script = DawScript(SONG, song_plays(), mtc=True, mtc_start_seconds=3600.0, spp_while_playing=spp_while_playing)
    sync = MidiSync(SONG, grid_has_tempo=True, mtc_start_seconds=mtc_start)
    rows = replay(script, sync, jitter=0.002, seed=seed)
    steady = settled(rows, script, after_beats=1.0)
    assert len(steady) > 3000
    errors = position_errors_ms(steady)
    assert np.max(np.abs(errors)) < 2.0, np.max(np.abs(errors))
    assert all(playing for _, playing, *_ in steady)
    assert max(abs(bpm - true_bpm) for _, _, _, bpm, _, _, true_bpm in steady) < 0.1  # the map's tempo
    # stopped between runs: not playing, holding where the DAW stopped
    near = [script.true_state(r[0] - 0.01).playing or script.true_state(r[0] + 0.02).playing for r in rows]
    stopped = [r for r, busy in zip(rows, near) if not r[4] and not busy and r[0] > 2.0]  # not next to a start/stop (a locate is sent 10 ms ahead)
    assert stopped and not any(playing for _, playing, *_ in stopped)
    assert max(abs(beat - true_beat) for _, _, beat, _, _, true_beat, _ in stopped) < 1 / 24 + 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clock_only_song_with_meter_and_no_tempo_map(seed: int) -> None:
    plays = song_plays()
    script = DawScript(SONG, plays, spp_while_playing=True)
    sync = MidiSync(TempoMap.constant(120.0, 7, 8))
    rows = replay(script, sync, jitter=0.002, seed=seed)
    steady = settled(rows, script, after_beats=1.0)
    assert np.max(np.abs(position_errors_ms(steady))) < 2.0
    late = settled(rows, script, after_beats=4.0)
    tempo_errors = np.array([abs(bpm - true_bpm) for _, _, _, bpm, _, _, true_bpm in late])
    assert np.percentile(tempo_errors, 99) < 0.1 and tempo_errors.max() < 0.15
    # bars come from the --meter grid: 7/8 bars are 3.5 beats long
    position = sync.position(rows[-1][2])
    assert (position.numerator, position.denominator) == (7, 8)
    assert position.bar == int(rows[-1][2] // 3.5) + 1


def test_a_tempo_ramp_is_followed() -> None:
    # 100 -> 140 BPM over 32 beats (Logic's tempo curves, Live's automation ramps)
    ramp = TempoMap((TempoPoint(0.0, 100.0), TempoPoint(16.0, 100.0, True), TempoPoint(48.0, 140.0)))
    script = DawScript(ramp, [Play(1.0, 0.0, 64.0)])
    sync = MidiSync()
    rows = replay(script, sync, jitter=0.002, seed=8)
    inside = [r for r in rows if r[4] and ramp.seconds_at(20.0) + 1.0 <= r[0] <= ramp.seconds_at(48.0) + 1.0]
    errors = np.abs(position_errors_ms(inside))
    assert np.percentile(errors, 95) < 1.5 and errors.max() < 4.0
    tempo_errors = np.array([abs(bpm - true_bpm) for _, _, _, bpm, _, _, true_bpm in inside])
    assert np.percentile(tempo_errors, 95) < 0.6
    # a fit without the ramp model lags by ~2.5 BPM here
    assert np.median(tempo_errors) < 0.3


def test_start_is_beat_zero_and_continue_resumes_at_the_song_position_pointer() -> None:
    sync = MidiSync()
    sync.feed(mido.Message("songpos", pos=37), 0.0)  # 37 sixteenths = beat 9.25
    assert sync.state_at(0.1) == SyncState(False, 9.25, 120.0, 1, "clock")
    sync.feed(mido.Message("continue"), 0.2)
    assert sync.state_at(0.2).playing and sync.state_at(0.2).beat == 9.25  # until the first tick
    seconds = 0.21
    for _ in range(48):
        sync.feed(mido.Message("clock"), seconds)
        seconds += 0.5 / 24
    last_tick = seconds - 0.5 / 24
    assert sync.state_at(last_tick).beat == pytest.approx(9.25 + 47 / 24, abs=1e-9)
    sync.feed(mido.Message("stop"), last_tick + 0.005)
    assert not sync.state_at(last_tick + 0.1).playing
    sync.feed(mido.Message("start"), last_tick + 1.0)
    assert sync.state_at(last_tick + 1.0).beat == 0.0
    sync.feed(mido.Message("clock"), last_tick + 1.01)
    assert sync.state_at(last_tick + 1.01).beat == pytest.approx(0.0, abs=1e-6)


def test_messages_parsed_from_raw_bytes() -> None:
    # the same bytes a DAW puts on the wire, through mido's parser
    parser = mido.Parser()
    parser.feed(bytes([0xF2, 0x10, 0x00, 0xFB]) + bytes([0xF8]) * 25)
    sync = MidiSync()
    for i, message in enumerate(parser):
        sync.feed(message, 1.0 + i * 0.5 / 24)
    state = sync.state_at(1.0 + 26 * 0.5 / 24)
    assert state.playing
    assert state.beat == pytest.approx(4.0 + 24 / 24, abs=1e-6)  # SPP 16 sixteenths = beat 4, +24 ticks
    assert state.bpm == pytest.approx(120.0, abs=1e-6)


# -- MTC ------------------------------------------------------------------------------------


def test_cycle_jump_without_spp_is_a_seek_from_mtc() -> None:
    script = DawScript(SONG, song_plays()[:2], mtc=True, spp_while_playing=False)
    sync = MidiSync(SONG, grid_has_tempo=True)
    rows = replay(script, sync, jitter=0.002, seed=4)
    jump = script.plays[1].wall_seconds
    after = [r for r in rows if jump + 0.25 <= r[0] and r[4]]
    assert sync.seeks == 2  # Start, then the MTC jump
    assert np.max(np.abs(position_errors_ms(after))) < 2.0
    without_mtc = MidiSync(SONG, grid_has_tempo=True)
    rows = replay(DawScript(SONG, song_plays()[:2], spp_while_playing=False), without_mtc, 0.002, seed=4)
    assert np.max(np.abs(position_errors_ms([r for r in rows if jump + 0.25 <= r[0] and r[4]]))) > 1000.0


def test_mtc_alone_with_a_tempo_map_drives_position() -> None:
    plays = [Play(0.5, 8.0, 16.0)]
    script = DawScript(SONG, plays, clock=False, mtc=True, mtc_start_seconds=3600.0)
    sync = MidiSync(SONG, grid_has_tempo=True, mtc_start_seconds=3600.0)
    rows = replay(script, sync, jitter=0.002, seed=5)
    steady = [r for r in rows if r[4] and r[0] > 0.5 + 0.3]
    assert all(r[1] for r in steady)
    assert np.max(np.abs(position_errors_ms(steady))) < 2.0
    assert rows[-1][1] is False  # quarter frames stopped
    assert rows[-1][2] == pytest.approx(24.0, abs=0.05)


def test_full_frame_locate_while_stopped_sets_the_beat() -> None:
    from bridge.senders.mtc import Timecode, full_frame_data

    sync = MidiSync(TempoMap.constant(100.0), grid_has_tempo=True, mtc_start_seconds=3600.0)
    sync.feed(mido.Message("sysex", data=full_frame_data(Timecode(1, 0, 12, 0, 1))), 0.0)
    state = sync.state_at(0.1)
    assert not state.playing
    assert state.beat == pytest.approx(12.0 * 100.0 / 60.0)
    assert state.seeks == 1


def test_a_burst_of_queued_ticks_never_reports_an_impossible_tempo() -> None:
    # a stalled driver hands over 30 ticks at once, then the clock runs normally at 120 BPM
    fit = ClockFit()
    for _ in range(30):
        fit.tick(1.0)
        assert fit.bpm is None or 20.0 <= fit.bpm <= 999.0
    seconds = 1.0
    for k in range(6 * 24):
        seconds += 0.5 / 24
        fit.tick(seconds + (k % 3) * 0.0005)
        assert fit.bpm is None or 20.0 <= fit.bpm <= 999.0
    assert fit.bpm == pytest.approx(120.0, abs=0.1)


def test_mtc_only_master_with_full_frame_locates_and_no_transport_messages() -> None:
    # a timecode master: quarter frames while rolling, a full frame on each locate, nothing else
    plays = [Play(0.5, 4.0, 8.0), Play(6.0, 40.0, 8.0)]
    script = DawScript(SONG, plays, clock=False, mtc=True, mtc_start_seconds=3600.0)
    stream = [e for e in script.received(0.002, seed=11, symmetric=True)
              if e.message.type in ("quarter_frame", "sysex")]
    assert any(e.message.type == "sysex" for e in stream)
    sync = MidiSync(SONG, grid_has_tempo=True, mtc_start_seconds=3600.0)
    rows, i = [], 0
    for seconds in np.arange(0.0, 12.0, 0.005):
        while i < len(stream) and stream[i].seconds <= seconds:
            sync.feed(stream[i].message, stream[i].seconds)
            i += 1
        state = sync.state_at(seconds)
        rows.append((seconds, state.playing, state.beat, state.bpm, *script.true_state(seconds)))
    rolling = [r for r in rows if r[4] and any(p.wall_seconds + 0.3 <= r[0] for p in plays)
               and not any(p.wall_seconds <= r[0] < p.wall_seconds + 0.3 for p in plays)]
    assert rolling and all(r[1] for r in rolling)
    assert np.max(np.abs(position_errors_ms(rolling))) < 2.0
    located = [r for r in rows if 5.98 <= r[0] < 6.0]  # after the full frame, before rolling
    frame_beat = SONG.beat_at(np.floor(SONG.seconds_at(40.0) * 25) / 25)  # a full frame names a whole frame
    assert located and not located[-1][1] and located[-1][2] == pytest.approx(frame_beat, abs=1e-9)
    assert located[-1][2] == pytest.approx(40.0, abs=138 / 60 / 25)  # within one frame of the locate

"""The scripted DAW: its true position, its jumps, the benchmarks' cycle, and its protocol v1 stream."""

from __future__ import annotations

import socket

import pytest

from bridge.protocol.decode import decode
from bridge.protocol.messages import ByeMessage, HelloMessage, LoopMessage, TransportMessage
from bridge.senders.scripted import (
    CYCLE_SECONDS,
    DawScript,
    Play,
    Position,
    cycle_script,
    position_errors_ms,
    stream,
)
from bridge.timeline.tempo_map import TempoMap, TempoPoint


def test_true_state_plays_runs_on_the_tempo_map_and_holds_between_them():
    script = DawScript(TempoMap((TempoPoint(0.0, 120.0), TempoPoint(4.0, 60.0))), [Play(1.0, 2.0, 4.0), Play(9.0, 0.0, 1.0)])
    assert script.true_state(0.5) == Position(False, 0.0, 120.0)  # before the first run
    assert script.true_state(1.5) == Position(True, 3.0, 120.0)
    assert script.true_state(3.0) == Position(True, 5.0, 60.0)  # 1 s at 120 to beat 4, then 1 s at 60
    assert script.true_state(6.0) == Position(False, 6.0, 60.0)  # the run ended at 4 s: stopped at beat 6
    assert script.true_state(9.25) == Position(True, 0.5, 120.0)
    assert script.jumps() == [1.0, 2.0, 4.0, 9.0, 9.5]  # starts, ends and the tempo change at 2 s
    assert script.end_seconds == 9.5


def test_steps_play_stop_and_go_silent_one_after_the_other():
    script = DawScript.from_steps([("play", 1.0), ("stop", 0.5), ("silence", 0.5), ("play", 1.0)], bpm=90.0)
    assert script.plays == (Play(0.0, 0.0, 1.5), Play(2.0, 1.5, 1.5))
    assert script.silences == ((1.5, 0.5),)
    assert script.true_state(1.7) == Position(False, 1.5, 90.0) and script.silent_at(1.7)
    assert not script.silent_at(1.4) and not script.silent_at(2.0)
    assert script.end_seconds == 3.0
    with pytest.raises(ValueError, match="pause"):
        DawScript.from_steps([("pause", 1.0)])


def test_the_benchmark_cycle():
    script = cycle_script(CYCLE_SECONDS)
    truth = {t: script.true_state(t) for t in (1.0, 2.0, 3.6, 4.5, 5.5, 6.0, 6.6)}
    assert truth[1.0] == Position(True, 2.0, 120.0)
    assert truth[2.0] == Position(True, pytest.approx(4.25), 150.0)  # 150 BPM from beat 3 (1.5 s)
    assert truth[3.6] == Position(True, pytest.approx(4.25), 150.0)  # the loop wrapped 8 -> 4 at 3.5 s
    assert truth[4.5] == Position(False, pytest.approx(6.0), 150.0)  # stopped at 4.3 s
    assert truth[5.5] == Position(True, pytest.approx(7.25), 150.0)  # started again at 5.0 s
    assert truth[6.0] == Position(True, pytest.approx(4.5), 150.0)  # wrapped again at 5.8 s
    assert truth[6.6] == Position(True, pytest.approx(0.2), 120.0)  # the next cycle starts at beat 0
    jumps = [t for t in script.jumps() if t <= CYCLE_SECONDS]
    assert jumps == pytest.approx([0.0, 1.5, 3.5, 4.3, 5.0, 5.8, 6.5])
    assert script.loop == (4.0, 8.0)


def test_position_errors_score_a_receiver_against_the_cycle_outside_its_jumps():
    sends = [100.0 + k / 50 for k in range(int(CYCLE_SECONDS * 50))]
    log = {"t0": 100.0, "sends": sends, "duration_seconds": CYCLE_SECONDS, "jitter_seconds": 0.0}
    script = cycle_script(CYCLE_SECONDS)
    exact = position_errors_ms(log, sends, lambda i, sent: script.true_state(sent - 100.0).beat)
    assert exact and max(exact) < 1e-9
    late = position_errors_ms(log, sends, lambda i, sent: script.true_state(sent - 100.001).beat)
    assert late[len(late) // 2] == pytest.approx(1.0, abs=1e-6)  # a clock 1 ms behind is 1 ms off
    playing = sum(script.true_state(s - 100.0).playing for s in sends)
    assert len(exact) < playing  # the 100 ms after each jump are left out


def test_stream_sends_the_script_over_udp_and_nothing_while_silent():
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    try:
        script = DawScript.from_steps([("play", 0.3), ("silence", 0.3), ("stop", 0.2)])
        log = stream(script, "127.0.0.1", listener.getsockname()[1], lead_seconds=0.0)
        listener.setblocking(False)
        received = []
        while True:
            try:
                received.append(decode(listener.recv(65536)))
            except BlockingIOError:
                break
    finally:
        listener.close()
    assert isinstance(received[0], HelloMessage) and received[0].source == "scripted"
    assert not any(isinstance(m, LoopMessage) for m in received)  # this script announces no loop
    assert isinstance(received[-1], ByeMessage)
    transports = [m for m in received if isinstance(m, TransportMessage)]
    assert len(transports) == len(log["sends"])
    playing = [m for m in transports if m.playing]
    assert playing and all(0.0 <= m.beat <= 0.6 for m in playing)
    assert transports[-1] == TransportMessage(False, pytest.approx(0.6), 120.0, 4, 4, 0.0, 1)
    gaps = [b - a for a, b in zip(log["sends"], log["sends"][1:])]
    assert max(gaps) >= 0.25  # the silence: no step, so no send

"""The states a user sees: waiting, playing, stopped, lost, and back."""

from __future__ import annotations

from bridge.clock import TransportSnapshot
from bridge.receiver import SessionInfo
from renderer.preview.status import LOST, PLAYING, STOPPED, WAITING, preview_status

LISTEN = ("127.0.0.1", 9420)


def session(last_seen: float, ended: bool = False, sid: str = "a") -> SessionInfo:
    return SessionInfo(sid, "file", "127.0.0.1:50000", 0.0, last_seen, 10, False, ended)


def snap(playing: bool, sid: str = "a") -> TransportSnapshot:
    return TransportSnapshot(playing=playing, received_seconds=1.0, session_id=sid)


def test_waiting_says_how_to_start_a_sender():
    status = preview_status(TransportSnapshot(), (), 5.0, LISTEN)
    assert status.state == WAITING and "127.0.0.1:9420" in status.headline
    assert any("barlight send file song.wav --bpm 120" in line for line in status.detail)
    assert any("Barlight device" in line for line in status.detail)
    other = preview_status(TransportSnapshot(), (), 5.0, ("0.0.0.0", 9000))
    assert any("--to 0.0.0.0:9000" in line for line in other.detail)


def test_playing_stopped_lost_and_back():
    assert preview_status(snap(True), [session(10.0)], 10.2, LISTEN).state == PLAYING
    assert preview_status(snap(False), [session(10.0)], 12.0, LISTEN).state == STOPPED  # hello every 2 s
    lost = preview_status(snap(True), [session(10.0)], 12.0, LISTEN)
    assert lost.state == LOST and "holding the last frame" in lost.headline
    assert preview_status(snap(False), [session(10.0)], 14.0, LISTEN).state == LOST
    assert preview_status(snap(True), [session(14.0)], 14.1, LISTEN).state == PLAYING  # back


def test_a_sender_that_said_bye_is_lost_until_another_plays():
    status = preview_status(snap(False), [session(10.0, ended=True)], 10.1, LISTEN)
    assert status.state == LOST and "ended" in status.headline
    sessions = [session(10.0, ended=True), session(20.0, sid="b")]
    assert preview_status(snap(True, "b"), sessions, 20.1, LISTEN).state == PLAYING
    assert preview_status(snap(True, "b"), sessions, 20.1, LISTEN).sender == "file 127.0.0.1:50000"


def test_connected_before_any_transport_is_not_waiting():
    status = preview_status(TransportSnapshot(session_id=None), [session(3.0)], 3.1, LISTEN)
    assert status.state == STOPPED and "transport" in status.headline


def test_a_sender_refused_by_the_allow_list_is_named_not_waited_for():
    from renderer.preview.status import REFUSING

    status = preview_status(TransportSnapshot(), (), 5.0, ("0.0.0.0", 9420), refused=("203.0.113.7:50000", 4.5))
    assert status.state == REFUSING and "203.0.113.7:50000" in status.headline and "waiting" not in status.headline.lower()
    assert any("--allow 203.0.113.7" in line for line in status.detail)
    # long after the last refused datagram it is waiting again; a sender that is let in plays
    assert preview_status(TransportSnapshot(), (), 60.0, LISTEN, refused=("203.0.113.7:1", 4.5)).state == WAITING
    assert preview_status(snap(True), [session(10.0)], 10.2, LISTEN, refused=("203.0.113.7:1", 10.0)).state == PLAYING

"""What the preview tells the user about its sender, as a pure function of what the receiver knows.

States: ``waiting`` (no sender yet: says how to start one), ``refusing`` (no sender yet, but one
is sending from an address ``--allow`` does not let in: says which, and how to let it in),
``playing``, ``stopped`` (idles gently), ``lost`` (the sender went silent or said bye: the last
frame is held). A sender that comes back — the same one or a new one — is simply ``playing`` again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.clock import TransportSnapshot
from bridge.protocol.spec import DEFAULT_HOST, DEFAULT_PORT
from bridge.receiver import SessionInfo

WAITING, REFUSING, PLAYING, STOPPED, LOST = "waiting", "refusing", "playing", "stopped", "lost"
#: Silence after which a playing sender counts as lost (it sends transport ~50 times a second), seconds.
LOST_PLAYING_SECONDS = 1.0
#: Silence after which a stopped sender counts as lost (it says hello every 2 s), seconds.
LOST_STOPPED_SECONDS = 3.5


@dataclass(frozen=True)
class PreviewStatus:
    """One state and the words for it: ``headline`` on the HUD, ``detail`` lines under it."""

    state: str
    headline: str
    detail: tuple[str, ...] = ()
    sender: str = ""  #: ``source HOST:PORT`` of the driving sender, "" without one


def send_command(host: str, port: int) -> str:
    """The simulated DAW's command line, reaching a preview listening on ``host:port``."""
    target = "" if (host, port) == (DEFAULT_HOST, DEFAULT_PORT) else f" --to {host}:{port}"
    return f"barlight send file song.wav --bpm 120{target}"


def start_hint(host: str, port: int) -> tuple[str, ...]:
    """How to start a sender that reaches a preview listening on ``host:port``."""
    return (f"Try the simulated DAW:  {send_command(host, port)}",
            f"or Ableton Live: put the Barlight device on the Master track, sending to {host}:{port}",
            "(docs/m4l.md)")


def preview_status(snapshot: TransportSnapshot, sessions: Sequence[SessionInfo], now_seconds: float,
                   listen: tuple[str, int], refused: tuple[str, float] | None = None) -> PreviewStatus:
    """The state of the preview at ``now_seconds`` (host), given the receiver's snapshot and sessions and the
    last sender it refused (``ReceiverStats.refused``: ``HOST:PORT`` and when). Pure."""
    driver = next((s for s in sessions if s.session_id == snapshot.session_id), None)
    if driver is None:
        driver = max(sessions, key=lambda s: s.last_seen_seconds, default=None)
    if driver is None and refused is not None and now_seconds - refused[1] <= LOST_STOPPED_SECONDS:
        return PreviewStatus(REFUSING, f"Refusing {refused[0]}: not allowed to send here",
                             ("Only loopback, private and link-local senders, or those given with --allow, may send.",
                              f"To let it in: barlight preview --listen {listen[0]}:{listen[1]} "
                              f"--allow {refused[0].rsplit(':', 1)[0].strip('[]')}"), refused[0])
    if driver is None:
        return PreviewStatus(WAITING, f"Waiting for a sender on {listen[0]}:{listen[1]}", start_hint(*listen))
    sender = f"{driver.source or 'sender'} {driver.address}"
    silent = now_seconds - driver.last_seen_seconds
    if driver.ended:
        return PreviewStatus(LOST, "Sender ended — holding the last frame",
                             ("It resumes by itself when a sender plays again.",), sender)
    if silent > (LOST_PLAYING_SECONDS if snapshot.playing else LOST_STOPPED_SECONDS):
        return PreviewStatus(LOST, f"Sender lost — nothing for {silent:.0f} s, holding the last frame",
                             ("It resumes by itself when the sender is back.",), sender)
    if not snapshot.valid:
        return PreviewStatus(STOPPED, "Sender connected — waiting for its transport", (), sender)
    if snapshot.playing:
        return PreviewStatus(PLAYING, "", (), sender)
    return PreviewStatus(STOPPED, "Transport stopped — press play in the DAW", (), sender)

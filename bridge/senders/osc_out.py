"""``ProtocolSender``: the one way Python senders put protocol v1 on the wire."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterable, Sequence

from bridge.protocol.checks import ProtocolError
from bridge.protocol.decode import RENDERER_TO_SENDER, decode
from bridge.protocol.encode import encode
from bridge.protocol.endpoints import parse_host_port, resolve_udp
from bridge.protocol.messages import (
    AckMessage,
    AudioMessage,
    ByeMessage,
    HelloMessage,
    LoopMessage,
    MacrosMessage,
    MarkersMessage,
    Message,
    TransportMessage,
)
from bridge.protocol.spec import DEFAULT_HOST, DEFAULT_PORT, PROTOCOL_VERSION
from bridge.timeline.tempo_map import Marker


def parse_target(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT``, ``PORT`` or ``[v6]:PORT`` for ``--to`` -> (host, port); InputError if malformed."""
    return parse_host_port(text, "--to")


def new_session_id() -> str:
    """A random session id, stable for as long as a sender runs."""
    return secrets.token_hex(4)


class ProtocolSender:
    """Sends protocol v1 over UDP to ``host:port`` as sender ``source`` (``file``, ``midi``, ``link``…).

    ``/renderer/ack`` answers come back to this sender's own socket (hello carries no
    reply_port); :meth:`poll_acks` reads them without blocking.
    Thread-safety: one thread at a time. Realtime-safety: one non-blocking sendto per message.
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, source: str = "python",
                 session_id: str | None = None) -> None:
        self.host = host
        self.port = int(port)
        self.source = source
        self.session_id = session_id or new_session_id()
        family, self._sockaddr = resolve_udp(host, self.port)
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self.sent = 0
        self.acked = 0

    # -- one method per address ------------------------------------------------------------

    def hello(self) -> None:
        self.send(HelloMessage(self.source, PROTOCOL_VERSION, self.session_id))

    def transport(self, playing: bool, beat: float, bpm: float, numerator: int, denominator: int,
                  bar_start_beat: float, bar: int) -> None:
        self.send(TransportMessage(bool(playing), float(beat), float(bpm), int(numerator), int(denominator),
                                   float(bar_start_beat), int(bar)))

    def audio(self, rms: float, peak: float, bands: Sequence[float]) -> None:
        if len(bands) != 8:
            raise ValueError(f"audio needs 8 bands, got {len(bands)}")
        self.send(AudioMessage(float(rms), float(peak), tuple(float(b) for b in bands)))

    def markers(self, markers: Iterable[Marker]) -> None:
        self.send(MarkersMessage(tuple(sorted(markers, key=lambda m: m.beat))))

    def loop(self, on: bool, start_beat: float, end_beat: float) -> None:
        self.send(LoopMessage(bool(on), float(start_beat), float(end_beat)))

    def macros(self, macros: Sequence[float]) -> None:
        if len(macros) != 4:
            raise ValueError(f"macros needs 4 values, got {len(macros)}")
        self.send(MacrosMessage(tuple(float(v) for v in macros)))  # type: ignore[arg-type]

    def bye(self) -> None:
        self.send(ByeMessage(self.session_id))

    # -- plumbing ---------------------------------------------------------------------------

    def send(self, message: Message) -> None:
        """Encode and send one message; a full socket buffer or an unreachable port drops it silently (UDP).

        Counted before the send: Python runs a signal handler right after ``sendto`` returns, so a stop
        signal (:mod:`barlight.signals`) arriving during the send would otherwise skip the count of a sent message.
        """
        datagram = encode(message)
        self.sent += 1
        try:
            self._socket.sendto(datagram, self._sockaddr)
        except (BlockingIOError, ConnectionRefusedError):
            self.sent -= 1

    def poll_acks(self) -> list[AckMessage]:
        """``/renderer/ack`` messages that arrived since the last call (for this session only)."""
        acks = []
        while True:
            try:
                datagram = self._socket.recv(65536)
            except (BlockingIOError, ConnectionRefusedError, OSError):
                break
            try:
                message = decode(datagram, RENDERER_TO_SENDER)
            except ProtocolError:
                continue
            if isinstance(message, AckMessage) and message.session_id == self.session_id:
                acks.append(message)
        self.acked += len(acks)
        return acks

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> ProtocolSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The renderer's OSC receiver: a UDP socket on a background thread feeding TransportClocks.

Each datagram is decoded by :func:`bridge.protocol.decode.decode`; a bad one is
dropped and counted per reason, never fatal. Senders are told apart by session:
a ``/daw/hello`` ties its UDP source address to its ``session_id``; an address
that has not said hello is the session ``"HOST:PORT"``. Every session has its
own :class:`~bridge.clock.TransportClock`; the one that most recently started
playing (and sent transport within the last second) drives :meth:`Receiver.snapshot`;
when none plays, the last driver stays.

``/daw/pcm`` (protocol 1.1): each session's blocks go through a
:class:`~bridge.pcm_stream.PcmStream`, which puts them back in sample order, fills gaps with
silence and counts what it did (:attr:`ReceiverStats.pcm`); subscribers get the released audio as
:class:`PcmAudio` events, each placed on the session's transport.

Who may send: with a loopback bind only this machine can reach the socket. With
any other bind, ``allow`` lists the IPs or networks accepted (``"any"`` accepts
all); without it only :data:`DEFAULT_ALLOWED_NETWORKS` are: loopback, private
(RFC 1918, IPv6 ULA) and link-local addresses, exactly as docs/protocol.md lists
them (not Python's wider ``is_private``, which also takes documentation, benchmark
and reserved ranges). Others are dropped as ``not_allowed``, and the last one
refused is in :meth:`Receiver.stats`, so the preview can say whom it is refusing.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.clock import Discontinuity, TransportClock, TransportSnapshot
from bridge.errors import InputError
from bridge.loop_thread import LoopThread
from bridge.pcm_stream import PcmBlock, PcmStats, PcmStream, pcm_samples
from bridge.protocol.checks import DROP_REASONS, ProtocolError
from bridge.protocol.decode import decode
from bridge.protocol.encode import encode
from bridge.protocol.endpoints import format_host_port, parse_host_port
from bridge.protocol.messages import (
    AckMessage,
    ByeMessage,
    HelloMessage,
    LoopMessage,
    MarkersMessage,
    Message,
    PcmMessage,
    TransportMessage,
)
from bridge.protocol.spec import DEFAULT_HOST, DEFAULT_PORT, PROTOCOL_VERSION

log = logging.getLogger(__name__)

#: Linux's SO_TIMESTAMPNS (not exported by Python's socket module): the kernel stamps each datagram.
_SO_TIMESTAMPNS = 35

#: Seconds between two log lines about dropped datagrams (a summary of what was dropped since).
LOG_INTERVAL_SECONDS = 5.0


#: Who may send to a non-loopback bind without ``allow`` (docs/protocol.md, "Who may send").
DEFAULT_ALLOWED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(net) for net in (
        "127.0.0.0/8", "::1/128",  # loopback
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",  # private: RFC 1918, IPv6 ULA
        "169.254.0.0/16", "fe80::/10",  # link-local
    ))


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT``, ``PORT`` or ``[v6]:PORT`` -> (host, port); InputError if malformed. Port 0: any free one."""
    return parse_host_port(text, "--listen", lowest_port=0)


def parse_allow(text: str | None) -> tuple[str, ...] | None:
    """``IP[,IP|NET…]`` or ``any`` -> the allow list for :class:`Receiver`; InputError on a bad entry."""
    if text is None:
        return None
    entries = tuple(e.strip() for e in text.split(",") if e.strip())
    for entry in entries:
        if entry != "any":
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise InputError("--allow", f"{entry!r} is not an IP address or network") from None
    return entries


def _is_loopback_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class Received:
    """One accepted message: who sent it, when it arrived (host seconds) and the session's beat then."""

    message: Message
    session_id: str
    address: tuple[str, int]
    arrival_seconds: float
    beat: float | None  #: the session's fitted DAW beat at arrival, no latency offset (None before any transport)


@dataclass(frozen=True)
class PcmAudio:
    """Audio of one session released in sample order by its :class:`~bridge.pcm_stream.PcmStream`
    (``block.gap``: silence for samples lost on the way), and where its first sample sits on the session's
    transport: ``beat`` (the DAW's, no latency offset; None before any transport) and ``playing``."""

    session_id: str
    block: PcmBlock
    beat: float | None
    playing: bool


@dataclass(frozen=True)
class SessionInfo:
    """What the UI shows about one sender."""

    session_id: str
    source: str  #: the hello's source (``m4l``, ``file``…), "" before a hello
    address: str  #: ``HOST:PORT`` of its latest datagram
    first_seen_seconds: float
    last_seen_seconds: float
    messages: int
    playing: bool
    ended: bool  #: said bye


@dataclass(frozen=True)
class ReceiverStats:
    """Counters for the UI: ``received == accepted + sum(dropped.values())`` always holds."""

    received: int
    accepted: int
    dropped: dict[str, int]
    sessions: tuple[SessionInfo, ...]
    driver: str | None
    messages_per_second: float  #: accepted messages in the last whole second
    callback_errors: int
    internal_errors: int  #: datagrams that raised inside the receiver (a bug; 0 expected)
    pcm: PcmStats = PcmStats()  #: ``/daw/pcm`` blocks of the current sessions: gaps, reordered, duplicates, late
    refused: tuple[str, float] | None = None  #: the last sender dropped as not_allowed: (HOST:PORT, host seconds)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


@dataclass
class _Session:
    session_id: str
    address: tuple[str, int]
    clock: TransportClock
    first_seen: float
    last_seen: float
    source: str = ""
    messages: int = 0
    playing_since: float = -math.inf
    ended: bool = False
    pcm: PcmStream | None = None

    def info(self) -> SessionInfo:
        return SessionInfo(self.session_id, self.source, f"{self.address[0]}:{self.address[1]}", self.first_seen,
                           self.last_seen, self.messages, self.clock.snapshot().playing, self.ended)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class _Counters:
    received: int = 0
    accepted: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))
    callback_errors: int = 0
    internal_errors: int = 0
    refused: tuple[str, float] | None = None
    second: int = 0
    this_second: int = 0
    last_second: int = 0


class Receiver:
    """Listens on ``host:port`` (port 0: any free port, see :attr:`address`) and keeps one clock per sender.

    ``subscribe`` callbacks run on the receiver thread: keep them short.
    Thread-safety: :meth:`snapshot`, :meth:`stats` and :meth:`subscribe` from any thread; the
    rest from the owner. Realtime-safety: :meth:`snapshot` is two attribute reads.
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow: Sequence[str] | None = None,
                 now: Callable[[], float] = time.monotonic, latency_seconds: float = 0.0,
                 flood_limit: float | None = 2000.0, receive_buffer_bytes: int = 4 << 20,
                 send_acks: bool = True) -> None:
        self.host = host
        self.port = int(port)
        self._now = now
        self._latency_seconds = float(latency_seconds)
        self.flood_limit = flood_limit
        self.send_acks = send_acks
        self._receive_buffer_bytes = receive_buffer_bytes
        self._allow_any = allow is not None and "any" in allow
        self._allow = None if allow is None else tuple(
            ipaddress.ip_network(a, strict=False) for a in allow if a != "any")
        self._loopback_bind = _is_loopback_host(host)
        self._kernel_stamps = False
        self._socket: socket.socket | None = None
        self._loop = LoopThread("barlight-receiver", join_seconds=2.0)
        self._lock = threading.Lock()
        self._counters = _Counters()
        self._sessions: dict[str, _Session] = {}
        self._by_address: dict[tuple[str, int], str] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._driver: str | None = None
        self._idle = TransportClock(now, latency_seconds=self._latency_seconds)
        self._subscribers: list[tuple[Callable[[Any], None], tuple[type, ...] | None]] = []
        self._logged_at = -math.inf
        self._logged_dropped = 0
        self._allowed_cache: dict[str, bool] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Receiver:
        """Bind and start the thread; InputError when the address can't be bound."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._receive_buffer_bytes)
            sock.bind((self.host, self.port))
        except OSError as err:
            sock.close()
            raise InputError(format_host_port(self.host, self.port), f"cannot listen: {err.strerror or err}") from None
        sock.settimeout(0.2)
        self._kernel_stamps = False
        if sys.platform.startswith("linux") and self._now is time.monotonic:
            try:  # arrival = when the kernel got the datagram, not when this thread woke up
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                self._kernel_stamps = True
            except OSError:
                pass
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._loop.start(self._serve)
        return self

    def stop(self) -> None:
        self._loop.stop()
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Receiver:
        return self if self._loop.started else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def alive(self) -> bool:
        """Whether the receiving thread is running."""
        return self._loop.alive

    # -- reading ----------------------------------------------------------------------------

    def snapshot(self) -> TransportSnapshot:
        """The driving session's transport (a stopped default before any sender)."""
        driver = self._driver
        session = self._sessions.get(driver) if driver is not None else None
        return session.clock.snapshot() if session is not None else self._idle.snapshot()

    def stats(self) -> ReceiverStats:
        with self._lock:
            c = self._counters
            sessions = list(self._sessions.values())
            return ReceiverStats(c.received, c.accepted, dict(c.dropped), tuple(s.info() for s in sessions),
                                 self._driver, float(c.last_second), c.callback_errors, c.internal_errors,
                                 PcmStats.total(s.pcm.stats for s in sessions if s.pcm is not None), c.refused)

    @property
    def latency_seconds(self) -> float:
        return self._latency_seconds

    @latency_seconds.setter
    def latency_seconds(self, value: float) -> None:
        self._latency_seconds = float(value)
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.clock.latency_seconds = self._latency_seconds
        self._idle.latency_seconds = self._latency_seconds

    def subscribe(self, callback: Callable[[Any], None], kinds: Iterable[type] | None = None) -> Callable[[], None]:
        """Call ``callback(event)`` for each :class:`Received` (whose message is one of ``kinds``, if given),
        each :class:`~bridge.clock.Discontinuity` and each :class:`PcmAudio` (if ``kinds`` is None or
        includes its class).
        Returns a function that unsubscribes."""
        entry = (callback, None if kinds is None else tuple(kinds))
        with self._lock:
            self._subscribers = self._subscribers + [entry]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not entry]
        return unsubscribe

    # -- the core, socket-free --------------------------------------------------------------

    def _serve(self) -> None:
        sock = self._socket
        assert sock is not None
        while self._loop.running.is_set():
            try:
                datagram, ancillary, address = self._receive(sock)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                if not self._loop.running.is_set():
                    break
                continue
            try:
                self.handle_datagram(datagram, address[:2], self._arrival(ancillary))
            except Exception:  # a bug must not stop the receiver: count it, log it now and then
                with self._lock:
                    self._counters.internal_errors += 1
                    count = self._counters.internal_errors
                if count == 1 or count % 1000 == 0:
                    log.exception("receiver failed on a datagram (%d so far)", count)
        sock.setblocking(False)  # stopping: take what is already queued (a bye, the last messages)
        while True:
            try:
                datagram, ancillary, address = self._receive(sock)
                self.handle_datagram(datagram, address[:2], self._arrival(ancillary))
            except Exception:
                break

    def _receive(self, sock: socket.socket) -> tuple[bytes, list[tuple[int, int, bytes]], Any]:
        if self._kernel_stamps:
            datagram, ancillary, _, address = sock.recvmsg(65536, 64)
            return datagram, ancillary, address
        datagram, address = sock.recvfrom(65536)
        return datagram, [], address

    def _arrival(self, ancillary: list[tuple[int, int, bytes]]) -> float:
        """Host seconds when the datagram arrived: the kernel's stamp mapped onto ``now``'s clock, else now."""
        now = self._now()
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
                seconds, nanoseconds = struct.unpack("@qq", data[:16])
                stamped = seconds + nanoseconds * 1e-9 - (time.time() - time.monotonic())
                if now - 1.0 < stamped <= now:
                    return stamped
        return now

    def _allowed(self, host: str) -> bool:
        cached = self._allowed_cache.get(host)
        if cached is not None:
            return cached
        if self._allow_any or (self._allow is None and self._loopback_bind):
            ok = True
        else:
            try:
                ip = ipaddress.ip_address(host.split("%", 1)[0])
            except ValueError:
                ok = False
            else:
                ip = ip.ipv4_mapped or ip if isinstance(ip, ipaddress.IPv6Address) else ip  # ::ffff:a.b.c.d
                if self._allow is None:
                    ok = any(ip in net for net in DEFAULT_ALLOWED_NETWORKS)
                else:
                    ok = ip.is_loopback and self._loopback_bind or any(ip in net for net in self._allow)
        if len(self._allowed_cache) < 4096:
            self._allowed_cache[host] = ok
        return ok

    def _flooding(self, host: str, arrival: float) -> bool:
        limit = self.flood_limit
        if limit is None:
            return False
        bucket = self._buckets.get(host)
        if bucket is None:
            if len(self._buckets) > 4096:
                self._buckets.clear()
            bucket = self._buckets[host] = _Bucket(limit, arrival)
        # arrival times can step back (a kernel stamp after a late wake-up took `now`): never refill negatively
        bucket.tokens = min(limit, bucket.tokens + max(0.0, arrival - bucket.updated) * limit)
        bucket.updated = max(bucket.updated, arrival)
        if bucket.tokens < 1.0:
            return True
        bucket.tokens -= 1.0
        return False

    def _drop(self, reason: str, arrival: float) -> None:
        with self._lock:
            self._counters.dropped[reason] += 1
        if arrival - self._logged_at >= LOG_INTERVAL_SECONDS:
            with self._lock:
                dropped = sum(self._counters.dropped.values())
                summary = ", ".join(f"{k} {v}" for k, v in self._counters.dropped.items() if v)
            log.warning("dropped %d datagrams since last report (totals: %s)", dropped - self._logged_dropped, summary)
            self._logged_at, self._logged_dropped = arrival, dropped

    def handle_datagram(self, datagram: bytes, address: tuple[str, int], arrival_seconds: float) -> bool:
        """Take one datagram from ``address`` that arrived at ``arrival_seconds``; True if accepted.

        Called by the receiver thread; call it yourself only on a receiver that is not started.
        """
        with self._lock:
            c = self._counters
            c.received += 1
            second = int(arrival_seconds)
            if second != c.second:
                c.last_second = c.this_second if second == c.second + 1 else 0
                c.second, c.this_second = second, 0
        host = address[0]
        if not self._allowed(host):
            with self._lock:
                c.refused = (format_host_port(host, int(address[1])), arrival_seconds)
            self._drop("not_allowed", arrival_seconds)
            return False
        if self._flooding(host, arrival_seconds):
            self._drop("flood", arrival_seconds)
            return False
        try:
            message = decode(datagram)
        except ProtocolError as err:
            self._drop(err.reason, arrival_seconds)
            return False
        with self._lock:
            c.accepted += 1
            c.this_second += 1
        self._dispatch(message, (host, int(address[1])), arrival_seconds)
        return True

    def _session_for(self, message: Message, address: tuple[str, int], arrival: float) -> _Session:
        if isinstance(message, HelloMessage):
            anonymous = f"{address[0]}:{address[1]}"
            session_id = message.session_id or anonymous
            self._by_address[address] = session_id
            ghost = self._sessions.get(anonymous)
            if session_id != anonymous and ghost is not None:
                ghost.ended = True  # what this address sent before its hello was this session all along
            if len(self._by_address) > 4096:
                self._by_address = {address: session_id}
        else:
            session_id = self._by_address.get(address) or f"{address[0]}:{address[1]}"
        session = self._sessions.get(session_id)
        if session is None or (session.ended and not isinstance(message, ByeMessage)):
            clock = TransportClock(self._now, latency_seconds=self._latency_seconds, session_id=session_id)
            session = _Session(session_id, address, clock, arrival, arrival)
            with self._lock:
                if len(self._sessions) >= 256:  # forget the longest-silent sessions
                    for old in sorted(self._sessions.values(), key=lambda s: s.last_seen)[:64]:
                        if old.session_id != self._driver:
                            del self._sessions[old.session_id]
                self._sessions[session_id] = session
        session.address = address
        session.last_seen = arrival
        session.messages += 1
        return session

    def _dispatch(self, message: Message, address: tuple[str, int], arrival: float) -> None:
        """What the message changes (its handler in :attr:`_HANDLERS`, if any), then tell the subscribers."""
        session = self._session_for(message, address, arrival)
        handler = self._HANDLERS.get(type(message))
        events = handler(self, session, message, address, arrival) if handler is not None else []
        snap = session.clock.snapshot()
        beat = snap.daw_beat_at(arrival) if snap.valid else None
        self._emit([Received(message, session.session_id, address, arrival, beat)] + events)

    def _on_transport(self, session: _Session, message: TransportMessage, address: tuple[str, int],
                      arrival: float) -> list[Any]:
        events: list[Any] = []
        was_playing = session.clock.snapshot().playing
        jump = session.clock.update(message, arrival)
        if message.playing and not was_playing:
            session.playing_since = arrival
        if jump is not None:
            events.append(jump)
        return events + self._choose_driver(arrival)

    def _on_hello(self, session: _Session, message: HelloMessage, address: tuple[str, int],
                  arrival: float) -> list[Any]:
        session.source = message.source
        if self.send_acks:
            self._ack(message, address)
        return self._choose_driver(arrival) if self._driver is None else []

    def _on_markers(self, session: _Session, message: MarkersMessage, address: tuple[str, int],
                    arrival: float) -> list[Any]:
        session.clock.set_markers(message.markers)
        return []

    def _on_loop(self, session: _Session, message: LoopMessage, address: tuple[str, int],
                 arrival: float) -> list[Any]:
        session.clock.set_loop(message)
        return []

    def _on_bye(self, session: _Session, message: ByeMessage, address: tuple[str, int],
                arrival: float) -> list[Any]:
        session.ended = True
        self._by_address.pop(address, None)
        audio = self._placed(session, session.pcm.flush()) if session.pcm is not None else []
        return audio + self._choose_driver(arrival)

    def _on_pcm(self, session: _Session, message: PcmMessage, address: tuple[str, int],
                arrival: float) -> list[Any]:
        if session.pcm is None:
            session.pcm = PcmStream()
        blocks = session.pcm.add(message.first_sample, message.sample_rate, pcm_samples(message.samples), arrival)
        return self._placed(session, blocks)

    @staticmethod
    def _placed(session: _Session, blocks: list[PcmBlock]) -> list[PcmAudio]:
        """The released blocks as events, each with the session's beat at its first sample."""
        snap = session.clock.snapshot()
        return [PcmAudio(session.session_id, block, snap.daw_beat_at(block.host_seconds) if snap.valid else None,
                         snap.playing) for block in blocks]

    #: What each kind of message does to its session; the others (audio, macros) only reach subscribers.
    _HANDLERS: dict[type, Callable[..., list[Any]]] = {
        TransportMessage: _on_transport,
        HelloMessage: _on_hello,
        MarkersMessage: _on_markers,
        LoopMessage: _on_loop,
        ByeMessage: _on_bye,
        PcmMessage: _on_pcm,
    }

    def _choose_driver(self, arrival: float) -> list[Discontinuity]:
        live = [s for s in self._sessions.values() if not s.ended]
        playing = [s for s in live if s.clock.snapshot().playing and not s.clock.snapshot().is_stale(arrival)]
        current = self._sessions.get(self._driver) if self._driver is not None else None
        if playing:
            chosen = max(playing, key=lambda s: s.playing_since)
        elif current is not None and not current.ended:
            chosen = current
        else:
            chosen = max(live, key=lambda s: s.last_seen) if live else current
        if chosen is None or chosen is current:
            return []
        before = current.clock.snapshot().beat_at(arrival) if current is not None else 0.0
        self._driver = chosen.session_id
        snap = chosen.clock.snapshot()
        return [Discontinuity("source", arrival, before, snap.beat_at(arrival), snap.generation, chosen.session_id)]

    def _ack(self, hello: HelloMessage, address: tuple[str, int]) -> None:
        sock = self._socket
        if sock is None:
            return
        port = hello.reply_port or address[1]
        try:
            sock.sendto(encode(AckMessage(hello.session_id, PROTOCOL_VERSION)), (address[0], port))
        except OSError:
            pass

    def _emit(self, events: list[Any]) -> None:
        subscribers = self._subscribers
        for event in events:
            kind = type(event.message) if isinstance(event, Received) else type(event)  # Discontinuity, PcmAudio
            for callback, kinds in subscribers:
                if kinds is not None and kind not in kinds:
                    continue
                try:
                    callback(event)
                except Exception:  # a broken callback must not stop the receiver
                    with self._lock:
                        self._counters.callback_errors += 1
                    if self._counters.callback_errors == 1 or self._counters.callback_errors % 1000 == 0:
                        log.exception("receiver callback failed (%d so far)", self._counters.callback_errors)

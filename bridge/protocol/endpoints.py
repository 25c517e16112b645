"""``HOST:PORT`` as the user types it (``--listen``, ``--to``), and where a sender's datagrams go.

One parser serves the receiver's ``--listen`` (port 0: any free port) and every sender's ``--to``.
"""

from __future__ import annotations

import socket
from typing import Any

from bridge.errors import InputError
from bridge.protocol.spec import DEFAULT_HOST


def parse_host_port(text: str, option: str, lowest_port: int = 1) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT``, ``PORT`` or ``[v6]:PORT`` -> (host, port), host defaulting to 127.0.0.1.

    Raises :class:`InputError` naming ``option`` when the text is malformed or the port lies
    outside ``lowest_port``..65535.
    """
    host, colon, port_text = text.rpartition(":")
    if not colon:
        host, port_text = "", text
    try:
        port = int(port_text)
    except ValueError:
        raise InputError(option, f"expected HOST:PORT, got {text!r}") from None
    if not lowest_port <= port <= 65535:
        raise InputError(option, f"port must be {lowest_port}..65535, got {port}")
    return host.strip("[]") or DEFAULT_HOST, port


def format_host_port(host: str, port: int) -> str:
    """``HOST:PORT`` as :func:`parse_host_port` reads it back: ``[::1]:9420`` for an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve_udp(host: str, port: int) -> tuple[socket.AddressFamily, Any]:
    """``(family, sockaddr)`` to send UDP datagrams to ``host:port``: IPv4 unless ``host`` is an IPv6 address,
    resolved once (a name lookup per datagram would stall a sender's loop); :class:`InputError` naming
    ``HOST:PORT`` if the host can't be found."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # "localhost" -> 127.0.0.1, where receivers bind
    try:
        family, _type, _proto, _name, sockaddr = socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)[0]
    except (socket.gaierror, UnicodeError) as err:
        raise InputError(format_host_port(host, port), f"cannot find this host ({getattr(err, 'strerror', None) or err})") from None
    return family, sockaddr

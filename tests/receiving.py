"""Wait for what a receiver has taken in, without polling: re-check a condition at each of its events; and what
the kernel dropped before it (a full socket buffer), so every datagram sent is accounted for."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bridge.receiver import Receiver


def wait_for(receiver: Receiver, predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Return once ``predicate()`` holds; AssertionError after ``timeout`` seconds.

    ``predicate`` is checked now and again each time ``receiver`` tells its subscribers something
    (every accepted message, jump and PCM block), after the subscribers that came before, so it
    sees what they did with it. A datagram the receiver drops tells nobody: wait for a later one.
    """
    changed = threading.Condition()

    def notify(_event: object) -> None:
        with changed:
            changed.notify_all()

    unsubscribe = receiver.subscribe(notify)
    try:
        with changed:
            if not changed.wait_for(predicate, timeout):
                raise AssertionError(f"timed out after {timeout:g} s waiting for the receiver")
    finally:
        unsubscribe()


def kernel_drops(port: int) -> int:
    """The receiver socket's drop counter from /proc/net/udp (0 where unavailable)."""
    try:
        lines = open("/proc/net/udp", encoding="ascii").read().splitlines()[1:]
    except OSError:
        return 0
    for line in lines:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            return int(fields[-1])
    return 0

"""Stopping a command: SIGTERM and SIGHUP end it the way Ctrl-C does.

A process manager, ``kill`` or a closed terminal sends SIGTERM or SIGHUP, not SIGINT. Every
command already finalises on Ctrl-C (``KeyboardInterrupt``): a recording is closed and renamed
into place, an export keeps its checkpoint and removes its unfinished video. So during a
command these signals raise :class:`Stopped`, a ``KeyboardInterrupt``, in the main thread, and
the same code runs. Only the first one raises: one that arrives while the command finalises is
ignored, so it cannot cut the finalising short. The preview, whose main thread waits in Qt,
quits its event loop on all of :data:`STOP_SIGNALS` and SIGINT instead.

SIGINT raises ``KeyboardInterrupt`` during a command whatever the process inherited. Python installs
its Ctrl-C handler only when SIGINT starts at its default; a job that a non-interactive shell starts in
the background (``nohup .ci/run &``, ``cmd &`` in a script) inherits SIGINT ignored, and without a
handler of its own a ``kill -INT`` or a test's ``send_signal(SIGINT)`` would be ignored too, leaving a
recording unfinished and the process running.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

#: The signals that stop a command like Ctrl-C (SIGHUP does not exist on Windows).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A stop signal arrived (``signum``); handled wherever Ctrl-C is."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """For the block, :data:`STOP_SIGNALS` raise :class:`Stopped` (once) and SIGINT ``KeyboardInterrupt`` (as
    Python's own handler does, even where SIGINT was inherited ignored) in the main thread; the previous
    handlers come back afterwards. Outside the main thread (tests calling ``main``) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise Stopped(signum)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

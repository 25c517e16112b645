"""A named daemon thread that runs a loop until its owner stops it (the receiver's, the preview render worker's)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class LoopThread:
    """Runs a loop on a thread of its own: the loop goes on while :attr:`running` is set.

    :meth:`stop` clears it and waits up to ``join_seconds`` for the loop to notice. Thread-safety:
    :meth:`start` and :meth:`stop` from the owner; :attr:`running`, :attr:`started`, :attr:`alive`
    from any thread.
    """

    def __init__(self, name: str, join_seconds: float) -> None:
        self.name = name
        self.join_seconds = join_seconds
        self.running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: Callable[[], None]) -> None:
        self.running.set()
        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.running.clear()
        if self._thread is not None:
            self._thread.join(timeout=self.join_seconds)
            self._thread = None

    @property
    def started(self) -> bool:
        """Started and not stopped since (the loop may have ended by itself)."""
        return self._thread is not None

    @property
    def alive(self) -> bool:
        """Whether the loop is running on its thread now."""
        return self._thread is not None and self._thread.is_alive()

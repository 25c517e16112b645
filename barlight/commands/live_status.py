"""What the ``barlight send`` sources share while they run: the ``--rate`` bound and the live status line."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO


def check_rate(rate_hz: float) -> None:
    """Raise :class:`bridge.errors.InputError` for a ``--rate`` outside 1..200 Hz."""
    from bridge.errors import InputError

    if not 1.0 <= rate_hz <= 200.0:
        raise InputError("--rate", f"must be 1..200 Hz, got {rate_hz:g}")


class StatusLine:
    """One line on stderr rewritten in place while a sender runs, shown only on a terminal.

    Use it around the run: Ctrl-C ends the run quietly, and on leaving the line is closed with a newline.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.live = self.stream.isatty()

    def show(self, text: str) -> None:
        """Overwrite the line with ``text`` (nothing off a terminal)."""
        if self.live:
            print(f"\r  {text}   ", end="", file=self.stream, flush=True)

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> bool:
        if self.live:
            print(file=self.stream)
        return kind is not None and issubclass(kind, KeyboardInterrupt)

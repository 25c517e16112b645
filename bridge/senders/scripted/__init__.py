"""The scripted DAW for tests and benchmarks: it knows where it truly is, and sends MIDI sync or protocol v1.

- :mod:`bridge.senders.scripted.script` — :class:`DawScript` (runs of :class:`Play`, silences),
  its true position, its MIDI sync stream; :func:`cycle_script`, the benchmarks' cycle
- :mod:`bridge.senders.scripted.stream` — the script through the sender runtime over UDP, and the
  scoring of a receiver against it; ``python -m bridge.senders.scripted`` streams the cycle
"""

from bridge.senders.scripted.script import (
    CYCLE_SECONDS,
    LOOP,
    DawScript,
    Emitted,
    Play,
    Position,
    cycle_script,
)
from bridge.senders.scripted.stream import (
    EVERY_STEP,
    RATES,
    ScriptSource,
    position_errors_ms,
    stream,
    stream_in_thread,
)

__all__ = ["CYCLE_SECONDS", "EVERY_STEP", "LOOP", "RATES", "DawScript", "Emitted", "Play", "Position", "ScriptSource",
           "cycle_script", "position_errors_ms", "stream", "stream_in_thread"]

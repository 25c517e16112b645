"""A scripted DAW for the window tests: plays, stops, goes silent and comes back over loopback UDP."""

from __future__ import annotations

import math
import threading
import time

from bridge.senders.osc_out import ProtocolSender

RATE_HZ = 50.0


class ScriptedDaw:
    """Runs ``steps`` — ("play" | "stop" | "silence", seconds) — on a thread, 120 BPM 4/4, sending
    transport and audio at 50 Hz like ``barlight send file`` (hello every 2 s). ``phases`` records
    (kind, host start seconds) as they begin."""

    def __init__(self, port: int, steps: list[tuple[str, float]], bpm: float = 120.0) -> None:
        self.port, self.steps, self.bpm = port, steps, bpm
        self.phases: list[tuple[str, float]] = []
        self.beat = 0.0
        self._thread = threading.Thread(target=self._run, name="scripted-daw", daemon=True)

    def start(self) -> ScriptedDaw:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def _send(self, sender: ProtocolSender, playing: bool) -> None:
        bar = math.floor(self.beat / 4.0)
        sender.transport(playing, self.beat, self.bpm, 4, 4, bar * 4.0, bar + 1)
        level = 0.5 if playing and (self.beat % 1.0) < 0.2 else 0.05
        sender.audio(level, level, [level] * 8)

    def _run(self) -> None:
        with ProtocolSender("127.0.0.1", self.port, source="test") as sender:
            sender.hello()
            last_hello = time.monotonic()
            for kind, seconds in self.steps:
                start = time.monotonic()
                self.phases.append((kind, start))
                previous = start
                while (now := time.monotonic()) - start < seconds:
                    if kind == "play":
                        self.beat += (now - previous) * self.bpm / 60.0
                    previous = now
                    if kind != "silence":
                        self._send(sender, kind == "play")
                        if now - last_hello > 2.0:
                            sender.hello()
                            last_hello = now
                    time.sleep(1.0 / RATE_HZ)

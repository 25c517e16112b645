"""The render process: what runs in the child the preview spawns (:mod:`renderer.preview.process`).

:func:`serve` builds the Renderer from a :class:`RendererSpec` (picklable: names and sizes, no
weights), warms it up, says ``ready`` and waits for ``go``; then it runs the same
:class:`~renderer.preview.worker.RenderWorker` loop the in-thread preview runs, with the
transport snapshots, ``/daw/audio`` and ``/daw/macros`` the preview forwards, the display
clock read from the :class:`~renderer.preview.ring.FrameRing` and its frames written into it.

Messages from the preview (tuples, first item the kind): ``snapshot``, ``received`` (a
:class:`~bridge.receiver.Received` audio or macros event), ``features`` (a
:meth:`LiveFeatures.export`), ``preset``, ``freeze``, ``go``, ``stop``. Messages back:
``ready`` (with the warm-up's seconds per render, what the preview expects a render to take until the
render loop reports its own), ``failed`` (where, problem: the Renderer could not be built) and ``error`` (a render
error, None once rendering works again). The child ends when the preview says ``stop`` or goes
away (its end of the pipe closes), so it is never left behind.
"""

from __future__ import annotations

import gc
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.clock import TransportSnapshot
from renderer.preview.live import LiveFeatures

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from renderer.preview.worker import RenderWorker
    from renderer.renderer import Renderer

SNAPSHOT, RECEIVED, FEATURES, PRESET, FREEZE, GO, STOP = "snapshot", "received", "features", "preset", "freeze", "go", "stop"
READY, FAILED, ERROR = "ready", "failed", "error"


@dataclass(frozen=True)
class RendererSpec:
    """How to build a Renderer in another process: ``barlight preview``'s choices, as plain values."""

    preset: str
    backend: str | None = None
    size: tuple[int, int] | None = None  #: (width, height); None: the preset's resolution
    device: str | None = None
    model: str | None = None

    def build(self) -> Renderer:
        from renderer.renderer import Renderer

        return Renderer.from_preset(self.preset, backend=self.backend, size=self.size, device=self.device,
                                    model=self.model)


class Inbox:
    """The preview's messages, read on a thread: the latest snapshot, live features, presets, freeze, go.

    Thread-safety: the reading thread writes; the render loop reads single attributes.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.features = LiveFeatures().start()  # analyses the /daw/pcm blocks it is forwarded
        self.worker: RenderWorker | None = None
        self.go = threading.Event()
        self._snapshot = TransportSnapshot()
        self._frozen = False
        self._preset: str | None = None
        self._thread = threading.Thread(target=self._read, name="barlight-render-inbox", daemon=True)

    def start(self) -> Inbox:
        self._thread.start()
        return self

    def snapshot(self) -> TransportSnapshot:
        return self._snapshot

    def attach(self, worker: RenderWorker) -> None:
        """Hand the worker what arrived while the Renderer loaded (a preset, the freeze)."""
        self.worker = worker
        worker.frozen = self._frozen
        if self._preset is not None:
            self._apply_preset(self._preset)

    def _read(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):  # the preview is gone: so is this process, at once
                os._exit(0)
            self._handle(message)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == SNAPSHOT:
            self._snapshot = message[1]
        elif kind == RECEIVED:
            self.features.receive(message[1])
        elif kind == FEATURES:
            self.features.restore(message[1])
        elif kind == PRESET:
            self._preset = message[1]
            if self.worker is not None:
                self._apply_preset(message[1])
        elif kind == FREEZE:
            self._frozen = bool(message[1])
            if self.worker is not None:
                self.worker.frozen = self._frozen
        elif kind == GO:
            self.go.set()
        elif kind == STOP:  # nothing here needs finishing: frames live in the preview's memory
            os._exit(0)

    def _apply_preset(self, name_or_path: str) -> None:
        try:
            self.worker.set_preset(name_or_path)
        except Exception as err:  # noqa: BLE001 - the preview checked it; say what went wrong, keep rendering
            self.conn.send((ERROR, f"preset {name_or_path}: {err}"))


def serve(spec: RendererSpec, ring_name: str, size: tuple[int, int], conn: Connection,
          max_fps: float | None = None) -> None:
    """The render process's main: build, warm up, say ready, wait for go, render until told to stop."""
    import signal

    from renderer.devices import wait_passively

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the preview decides
    wait_passively()  # before torch is imported
    from bridge.errors import InputError
    from renderer.preview.ring import FrameRing
    from renderer.preview.worker import RenderWorker

    inbox = Inbox(conn).start()
    ring = FrameRing.attach(ring_name, size)
    try:
        renderer = spec.build()
    except Exception as err:  # noqa: BLE001 - every reason goes back to the preview as one line
        where, problem = (err.where, err.problem) if isinstance(err, InputError) else ("renderer", f"{type(err).__name__}: {err}")
        conn.send((FAILED, where, problem))
        return
    reported: list[str | None] = [None]

    def report(worker: RenderWorker, now: float) -> None:
        ring.report(now, worker.rendered, worker.meter.last_seconds, worker.meter.estimate_seconds())
        if worker.error != reported[0]:
            reported[0] = worker.error
            conn.send((ERROR, worker.error))

    worker = RenderWorker(renderer, inbox.snapshot, inbox.features, ring, ring.display, max_fps=max_fps,
                          on_pass=report)
    import time

    started = time.monotonic()
    worker.warm_up(renderer)
    warm_seconds = (time.monotonic() - started) / 2  # two renders (the first pays for lazy setup: generous)
    gc.freeze()  # the model lives as long as the process: no collection pauses walking it
    inbox.attach(worker)
    conn.send((READY, warm_seconds))
    inbox.go.wait()
    worker.run()

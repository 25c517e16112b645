"""The preview's renderer in a process of its own: the GUI never shares a GIL with the model, and survives it.

:class:`RenderProcess` is the render engine :class:`~renderer.preview.session.PreviewSession`
uses for a :class:`~renderer.preview.child.RendererSpec` (a Renderer object renders on a
thread, :class:`~renderer.preview.worker.RenderWorker`). It

- spawns the child (``multiprocessing`` "spawn": the same on Linux, macOS and Windows) running
  :func:`renderer.preview.child.serve`, each child with its own
  :class:`~renderer.preview.ring.FrameRing`;
- forwards what the child needs (each new transport snapshot, as messages arrive and at every
  tick; ``/daw/audio`` and ``/daw/macros``; preset and freeze) through an :class:`Outbox`,
  whose thread does the sending, so a stuck child never blocks the receiver or the GUI; the
  display clock goes through the ring;
- at every display tick (:meth:`RenderProcess.poll`) copies new frames from the ring into the
  preview's frame buffer and supervises: a child that died, or whose render loop has not
  beaten for :data:`HANG_SECONDS` (or :data:`HANG_RENDERS` renders, if longer), is killed and
  replaced, and :attr:`RenderProcess.restarts` records it;
- keeps a warm standby (loaded, warmed up, waiting) so that a replacement renders at once:
  recovery costs noticing plus one render, not a model load. ``standby=False`` halves the
  memory, and a replacement then loads first.

Nothing here waits for a child except :meth:`RenderProcess.wait_ready` (start-up) and
:meth:`RenderProcess.stop`.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.errors import BarlightError, InputError
from renderer.preview.child import (
    ERROR,
    FAILED,
    FEATURES,
    FREEZE,
    GO,
    PRESET,
    READY,
    RECEIVED,
    SNAPSHOT,
    STOP,
    RendererSpec,
    serve,
)
from renderer.preview.live import LiveFeatures, kept
from renderer.preview.ring import FrameRing
from renderer.preview.schedule import DisplayClock, FrameBuffer

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from bridge.clock import TransportSnapshot
    from bridge.receiver import Receiver

#: A running render loop that has not beaten for this long is hung, seconds.
HANG_SECONDS = 1.0
#: ... or for this many of its renders, whichever is longer (a slow model is not a hung one).
HANG_RENDERS = 4
#: After a child failed to load, wait this long before the next try, seconds.
RETRY_SECONDS = 5.0
#: How long the HUD tells of a restart once frames are back, seconds.
NOTE_SECONDS = 10.0
#: Messages an Outbox keeps for a child that does not read (the oldest go first).
MAX_QUEUED = 10_000
LOADING, STANDING_BY, RUNNING, FAILED_TO_LOAD = "loading", "ready", "running", "failed"


class RenderProcessError(BarlightError):
    """The render process could not start (it ended, or its Renderer could not be built)."""


@dataclass
class Restart:
    """One replacement of the render process: when (host seconds), why, and how long until its first frame."""

    at_seconds: float
    reason: str
    recovered_seconds: float | None = None


class Outbox:
    """Messages for one render process, sent by a thread of its own: putting never blocks, and the newest
    snapshot replaces one not sent yet. Thread-safety: any thread puts."""

    def __init__(self, conn: Connection, limit: int = MAX_QUEUED) -> None:
        self._conn = conn
        self._wake = threading.Condition()
        self._queue: deque[tuple[Any, ...]] = deque(maxlen=limit)
        self._snapshot: TransportSnapshot | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._send, name="barlight-render-outbox", daemon=True)
        self._thread.start()

    def put(self, message: tuple[Any, ...]) -> None:
        with self._wake:
            self._queue.append(message)
            self._wake.notify()

    def put_snapshot(self, snapshot: TransportSnapshot) -> None:
        with self._wake:
            self._snapshot = snapshot
            self._wake.notify()

    def close(self, timeout_seconds: float = 0.0) -> None:
        """Send what is queued, then stop (waiting up to ``timeout_seconds`` for that)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout_seconds)

    def _send(self) -> None:
        while True:
            with self._wake:
                while not (self._queue or self._snapshot is not None or self._closed):
                    self._wake.wait()
                snapshot, self._snapshot = self._snapshot, None
                messages, closed = list(self._queue), self._closed
                self._queue.clear()
            try:
                if snapshot is not None:
                    self._conn.send((SNAPSHOT, snapshot))
                for message in messages:
                    self._conn.send(message)
            except (OSError, EOFError, ValueError):  # the child is gone
                return
            if closed:
                return


class _Child:
    """One spawned render process, its ring, its pipe and what it said."""

    def __init__(self, spec: RendererSpec, size: tuple[int, int], max_fps: float | None) -> None:
        context = multiprocessing.get_context("spawn")
        self.ring = FrameRing.create(size)
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(target=serve, args=(spec, self.ring.name, size, child_conn, max_fps),
                                       name="barlight-render", daemon=True)
        self.process.start()
        child_conn.close()
        self.outbox = Outbox(self.conn)
        self.state = LOADING
        self.failure: tuple[str, str] | None = None
        self.error: str | None = None
        self.went_at = -math.inf
        self.warm_seconds = 0.0  #: a render's time in the warm-up: the hang limit's scale before the loop reports

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def read_messages(self) -> None:
        """What the child said since the last call (never waits)."""
        try:
            while self.conn.poll(0):
                message = self.conn.recv()
                if message[0] == READY:
                    self.state, self.warm_seconds = STANDING_BY, message[1]
                elif message[0] == FAILED:
                    self.state, self.failure = FAILED_TO_LOAD, (message[1], message[2])
                elif message[0] == ERROR:
                    self.error = message[1]
        except (EOFError, OSError):
            pass

    def trouble(self, now_seconds: float, hang_seconds: float) -> str | None:
        """Why this child must be replaced now, or None."""
        if self.state == FAILED_TO_LOAD:
            return None
        code = self.process.exitcode
        if code is not None:
            return f"crashed ({_exit_words(code)})"
        silent = now_seconds - max(self.ring.heartbeat_seconds, self.went_at)
        expected = self.ring.render_estimate_seconds  # the loop's own estimate, once it has measured renders
        if self.ring.rendered < 2:  # its meter throws the first render away
            expected = max(expected, self.warm_seconds)
        limit = max(hang_seconds, HANG_RENDERS * expected)
        if self.state == RUNNING and silent > limit:
            return f"stopped responding for {silent:.1f} s"
        return None

    def close(self, timeout_seconds: float = 2.0) -> None:
        """Ask it to stop; kill it if it does not; free the pipe and the ring."""
        if self.process.exitcode is None:
            self.outbox.put((STOP,))
        self.outbox.close()
        self.process.join(timeout_seconds)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(timeout_seconds)
        self.outbox.close(1.0)
        self.conn.close()
        self.ring.close()


def _exit_words(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class RenderProcess:
    """The preview's render engine in a child process (see the module docstring).

    ``buffer`` receives the frames; ``receiver`` and ``features`` are the preview's (the child gets
    copies of what they hold). Thread-safety: call everything from one thread (the GUI's); the
    receiver thread only forwards. Realtime-safety: :meth:`poll` copies at most a few frames and
    never waits for the child.
    """

    def __init__(self, spec: RendererSpec, receiver: Receiver, features: LiveFeatures, buffer: FrameBuffer,
                 max_fps: float | None = None, standby: bool = True, hang_seconds: float = HANG_SECONDS,
                 now: Callable[[], float] = time.monotonic) -> None:
        from renderer.presets import load_preset

        self.spec = spec
        self._preset = load_preset(spec.preset)  # a bad preset is an InputError now, before any process
        self.size = spec.size or self._preset.resolution
        self.receiver, self.features, self.buffer = receiver, features, buffer
        self.max_fps, self.standby, self.hang_seconds, self._now = max_fps, standby, hang_seconds, now
        self.restarts: list[Restart] = []
        self._active: _Child | None = None
        self._standby: _Child | None = None
        self._dying: list[_Child] = []
        self._preset_source: str | None = None
        self._frozen = False
        self._sent: TransportSnapshot | None = None
        self._sending = threading.Lock()
        self._rendered_before = 0
        self._retry_at = -math.inf
        self._unsubscribe: Callable[[], None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> RenderProcess:
        self._active = _Child(self.spec, self.size, self.max_fps)
        self._unsubscribe = self.receiver.subscribe(self._on_event)
        return self

    def wait_ready(self, timeout_seconds: float | None = None) -> None:
        """Wait until the render process has loaded and started rendering; RenderProcessError (or the
        InputError it met) if it could not."""
        deadline = math.inf if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            active = self._active
            active.read_messages()
            if active.state == FAILED_TO_LOAD:
                where, problem = active.failure
                raise InputError(where, problem) if where != "renderer" else RenderProcessError(problem)
            if active.state in (STANDING_BY, RUNNING):
                self._go(active, self._now())
                return
            if active.process.exitcode is not None:
                raise RenderProcessError(f"the render process ended while loading ({_exit_words(active.process.exitcode)})")
            if time.monotonic() > deadline:
                raise RenderProcessError(f"the render process did not load within {timeout_seconds:g} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """End every child (each is asked, then killed if it does not go) and free their memory. A tick after
        this shows nothing new (the window may tick once more before it closes)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._active is not None:
            self._rendered_before += self._active.ring.rendered
        children = [c for c in (self._active, self._standby, *self._dying) if c is not None]
        self._active, self._standby, self._dying = None, None, []
        for child in children:
            child.close()

    @property
    def pids(self) -> tuple[int, ...]:
        """The live children's process ids (the active one first)."""
        children = (self._active, self._standby, *self._dying)
        return tuple(c.pid for c in children if c is not None and c.process.exitcode is None)

    @property
    def active_pid(self) -> int | None:
        return self._active.pid if self._active is not None else None

    @property
    def standby_ready(self) -> bool:
        return self._standby is not None and self._standby.state == STANDING_BY

    # -- per tick ----------------------------------------------------------------------------

    def poll(self, now_seconds: float, display: DisplayClock) -> None:
        """A display tick: publish the display clock, take the new frames, replace a dead or hung child."""
        if self._active is None:  # stopped
            return
        self._forward_snapshot()
        for child in (self._active, self._standby):
            if child is not None:
                child.read_messages()
                child.ring.publish_display(display, len(self.buffer))
        active = self._active
        if active.state == RUNNING:
            frames = active.ring.take_new()
            for frame in frames:
                self.buffer.put(frame)
            restart = self.restarts[-1] if self.restarts else None
            if frames and restart is not None and restart.recovered_seconds is None:
                restart.recovered_seconds = now_seconds - restart.at_seconds
        self._supervise(now_seconds)

    def _supervise(self, now: float) -> None:
        active = self._active
        reason = active.trouble(now, self.hang_seconds)
        if reason is not None:
            self._replace(reason, now)
            active = self._active
        if active.state == STANDING_BY:
            self._go(active, now)
        elif active.state == FAILED_TO_LOAD and now >= self._retry_at:
            self._retry_at = now + RETRY_SECONDS
            self._dying.append(active)
            self._active = self._spawn_or_standby()
        standby = self._standby
        if standby is not None and (standby.state == FAILED_TO_LOAD or standby.process.exitcode is not None):
            self._dying.append(standby)
            self._standby = None
            self._retry_at = now + RETRY_SECONDS
        if self.standby and self._standby is None and active.state == RUNNING and now >= self._retry_at:
            self._standby = _Child(self.spec, self.size, self.max_fps)
        self._reap()

    def _replace(self, reason: str, now: float) -> None:
        old = self._active
        if old.process.exitcode is None:
            old.process.kill()
        self._rendered_before += old.ring.rendered
        self._dying.append(old)
        self.restarts.append(Restart(now, reason))
        self._active = self._spawn_or_standby()

    def _spawn_or_standby(self) -> _Child:
        standby, self._standby = self._standby, None
        return standby if standby is not None else _Child(self.spec, self.size, self.max_fps)

    def _go(self, child: _Child, now: float) -> None:
        """Bring ``child`` up to date (snapshot, live features, preset, freeze) and let it render."""
        with self._sending:
            self._sent = self.receiver.snapshot()
            child.outbox.put_snapshot(self._sent)
        child.outbox.put((FEATURES, self.features.export()))
        if self._preset_source is not None:
            child.outbox.put((PRESET, self._preset_source))
        child.outbox.put((FREEZE, self._frozen))
        child.outbox.put((GO,))
        child.state, child.went_at = RUNNING, now

    def _reap(self) -> None:
        for child in [c for c in self._dying if c.process.exitcode is not None]:
            self._dying.remove(child)
            child.close()

    # -- what the child is told --------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        """On the receiver thread: forward live features, and the snapshot when it changed."""
        active = self._active
        if active is None:  # stopped
            return
        if kept(event):
            active.outbox.put((RECEIVED, event))
        self._forward_snapshot()

    def _forward_snapshot(self) -> None:
        with self._sending:
            snapshot, active = self.receiver.snapshot(), self._active
            if snapshot is not self._sent and active is not None:
                self._sent = snapshot
                active.outbox.put_snapshot(snapshot)

    def _tell_active(self, message: tuple[Any, ...]) -> None:
        if self._active is not None:
            self._active.outbox.put(message)

    @property
    def frozen(self) -> bool:
        return self._frozen

    @frozen.setter
    def frozen(self, value: bool) -> None:
        if bool(value) != self._frozen:
            self._frozen = bool(value)
            self._tell_active((FREEZE, self._frozen))

    @property
    def preset_name(self) -> str:
        return self._preset.name

    def set_preset(self, name_or_path: str | os.PathLike[str]) -> str:
        """Render the next frames with this preset (checked here first: InputError if it is bad)."""
        from renderer.presets import load_preset

        self._preset = load_preset(name_or_path)
        self._preset_source = os.fspath(name_or_path)
        self._tell_active((PRESET, self._preset_source))
        return self._preset.name

    # -- what the HUD shows ------------------------------------------------------------------

    @property
    def rendered(self) -> int:
        active = self._active
        return self._rendered_before + (active.ring.rendered if active is not None else 0)

    @property
    def render_last_seconds(self) -> float | None:
        active = self._active
        return active.ring.render_last_seconds if active is not None else None

    @property
    def render_estimate_seconds(self) -> float:
        active = self._active
        return active.ring.render_estimate_seconds if active is not None else 0.0

    @property
    def error(self) -> str | None:
        active = self._active
        if active is None:
            return None
        if active.state == FAILED_TO_LOAD:
            return f"the renderer did not load: {': '.join(active.failure)}"
        return active.error

    def note(self, now_seconds: float) -> str:
        """What happened to the render process lately ("" when nothing did)."""
        restart = self.restarts[-1] if self.restarts else None
        if restart is None:
            return ""
        if restart.recovered_seconds is None:
            return f"renderer {restart.reason}: restarting it, holding the last frame"
        if now_seconds - restart.at_seconds - restart.recovered_seconds > NOTE_SECONDS:
            return ""
        return f"renderer {restart.reason}: restarted, frames back after {restart.recovered_seconds:.1f} s"

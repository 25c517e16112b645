"""The render thread: renders ahead of the transport into a :class:`~renderer.preview.schedule.FrameBuffer`.

Each pass reads one transport snapshot, plans the next frame with
:func:`~renderer.preview.schedule.plan_target` (the first display tick a render started
now can make, by the measured render latency), waits until it is time to start, builds
the :func:`~renderer.preview.live.live_moment` for the instant that frame will be on screen
and calls :meth:`renderer.renderer.Renderer.render` once. A transport jump (a new snapshot
generation) drops the img2img feedback, like diffusers' ``interrupt``; a stopped transport
is rendered a few times a second only. The GUI thread never waits for it.
"""

from __future__ import annotations

import math
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from bridge.clock import TransportSnapshot
from bridge.loop_thread import LoopThread
from renderer.moment import MIN_WINDOW_SECONDS
from renderer.preview.live import LiveFeatures, live_moment
from renderer.preview.schedule import DisplayClock, FrameBuffer, LatencyMeter, PreviewFrame, RenderTarget, plan_target
from renderer.sinks.base import FramePosition

if TYPE_CHECKING:
    from renderer.renderer import Renderer, RenderState

#: Renders per second of a stopped transport (it idles gently).
IDLE_FPS = 4.0


def error_line(err: BaseException) -> str:
    """``Type: message (file.py:line)``, the line where it was raised: what the HUD shows of a render error."""
    where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ is not None else None
    place = f" ({os.path.basename(where.filename)}:{where.lineno})" if where is not None else ""
    return f"{type(err).__name__}: {err}{place}"


def bar_beat_label(snapshot: TransportSnapshot, beat: float) -> str:
    """``bar.beat`` of ``beat`` on the snapshot's grid, as a DAW counts it (``3.2``)."""
    return ".".join(snapshot.position(beat).label.split(".")[:2])


class RenderWorker:
    """Renders frames for ``buffer`` on a thread, ahead of ``snapshot()`` by the measured latency.

    ``display()`` gives the window's current :class:`DisplayClock`; ``max_fps`` caps the rate
    (None: one frame per display tick at most). Swap :attr:`renderer` any time (preset change):
    the next frame uses it. Thread-safety: :meth:`start`/:meth:`stop` from the owner, attributes
    read from any thread. Realtime-safety: none needed (it is the slow part).
    """

    def __init__(self, renderer: Renderer, snapshot: Callable[[], TransportSnapshot], features: LiveFeatures,
                 buffer: FrameBuffer, display: Callable[[], DisplayClock], max_fps: float | None = None,
                 now: Callable[[], float] = time.monotonic,
                 on_pass: Callable[[RenderWorker, float], None] | None = None) -> None:
        self.renderer = renderer
        self.buffer = buffer
        self.meter = LatencyMeter()
        self.max_fps = max_fps
        self.frozen = False
        self.rendered = 0
        self.error: str | None = None
        self.on_pass = on_pass  #: called at every pass of the loop with the time: the render process's heartbeat
        self._snapshot, self._features, self._display, self._now = snapshot, features, display, now
        self._loop = LoopThread("barlight-preview-render", join_seconds=10.0)
        self._warm = threading.Event()

    def start(self) -> RenderWorker:
        """Warm up and render on a thread of its own."""
        self._loop.start(self._warm_up_and_run)
        return self

    def stop(self) -> None:
        self._loop.stop()

    @property
    def alive(self) -> bool:
        return self._loop.alive

    # -- what the preview session asks any render engine (this one or renderer.preview.process's) ---

    def wait_ready(self, timeout_seconds: float | None = None) -> None:
        """Wait until the thread has warmed the renderer up (whoever built the Renderer loaded it; its first
        renders pay for lazy setup, seconds on a busy machine); at once if the thread was never started."""
        if self._loop.started:
            self._warm.wait(timeout_seconds)

    def poll(self, now_seconds: float, display: DisplayClock) -> None:
        """Nothing to collect: frames reach the buffer from the thread directly."""

    @property
    def preset_name(self) -> str:
        return self.renderer.preset.name

    def set_preset(self, name_or_path: str | os.PathLike[str]) -> str:
        """Render the next frames with this preset (same backend); InputError if it is bad."""
        self.renderer = self.renderer.with_preset(name_or_path)
        return self.renderer.preset.name

    @property
    def render_last_seconds(self) -> float | None:
        return self.meter.last_seconds

    @property
    def render_estimate_seconds(self) -> float:
        return self.meter.estimate_seconds()

    def note(self, now_seconds: float) -> str:
        """What happened to the renderer lately, for the HUD ("" here: a thread does not restart)."""
        return ""

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(min(seconds, 0.05))

    def _warm_up_and_run(self) -> None:
        self.warm_up(self.renderer)
        self._warm.set()
        self.run()

    def run(self) -> None:
        """Render until :meth:`stop` (in a render process: until it ends). Call :meth:`warm_up` first."""
        self._loop.running.set()
        state: RenderState | None = None
        epoch: tuple[str | None, int] | None = None
        previous: RenderTarget | None = None
        idle_key: tuple | None = None
        idle_at = -math.inf
        renderer = self.renderer
        while self._loop.running.is_set():
            snapshot, now, display = self._snapshot(), self._now(), self._display()
            if self.on_pass is not None:
                self.on_pass(self, now)
            if self.frozen or not snapshot.valid:
                self._sleep(0.02)
                continue
            if renderer is not self.renderer:
                renderer, state, idle_key = self.renderer, None, None
            if (snapshot.session_id, snapshot.generation) != epoch:
                epoch, state = (snapshot.session_id, snapshot.generation), None
            if not snapshot.playing:  # render the held position now and then; nothing moves
                macros = self._features.macros(snapshot.session_id)
                key = (epoch, snapshot.anchor_beat, macros)
                if key == idle_key and now - idle_at < 1.0 / IDLE_FPS:
                    self._sleep(0.02)
                    continue
                idle_key, idle_at = key, now
            if len(self.buffer) >= self.buffer.capacity - 1:  # enough frames waiting: let them go up first
                self._sleep(0.5 * display.period_seconds)
                continue
            interval = max(display.period_seconds, 1.0 / self.max_fps if self.max_fps else 0.0)
            not_before = -math.inf if previous is None or not snapshot.playing else (
                previous.tick_seconds + interval - 0.5 * display.period_seconds)
            estimate = self.meter.estimate_seconds()
            target = plan_target(snapshot, now, estimate, display, not_before)
            wait = target.tick_seconds - estimate - self._now()
            if wait > display.period_seconds:  # more than a refresh early: nap, then plan again, fresher
                self._sleep(wait - 0.5 * display.period_seconds)
                continue
            # less than a refresh early: render now and let the frame wait in the buffer for its tick;
            # a busy machine wakes sleepers late, and a late wake-up would cost the frame
            previous = target
            started = self._now()
            try:
                frame = self._render(renderer, snapshot, target, state)
            except Exception as err:  # show it on the HUD, keep trying
                self.error = error_line(err)
                self._sleep(0.5)
                continue
            self.error = None
            state = frame[1]
            self.meter.add(self._now() - started)
            self.buffer.put(frame[0])
            self.rendered += 1

    def warm_up(self, renderer: Renderer) -> None:
        """Throwaway renders, plain then with feedback: first calls pay for lazy setup, which must not count
        as render latency."""
        try:
            first = renderer.render(live_moment(TransportSnapshot(), self._now()))
            renderer.render(live_moment(TransportSnapshot(anchor_beat=0.01), self._now()), first.state)
        except Exception as err:
            self.error = error_line(err)

    def _render(self, renderer: Renderer, snapshot: TransportSnapshot, target: RenderTarget,
                state: RenderState | None) -> tuple[PreviewFrame, RenderState]:
        session = snapshot.session_id
        started = self._now()
        window_seconds = max(renderer.preset.window_beats * 60.0 / snapshot.bpm, MIN_WINDOW_SECONDS)
        since = target.host_seconds - snapshot.latency_seconds - window_seconds - 0.1
        moment = live_moment(snapshot, target.host_seconds, self._features.track(session, started, since),
                             self._features.macros(session), renderer.preset.window_beats)
        result = renderer.render(moment, state)
        ready = self._now()
        sources = result.conditioning.sources
        info = {name: float(sources.get(name, 0.0)) for name in ("energy", "brightness", "onset", "noisiness")}
        frame = PreviewFrame(result.frame, target, bar_beat_label(snapshot, target.beat), moment.section,
                             ready - started, ready, renderer.preset.name, info, FramePosition.of(moment))
        return frame, result.state

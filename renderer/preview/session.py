"""A running preview without its window: receiver, recording, live features, render engine, frame buffer.

:class:`PreviewSession` wires the parts together and answers the window's few questions at
each display tick (:meth:`PreviewSession.tick`: which frame to show, what state to say) and
its commands (preset, latency offset, freeze, screenshot). It holds no Qt object, so the
CLI, the headless preview, the tests and ``bench/bench_preview.py`` drive the same code the
window does.

The render engine depends on what the session is given: a
:class:`~renderer.preview.child.RendererSpec` renders in a process of its own
(:class:`~renderer.preview.process.RenderProcess`, what ``barlight preview`` does), a
:class:`~renderer.renderer.Renderer` object on a thread
(:class:`~renderer.preview.worker.RenderWorker`). Both answer the same few calls.
"""

from __future__ import annotations

import gc
import math
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.clock import TransportSnapshot
from bridge.files import atomic_output
from bridge.protocol.spec import DEFAULT_HOST, DEFAULT_PORT
from bridge.receiver import Receiver
from renderer.preview.child import RendererSpec
from renderer.preview.hud import Hud, PreviewStats, build_hud
from renderer.preview.live import LiveFeatures
from renderer.preview.schedule import DisplayClock, FrameBuffer, PreviewFrame, RenderTarget
from renderer.preview.status import LOST, PreviewStatus, preview_status
from renderer.preview.worker import RenderWorker, bar_beat_label
from renderer.sinks.base import FrameSink, Outputs

if TYPE_CHECKING:
    from bridge.recording import Recorder
    from renderer.renderer import Renderer


#: The GIL switch interval while a preview runs, in seconds (Python's default is 0.005): a render thread
#: busy in Python code hands the GIL to the GUI thread within this, so a refresh is never held up by it.
SWITCH_INTERVAL_SECONDS = 0.001
#: The HUD's longest pause between two display ticks is the longest of about this many recent seconds.
PAUSE_WINDOW_SECONDS = 10


@dataclass(frozen=True)
class PreviewOptions:
    """How a preview runs. Seconds and hertz in the names; ``None`` folders mean the defaults."""

    listen: tuple[str, int] = (DEFAULT_HOST, DEFAULT_PORT)
    allow: tuple[str, ...] | None = None
    latency_ms: float = 0.0  #: the offset slider: positive shows visuals later
    record: bool = True
    sessions_folder: Path | None = None  #: default: bridge.recording.sessions_dir()
    screenshots_folder: Path = Path("screenshots")
    refresh_hz: float = 60.0
    display_latency_seconds: float = 0.0  #: the window's, from a tick to light on the screen (compositor, projector)
    max_fps: float | None = None  #: cap on renders per second (None: one per tick at most)
    standby: bool = True  #: a render process keeps a warm standby (instant restarts; the model's memory twice)


@dataclass(frozen=True)
class Shown:
    """One frame put on screen at tick ``tick_seconds``: what it was rendered for (``target``, ``label``,
    ``preset``) and what the clock then said is audible when it reaches the eye (``audible_beat``,
    ``audible_label``). No pixels: a long session keeps thousands (for tests and the sync benchmark)."""

    tick_seconds: float
    target: RenderTarget
    label: str
    preset: str
    audible_beat: float
    audible_label: str
    generation: int
    ready_seconds: float  #: when its render finished (after ``target.tick_seconds``: it missed its tick)


@dataclass(frozen=True)
class Tick:
    """What the window needs at one tick: a new frame or None (keep the last), and the status."""

    frame: PreviewFrame | None
    status: PreviewStatus
    snapshot: TransportSnapshot


class PreviewSession:
    """The preview's engine. ``start()``, then ``tick()`` at every display refresh, then ``stop()``.

    Each frame due goes to the frame sinks in :attr:`outputs` (the window adds its own; ``sinks``
    adds more), each in step with its display latency; frames are rendered for the slowest.
    ``renderer`` is a RendererSpec (rendered in a child process) or a Renderer (on a thread).
    Thread-safety: call everything from one thread (the GUI's); the receiver, recorder and
    render engine run their own threads or processes. Realtime-safety: :meth:`tick` takes
    microseconds (no rendering; a render process's frames are copied out of shared memory).
    """

    def __init__(self, renderer: Renderer | RendererSpec, options: PreviewOptions = PreviewOptions(),
                 now: Callable[[], float] = time.monotonic, sinks: Iterable[FrameSink] = ()) -> None:
        self.options = options
        self.now = now
        self.outputs = Outputs(sinks)
        self.receiver = Receiver(options.listen[0], options.listen[1], allow=options.allow,
                                 latency_seconds=options.latency_ms / 1000.0)
        self.features = LiveFeatures()
        self.buffer = FrameBuffer()
        self.period_seconds = max(1, round(1000.0 / options.refresh_hz)) / 1000.0  # the window timer's whole ms
        self.display = DisplayClock(self.period_seconds, now(), self.display_latency_seconds)
        if isinstance(renderer, RendererSpec):
            from renderer.preview.process import RenderProcess

            self.engine: RenderWorker | RenderProcess = RenderProcess(
                renderer, self.receiver, self.features, self.buffer, options.max_fps, options.standby, now=now)
        else:
            self.engine = RenderWorker(renderer, self.receiver.snapshot, self.features, self.buffer,
                                       lambda: self.display, max_fps=options.max_fps, now=now)
        self.recorder: Recorder | None = None
        self.recording_path: Path | None = None
        self.current: PreviewFrame | None = None
        self.frozen = False
        self.shown: deque[Shown] = deque(maxlen=20000)
        self.tick_gaps: deque[float] = deque(maxlen=20000)
        self._pauses: deque[tuple[int, float]] = deque(maxlen=PAUSE_WINDOW_SECONDS + 1)  # (second, its longest gap)
        self._last_tick: float | None = None
        self._shown_times: deque[float] = deque(maxlen=240)
        self.status = preview_status(TransportSnapshot(), (), now(), options.listen)
        self._switch_interval = sys.getswitchinterval()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> PreviewSession:
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL_SECONDS))
        self.receiver.start()
        self.features.attach(self.receiver)
        if self.options.record:
            from bridge.recording import Recorder, new_session_path

            try:
                self.recorder = Recorder(new_session_path(self.options.sessions_folder)).attach(self.receiver)
            except BaseException:
                self.receiver.stop()
                raise
        gc.freeze()  # the model's objects live as long as the preview: no collection pauses walking them
        try:
            self.engine.start()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout_seconds: float | None = None) -> None:
        """Wait until the renderer is loaded and rendering (a render process loads on its own); the error
        that kept it from loading, if any."""
        self.engine.wait_ready(timeout_seconds)

    def stop(self) -> Path | None:
        """Stop everything (the sinks' streams end); returns the recording's path (None when nothing was
        recorded: the empty file is removed)."""
        self.engine.stop()
        self.receiver.stop()
        self.features.close()
        self.outputs.close()
        sys.setswitchinterval(self._switch_interval)
        if self.recorder is None:
            return None
        path = self.recorder.close()
        self.recorder, messages = None, self.recorder.messages
        if messages == 0:
            path.unlink(missing_ok=True)
            return None
        self.recording_path = path
        return path

    @property
    def listen(self) -> tuple[str, int]:
        return self.receiver.host, self.receiver.port

    @property
    def preset_name(self) -> str:
        """The name of the preset the next frames are rendered with."""
        return self.engine.preset_name

    @property
    def display_latency_seconds(self) -> float:
        """From a tick to light: the slowest sink's display latency, at least the options' (the window's)."""
        return max(self.options.display_latency_seconds, self.outputs.latency_seconds)

    # -- per tick ----------------------------------------------------------------------------

    def tick(self, now_seconds: float | None = None) -> Tick:
        """A display refresh at ``now_seconds``: publish the refresh grid, take the frame due, if any."""
        now = self.now() if now_seconds is None else now_seconds
        if self._last_tick is not None:
            self._note_gap(now, now - self._last_tick)
        self._last_tick = now
        latency = self.display_latency_seconds
        self.display = DisplayClock(self.period_seconds, now, latency)
        snapshot = self.receiver.snapshot()
        stats = self.receiver.stats()
        self.status = preview_status(snapshot, stats.sessions, now, self.listen, stats.refused)
        hold = self.frozen or self.status.state == LOST
        self.engine.frozen = hold
        self.engine.poll(now, self.display)
        frame = None if hold else self.buffer.take(now, self.period_seconds, snapshot)
        if frame is not None:
            self.current = frame
            self._shown_times.append(now)
            audible = snapshot.beat_at(now + latency)
            self.shown.append(Shown(now, frame.target, frame.label, frame.preset, audible, _label(snapshot, audible),
                                    snapshot.generation, frame.ready_seconds))
            self.outputs.schedule(frame.image, frame.position, now)
        self.outputs.flush(now, 0.5 * self.period_seconds)
        return Tick(frame, self.status, snapshot)

    def _note_gap(self, now: float, gap: float) -> None:
        """Keep the pause between two ticks: all of them, and the longest of each second for the HUD."""
        self.tick_gaps.append(gap)
        second = math.floor(now)
        if self._pauses and self._pauses[-1][0] == second:
            self._pauses[-1] = (second, max(gap, self._pauses[-1][1]))
        else:
            self._pauses.append((second, gap))

    def stats(self, now_seconds: float | None = None) -> PreviewStats:
        now = self.now() if now_seconds is None else now_seconds
        recent = [t for t in self._shown_times if now - t <= 1.0]
        fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 and recent[-1] > recent[0] else 0.0
        buffer = self.buffer.stats
        pause = max((gap for second, gap in self._pauses if second >= math.floor(now) - PAUSE_WINDOW_SECONDS),
                    default=0.0)
        return PreviewStats(fps, self.engine.render_last_seconds, self.engine.render_estimate_seconds,
                            buffer.late, buffer.stale, pause)

    def hud(self, now_seconds: float | None = None, note: str = "") -> Hud:
        now = self.now() if now_seconds is None else now_seconds
        snapshot = self.receiver.snapshot()
        latest = self.features.latest(snapshot.session_id)
        recording = None
        if self.recorder is not None:
            recording = os.fspath(self.recorder.path)
        error = f"render error: {self.engine.error}" if self.engine.error else ""
        said = " · ".join(text for text in (error, self.engine.note(now), note) if text)
        return build_hud(snapshot, now, self.status, self.current, self.stats(now),
                         latest.bands if latest is not None else None, self.features.macros(snapshot.session_id),
                         self.preset_name, self.latency_ms, recording, said)

    # -- commands ----------------------------------------------------------------------------

    @property
    def latency_ms(self) -> float:
        return self.receiver.latency_seconds * 1000.0

    def set_latency_ms(self, milliseconds: float) -> None:
        """The offset slider: positive shows the visuals later (the DAW's beat is heard later)."""
        self.receiver.latency_seconds = float(milliseconds) / 1000.0

    def set_preset(self, name_or_path: str | os.PathLike[str]) -> str:
        """Switch presets (same backend, weights loaded once); InputError if the preset is bad."""
        return self.engine.set_preset(name_or_path)

    def screenshot(self) -> Path | None:
        """Save the frame on screen as a PNG in the screenshots folder (atomically); None before any frame."""
        frame = self.current
        if frame is None:
            return None
        from PIL import Image

        folder = Path(self.options.screenshots_folder)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path, n = folder / f"barlight-{stamp}-bar{frame.label}.png", 1
        while path.exists():
            n += 1
            path = folder / f"barlight-{stamp}-bar{frame.label}-{n}.png"
        with atomic_output(path) as tmp:
            Image.fromarray(frame.image).save(tmp, format="PNG")
        return path


def _label(snapshot: TransportSnapshot, beat: float) -> str:
    return bar_beat_label(snapshot, beat) if math.isfinite(beat) else ""

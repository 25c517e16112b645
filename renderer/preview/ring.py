"""Frames from the render process to the preview through shared memory: a ring of slots, pixels never pickled.

One :class:`multiprocessing.shared_memory.SharedMemory` block holds

- a *board* of float64 values both sides read: the display clock the preview publishes
  (:meth:`FrameRing.publish_display`), the render process's heartbeat and timings
  (:meth:`FrameRing.report`), and the counters that tell how many frames are waiting;
- ``slots`` slots, each a header (sequence, metadata length), the frame's metadata (JSON: what
  it was rendered for) and its pixels (HxWx3 uint8, copied in place).

One writer (the render process) and one reader (the preview), and neither ever waits for the
other. Frame ``k`` goes to slot ``k % slots``: the writer marks the slot as being written
(sequence ``2k + 1``), fills it, marks it done (``2k + 2``) and then counts it written. The
reader copies a slot out and checks the sequence before and after, so a slot the writer
overwrote meanwhile (a reader more than ``slots`` frames behind) is dropped, never shown torn.
The display clock uses the same sequence check the other way round. The checks rely on
stores to shared memory becoming visible in program order, as on x86-64 and (for these
aligned 8-byte words, written by separate interpreter steps) in practice on ARM64.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from multiprocessing import shared_memory

import numpy as np

from renderer.preview.schedule import DisplayClock, PreviewFrame, RenderTarget
from renderer.sinks.base import FramePosition

#: Frames the ring holds (the preview's frame buffer holds as many).
SLOTS = 8
#: Bytes of JSON metadata a slot holds.
META_BYTES = 2048
#: Board fields, in order: each is one float64.
BOARD = ("display_seq", "display_period", "display_tick", "display_latency",  # written by the preview
         "read", "waiting",
         "heartbeat", "written", "rendered", "render_last", "render_estimate")  # written by the render process
_AT = {name: index for index, name in enumerate(BOARD)}
_BOARD_BYTES = 8 * 16
_HEADER_BYTES = 16  # per slot: uint64 sequence, uint64 metadata length


class FrameRing:
    """A ring of ``slots`` frames of at most ``max_pixels`` pixels in shared memory.

    :meth:`create` (the preview, which owns and finally :meth:`unlink`\\ s it) or :meth:`attach` by
    :attr:`name` (the render process). Writer side: :meth:`put`, :meth:`report`, ``len()`` and
    :attr:`capacity` (what the render worker's frame buffer offers); reader side: :meth:`take_new`,
    :meth:`publish_display`. Thread-safety: one writer thread and one reader thread. Realtime-safety:
    every call is a few copies of at most one frame; nothing blocks.
    """

    def __init__(self, memory: shared_memory.SharedMemory, slots: int, max_pixels: int, owner: bool) -> None:
        self.memory = memory
        self.slots = slots
        self.max_pixels = max_pixels
        self.capacity = slots
        self.owner = owner
        self.dropped = 0  #: frames the reader lost (overwritten before it got to them)
        self._slot_bytes = _slot_bytes(max_pixels)
        self.board = np.ndarray((len(BOARD),), np.float64, memory.buf, 0)
        self._next = 0
        self._display = DisplayClock()

    @classmethod
    def create(cls, size: tuple[int, int], slots: int = SLOTS) -> FrameRing:
        """A new ring for frames of ``size`` = (width, height) pixels; the caller owns it."""
        max_pixels = size[0] * size[1]
        memory = shared_memory.SharedMemory(create=True, size=_BOARD_BYTES + slots * _slot_bytes(max_pixels))
        ring = cls(memory, slots, max_pixels, owner=True)  # new shared memory is zero-filled
        ring.board[_AT["heartbeat"]] = -math.inf
        ring.board[_AT["render_last"]] = math.nan
        return ring

    @classmethod
    def attach(cls, name: str, size: tuple[int, int], slots: int = SLOTS) -> FrameRing:
        """The ring ``name`` that :meth:`create` made (in another process)."""
        return cls(shared_memory.SharedMemory(name=name), slots, size[0] * size[1], owner=False)

    @property
    def name(self) -> str:
        return self.memory.name

    def close(self) -> None:
        """Let go of the memory; the owner also removes it (call once, after the other side is gone)."""
        del self.board
        self.memory.close()
        if self.owner:
            self.memory.unlink()

    def _header(self, slot: int) -> np.ndarray:
        return np.ndarray((2,), np.uint64, self.memory.buf, _BOARD_BYTES + slot * self._slot_bytes)

    def _payload(self, slot: int, length: int, offset: int = 0) -> memoryview:
        start = _BOARD_BYTES + slot * self._slot_bytes + _HEADER_BYTES + offset
        return self.memory.buf[start:start + length]

    # -- the writer (render process) -------------------------------------------------------

    def put(self, frame: PreviewFrame) -> None:
        """Publish ``frame`` (its image HxWx3 uint8 of at most ``max_pixels`` pixels)."""
        image = np.ascontiguousarray(frame.image, dtype=np.uint8)
        height, width = image.shape[:2]
        if image.shape != (height, width, 3) or height * width > self.max_pixels:
            raise ValueError(f"a frame of {image.shape} does not fit a ring of {self.max_pixels} RGB pixels")
        meta = _meta(frame)
        if len(meta) > META_BYTES:
            raise ValueError(f"frame metadata of {len(meta)} bytes exceeds {META_BYTES}")
        k = int(self.board[_AT["written"]])
        slot = k % self.slots
        header = self._header(slot)
        header[0] = 2 * k + 1
        self._payload(slot, len(meta))[:] = meta
        pixels = self._payload(slot, image.nbytes, META_BYTES)
        np.ndarray(image.shape, np.uint8, pixels)[:] = image
        header[1] = len(meta)
        header[0] = 2 * k + 2
        self.board[_AT["written"]] = k + 1

    def __len__(self) -> int:
        """Frames published and not yet shown or dropped by the preview (its buffer included)."""
        board = self.board
        return int(board[_AT["written"]] - board[_AT["read"]] + board[_AT["waiting"]])

    def report(self, heartbeat_seconds: float, rendered: int, last_seconds: float | None,
               estimate_seconds: float) -> None:
        """The render loop is alive at ``heartbeat_seconds`` (host) and has these timings."""
        board = self.board
        board[_AT["rendered"]] = rendered
        board[_AT["render_last"]] = math.nan if last_seconds is None else last_seconds
        board[_AT["render_estimate"]] = estimate_seconds
        board[_AT["heartbeat"]] = heartbeat_seconds

    def display(self) -> DisplayClock:
        """The display clock the preview published last (the previous one if it is being written now)."""
        board = self.board
        for _ in range(3):
            seq = board[_AT["display_seq"]]
            clock = DisplayClock(float(board[_AT["display_period"]]), float(board[_AT["display_tick"]]),
                                 float(board[_AT["display_latency"]]))
            if seq % 2 == 0 and seq == board[_AT["display_seq"]]:
                if seq > 0:
                    self._display = clock
                break
            time.sleep(0)
        return self._display

    # -- the reader (preview) --------------------------------------------------------------

    def publish_display(self, display: DisplayClock, waiting: int) -> None:
        """Tell the writer the display's refresh grid and how many frames wait in the preview's buffer."""
        board = self.board
        board[_AT["display_seq"]] += 1
        board[_AT["display_period"]] = display.period_seconds
        board[_AT["display_tick"]] = display.tick_seconds
        board[_AT["display_latency"]] = display.latency_seconds
        board[_AT["display_seq"]] += 1
        board[_AT["waiting"]] = waiting

    def take_new(self) -> list[PreviewFrame]:
        """Copies of the frames published since the last call, oldest first (overwritten ones are dropped)."""
        written = int(self.board[_AT["written"]])
        first = max(self._next, written - self.slots)
        self.dropped += first - self._next
        frames = []
        for k in range(first, written):
            frame = self._read(k)
            if frame is None:
                self.dropped += 1
            else:
                frames.append(frame)
        self._next = written
        self.board[_AT["read"]] = written
        return frames

    def _read(self, k: int) -> PreviewFrame | None:
        slot = k % self.slots
        header = self._header(slot)
        done = 2 * k + 2
        if int(header[0]) != done:
            return None
        meta = json.loads(bytes(self._payload(slot, int(header[1]))))
        shape = tuple(meta["shape"])
        image = np.ndarray(shape, np.uint8, self._payload(slot, shape[0] * shape[1] * 3, META_BYTES)).copy()
        if int(header[0]) != done:
            return None
        return _frame(meta, image)

    @property
    def heartbeat_seconds(self) -> float:
        return float(self.board[_AT["heartbeat"]])

    @property
    def rendered(self) -> int:
        return int(self.board[_AT["rendered"]])

    @property
    def render_last_seconds(self) -> float | None:
        value = float(self.board[_AT["render_last"]])
        return None if math.isnan(value) else value

    @property
    def render_estimate_seconds(self) -> float:
        return float(self.board[_AT["render_estimate"]])


def _slot_bytes(max_pixels: int) -> int:
    raw = _HEADER_BYTES + META_BYTES + 3 * max_pixels
    return (raw + 63) // 64 * 64


def _meta(frame: PreviewFrame) -> bytes:
    """What ``frame`` was rendered for, as JSON (everything but its pixels)."""
    return json.dumps({
        "shape": list(frame.image.shape), "target": asdict(frame.target), "label": frame.label,
        "section": frame.section, "render_seconds": frame.render_seconds, "ready_seconds": frame.ready_seconds,
        "preset": frame.preset, "info": frame.info,
        "position": asdict(frame.position) if frame.position is not None else None,
    }).encode()


def _frame(meta: dict, image: np.ndarray) -> PreviewFrame:
    position = meta["position"]
    return PreviewFrame(image, RenderTarget(**meta["target"]), meta["label"], meta["section"],
                        meta["render_seconds"], meta["ready_seconds"], meta["preset"], meta["info"],
                        FramePosition(**position) if position is not None else None)

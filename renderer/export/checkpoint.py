"""Checkpoints of an export in progress: every rendered frame as a PNG, the renderer state now and then.

The work folder (``DIR/.barlight-work/``) holds ``job.json`` (what determines the frames:
timeline, audio, size, fps, preset, backend, seeds, chunks), ``frames/NNNNNN.png`` (lossless, so a
resumed export encodes the very same pixels), ``state/NNNNNN.pkl`` (the renderer state after
frame NNNNNN) and ``segments/`` (each finished chunk's video, :mod:`renderer.export.segments`; a
distributed export keeps only these and the frames of its keyframe images). A rerun with the
same job resumes after the last frame that has a state checkpoint and an unbroken run of frames
before it (a distributed one renders the chunks without a segment); a different job starts over.
Each file is written under a temporary name and renamed, so a crash leaves no torn file.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.files import write_atomic
from bridge.inputs import parse_json

if TYPE_CHECKING:
    from renderer.sinks.base import FramePosition, Outputs

WORK_DIR_NAME = ".barlight-work"
JOB_NAME = "job.json"
KEEP_STATES = 2  # state checkpoints kept (older ones are deleted as new ones land)
STATE_GLOB = "[0-9]*.pkl"  # state files, not the hidden temporary ones a hard kill may leave


class FrameStore:
    """One export's work folder. Not thread-safe: one writer. Not realtime-safe: file I/O."""

    def __init__(self, out_dir: str | os.PathLike[str], job: dict[str, Any]) -> None:
        self.root = Path(out_dir) / WORK_DIR_NAME
        self.job = json.loads(json.dumps(job, sort_keys=True))  # normalised: what job.json will read back as
        self.frames_dir = self.root / "frames"
        self.state_dir = self.root / "state"
        self.segments_dir = self.root / "segments"

    def open(self) -> bool:
        """Create the folder; clear it when it belongs to another job. True when earlier work was kept."""
        job_path = self.root / JOB_NAME
        kept = False
        if job_path.exists():
            try:
                kept = parse_json(job_path.read_text(encoding="utf-8")) == self.job
            except (OSError, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
                kept = False
        if not kept and self.root.exists():
            # another job's, or a folder whose job.json a crash (mid-delete) took: its frames are no one's
            shutil.rmtree(self.root)
        self.frames_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        if not kept:
            write_atomic(job_path, json.dumps(self.job, indent=1, sort_keys=True))
        return kept

    # -- frames ---------------------------------------------------------------------------

    def frame_path(self, frame: int) -> Path:
        return self.frames_dir / f"{frame:06d}.png"

    def has_frame(self, frame: int) -> bool:
        return self.frame_path(frame).exists()

    def save_frame(self, frame: int, rgb: np.ndarray) -> None:
        self.save_png(frame, encode_png(rgb))

    def save_png(self, frame: int, png: bytes) -> None:
        """Keep frame ``frame`` given as PNG bytes (:func:`encode_png`; a worker's, for instance)."""
        write_atomic(self.frame_path(frame), png)

    def load_frame(self, frame: int) -> np.ndarray:
        from PIL import Image

        with Image.open(self.frame_path(frame)) as image:
            return np.asarray(image.convert("RGB"))

    # -- renderer state -------------------------------------------------------------------

    def save_state(self, frame: int, state: Any) -> None:
        """Keep the renderer state after ``frame`` (pickled; torch tensors pickle too)."""
        write_atomic(self.state_dir / f"{frame:06d}.pkl", pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
        for old in sorted(self.state_dir.glob(STATE_GLOB))[:-KEEP_STATES]:
            old.unlink(missing_ok=True)

    def resume_point(self) -> tuple[int, Any]:
        """``(first frame to render, renderer state before it)``; ``(0, None)`` when nothing usable is kept."""
        contiguous = 0
        while self.has_frame(contiguous):
            contiguous += 1
        for path in sorted(self.state_dir.glob(STATE_GLOB), reverse=True):
            frame = int(path.stem)
            if frame < contiguous:
                try:
                    return frame + 1, pickle.loads(path.read_bytes())
                except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                    continue
        return 0, None

    def remove(self) -> None:
        """Delete the work folder (after the final files are in place)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def remove_if_unused(self) -> None:
        """Delete the work folder when it holds no rendered frame (a run that failed before its first one)."""
        if not self.has_frame(0) and not any(self.frames_dir.glob("[0-9]*.png")):
            self.remove()


def encode_png(rgb: np.ndarray) -> bytes:
    """A frame (HxWx3 uint8 RGB) as the PNG a checkpoint and a keyframe image are: lossless, fast to write."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class BackgroundWriter:
    """Writes a :class:`FrameStore`'s frames and states on one worker thread, in submission order,
    so PNG compression (and the frame sinks, e.g. the video encoder) overlaps the next frame's rendering.

    Every frame goes to ``outputs`` in order, on the worker, with ``position(frame)``: frames kept
    from an earlier run (:meth:`replay`, read back from their PNG) and new ones (:meth:`save_frame`).
    At most ``max_pending`` items wait; a write error is raised from the next call. Owner thread only.
    """

    def __init__(self, store: FrameStore, outputs: Outputs | None = None,
                 position: Callable[[int], FramePosition] | None = None, max_pending: int = 8) -> None:
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self.store = store
        self.outputs = outputs
        self.position = position
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="barlight-checkpoint")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._futures: list = []

    def _submit(self, fn, *args) -> None:
        self._raise_errors()
        self._slots.acquire()
        future = self._pool.submit(fn, *args)
        future.add_done_callback(lambda _: self._slots.release())
        self._futures.append(future)

    def _raise_errors(self) -> None:
        pending = []
        for future in self._futures:
            if future.done():
                future.result()  # raises the worker's exception here
            else:
                pending.append(future)
        self._futures = pending

    def _send(self, frame: int, rgb: np.ndarray) -> None:
        if self.outputs is not None:
            self.outputs.send(rgb, self.position(frame))

    def _save_and_send(self, frame: int, rgb: np.ndarray) -> None:
        self.store.save_frame(frame, rgb)
        self._send(frame, rgb)

    def _replay(self, frame: int) -> None:
        if self.outputs is not None:
            self._send(frame, self.store.load_frame(frame))

    def save_frame(self, frame: int, rgb: np.ndarray) -> None:
        self._submit(self._save_and_send, frame, rgb)

    def replay(self, frame: int) -> None:
        """Send a frame kept from an earlier run to ``outputs`` (read back from disk on the worker)."""
        self._submit(self._replay, frame)

    def save_state(self, frame: int, state: Any) -> None:
        self._submit(self.store.save_state, frame, state)

    def drain(self) -> None:
        """Wait until everything submitted is on disk (raising the first write error)."""
        for future in self._futures:
            future.result()
        self._futures = []

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._pool.shutdown(wait=True)

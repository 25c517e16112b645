"""The work folder of an export in progress: each finished chunk's video segment, and the keyframe images.

The work folder (``DIR/.barlight-work/``) holds ``job.json`` (what determines the frames:
timeline, audio, size, fps, preset, backend, seeds, chunks), ``segments/`` (each finished
chunk's video, :mod:`renderer.export.segments`, renamed into place when the chunk is complete)
and ``frames/NNNNNN.png``, the lossless frames that become keyframe images. A rerun with the same
job renders only the chunks without a segment, from the first of them on (a chunk renders the same
frames alone as within the whole, :mod:`renderer.export.chunks`, so the video is the same); a
different job starts over. Each file is written under a temporary name and renamed, so a crash
leaves no torn file. A crash loses the unfinished chunk's frames, no more: keeping every frame
instead (a PNG each) cost a quarter of a 1280x720 export's time.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.files import write_atomic
from bridge.inputs import parse_json

if TYPE_CHECKING:
    from renderer.export.chunks import Chunk
    from renderer.sinks.base import FramePosition, Outputs
    from renderer.sinks.video_file import VideoFormat

WORK_DIR_NAME = ".barlight-work"
JOB_NAME = "job.json"


class FrameStore:
    """One export's work folder. Not thread-safe: one writer. Not realtime-safe: file I/O."""

    def __init__(self, out_dir: str | os.PathLike[str], job: dict[str, Any]) -> None:
        self.root = Path(out_dir) / WORK_DIR_NAME
        self.job = json.loads(json.dumps(job, sort_keys=True))  # normalised: what job.json will read back as
        self.frames_dir = self.root / "frames"
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
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        if not kept:
            write_atomic(job_path, json.dumps(self.job, indent=1, sort_keys=True))
        return kept

    # -- keyframe images ------------------------------------------------------------------

    def frame_path(self, frame: int) -> Path:
        return self.frames_dir / f"{frame:06d}.png"

    def has_frame(self, frame: int) -> bool:
        return self.frame_path(frame).exists()

    def save_frame(self, frame: int, rgb: np.ndarray) -> None:
        self.save_png(frame, encode_png(rgb))

    def save_png(self, frame: int, png: bytes) -> None:
        """Keep frame ``frame`` given as PNG bytes (:func:`encode_png`; a worker's, for instance)."""
        write_atomic(self.frame_path(frame), png)

    # -- chunks ---------------------------------------------------------------------------

    def finished(self, chunk: Chunk, video_format: VideoFormat) -> bool:
        """Whether ``chunk``'s segment is in place (its keyframe images were kept before it)."""
        from renderer.export.segments import segment_path

        return segment_path(self.segments_dir, chunk, video_format).exists()

    def resume_frame(self, chunks: Sequence[Chunk], video_format: VideoFormat) -> int:
        """The first frame to render: the first frame of the first chunk without a segment (the frame count
        when every chunk has one; 0 when none has)."""
        for chunk in chunks:
            if not self.finished(chunk, video_format):
                return chunk.first_frame
        return chunks[-1].stop_frame if chunks else 0

    def remove(self) -> None:
        """Delete the work folder (after the final files are in place)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def remove_if_unused(self) -> None:
        """Delete the work folder when it holds nothing to resume from (a run that failed before its first chunk)."""
        if not any(self.segments_dir.glob("[0-9]*")) and not any(self.frames_dir.glob("[0-9]*.png")):
            self.remove()


def encode_png(rgb: np.ndarray) -> bytes:
    """A frame (HxWx3 uint8 RGB) as the PNG a checkpoint and a keyframe image are: lossless, fast to write."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class BackgroundWriter:
    """Feeds a :class:`FrameStore` and the frame sinks on one worker thread, in submission order, so the
    encoders (the video file's segments first) and the keyframe images' PNGs overlap the next frame's rendering.

    Every frame goes to ``outputs`` in order, on the worker, with ``position(frame)``; the frames in ``keep``
    (the keyframe images) are written to the store first. At most ``max_pending`` frames wait; a write error
    is raised from the next call. Owner thread only.
    """

    def __init__(self, store: FrameStore, outputs: Outputs | None = None,
                 position: Callable[[int], FramePosition] | None = None, keep: Collection[int] = (),
                 max_pending: int = 8) -> None:
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self.store = store
        self.outputs = outputs
        self.position = position
        self.keep = frozenset(keep)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="barlight-export-writer")
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

    def _save_and_send(self, frame: int, rgb: np.ndarray) -> None:
        if frame in self.keep:
            self.store.save_frame(frame, rgb)
        if self.outputs is not None:
            self.outputs.send(rgb, self.position(frame))

    def save_frame(self, frame: int, rgb: np.ndarray) -> None:
        """Send ``frame`` to the outputs (and keep it, if it is one of ``keep``), on the worker."""
        self._submit(self._save_and_send, frame, rgb)

    def drain(self) -> None:
        """Wait until everything submitted is written (raising the first write error)."""
        for future in self._futures:
            future.result()
        self._futures = []

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._pool.shutdown(wait=True)

"""The export's work folder: finished chunks' segments and keyframe images written whole, resumable after a
hard kill from the first chunk without a segment."""

from __future__ import annotations

import numpy as np

from renderer.export.checkpoint import FrameStore
from renderer.export.chunks import Chunk
from renderer.export.segments import segment_path
from renderer.sinks.video_file import H264

CHUNKS = (Chunk(0, 1, 0, 25, 0), Chunk(1, 2, 25, 50, 0), Chunk(2, 3, 50, 60, 25))


def finish(store: FrameStore, chunk: Chunk) -> None:
    segment_path(store.segments_dir, chunk, H264).write_bytes(b"a finished segment")


def test_a_rerun_resumes_at_the_first_chunk_without_a_segment_and_ignores_torn_files(tmp_path):
    store = FrameStore(tmp_path, {"job": 1})
    store.open()
    assert store.resume_frame(CHUNKS, H264) == 0
    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    store.save_frame(3, image)
    finish(store, CHUNKS[0])
    (store.segments_dir / ".00001.incomplete.mp4").write_bytes(b"torn")  # killed while encoding chunk 1
    (store.frames_dir / ".000030.0123456789ab.png").write_bytes(b"torn")  # ... and writing an image of it
    again = FrameStore(tmp_path, {"job": 1})
    assert again.open()  # same job: the work is kept
    assert again.resume_frame(CHUNKS, H264) == 25
    assert again.has_frame(3) and not again.has_frame(30)
    finish(again, CHUNKS[1])
    finish(again, CHUNKS[2])
    assert again.resume_frame(CHUNKS, H264) == 60  # everything rendered: only the files are left to write


def test_work_whose_job_file_a_kill_took_is_not_resumed(tmp_path):
    store = FrameStore(tmp_path, {"job": 1})
    store.open()
    store.save_frame(0, np.zeros((4, 6, 3), np.uint8))
    finish(store, CHUNKS[0])
    (store.root / "job.json").unlink()  # killed while the finished export deleted its work folder
    again = FrameStore(tmp_path, {"job": 1})
    assert not again.open()  # whose frames these are is unknown: start over
    assert again.resume_frame(CHUNKS, H264) == 0 and not any(again.frames_dir.iterdir())


def test_another_job_starts_over(tmp_path):
    store = FrameStore(tmp_path, {"job": 1})
    store.open()
    finish(store, CHUNKS[0])
    other = FrameStore(tmp_path, {"job": 2})
    assert not other.open() and other.resume_frame(CHUNKS, H264) == 0


def test_a_work_folder_without_a_segment_or_image_is_removed_when_unused(tmp_path):
    store = FrameStore(tmp_path, {"job": 1})
    store.open()
    store.remove_if_unused()
    assert not store.root.exists()
    store.open()
    finish(store, CHUNKS[0])
    store.remove_if_unused()
    assert store.finished(CHUNKS[0], H264)  # worth resuming from

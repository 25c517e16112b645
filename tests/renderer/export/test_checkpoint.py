"""The export's work folder: frames and states written whole, resumable after a hard kill."""

from __future__ import annotations

import numpy as np

from renderer.export.checkpoint import FrameStore


def test_a_temporary_state_left_by_a_hard_kill_does_not_stop_a_resume(tmp_path):
    store = FrameStore(tmp_path, {"job": 1})
    store.open()
    frames = [np.full((4, 6, 3), k, np.uint8) for k in range(3)]
    for k, rgb in enumerate(frames):
        store.save_frame(k, rgb)
    store.save_state(1, {"after": 1})
    (store.state_dir / ".000002.0123456789ab.pkl").write_bytes(b"torn")  # killed while writing state 2
    again = FrameStore(tmp_path, {"job": 1})
    assert again.open()  # same job: the work is kept
    assert again.resume_point() == (2, {"after": 1})
    assert np.array_equal(again.load_frame(2), frames[2])
    assert sorted(p.name for p in store.frames_dir.iterdir()) == ["000000.png", "000001.png", "000002.png"]


def test_frames_whose_job_file_a_kill_took_are_not_resumed(tmp_path):
    store = FrameStore(tmp_path, {"job": 1})
    store.open()
    store.save_frame(0, np.zeros((4, 6, 3), np.uint8))
    store.save_state(0, {"after": 0})
    (store.root / "job.json").unlink()  # killed while the finished export deleted its work folder
    again = FrameStore(tmp_path, {"job": 1})
    assert not again.open()  # whose frames these are is unknown: start over
    assert again.resume_point() == (0, None) and not any(again.frames_dir.iterdir())


def test_a_work_folder_without_frames_is_removed_when_unused(tmp_path):
    store = FrameStore(tmp_path, {"job": 1})
    store.open()
    store.remove_if_unused()
    assert not store.root.exists()
    store.open()
    store.save_frame(0, np.zeros((4, 6, 3), np.uint8))
    store.remove_if_unused()
    assert store.has_frame(0)  # worth resuming from

"""bridge.files: a file is replaced whole or not at all, with the permissions asked for."""

from __future__ import annotations

import os

import pytest

from bridge.errors import InputError
from bridge.files import atomic_output, check_output_path, write_atomic


def test_atomic_output_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".json" and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing changes before the block ends
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_an_error_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_mode_is_applied_whatever_the_umask(tmp_path):
    before = os.umask(0o077)
    try:
        plain = write_atomic(tmp_path / "plain.txt", "x")
        shared = write_atomic(tmp_path / "shared.txt", b"x", mode=0o644)
    finally:
        os.umask(before)
    assert plain.stat().st_mode & 0o777 == 0o600
    assert shared.stat().st_mode & 0o777 == 0o644


def test_write_atomic_writes_text_as_utf8_and_bytes_as_they_are(tmp_path):
    assert write_atomic(tmp_path / "a.txt", "ü").read_bytes() == "ü".encode("utf-8")
    assert write_atomic(tmp_path / "b.bin", b"\x00\xff").read_bytes() == b"\x00\xff"


def test_a_missing_folder_is_the_users_error_naming_it(tmp_path):
    with pytest.raises(InputError, match="nowhere"):
        check_output_path(tmp_path / "nowhere" / "x.png")
    with pytest.raises(InputError, match="nowhere"):
        write_atomic(tmp_path / "nowhere" / "x.png", b"")


# -- sets ---------------------------------------------------------------------------------------

from bridge.files import COMMIT_NAME, STAGE_NAME, commit_set, created_folder, recover_set, staged_set  # noqa: E402


def _old_set(folder):
    (folder / "keyframes").mkdir(parents=True)
    for name in ("song.mp4", "keyframes.json", "keyframes/bar_0001.png", "keyframes/bar_0002.png",
                 "keyframes/notes.txt"):
        (folder / name).write_text(f"old {name}")


def test_a_staged_set_replaces_the_old_one_and_removes_what_it_supersedes(tmp_path):
    _old_set(tmp_path)
    with staged_set(tmp_path, ("keyframes.json", "keyframes/bar_*.png")) as stage:
        assert stage.parent == tmp_path and (tmp_path / "song.mp4").read_text() == "old song.mp4"
        (stage / "keyframes").mkdir()
        for name in ("song.mp4", "keyframes.json", "keyframes/bar_0001.png"):
            (stage / name).write_text(f"new {name}")
    for name in ("song.mp4", "keyframes.json", "keyframes/bar_0001.png"):
        assert (tmp_path / name).read_text() == f"new {name}"
    assert not (tmp_path / "keyframes" / "bar_0002.png").exists()  # the old set's, superseded
    assert (tmp_path / "keyframes" / "notes.txt").read_text() == "old keyframes/notes.txt"  # not the set's
    assert not (tmp_path / STAGE_NAME).exists() and not (tmp_path / COMMIT_NAME).exists()


def test_an_error_while_staging_leaves_the_old_set_and_no_stage(tmp_path):
    _old_set(tmp_path)
    with pytest.raises(RuntimeError):
        with staged_set(tmp_path, ("keyframes/bar_*.png",)) as stage:
            (stage / "song.mp4").write_text("half")
            raise RuntimeError("crash mid-render")
    assert (tmp_path / "song.mp4").read_text() == "old song.mp4"
    assert (tmp_path / "keyframes" / "bar_0002.png").exists() and not (tmp_path / STAGE_NAME).exists()


@pytest.mark.parametrize("cut", range(6))
def test_a_commit_cut_at_any_step_is_finished_by_recovery(tmp_path, cut):
    _old_set(tmp_path)
    stage = tmp_path / STAGE_NAME
    (stage / "keyframes").mkdir(parents=True)
    for name in ("keyframes.json", "keyframes/bar_0001.png", "song.mp4"):
        (stage / name).write_text(f"new {name}")
    steps = []

    def crash(name):
        steps.append(name)
        if len(steps) > cut:
            raise KeyboardInterrupt  # the process dies here

    with pytest.raises(KeyboardInterrupt):
        commit_set(tmp_path, ("keyframes/bar_*.png",), crash)
    committed = (tmp_path / COMMIT_NAME).exists()
    assert committed == (cut > 0)  # step 0 is the commit point itself
    if not committed:
        assert (tmp_path / "song.mp4").read_text() == "old song.mp4"
        return
    assert recover_set(tmp_path)
    for name in ("keyframes.json", "keyframes/bar_0001.png", "song.mp4"):
        assert (tmp_path / name).read_text() == f"new {name}"
    assert not (tmp_path / "keyframes" / "bar_0002.png").exists()
    assert not recover_set(tmp_path)


def test_created_folder_removes_only_the_empty_folders_it_made(tmp_path):
    with pytest.raises(ValueError):
        with created_folder(tmp_path / "a" / "b"):
            raise ValueError("validation failed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        with created_folder(tmp_path / "c") as folder:
            (folder / "kept.txt").write_text("work worth keeping")
            raise ValueError("later failure")
    assert (tmp_path / "c" / "kept.txt").exists()


def test_a_link_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.json").write_text("old")
    (tmp_path / "a.json").symlink_to(tmp_path / "real" / "a.json")
    write_atomic(tmp_path / "a.json", "new")
    assert (tmp_path / "a.json").is_symlink() and (tmp_path / "real" / "a.json").read_text() == "new"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["a.json"]


def test_a_pipe_is_never_renamed_over(tmp_path):
    import stat

    os.mkfifo(tmp_path / "pipe.json")
    with pytest.raises(InputError, match="not a regular file"):
        write_atomic(tmp_path / "pipe.json", "x")
    assert stat.S_ISFIFO((tmp_path / "pipe.json").lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe.json"]

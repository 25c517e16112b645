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

"""bridge.outputs: the output rule refuses, before any work, what would destroy an input or cannot be written."""

from __future__ import annotations

import pytest

from bridge.errors import InputError
from bridge.outputs import Output, check_outputs
from tests.unwritable import unwritable_folder


def test_a_file_output_that_is_an_input_is_refused_naming_both(tmp_path):
    audio = tmp_path / "X.wav"
    audio.write_bytes(b"RIFF")
    with pytest.raises(InputError, match=r"X\.wav: --json would overwrite this input \(AUDIO\)"):
        check_outputs([Output.file("--json", audio)], {"AUDIO": audio})
    with pytest.raises(InputError, match="--json would overwrite"):  # spelled differently, same file
        check_outputs([Output.file("--json", tmp_path / "sub" / ".." / "X.wav")], {"AUDIO": str(audio)})
    assert audio.read_bytes() == b"RIFF"


def test_an_output_that_is_a_link_to_an_input_is_refused(tmp_path):
    audio = tmp_path / "X.wav"
    audio.write_bytes(b"RIFF")
    (tmp_path / "link.json").symlink_to(audio)
    with pytest.raises(InputError, match="would overwrite"):
        check_outputs([Output.file("--json", tmp_path / "link.json")], {"AUDIO": audio})


def test_a_folder_output_refuses_only_inputs_at_the_names_it_writes(tmp_path):
    out = tmp_path / "DIR"
    out.mkdir()
    names = ("mix.mp4", "keyframes.json", "keyframes/bar_[0-9]*.png")
    kept = out / "mix.wav"
    check_outputs([Output.folder("--out", out, names)], {"AUDIO": kept})  # beside the set: fine
    for taken in (out / "mix.mp4", out / "keyframes.json", out / "keyframes" / "bar_0003.png", out / "keyframes"):
        with pytest.raises(InputError, match="--out would overwrite this input"):
            check_outputs([Output.folder("--out", out, names)], {"--timeline": taken})


def test_a_folder_where_a_file_goes_and_a_file_where_a_folder_goes_are_refused(tmp_path):
    with pytest.raises(InputError, match="is a folder; give a file name"):
        check_outputs([Output.file("--json", tmp_path)])
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="must be a folder"):
        check_outputs([Output.folder("--out", tmp_path / "file", ("a",))])
    with pytest.raises(InputError, match="a file stands where the folder keyframes/ goes"):
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "keyframes").write_text("mine")
        check_outputs([Output.folder("--out", tmp_path / "out", ("keyframes/bar_*.png",))])


def test_a_missing_folder_for_a_file_is_named(tmp_path):
    with pytest.raises(InputError, match="nowhere: no such folder: create it first"):
        check_outputs([Output.file("--plot", tmp_path / "nowhere" / "x.png")])


def test_a_folder_output_may_not_exist_yet_and_nothing_is_created(tmp_path):
    check_outputs([Output.folder("--out", tmp_path / "a" / "b", ("x",))])
    assert list(tmp_path.iterdir()) == []  # the writability probe leaves nothing behind


def test_an_unwritable_destination_fails_at_once(tmp_path):
    with unwritable_folder(tmp_path) as folder:
        with pytest.raises(InputError, match="cannot write in this folder"):
            check_outputs([Output.file("--json", folder / "x.json")])
        with pytest.raises(InputError, match="cannot write in this folder"):
            check_outputs([Output.folder("--out", folder / "new-folder", ("x",))])


def test_a_device_pipe_or_socket_is_refused_not_replaced(tmp_path):
    import os
    import socket
    import stat

    os.mkfifo(tmp_path / "pipe.json")
    (tmp_path / "link.json").symlink_to(tmp_path / "pipe.json")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.json"))
        for name in ("pipe.json", "link.json", "sock.json"):
            with pytest.raises(InputError, match=rf"{name}: --json is not a regular file \(a device, pipe or socket\)"):
                check_outputs([Output.file("--json", tmp_path / name)])
        assert stat.S_ISSOCK((tmp_path / "sock.json").lstat().st_mode)
    assert stat.S_ISFIFO((tmp_path / "pipe.json").lstat().st_mode) and (tmp_path / "link.json").is_symlink()


def test_two_outputs_that_are_one_file_are_refused(tmp_path):
    (tmp_path / "link.png").symlink_to(tmp_path / "x.png")
    for other in ("x.png", "link.png"):
        with pytest.raises(InputError, match=r"--json and --plot would write the same file"):
            check_outputs([Output.file("--json", tmp_path / "x.png"), Output.file("--plot", tmp_path / other)])
    check_outputs([Output.file("--json", tmp_path / "x.json"), Output.file("--plot", tmp_path / "x.png")])
